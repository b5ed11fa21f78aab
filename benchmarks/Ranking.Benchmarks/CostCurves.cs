using System.Diagnostics;
using System.Globalization;
using Ranking.Data;
using Ranking.Gpu.Diagnostics;
using Ranking.LightGbm;
using Ranking.Metrics;
using Ranking.Objectives;
using Ranking.Training;

namespace Ranking.Benchmarks;

/// <summary>
/// Cost curves (benchmarks/cost-curves.sh): one stage at one size, in a fresh process so its peak resident
/// memory is its own. <c>cost-curve STAGE ROWS [FILE]</c> prints one tab-separated line: stage, rows, wall
/// seconds, CPU seconds, peak resident bytes of the process (VmHWM: the stage's input included).
/// <c>cost-curve-report TSV OUTDIR</c> turns the collected lines into a markdown table and log-log plots
/// (wall time, CPU time, peak memory).
/// Stages: parse (DatasetReader.Read of an mslr-like SVMlight FILE), ndcg (NDCG@10 of one score per row),
/// lambdarank (LambdaRank gradients, truncation 30), mlp-epoch (one epoch of the mlp-lambdarank ranker,
/// 136 -> 64 -> 32 -> 1), lambdamart-100 (100 trees of LightGBM's lambdarank). Inputs other than parse's come
/// from <see cref="MslrLikeWorkload"/> (MSLR's query lengths and grade shares), made before the clock starts.
/// NDCG and the gradients are timed on their second call (training repeats them every round); parse, the
/// MLP epoch and the trees on their first, as a command runs them.
/// </summary>
internal static class CostCurves
{
    public static readonly string[] Stages = ["parse", "ndcg", "lambdarank", "mlp-epoch", "lambdamart-100"];

    public static void Run(string stage, int rows, string? file)
    {
        var process = Process.GetCurrentProcess();
        double seconds = 0, cpuSeconds = 0;
        void Time(Action action)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            action();
            seconds = clock.Elapsed.TotalSeconds;
            process.Refresh();
            cpuSeconds = (process.TotalProcessorTime - cpu0).TotalSeconds;
        }

        switch (stage)
        {
            case "parse":
            {
                if (file is null) throw new ArgumentException("parse needs the SVMlight file (benchmarks/cost-curves.sh generates it).");
                RankingDataset? data = null;
                Time(() => data = DatasetReader.Read(file, new DatasetReadOptions { KeepComments = false }));
                rows = data!.RowCount;
                break;
            }
            case "ndcg":
            {
                var w = MslrLikeWorkload.Generate(rows, withFeatures: false);
                var ndcg = MetricSpec.ParseList("ndcg@10");
                RankingEvaluator.Evaluate(w.Labels, w.Offsets, null, w.Scores, ndcg, NdcgContract.Default); // warm-up: training evaluates every round
                Time(() => RankingEvaluator.Evaluate(w.Labels, w.Offsets, null, w.Scores, ndcg, NdcgContract.Default));
                rows = w.RowCount;
                break;
            }
            case "lambdarank":
            {
                var w = MslrLikeWorkload.Generate(rows, withFeatures: false);
                var gradients = new float[w.RowCount];
                var hessians = new float[w.RowCount];
                var objective = new LambdaRankObjective();
                var batch = new ObjectiveBatch(w.Labels, w.Scores, w.Offsets, null, 0, -1);
                objective.Compute(batch, gradients, hessians); // warm-up: training computes them every round
                Time(() => objective.Compute(batch, gradients, hessians));
                rows = w.RowCount;
                break;
            }
            case "mlp-epoch":
            case "lambdamart-100":
            {
                var w = MslrLikeWorkload.Generate(rows, withFeatures: true);
                using var train = new RankingDataset(w.Features!, MslrLikeWorkload.FeatureCount, w.Labels, w.Offsets);
                var catalog = new RankerCatalog();
                CoreRankers.Register(catalog);
                LightGbmRankers.Register(catalog);
                bool mlp = stage == "mlp-epoch";
                var options = new RankerOptions { Seed = 1, Iterations = mlp ? 1 : 100 };
                if (mlp) options.Parameters["hidden"] = "64,32";
                var ranker = mlp ? catalog.Compose("lambdarank", "mlp") : catalog.Get("lambdamart");
                Time(() => RankerTraining.Train(ranker, train, null, options, "none", MetricSpec.ParseList("ndcg@10"), NdcgContract.Default));
                rows = w.RowCount;
                break;
            }
            default:
                throw new ArgumentException($"unknown stage '{stage}'; stages: {string.Join(", ", Stages)}.");
        }
        process.Refresh();
        Console.WriteLine(string.Join('\t', stage, rows.ToString(CultureInfo.InvariantCulture),
            seconds.ToString("F3", CultureInfo.InvariantCulture), cpuSeconds.ToString("F3", CultureInfo.InvariantCulture),
            process.PeakWorkingSet64.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>The markdown table (cost-curves.md) and the log-log plot (cost-curves.png) of the collected lines.</summary>
    public static void Report(string tsv, string outDir)
    {
        var lines = File.ReadAllLines(tsv).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('\t'))
            .Select(f => (Stage: f[0], Rows: long.Parse(f[1], CultureInfo.InvariantCulture), Wall: double.Parse(f[2], CultureInfo.InvariantCulture),
                Cpu: double.Parse(f[3], CultureInfo.InvariantCulture), Peak: long.Parse(f[4], CultureInfo.InvariantCulture)))
            .ToList();
        Directory.CreateDirectory(outDir);
        var md = new System.Text.StringBuilder();
        md.AppendLine("| stage | rows | wall s | CPU s | peak MB | CPU s per 10^6 rows | log-log slope vs the size before: wall, CPU, peak |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        static string Slope(double a, double b, double ratio) => (Math.Log(b / a) / Math.Log(ratio)).ToString("F2", CultureInfo.InvariantCulture);
        foreach (var group in lines.GroupBy(l => l.Stage))
        {
            (long Rows, double Wall, double Cpu, long Peak)? previous = null;
            foreach (var l in group.OrderBy(l => l.Rows))
            {
                // 1 = linear growth; below 1 = fixed costs still weigh at the smaller size
                string slope = previous is { } p
                    ? $"{Slope(p.Wall, l.Wall, (double)l.Rows / p.Rows)}, {Slope(p.Cpu, l.Cpu, (double)l.Rows / p.Rows)}, {Slope(p.Peak, l.Peak, (double)l.Rows / p.Rows)}"
                    : "";
                md.AppendLine(FormattableString.Invariant(
                    $"| {l.Stage} | {l.Rows:N0} | {l.Wall:F3} | {l.Cpu:F3} | {l.Peak / 1e6:F0} | {l.Cpu / l.Rows * 1e6:F3} | {slope} |"));
                previous = (l.Rows, l.Wall, l.Cpu, l.Peak);
            }
        }
        File.WriteAllText(Path.Combine(outDir, "cost-curves.md"), md.ToString());

        void Plot(string name, string title, string yLabel, Func<(string Stage, long Rows, double Wall, double Cpu, long Peak), double> y)
        {
            var plot = new ScottPlot.Plot();
            foreach (var group in lines.GroupBy(l => l.Stage))
            {
                var points = group.OrderBy(l => l.Rows).ToArray();
                var line = plot.Add.Scatter(points.Select(l => Math.Log10(l.Rows)).ToArray(), points.Select(l => Math.Log10(y(l))).ToArray());
                line.LegendText = group.Key;
            }
            plot.Title(title);
            plot.XLabel("log10 rows");
            plot.YLabel(yLabel);
            plot.ShowLegend(ScottPlot.Alignment.LowerRight);
            plot.SavePng(Path.Combine(outDir, name), 900, 600);
        }
        Plot("cost-curves.png", "Cost curves, mslr-like: time", "log10 wall seconds", l => l.Wall);
        Plot("cost-curves-cpu.png", "Cost curves, mslr-like: CPU time", "log10 CPU seconds", l => l.Cpu);
        Plot("cost-curves-memory.png", "Cost curves, mslr-like: peak resident memory", "log10 MB", l => l.Peak / 1e6);
        Console.Write(md.ToString());
    }
}
