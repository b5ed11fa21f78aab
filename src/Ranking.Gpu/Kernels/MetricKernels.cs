using ILGPU;
using ILGPU.Runtime;
using Ranking.Compute;
using Ranking.Metrics;

namespace Ranking.Gpu.Kernels;

/// <summary>One metric of one launch: the metric and the contract's knobs as plain fields for a kernel.</summary>
public struct MetricKernelSettings
{
    /// <summary>A <see cref="MetricKind"/>.</summary>
    public int Metric;
    /// <summary>The metric's k; 0 = the whole list.</summary>
    public int K;
    /// <summary>A <see cref="GainKind"/>.</summary>
    public int Gain;
    /// <summary>A <see cref="TiePolicy"/>.</summary>
    public int Ties;
    /// <summary>An <see cref="EmptyQueryPolicy"/>.</summary>
    public int Empty;
    /// <summary>Relevant means grade &gt; this (MAP, MRR, P, R).</summary>
    public double RelevanceThreshold;
    /// <summary>ERR's maximum grade (resolved on the host: the metric's or the data's largest).</summary>
    public double ErrMaxGrade;
    /// <summary>Multiplier of reported DCG (1, or 1/ln 2 for a natural-log DCG).</summary>
    public double DcgScale;
}

/// <summary>
/// All queries' values of one metric in two launches, with exactly the conventions of the CPU evaluator
/// (Ranking.Metrics.QueryMetrics): a thread per row finds its place by counting the rows of its query that
/// beat it (no sort: O(n) per row) and writes its own contribution (under averaged ties the first row of a
/// tie block writes the block's expected contribution for MAP and MRR); a thread per query then sums its
/// rows in row order, applies the denominators and the empty-query policy. Deterministic: no atomics.
/// </summary>
public sealed class MetricKernels
{
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, MetricKernelSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>> _rows;
    private readonly Action<Index1D, QueryArrays, MetricKernelSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>> _queries;

    public MetricKernels(Accelerator accelerator)
    {
        _rows = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, MetricKernelSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>>(RowKernel);
        _queries = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, MetricKernelSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>>(QueryKernel);
    }

    /// <summary>Queues the launches; per-query values land in <paramref name="perQuery"/> (NaN = left out).</summary>
    public void Launch(DeviceQuerySet set, QueryRange range, ArrayView<float> scores, MetricKernelSettings settings, ArrayView<double> gainTable, ArrayView<double> perQuery)
    {
        if (range.RowCount == 0) return;
        var value = set.RowScratch(0);
        var relevant = set.RowScratch(1);
        var gains = set.RowScratch(2);
        if (settings.Metric is (int)MetricKind.Ndcg or (int)MetricKind.Dcg)
            set.Device.Kernels(a => new GainKernels(a)).Launch(range, settings.Gain, gainTable, gains);
        _rows(range.RowCount, range.Arrays, scores, settings, gains, value, relevant);
        _queries(range.QueryCount, range.Arrays, settings, value, relevant, perQuery);
    }

    /// <summary>Under a fixed-order policy, does row j (same score as row i) come before row i?</summary>
    private static bool TieBefore(int ties, float gradeJ, float gradeI, int j, int i)
    {
        if (ties == (int)TiePolicy.Pessimistic) return gradeJ < gradeI || (gradeJ == gradeI && j < i);
        if (ties == (int)TiePolicy.Optimistic) return gradeJ > gradeI || (gradeJ == gradeI && j < i);
        return j < i;
    }

    private static void RowKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, MetricKernelSettings m, ArrayView<double> gains, ArrayView<double> valueOut, ArrayView<double> relevantOut)
    {
        int i = index + qa.RowBase;
        int q = qa.RowQuery[i];
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        int n = end - start;
        int cut = m.K == 0 ? n : (m.K < n ? m.K : n);
        bool averaged = m.Ties == (int)TiePolicy.Averaged;
        bool gainMetric = m.Metric == (int)MetricKind.Ndcg || m.Metric == (int)MetricKind.Dcg;
        // ERR has no closed form over tie orders: under averaged ties it keeps input order (as the CPU path).
        bool blockAveraged = averaged && m.Metric != (int)MetricKind.Err;
        float si = scores[i] + 0f, yi = qa.Labels[i];
        double gi = gainMetric ? gains[i] : 0.0;
        bool relevantI = yi > m.RelevanceThreshold;

        int above = 0, tiesOther = 0, tiesBeforeInput = 0, tiesBefore = 0, idealRank = 0;
        int relevantAbove = 0, relevantInTie = 0, relevantBefore = 0;
        double stillLooking = 1.0;
        for (int j = start; j < end; j++)
        {
            if (j == i) continue;
            float sj = scores[j] + 0f, yj = qa.Labels[j];
            bool relevantJ = yj > m.RelevanceThreshold;
            if (gainMetric)
            {
                double gj = gains[j];
                if (gj > gi || (gj == gi && j < i)) idealRank++;
            }
            bool before = false;
            if (sj > si)
            {
                above++;
                if (relevantJ) relevantAbove++;
                before = true;
            }
            else if (sj == si)
            {
                tiesOther++;
                if (relevantJ) relevantInTie++;
                if (j < i) tiesBeforeInput++;
                if (TieBefore(averaged ? (int)TiePolicy.InputOrder : m.Ties, yj, yi, j, i))
                {
                    tiesBefore++;
                    before = true;
                }
            }
            if (before)
            {
                if (relevantJ) relevantBefore++;
                if (m.Metric == (int)MetricKind.Err) stillLooking *= 1.0 - RankingMath.ErrSatisfaction(yj, m.ErrMaxGrade);
            }
        }

        int rank = above + tiesBefore;
        int blockStart = above, blockSize = tiesOther + 1;
        int blockEnd = blockStart + blockSize;
        int blockRelevant = relevantInTie + (relevantI ? 1 : 0);
        bool leader = tiesBeforeInput == 0;
        double v = 0.0;
        if (gainMetric)
        {
            if (blockAveraged) v = gi * RankingMath.DiscountSum(blockStart, blockEnd < cut ? blockEnd : cut) / blockSize;
            else if (rank < cut) v = gi * RankingMath.Discount(rank);
            if (m.Metric == (int)MetricKind.Dcg) v *= m.DcgScale;
            // For NDCG the second column holds the row's ideal-DCG term.
            relevantOut[i] = idealRank < cut ? gi * RankingMath.Discount(idealRank) : 0.0;
        }
        else
        {
            if (m.Metric == (int)MetricKind.Map)
            {
                if (!blockAveraged)
                {
                    if (relevantI && rank < cut) v = (relevantBefore + 1.0) / (rank + 1.0);
                }
                else if (leader && blockRelevant > 0 && blockStart < cut)
                {
                    double share = blockRelevant / (double)blockSize;
                    for (int off = 0; off < blockSize && blockStart + off < cut; off++)
                        v += share * RankingMath.ExpectedPrecisionInTieBlock(blockStart, blockSize, blockRelevant, relevantAbove, off);
                }
            }
            else if (m.Metric == (int)MetricKind.Mrr)
            {
                if (!blockAveraged)
                {
                    if (relevantI && relevantBefore == 0 && rank < cut) v = 1.0 / (rank + 1.0);
                }
                else if (leader && blockRelevant > 0 && relevantAbove == 0 && blockStart < cut)
                {
                    // P(first relevant row of the block at offset j) = C(size-1-j, r-1) / C(size, r), by recurrence.
                    double probability = blockRelevant / (double)blockSize;
                    for (int j = 0; j <= blockSize - blockRelevant && blockStart + j < cut; j++)
                    {
                        v += probability / (blockStart + j + 1);
                        if (blockSize - j - 1 > 0) probability *= (blockSize - blockRelevant - j) / (double)(blockSize - j - 1);
                    }
                }
            }
            else if (m.Metric == (int)MetricKind.Err)
            {
                if (rank < cut) v = stillLooking * RankingMath.ErrSatisfaction(yi, m.ErrMaxGrade) / (rank + 1.0);
            }
            else if (relevantI)
            {
                // Precision and recall: this row's (expected) presence in the top cut.
                if (!blockAveraged) v = rank < cut ? 1.0 : 0.0;
                else if (blockStart < cut) v = ((blockEnd < cut ? blockEnd : cut) - blockStart) / (double)blockSize;
            }
            relevantOut[i] = relevantI ? 1.0 : 0.0;
        }
        valueOut[i] = v;
    }

    private static void QueryKernel(Index1D index, QueryArrays qa, MetricKernelSettings m, ArrayView<double> value, ArrayView<double> second, ArrayView<double> perQuery)
    {
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        int n = end - start;
        double sum = 0.0, secondSum = 0.0;
        for (int r = start; r < end; r++)
        {
            sum += value[r];
            secondSum += second[r];
        }
        double empty = m.Empty == (int)EmptyQueryPolicy.CountAsOne ? 1.0 : m.Empty == (int)EmptyQueryPolicy.CountAsZero ? 0.0 : double.NaN;
        double result;
        int metric = m.Metric;
        if (n <= 0) result = double.NaN;
        else if (metric == (int)MetricKind.Ndcg) result = secondSum > 0 ? sum / secondSum : empty;
        else if (metric == (int)MetricKind.Dcg || metric == (int)MetricKind.Err) result = sum;
        else if (metric == (int)MetricKind.Precision) result = sum / (m.K == 0 ? n : m.K);
        else if (!(secondSum > 0)) result = empty;
        else if (metric == (int)MetricKind.Map) result = sum / (m.K == 0 ? secondSum : (m.K < secondSum ? m.K : secondSum));
        else if (metric == (int)MetricKind.Recall) result = sum / secondSum;
        else result = sum;
        perQuery[q] = result;
    }
}
