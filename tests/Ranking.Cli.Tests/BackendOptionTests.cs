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
