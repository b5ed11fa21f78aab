namespace Ranking.Metrics;

/// <summary>
/// The managed metric loop behind <see cref="IMetricsBackend"/>: parallel over chunks of queries, a
/// thread-local scratch, each query ranked (sort, selection or a top-k buffer) and walked once per metric
/// by <see cref="Numerics.MetricWalks"/>.
/// </summary>
public sealed class CpuMetricsBackend(int threads = -1) : IMetricsBackend
{
    /// <summary>All cores.</summary>
    public static CpuMetricsBackend Instance { get; } = new();

    /// <summary>Worker threads; -1 = all cores.</summary>
    public int Threads { get; } = threads;

    /// <inheritdoc />
    public double[][] ComputePerQuery(MetricRows rows, IReadOnlyList<MetricSpec> metrics, NdcgContract contract, double dataMaxGrade) =>
        RankingEvaluator.ComputePerQuery(rows, metrics, contract, Threads, dataMaxGrade);
}
