using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace Ranking.LightGbm.Tests;

public class DistributedTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Two_processes_on_localhost_match_single_process_quality()
    {
        int[]? ports = FreePorts(2);
        Skip.If(ports is null, "cannot bind TCP ports on 127.0.0.1");
        string machines = string.Join(",", ports!.Select(p => $"127.0.0.1:{p}"));
        string dir = Directory.CreateTempSubdirectory("lgbm-dist").FullName;
        try
        {
            string self = typeof(DistributedWorker).Assembly.Location;
            var workers = Enumerable.Range(0, 2).Select(i => Process.Start(new ProcessStartInfo("dotnet")
            {
                ArgumentList = { self, "lightgbm-worker", machines, ports[i].ToString(), $"{i}/2", Path.Combine(dir, $"model{i}.txt") },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!).ToArray();
            foreach (var w in workers)
            {
                if (!w.WaitForExit(120_000)) { foreach (var k in workers) k.Kill(entireProcessTree: true); Assert.Fail("a worker hung"); }
            }
            for (int i = 0; i < 2; i++)
            {
                Assert.True(workers[i].ExitCode == 0, $"worker {i} exit {workers[i].ExitCode}: {workers[i].StandardError.ReadToEnd()}");
                // LightGBM's listener thread would print "[LightGBM] [Info] Listening..." to stdout; it is silenced.
                Assert.DoesNotContain("[LightGBM]", workers[i].StandardOutput.ReadToEnd());
            }

            var test = DistributedWorker.DistributedTestSet();
            var single = (LightGbmModel)new LightGbmTrainer("lambdarank", DistributedWorker.Options(null, 0, null))
                .Train(new Training.TrainingRequest { Train = DistributedWorker.DistributedSet() }).Model;
            double singleNdcg = Ndcg(single, test);
            string text0 = File.ReadAllText(Path.Combine(dir, "model0.txt"));
            // Data-parallel machines build the same trees: both write the same model.
            Assert.Equal(StripParameters(text0), StripParameters(File.ReadAllText(Path.Combine(dir, "model1.txt"))));
            var distributed = new LightGbmModel(text0);
            Assert.Equal(40, distributed.Iterations);
            double distNdcg = Ndcg(distributed, test);
            output.WriteLine($"single {singleNdcg:F4}, two machines {distNdcg:F4}");
            Assert.InRange(distNdcg - singleNdcg, -0.01, 0.01);

            // Each machine alone saw half the queries; a model of one shard without the network is a different model.
            var half = (LightGbmModel)new LightGbmTrainer("lambdarank", DistributedWorker.Options(null, 0, "0/2"))
                .Train(new Training.TrainingRequest { Train = DistributedWorker.DistributedSet() }).Model;
            Assert.NotEqual(StripParameters(half.ModelText), StripParameters(text0));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_bad_machine_list_is_a_clear_error_not_a_crash()
    {
        // In a separate process, so that whatever LightGBM does cannot take the test host down.
        var worker = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { typeof(DistributedWorker).Assembly.Location, "lightgbm-worker", "127.0.0.2:5001,127.0.0.3:5002", "5001", "0/2", Path.Combine(Path.GetTempPath(), "unused-model.txt") },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        string stdout = worker.StandardOutput.ReadToEnd();
        string stderr = worker.StandardError.ReadToEnd();
        Assert.True(worker.WaitForExit(60_000));
        Assert.Equal(2, worker.ExitCode);
        // LightGBM itself writes one "[LightGBM] [Fatal] ..." line to stderr before failing; ours comes last.
        Assert.StartsWith("LightGBM LGBM_NetworkInit failed: ", stderr.Trim().Split('\n')[^1]);
        Assert.Contains("local machine", stderr);
        Assert.DoesNotContain("[LightGBM]", stdout); // LightGBM's log is routed away from stdout
    }

    private static double Ndcg(LightGbmModel model, Data.RankingDataset test)
    {
        var scores = new float[test.RowCount];
        model.Predict(test.Features, test.RowCount, scores);
        return TinyData.MeanNdcg(test, scores, 10);
    }

    /// <summary>The model text without its parameters block (machines and ports differ per process).</summary>
    private static string StripParameters(string text)
    {
        int at = text.IndexOf("parameters:", StringComparison.Ordinal);
        return at < 0 ? text : text[..at];
    }

    private static int[]? FreePorts(int count)
    {
        try
        {
            var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
            foreach (var l in listeners) l.Start();
            var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
            foreach (var l in listeners) l.Stop();
            return ports;
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
