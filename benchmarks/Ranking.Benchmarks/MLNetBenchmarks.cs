using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Microsoft.ML;
using Ranking.Models;
using Ranking.Data;
using Ranking.MLNet;
using Ranking.Training;

namespace Ranking.Benchmarks;

/// <summary>
/// ML.NET interop on a 20k-row mslr-like set (136 features): FastTree LambdaMART training (50 trees,
/// one thread), scoring the set with our walk of FastTree's trees against ML.NET's own transformer (same
/// scores, tested), and the RankingDataset -> IDataView -> RankingDataset round trip.
/// Run: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*MLNetBenchmarks*'
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
[MemoryDiagnoser]
public class MLNetBenchmarks
{
    private RankingDataset _data = null!;
    private FastTreeModel _model = null!;
    private float[] _scores = [];
    private readonly MLContext _ml = new(1);

    private static RankerOptions Options()
    {
        var options = new RankerOptions { Seed = 1, Threads = 1 };
        options.Parameters["trees"] = "50";
        return options;
    }

    [GlobalSetup]
    public void Setup()
    {
        _data = SyntheticGenerator.Generate(new SyntheticOptions { Preset = "mslr-like", Queries = 20_000 / 120, Seed = 7 }).Data;
        Console.WriteLine($"// mslr-like: {_data.RowCount} rows, {_data.QueryCount} queries, {_data.FeatureCount} features");
        _model = (FastTreeModel)FitFastTree();
        _scores = new float[_data.RowCount];
    }

    [Benchmark(Description = "FastTree LambdaMART fit, 50 trees, 1 thread")]
    public IScoringModel FitFastTree()
        => new FastTreeRankerTrainer(Options()).Train(new TrainingRequest { Train = _data, Options = Options() }).Model;

    [Benchmark(Baseline = true, Description = "predict: our walk of FastTree's trees")]
    public float PredictTreeWalk()
    {
        _model.Predict(_data.Features, _data.RowCount, _scores);
        return _scores[^1];
    }

    [Benchmark(Description = "predict: ML.NET transformer + cursor")]
    public float PredictMLNet()
    {
        var scored = _model.Transformer.Transform(new RankingDataView(_data.Features, _data.FeatureCount, _data.RowCount));
        var column = scored.Schema[RankingColumns.Score];
        using var cursor = scored.GetRowCursor([column]);
        var get = cursor.GetGetter<float>(column);
        float last = 0;
        while (cursor.MoveNext()) get(ref last);
        return last;
    }

    [Benchmark(Description = "RankingDataset -> IDataView -> RankingDataset")]
    public int DataViewRoundTrip() => _ml.ToDataView(_data).ToRankingDataset().RowCount;
}
