using Ranking.Compute;
using Ranking.Data;

namespace Ranking.Metrics;

/// <summary>The evaluator on another compute path (Ranking.Gpu): same validation, same report.</summary>
public static partial class RankingEvaluator
{
    /// <summary>
    /// As <see cref="Evaluate(float[], int[], float[], float[], IReadOnlyList{MetricSpec}, NdcgContract, int, string, long[])"/>,
    /// with the per-query values computed by <paramref name="backend"/> (e.g. one GPU kernel launch per
    /// metric). Input is validated here first, exactly as on the CPU path (NaN scores and grades the
    /// contract cannot take are a <see cref="RankingDataException"/> naming the row).
    /// </summary>
    public static EvaluationReport Evaluate(
        IMetricsBackend backend,
        float[] labels,
        int[] groupOffsets,
        float[]? queryWeights,
        float[] scores,
        IReadOnlyList<MetricSpec> metrics,
        NdcgContract contract,
        string? source = null,
        long[]? queryIds = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if (backend is CpuMetricsBackend cpu)
            return Evaluate(labels, groupOffsets, queryWeights, scores, metrics, contract, cpu.Threads, source, queryIds);
        int queries = CheckShapes(labels, groupOffsets, queryWeights, scores, metrics, contract, source);

        bool needsGain = metrics.Any(m => m.Kind is MetricKind.Ndcg or MetricKind.Dcg);
        for (int q = 0; q < queries; q++)
        {
            int start = groupOffsets[q], length = groupOffsets[q + 1] - start;
            int bad = length > 0 ? FirstBadRow(labels, scores, start, length, contract, needsGain) : -1;
            if (bad >= 0) throw RowError(bad, Problem(labels[bad], scores[bad], contract, needsGain), groupOffsets, source, queryIds);
        }
        double[][] perQuery = backend.ComputePerQuery(labels, groupOffsets, scores, metrics, contract, MaxFinite(labels));
        var means = new double[metrics.Count];
        var counted = new int[metrics.Count];
        for (int m = 0; m < metrics.Count; m++)
            (means[m], counted[m]) = WeightedMean(perQuery[m], queryWeights);
        return new EvaluationReport(metrics.ToArray(), contract, perQuery, means, counted, queries, labels.Length, queryIds, queryWeights);
    }

    /// <summary>The dataset form of <see cref="Evaluate(IMetricsBackend, float[], int[], float[], float[], IReadOnlyList{MetricSpec}, NdcgContract, string, long[])"/>.</summary>
    public static EvaluationReport Evaluate(IMetricsBackend backend, RankingDataset data, float[] scores, IReadOnlyList<MetricSpec> metrics, NdcgContract contract)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Evaluate(backend, data.Labels, data.GroupOffsets, data.QueryWeights, scores, metrics, contract, data.Source, data.QueryIds);
    }
}
