using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Ranking.Data;
using Ranking.LightGbm;
using Ranking.Objectives;

namespace Ranking.Benchmarks;

/// <summary>
/// Our lambdarank through LightGBM's custom-objective path against LightGBM's native lambdarank, same trees:
/// 20 boosting rounds (31 leaves, truncation 30) on a 500k-row mslr-like set (136 features, ~120 rows per
/// query). The dataset is binned once in setup; each measured run creates a booster and boosts 20 rounds,
/// so the difference is exactly the per-round cost of our gradients (copy of the running scores, our
/// objective, hand-over of gradients and Hessians) against LightGBM's own. One thread on both sides so a
/// shared machine does not turn OpenMP's spinning into the measurement.
/// Run: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*LightGbmBenchmarks*'
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
[MemoryDiagnoser]
public class LightGbmBenchmarks
{
    private const int Rounds = 20;
    private RankingDataset _data = null!;
    private LightGbmDataset _native = null!, _custom = null!;
    private string _nativeParameters = "", _customParameters = "";
    private IRankingObjective _objective = null!;

    /// <summary>Rows of the generated set (500k by default; RANKING_BENCH_ROWS overrides for a quick look).</summary>
    public static int TargetRows => int.TryParse(Environment.GetEnvironmentVariable("RANKING_BENCH_ROWS"), out int r) ? r : 500_000;

    [GlobalSetup]
    public void Setup()
    {
        _data = SyntheticGenerator.Generate(new SyntheticOptions { Preset = "mslr-like", Queries = Math.Max(1, TargetRows / 120), Seed = 7 }).Data;
        Console.WriteLine($"// mslr-like: {_data.RowCount} rows, {_data.QueryCount} queries, {_data.FeatureCount} features");
        _nativeParameters = new LightGbmParameters { Objective = "lambdarank", Threads = 1 }.Render();
        _customParameters = new LightGbmParameters { Objective = "none", Threads = 1 }.Render();
        _native = LightGbmDataset.Create(_data, _nativeParameters);
        _custom = LightGbmDataset.Create(_data, _customParameters);
        _objective = ObjectiveFactory.Create("lambdarank", new Dictionary<string, string> { ["truncation"] = "30" });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _native.Dispose();
        _custom.Dispose();
    }

    [Benchmark(Baseline = true, Description = "LightGBM native lambdarank, 20 rounds")]
    public int NativeLambdaRank()
    {
        using var booster = LightGbmBooster.Create(_native, _nativeParameters);
        for (int i = 0; i < Rounds; i++) booster.UpdateOneIter();
        return booster.CurrentIteration;
    }

    [Benchmark(Description = "our lambdarank via UpdateOneIterCustom, 20 rounds")]
    public int CustomLambdaRank()
    {
        // The trainer's own round (LightGbmTrainer runs exactly this per iteration).
        using var booster = LightGbmBooster.Create(_custom, _customParameters);
        var round = new CustomObjectiveRound(_objective, _data, threads: 1);
        for (int i = 0; i < Rounds; i++) round.Run(booster, i);
        return booster.CurrentIteration;
    }
}
