namespace Ranking.Metrics;

/// <summary>
/// Per-query metric values on one compute path. The managed implementation is the evaluator's own loop
/// (<see cref="CpuMetricsBackend"/>); Ranking.Gpu's evaluates every query of a metric in one kernel launch.
/// Inputs are already validated by the caller (<see cref="RankingEvaluator"/>): finite grades the contract
/// can turn into gains, no NaN score.
/// </summary>
public interface IMetricsBackend
{
    /// <summary>
    /// [metric][query] values with the conventions of <see cref="RankingEvaluator"/>; NaN where the
    /// contract leaves a query out. <paramref name="dataMaxGrade"/> is the largest grade of the data
    /// (ERR's maximum when the metric names none).
    /// </summary>
    double[][] ComputePerQuery(MetricRows rows, IReadOnlyList<MetricSpec> metrics, NdcgContract contract, double dataMaxGrade);

    /// <summary>The same on plain rows (no document ids or weights).</summary>
    double[][] ComputePerQuery(float[] labels, int[] groupOffsets, float[] scores, IReadOnlyList<MetricSpec> metrics, NdcgContract contract, double dataMaxGrade) =>
        ComputePerQuery(new MetricRows(labels, groupOffsets, scores), metrics, contract, dataMaxGrade);
}
