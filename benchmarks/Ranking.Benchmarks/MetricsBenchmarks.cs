using BenchmarkDotNet.Attributes;
using Ranking.Metrics;

namespace Ranking.Benchmarks;

/// <summary>
/// The evaluator over ~1M rows in 8,000 queries (lengths 2..248, mean ~125, like MSLR-WEB): grades 0..4
/// skewed to 0 like web data, scores = a noisy view of the grade rounded to 1/100 so ties occur (as with
/// tree models). Rows per second = RowCount / mean time. Run:
/// <c>dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*MetricsBenchmarks*' --job short</c>
/// </summary>
[MemoryDiagnoser]
public class MetricsBenchmarks
{
    private float[] _labels = [];
    private float[] _scores = [];
    private int[] _offsets = [];
    private IReadOnlyList<MetricSpec> _ndcg10 = [];
    private IReadOnlyList<MetricSpec> _issueSet = [];
    private NdcgContract _averaged = NdcgContract.Default;
    private NdcgContract _inputOrder = NdcgContract.Default;

    [Params(1, 2)]
    public int Threads { get; set; }

    public const int Queries = 8000;

    public int RowCount => _labels.Length;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2026);
        _offsets = new int[Queries + 1];
        for (int q = 0; q < Queries; q++) _offsets[q + 1] = _offsets[q] + rng.Next(2, 249);
        int rows = _offsets[^1];
        _labels = new float[rows];
        _scores = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            double u = rng.NextDouble();
            float grade = u < 0.5 ? 0 : u < 0.8 ? 1 : u < 0.93 ? 2 : u < 0.98 ? 3 : 4;
            _labels[i] = grade;
            _scores[i] = MathF.Round((grade + 2.5f * (float)rng.NextDouble()) * 100f) / 100f;
        }
        _ndcg10 = MetricSpec.ParseList("ndcg@10");
        _issueSet = MetricSpec.ParseList("ndcg@10,map,err@10");
        _averaged = NdcgContract.Default;
        _inputOrder = NdcgContract.Default.WithTies(TiePolicy.InputOrder);
        Console.WriteLine($"// MetricsBenchmarks: {rows} rows, {Queries} queries");
    }

    [Benchmark(Description = "NDCG@10, averaged ties")]
    public double Ndcg10Averaged() =>
        RankingEvaluator.Evaluate(_labels, _offsets, null, _scores, _ndcg10, _averaged, Threads).MeanValues[0];

    [Benchmark(Description = "NDCG@10, input-order ties")]
    public double Ndcg10InputOrder() =>
        RankingEvaluator.Evaluate(_labels, _offsets, null, _scores, _ndcg10, _inputOrder, Threads).MeanValues[0];

    [Benchmark(Description = "NDCG@10 + MAP + ERR@10, averaged ties")]
    public double IssueSetAveraged() =>
        RankingEvaluator.Evaluate(_labels, _offsets, null, _scores, _issueSet, _averaged, Threads).MeanValues[0];
}
