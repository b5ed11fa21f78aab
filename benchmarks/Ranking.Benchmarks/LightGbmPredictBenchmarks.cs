using BenchmarkDotNet.Attributes;
using Ranking.Data;
using Ranking.LightGbm;

namespace Ranking.Benchmarks;

/// <summary>
/// Scoring with the managed reader of LightGBM model text (<see cref="LightGbmEnsemble"/>, which `ranking predict`
/// now uses) against LightGBM's native <c>LGBM_BoosterPredictForMat</c>, same model, same rows, one thread each:
/// 100 trees of 31 leaves trained on a 20k-row mslr-like set (136 features), scoring those 20k rows. Also the cost
/// of reading and checking the model text against LightGBM's own parser.
/// Run: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*LightGbmPredictBenchmarks*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class LightGbmPredictBenchmarks
{
    private RankingDataset _data = null!;
    private LightGbmBooster _booster = null!;
    private LightGbmEnsemble _ensemble = null!;
    private string _text = "";
    private double[] _native = [];
    private float[] _managed = [];

    /// <summary>Trains the model once.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _data = SyntheticGenerator.Generate(new SyntheticOptions { Preset = "mslr-like", Queries = 170, Seed = 7 }).Data;
        string parameters = new LightGbmParameters { Objective = "lambdarank", Threads = 1 }.Render();
        using var train = LightGbmDataset.Create(_data, parameters);
        using var trained = LightGbmBooster.Create(train, parameters);
        for (int i = 0; i < 100; i++) trained.UpdateOneIter();
        _text = trained.SaveModelToString();
        _booster = LightGbmBooster.LoadModelFromString(_text);
        _ensemble = LightGbmEnsemble.Parse(_text);
        _native = new double[_data.RowCount];
        _managed = new float[_data.RowCount];
        Console.WriteLine($"// {_data.RowCount} rows x {_data.FeatureCount} features, {_ensemble.Trees.Count} trees, model text {_text.Length:N0} chars");
    }

    /// <summary>Releases the native booster.</summary>
    [GlobalCleanup]
    public void Cleanup() => _booster.Dispose();

    /// <summary>LightGBM's native prediction, one thread.</summary>
    [Benchmark(Baseline = true, Description = "native LGBM_BoosterPredictForMat, 1 thread")]
    public double Native()
    {
        _booster.PredictForMat(_data.Features, _data.RowCount, _data.FeatureCount, _native, threads: 1);
        return _native[0];
    }

    /// <summary>The managed scorer, one thread.</summary>
    [Benchmark(Description = "managed LightGbmEnsemble, 1 thread")]
    public float Managed()
    {
        _ensemble.PredictRaw(_data.Features, _data.RowCount, _managed, threads: 1);
        return _managed[0];
    }

    /// <summary>Reading and checking the model text (what loading a gbdt model file costs).</summary>
    [Benchmark(Description = "LightGbmEnsemble.Parse of the model text")]
    public int Parse() => LightGbmEnsemble.Parse(_text).Trees.Count;
}
