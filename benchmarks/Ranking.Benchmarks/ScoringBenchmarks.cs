using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Microsoft.ML.OnnxRuntime;
using Ranking.Data;
using Ranking.LightGbm;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Onnx;
using Ranking.Training;

namespace Ranking.Benchmarks;

/// <summary>
/// Scoring in the library, the path a .NET service embeds: a trained model's pipeline and scorer
/// (<see cref="Ranking.Features.FittedPipeline.Transform"/> then <see cref="IScoringModel.Predict"/>) against ONNX
/// Runtime running the model's ONNX export (pipeline in the graph), on batches of 1, 100 and 10,000 raw rows of
/// 136 features (mslr-like), one thread each (ONNX Runtime: one intra-op and one inter-op thread, every graph
/// optimisation on). Models: linear (linear-ranknet) and MLP (ranknet, 136 -> 32 -> 1) behind a z-score pipeline,
/// GBDT (lambdamart: LightGBM, 100 trees of 31 leaves, scored by the managed <see cref="LightGbmEnsemble"/>) on raw
/// features. The rows/s column is the batch size over the mean time.
/// Run: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*ScoringBenchmarks*' --job short
/// </summary>
[Config(typeof(RowsPerSecondConfig))]
[MemoryDiagnoser]
public class ScoringBenchmarks
{
    /// <summary>The model family: linear, mlp or gbdt.</summary>
    [Params("linear", "mlp", "gbdt")]
    public string Family { get; set; } = "linear";

    /// <summary>Rows per call.</summary>
    [Params(1, 100, 10_000)]
    public int Rows { get; set; }

    private RankingModel _model = null!;
    private float[] _raw = null!, _transformed = null!, _scores = null!;
    private InferenceSession _session = null!;
    private OrtValue _input = null!;
    private OrtValue[] _inputs = [];
    private RunOptions _runOptions = null!;
    private readonly string[] _inputNames = [OnnxFormat.FeaturesInput], _outputNames = [OnnxFormat.ScoreOutput];

    /// <summary>Trains the model (small set: scoring speed does not depend on how well it ranks), exports it, opens the session.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var catalog = new RankerCatalog();
        CoreRankers.Register(catalog);
        LightGbmRankers.Register(catalog);
        var (ranker, pipeline, iterations) = Family switch
        {
            "linear" => ("linear-ranknet", "zscore", 5),
            "mlp" => ("ranknet", "zscore", 5),
            "gbdt" => ("lambdamart", "none", 100),
            _ => throw new ArgumentException($"unknown family '{Family}'."),
        };
        var train = SyntheticGenerator.Generate(new SyntheticOptions { Preset = "mslr-like", Queries = 40, Seed = 3 }).Data;
        var options = new RankerOptions { Seed = 42, Threads = 1, Iterations = iterations, EarlyStoppingRounds = 0 };
        _model = RankerTraining.Train(catalog.Get(ranker), train, null, options, pipeline, MetricSpec.ParseList("ndcg@10"), NdcgContract.Default).Model;
        switch (_model.Model)
        {
            case LinearModel linear: linear.Threads = 1; break;
            case MlpModel mlp: mlp.Threads = 1; break;
            case LightGbmModel gbdt: gbdt.PredictionThreads = 1; break;
        }

        var rows = SyntheticGenerator.Generate(new SyntheticOptions { Preset = "mslr-like", Queries = 120, Seed = 4 }).Data;
        if (rows.RowCount < Rows) throw new InvalidOperationException($"the scoring set has {rows.RowCount} rows, fewer than {Rows}.");
        _raw = rows.Features.AsSpan(0, Rows * rows.FeatureCount).ToArray();
        _transformed = new float[Rows * _model.Pipeline.OutputFeatureCount];
        _scores = new float[Rows];

        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(OnnxExport.ToBytes(_model), sessionOptions);
        _input = OrtValue.CreateTensorValueFromMemory(_raw, new long[] { Rows, rows.FeatureCount });
        _inputs = [_input];
        _runOptions = new RunOptions();

        // Both paths must give the same scores, or the comparison means nothing.
        float ours = Ours(), onnx = OnnxRuntime();
        if (Math.Abs(ours - onnx) > 1e-4 * Math.Max(1, Math.Abs(ours)))
            throw new InvalidOperationException($"{Family}: ours {ours:R}, ONNX Runtime {onnx:R} on the last row.");
        Console.WriteLine($"// {Family} ({ranker}, pipeline {_model.Pipeline.Spec}): {Rows} rows x {rows.FeatureCount} features; last score {ours:R} both ways");
    }

    /// <summary>Releases the session and its input.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _input.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }

    /// <summary>The library: the fitted pipeline, then the scorer, one thread.</summary>
    [Benchmark(Baseline = true, Description = "Ranking: pipeline + Predict")]
    public float Ours()
    {
        _model.Pipeline.Transform(_raw, Rows, null, _transformed);
        _model.Model.Predict(_transformed, Rows, _scores);
        return _scores[Rows - 1];
    }

    /// <summary>ONNX Runtime on the exported graph (pipeline included), one thread.</summary>
    [Benchmark(Description = "ONNX Runtime: exported graph")]
    public float OnnxRuntime()
    {
        using var outputs = _session.Run(_runOptions, _inputNames, _inputs, _outputNames);
        var scores = outputs.First().GetTensorDataAsSpan<float>();
        scores.CopyTo(_scores);
        return _scores[Rows - 1];
    }

    private sealed class RowsPerSecondConfig : ManualConfig
    {
        public RowsPerSecondConfig() => AddColumn(new RateColumn("rows/s", "rows scored per second (batch rows / mean time)",
            benchmarkCase => (int)benchmarkCase.Parameters["Rows"], perNanosecond: 1e9, "N0"));
    }
}
