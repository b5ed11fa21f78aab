using System.Diagnostics;
using Ranking.Data;
using Ranking.Metrics;
using Ranking.Training;

namespace Ranking.Cli.Tests.Reliability;

/// <summary>
/// A child `ranking` process (the built ranking.dll beside the tests) writes a large output and is killed
/// while its temporary file exists: the target is then the old file (or, had the rename won the race,
/// the whole new one), never a partial file; the next run succeeds and removes the dead writer's temp file.
/// </summary>
public class AtomicOutputKillTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ranking-kill-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } }

    private const int Rows = 2_000_000, QuerySize = 4;

    private (string Model, string Data, string Scores) Inputs()
    {
        var rng = new Random(3);
        var features = new float[Rows];
        var labels = new float[Rows];
        for (int i = 0; i < Rows; i++) { features[i] = (float)rng.NextDouble(); labels[i] = rng.Next(0, 3); }
        var offsets = Enumerable.Range(0, Rows / QuerySize + 1).Select(q => q * QuerySize).ToArray();
        var big = new RankingDataset(features, 1, labels, offsets);
        string data = Path.Combine(_dir, "big.rkds");
        RkdsFile.Write(big, data);
        var small = big.Materialize(Enumerable.Range(0, 20).ToArray());
        var (model, _) = RankerTraining.Train(CatalogFactory.CreateDefault().Get("linear-ranknet"), small, null,
            new RankerOptions { Iterations = 1, Threads = 1 }, "none", [], NdcgContract.Default);
        string modelPath = Path.Combine(_dir, "m.rkm");
        model.Save(modelPath);
        string scores = Path.Combine(_dir, "given-scores.txt");
        ScoresFile.Write(scores, features);
        return (modelPath, data, scores);
    }

    private static string RankingDll()
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "ranking.dll");
        Assert.True(File.Exists(dll), dll + " not built");
        return dll;
    }

    /// <summary>Starts the child, kills it as soon as a temp file of the target shows up; true when killed mid-write.</summary>
    private static bool RunAndKillMidWrite(string target, string[] args)
    {
        string dir = Path.GetDirectoryName(target)!, pattern = $".{Path.GetFileName(target)}.*.tmp";
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(RankingDll());
        foreach (string a in args) start.ArgumentList.Add(a);
        using var child = Process.Start(start)!;
        child.OutputDataReceived += (_, _) => { };
        child.ErrorDataReceived += (_, _) => { };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        var watch = Stopwatch.StartNew();
        while (!child.HasExited && watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (Directory.EnumerateFiles(dir, pattern).Any())
            {
                child.Kill(); // one process: no tree walk between seeing the temp file and the kill
                child.WaitForExit();
                return true;
            }
            Thread.SpinWait(2000);
        }
        if (!child.HasExited) { child.Kill(entireProcessTree: true); Assert.Fail("child did not finish in 60 s"); }
        child.WaitForExit();
        return false;
    }

    [Fact]
    public void KilledWritersLeaveTheOldFileOrTheWholeNewOne()
    {
        var (model, data, givenScores) = Inputs();
        var targets = new (string Name, Func<string, string[]> Args, Action<string> CheckWhole)[]
        {
            ("scores.txt", t => ["predict", "--model", model, "--data", data, "--out", t, "--threads", "1"],
                t => Assert.Equal(Rows, ScoresFile.Read(t, Rows).Length)),
            ("per-query.csv", t => ["eval", "--data", data, "--scores", givenScores, "--metrics", "ndcg@10", "--per-query", t, "--threads", "1"],
                t => Assert.Equal(Rows / QuerySize + 1, File.ReadLines(t).Count())),
            ("cache.rkds", t => ["data", "convert", data, t],
                t => Assert.Equal(Rows, RkdsFile.Read(t).RowCount)),
        };
        foreach (var (name, args, checkWhole) in targets)
        {
            string target = Path.Combine(_dir, name);
            bool keptOld = false;
            for (int attempt = 0; attempt < 5 && !keptOld; attempt++)
            {
                File.WriteAllText(target, "OLD\n"); // (an old .rkds here is junk; only its bytes are compared)
                bool caught = RunAndKillMidWrite(target, args(target));
                if (File.ReadAllText(target) != "OLD\n") { checkWhole(target); continue; } // finished, or the rename won the race: whole
                Assert.True(caught, $"{name}: the child ended without replacing the target");
                keptOld = true;
                // killed mid-write: the old file stands and the dead writer's temp file is left...
                Assert.True(Directory.GetFiles(_dir, $".{name}.*.tmp").Length > 0,
                    $"{name}: no temp file after the kill; folder: {string.Join(", ", Directory.GetFiles(_dir).Select(Path.GetFileName))}");
            }
            Assert.True(keptOld, $"{name}: the child was never killed mid-write in 5 attempts");
            var rerun = CliHarness.Run(args(target));
            Assert.True(rerun.ExitCode == ExitCodes.Ok, rerun.Stderr);
            checkWhole(target);
            Assert.Empty(Directory.GetFiles(_dir, $".{name}.*.tmp")); // ...is gone after the next write
        }
    }
}
