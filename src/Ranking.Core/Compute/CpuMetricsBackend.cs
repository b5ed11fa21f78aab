using Ranking.Metrics;

namespace Ranking.Compute;

/// <summary>The managed metric loops of <see cref="RankingEvaluator"/>, behind <see cref="IMetricsBackend"/>.</summary>
public sealed class CpuMetricsBackend(int threads = -1) : IMetricsBackend
{
    public static CpuMetricsBackend Instance { get; } = new();

    /// <summary>Worker threads; -1 = all cores.</summary>
    public int Threads { get; } = threads;

    /// <summary>The evaluator finds the data's largest grade itself (the same value as <paramref name="dataMaxGrade"/>).</summary>
    public double[][] ComputePerQuery(float[] labels, int[] groupOffsets, float[] scores, IReadOnlyList<MetricSpec> metrics, NdcgContract contract, double dataMaxGrade) =>
        RankingEvaluator.Evaluate(labels, groupOffsets, null, scores, metrics, contract, Threads).PerQuery;
}
