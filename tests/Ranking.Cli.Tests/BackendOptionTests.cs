using System.Globalization;

namespace Ranking.Cli.Tests;

/// <summary><c>--backend</c>: the GPU path (ILGPU's CPU accelerator here) prints the CPU path's numbers.</summary>
public class BackendOptionTests
{
    [Fact]
    public void Eval_on_the_gpu_backend_prints_the_cpu_numbers()
    {
        string dir = Directory.CreateTempSubdirectory("ranking-backend-").FullName;
        try
        {
            var rng = new Random(4);
            using (var data = new StreamWriter(Path.Combine(dir, "d.txt")))
            using (var scores = new StreamWriter(Path.Combine(dir, "s.txt")))
            {
                for (int q = 1; q <= 12; q++)
                    for (int i = 0, n = rng.Next(1, 15); i < n; i++)
                    {
                        data.WriteLine($"{rng.Next(0, 5)} qid:{q} 1:{rng.NextDouble().ToString("F3", CultureInfo.InvariantCulture)}");
                        scores.WriteLine((Math.Round(rng.NextDouble() * 4) / 4).ToString(CultureInfo.InvariantCulture));
                    }
            }
            string[] common = ["eval", "--data", Path.Combine(dir, "d.txt"), "--scores", Path.Combine(dir, "s.txt"), "--metrics", "ndcg@3,ndcg,map,mrr,err@5,p@3,r@3", "--json"];
            var cpu = CliHarness.Run([.. common, "--backend", "cpu"]);
            var gpu = CliHarness.Run([.. common, "--backend", "gpu"]);
            Assert.Equal(0, cpu.ExitCode);
            Assert.Equal(0, gpu.ExitCode);
            // Same metrics to the last few bits (the kernels sum in another order).
            var cpuMetrics = System.Text.Json.Nodes.JsonNode.Parse(cpu.Stdout)!["metrics"]!.AsObject();
            var gpuMetrics = System.Text.Json.Nodes.JsonNode.Parse(gpu.Stdout)!["metrics"]!.AsObject();
            Assert.Equal(7, cpuMetrics.Count);
            foreach (var (name, value) in cpuMetrics)
                Assert.Equal(value!.GetValue<double>(), gpuMetrics[name]!.GetValue<double>(), 1e-9);
            var bad = CliHarness.Run([.. common, "--backend", "tpu"]);
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains("--backend", bad.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

public class BackendTrainTests
{
    /// <summary>SVMlight queries 1..<paramref name="queries"/> of 2-11 rows: grades 0-3, two features in [0, 1).</summary>
    private static void WriteRandomQueries(string path, Random rng, int queries)
    {
        using var data = new StreamWriter(path);
        for (int q = 1; q <= queries; q++)
            for (int i = 0, n = rng.Next(2, 12); i < n; i++)
                data.WriteLine($"{rng.Next(0, 4)} qid:{q} 1:{rng.NextDouble().ToString("F3", CultureInfo.InvariantCulture)} 2:{rng.NextDouble().ToString("F3", CultureInfo.InvariantCulture)}");
    }

    [Fact]
    public void Train_with_the_gpu_backend_gives_the_cpu_model()
    {
        string dir = Directory.CreateTempSubdirectory("ranking-backend-train-").FullName;
        try
        {
            WriteRandomQueries(Path.Combine(dir, "d.txt"), new Random(8), queries: 10);
            string d = Path.Combine(dir, "d.txt");
            foreach (string backend in new[] { "cpu", "gpu" })
            {
                var train = CliHarness.Run("train", "--train", d, "--objective", "lambdarank", "--model", "mlp", "--epochs", "2", "--out", Path.Combine(dir, $"m-{backend}.zip"), "--backend", backend, "--json");
                Assert.True(train.ExitCode == 0, train.Stderr);
                var predict = CliHarness.Run("predict", "--model", Path.Combine(dir, $"m-{backend}.zip"), "--data", d, "--out", Path.Combine(dir, $"p-{backend}.txt"));
                Assert.True(predict.ExitCode == 0, predict.Stderr);
            }
            var cpu = File.ReadAllLines(Path.Combine(dir, "p-cpu.txt")).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            var gpu = File.ReadAllLines(Path.Combine(dir, "p-gpu.txt")).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(cpu.Length, gpu.Length);
            double scale = cpu.Max(Math.Abs);
            for (int i = 0; i < cpu.Length; i++) Assert.True(Math.Abs(cpu[i] - gpu[i]) <= 1e-4 * scale, $"row {i}: cpu {cpu[i]} gpu {gpu[i]}");

            // The CPU-trained model scored on the device: the same scores to float rounding.
            var onDevice = CliHarness.Run("predict", "--model", Path.Combine(dir, "m-cpu.zip"), "--data", d, "--out", Path.Combine(dir, "p-cpu-on-gpu.txt"), "--backend", "gpu");
            Assert.True(onDevice.ExitCode == 0, onDevice.Stderr);
            var deviceScores = File.ReadAllLines(Path.Combine(dir, "p-cpu-on-gpu.txt")).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(cpu.Length, deviceScores.Length);
            for (int i = 0; i < cpu.Length; i++) Assert.True(Math.Abs(cpu[i] - deviceScores[i]) <= 1e-5 * scale, $"row {i}: cpu {cpu[i]} device {deviceScores[i]}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Compare_with_the_gpu_backend_reports_the_cpu_numbers()
    {
        string dir = Directory.CreateTempSubdirectory("ranking-backend-compare-").FullName;
        try
        {
            var rng = new Random(9);
            foreach (string part in new[] { "train", "test" })
                WriteRandomQueries(Path.Combine(dir, part + ".txt"), rng, queries: 12);
            var means = new Dictionary<string, double[]>();
            foreach (string backend in new[] { "cpu", "gpu" })
            {
                var run = CliHarness.Run("compare", "--train", Path.Combine(dir, "train.txt"), "--test", Path.Combine(dir, "test.txt"),
                    "--rankers", "lambdarank,listnet", "--metrics", "ndcg@5,map", "--iterations", "2", "--out", Path.Combine(dir, "out-" + backend), "--backend", backend, "--json");
                Assert.True(run.ExitCode == 0, run.Stderr);
                if (backend == "gpu") Assert.Contains("no GPU found", run.Stderr);
                using var doc = System.Text.Json.JsonDocument.Parse(run.Stdout);
                means[backend] = doc.RootElement.GetProperty("rankers").EnumerateArray()
                    .SelectMany(r => r.GetProperty("mean").EnumerateObject().Select(m => m.Value.GetDouble())).ToArray();
            }
            Assert.NotEmpty(means["cpu"]);
            Assert.Equal(means["cpu"].Length, means["gpu"].Length);
            for (int i = 0; i < means["cpu"].Length; i++) Assert.Equal(means["cpu"][i], means["gpu"][i], 1e-4);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
