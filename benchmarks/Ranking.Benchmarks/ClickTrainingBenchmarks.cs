using BenchmarkDotNet.Attributes;
using Ranking.Clicks;
using Ranking.Data;
using Ranking.Objectives;
using Ranking.Training;

namespace Ranking.Benchmarks;

/// <summary>
/// Issue 15's cost target: one training epoch of an IPW loss on clicks against the same loss on graded data, at
/// most 1.5x. Both sets have the same shape and features: 20,000 simulated sessions (PBM eta 1, top 10) over a
/// generated `mslr-like` training split (200 queries, 136 features), one group per session; the click set's labels
/// are the clicks and its positions the display ranks, the graded set's labels are the shown rows' true grades.
/// The click objectives train on the click set, the others on the graded set; a linear model, one epoch of the
/// gradient trainer on one thread (plain Adam, batches of 8 sessions), so the ratio is the objectives' cost plus
/// the same forward and backward passes.
/// Run: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*ClickTraining*' --job short
/// Ratios: ipw-softmax / softmax, ipw-ranknet / ranknet, ipw-lambdarank / ranknet (its RankNet pairs, weighted),
/// unbiased-lambdarank / lambdarank.
/// </summary>
public class ClickTrainingBenchmarks
{
    private static (RankingDataset Clicks, RankingDataset Graded)? s_sets;
    private RankingDataset _set = null!;
    private GradientTrainer _trainer = null!;

    [Params("softmax", "ipw-softmax", "ranknet", "ipw-ranknet", "ipw-lambdarank", "lambdarank", "unbiased-lambdarank")]
    public string Objective { get; set; } = "softmax";

    /// <summary>The two sets: one group per simulated session, click labels with positions, and the same rows with their grades.</summary>
    public static (RankingDataset Clicks, RankingDataset Graded) Sets(int sessions = 20_000)
    {
        var (train, _, _) = SyntheticGenerator.GenerateSplits("mslr-like", 200, seed: 5);
        var data = train.Data;
        var random = new Random(3);
        // A production ranker that half knows the grades: the top 10 it shows mixes grades, as a real one does.
        var production = data.Labels.Select(y => (float)(y + 1.5 * random.NextDouble())).ToArray();
        var log = ClickSimulator.Simulate(data, production, new ClickSimulationOptions { Sessions = sessions, TopK = 10, Seed = 9, Threads = 1 });
        int rows = log.EntryCount, f = data.FeatureCount;
        var features = new float[(long)rows * f];
        var clicks = new float[rows];
        var grades = new float[rows];
        var positions = new int[rows];
        var offsets = new int[log.SessionCount + 1];
        for (int s = 0; s < log.SessionCount; s++)
        {
            int rowBase = data.GroupOffsets[log.SessionQuery[s]], from = log.SessionOffsets[s];
            for (int e = from; e < log.SessionOffsets[s + 1]; e++)
            {
                int row = rowBase + log.ShownRow[e];
                Array.Copy(data.Features, (long)row * f, features, (long)e * f, f);
                clicks[e] = log.Clicked[e];
                grades[e] = data.Labels[row];
                positions[e] = e - from + 1;
            }
            offsets[s + 1] = log.SessionOffsets[s + 1];
        }
        return (new RankingDataset(features, f, clicks, offsets, positions: positions), new RankingDataset(features, f, grades, offsets));
    }

    [GlobalSetup]
    public void Setup()
    {
        s_sets ??= Sets();
        bool clicks = Objective.StartsWith("ipw-", StringComparison.Ordinal) || Objective == "unbiased-lambdarank";
        _set = clicks ? s_sets.Value.Clicks : s_sets.Value.Graded;
        var options = CoreRankers.LinearDefaults with { Epochs = 1, BatchQueries = 8, EarlyStopping = 0, ClipNorm = 0, Threads = 1, Seed = 1 };
        _trainer = new GradientTrainer(options, seed => ObjectiveFactory.Create(Objective, null, seed));
    }

    /// <summary>One epoch: every batch's forward pass, the objective's gradients, the backward pass and the Adam step.</summary>
    [Benchmark]
    public object Epoch() => _trainer.Train(new TrainingRequest { Train = _set }).Model;

    /// <summary>
    /// The same epochs timed in process CPU time (one thread does the work), the median of <paramref name="epochs"/>
    /// after one warm-up, with the ratios of issue 15's target: for a machine too loaded for wall-clock timings.
    /// </summary>
    public static void PrintCpuTimes(int epochs)
    {
        var objectives = typeof(ClickTrainingBenchmarks).GetProperty(nameof(Objective))!.GetCustomAttributes(typeof(ParamsAttribute), false)
            .Cast<ParamsAttribute>().Single().Values.Cast<string>().ToArray();
        var median = new Dictionary<string, double>();
        foreach (string objective in objectives)
        {
            var bench = new ClickTrainingBenchmarks { Objective = objective };
            bench.Setup();
            bench.Epoch();
            var times = new List<double>();
            for (int e = 0; e < epochs; e++)
            {
                var before = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
                bench.Epoch();
                times.Add((System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - before).TotalMilliseconds);
            }
            times.Sort();
            median[objective] = times[times.Count / 2];
            Console.WriteLine($"{objective}: {median[objective]:F0} ms CPU per epoch (median of {epochs}; {bench._set.RowCount} rows, {bench._set.QueryCount} sessions)");
        }
        foreach (var (ipw, graded) in new[] { ("ipw-softmax", "softmax"), ("ipw-ranknet", "ranknet"), ("ipw-lambdarank", "ranknet"), ("unbiased-lambdarank", "lambdarank") })
            Console.WriteLine($"{ipw} / {graded}: {median[ipw] / median[graded]:F2}x");
    }
}
