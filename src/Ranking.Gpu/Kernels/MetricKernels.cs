using Ranking.Numerics;
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
/// All queries' values of one metric with exactly the conventions of the CPU evaluator
/// (Ranking.Metrics.QueryMetrics). Two paths:
/// <list type="bullet">
/// <item>NDCG@k and DCG@k with k &lt;= <see cref="MaxTopK"/> (the common case, NDCG@10): one launch, a thread per
/// query keeps its k best rows in a small sorted buffer (O(n k) per query; most rows cost one comparison).</item>
/// <item>Every other metric and cut-off: two launches. A thread per row finds its place by counting the rows
/// of its query that beat it (no sort: O(n) per row, O(n^2) per query) and writes its own contribution
/// (under averaged ties the first row of a tie block writes the block's expected contribution for MAP and
/// MRR); a thread per query then sums its rows in row order, applies the denominators and the empty-query
/// policy.</item>
/// </list>
/// Deterministic: no atomics.
/// </summary>
public sealed class MetricKernels
{
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, MetricKernelSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>> _rows;
    private readonly Action<Index1D, QueryArrays, MetricKernelSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>> _queries;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, MetricKernelSettings, ArrayView<double>, ArrayView<double>> _topDcg;
    private readonly Action<Index1D, QueryArrays, ArrayView<int>, ArrayView<double>, int, ArrayView<double>> _idealFromOrder;
    private readonly Action<Index1D, SortedWalkInputs, ArrayView<double>> _sortedWalk;

    /// <summary>What the walk over sorted rows reads.</summary>
    public struct SortedWalkInputs
    {
        public QueryArrays Query;
        public ArrayView<float> Scores;
        public MetricKernelSettings Settings;
        public ArrayView<double> Gains;
        /// <summary>Rows in ranking order, query after query (place - RowBase = index).</summary>
        public ArrayView<int> Order;
        /// <summary>Ideal DCG at the metric's cut per query (NDCG only).</summary>
        public ArrayView<double> Ideal;
    }

    /// <summary>
    /// Largest cut-off the top-k path serves (NDCG@k and DCG@k with 1 &lt;= k &lt;= this); the same limit as the
    /// CPU evaluator's insertion buffer. Deeper cut-offs and whole-list NDCG count ranks or sort.
    /// </summary>
    public const int MaxTopK = 32;

    /// <summary>
    /// The top-k path serves sets whose longest query has at most this many rows (one thread reads a whole
    /// query); sets with a longer query sort instead. A judgement, not a measurement (no GPU at hand).
    /// </summary>
    public const int TopKMaxQueryLength = 65_536;

    public MetricKernels(Accelerator accelerator)
    {
        _rows = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, MetricKernelSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>>(RowKernel);
        _queries = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, MetricKernelSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>>(QueryKernel);
        _idealFromOrder = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<int>, ArrayView<double>, int, ArrayView<double>>(IdealFromOrderKernel);
        _sortedWalk = accelerator.LoadAutoGroupedStreamKernel<Index1D, SortedWalkInputs, ArrayView<double>>(SortedWalkKernel);
        _topDcg = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, MetricKernelSettings, ArrayView<double>, ArrayView<double>>(TopKDcgKernel);
    }

    /// <summary>Can the top-k kernel (a thread per query, O(n k) per query) compute this metric?</summary>
    public static bool UsesTopK(MetricKernelSettings settings) =>
        settings.Metric is (int)MetricKind.Ndcg or (int)MetricKind.Dcg && settings.K >= 1 && settings.K <= MaxTopK;

    /// <summary>How one metric is computed on one set.</summary>
    private enum MetricPath { TopK, Sorted, Counting }

    /// <summary>
    /// NDCG@k and DCG@k (k &lt;= <see cref="MaxTopK"/>) take the top-k kernel unless a query is longer than
    /// topKMaxQueryLength: its thread reads the whole query serially, fine up to tens of thousands of rows,
    /// while sorting costs a pass over every row of the set. Other metrics count ranks unless that would
    /// compare each row with more than sortFrom rows on average. Otherwise the ranking comes from a sort.
    /// </summary>
    private static MetricPath PathOf(MetricKernelSettings settings, DeviceQuerySet set, int sortFrom, int topKMaxQueryLength)
    {
        bool topKMetric = UsesTopK(settings), canSort = set.Device.Algorithms;
        if (topKMetric && (set.MaxQueryLength <= topKMaxQueryLength || !canSort)) return MetricPath.TopK;
        if (canSort && (topKMetric || set.ComparisonsPerRow > sortFrom)) return MetricPath.Sorted;
        return MetricPath.Counting;
    }

    /// <summary>
    /// What every metric of one evaluation shares (same scores, one contract): the rows' gains and, where a
    /// metric takes the sorted path, the ranking and the ideal ranking, each computed once for all metrics.
    /// </summary>
    public sealed class Prepared
    {
        internal Prepared(DeviceQuerySet set, QueryRange range, ArrayView<float> scores, ArrayView<double> gains, int sortFrom, int topKMaxQueryLength)
        {
            Set = set;
            Range = range;
            Scores = scores;
            Gains = gains;
            SortFrom = sortFrom;
            TopKMaxQueryLength = topKMaxQueryLength;
        }

        internal DeviceQuerySet Set { get; }
        internal QueryRange Range { get; }
        internal ArrayView<float> Scores { get; }
        internal ArrayView<double> Gains { get; }
        internal int SortFrom { get; }
        internal int TopKMaxQueryLength { get; }
        /// <summary>Rows in ranking order, query after query (sorted path only).</summary>
        internal ArrayView<int> Order { get; set; }
        /// <summary>Rows in descending gain order, query after query (sorted NDCG only).</summary>
        internal ArrayView<int> IdealOrder { get; set; }
    }

    /// <summary>
    /// Queues what the metrics of one evaluation share (see <see cref="Prepared"/>); the metrics must be of
    /// one contract (same gain and tie policy). Then <see cref="Launch"/> each metric.
    /// </summary>
    public Prepared Prepare(DeviceQuerySet set, QueryRange range, ArrayView<float> scores, IReadOnlyList<MetricKernelSettings> metrics, ArrayView<double> gainTable,
        int sortFrom = SortedRankKernels.DefaultSortFrom, int topKMaxQueryLength = TopKMaxQueryLength)
    {
        if (metrics.Count == 0) throw new ArgumentException("no metric to prepare for.", nameof(metrics));
        foreach (var m in metrics)
            if (m.Gain != metrics[0].Gain || m.Ties != metrics[0].Ties)
                throw new ArgumentException("the metrics of one evaluation share one contract (gain and tie policy).", nameof(metrics));
        var prepared = new Prepared(set, range, scores, set.RowScratch(2), sortFrom, topKMaxQueryLength);
        if (range.RowCount == 0) return prepared;
        if (metrics.Any(m => m.Metric is (int)MetricKind.Ndcg or (int)MetricKind.Dcg))
            set.Device.Kernels(a => new GainKernels(a)).Launch(range, metrics[0].Gain, gainTable, prepared.Gains);
        var sorted = metrics.Where(m => PathOf(m, set, sortFrom, topKMaxQueryLength) == MetricPath.Sorted).ToList();
        if (sorted.Count > 0)
        {
            var sorter = set.Device.Kernels(a => new SortedRankKernels(a));
            var buffers = set.SortBuffers(sorter);
            // The two orders live in different buffers, so every metric reads them without sorting again.
            if (sorted.Any(m => m.Metric == (int)MetricKind.Ndcg)) prepared.IdealOrder = sorter.OrderByGain(range, buffers, prepared.Gains);
            int ties = metrics[0].Ties;
            int gradeOrder = ties == (int)TiePolicy.Pessimistic ? 1 : ties == (int)TiePolicy.Optimistic ? -1 : 0;
            prepared.Order = sorter.Order(range, buffers, scores, gradeOrder);
        }
        return prepared;
    }

    /// <summary>Queues one metric of a prepared evaluation; per-query values land in <paramref name="perQuery"/> (NaN = left out).</summary>
    public void Launch(Prepared prepared, MetricKernelSettings settings, ArrayView<double> perQuery)
    {
        var (set, range) = (prepared.Set, prepared.Range);
        if (range.RowCount == 0) return;
        switch (PathOf(settings, set, prepared.SortFrom, prepared.TopKMaxQueryLength))
        {
            case MetricPath.TopK:
                _topDcg(range.QueryCount, range.Arrays, prepared.Scores, settings, prepared.Gains, perQuery);
                break;
            case MetricPath.Sorted:
                var ideal = set.QueryScratch(4);
                if (settings.Metric == (int)MetricKind.Ndcg)
                    _idealFromOrder(range.QueryCount, range.Arrays, prepared.IdealOrder, prepared.Gains, settings.K, ideal);
                var walk = new SortedWalkInputs
                {
                    Query = range.Arrays, Scores = prepared.Scores, Settings = settings, Gains = prepared.Gains,
                    Order = prepared.Order, Ideal = ideal,
                };
                _sortedWalk(range.QueryCount, walk, perQuery);
                break;
            default:
                var value = set.RowScratch(0);
                var relevant = set.RowScratch(1);
                _rows(range.RowCount, range.Arrays, prepared.Scores, settings, prepared.Gains, value, relevant);
                _queries(range.QueryCount, range.Arrays, settings, value, relevant, perQuery);
                break;
        }
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
                    v = RankingMath.TieBlockPrecisionSum(blockStart, blockSize, blockRelevant, relevantAbove, cut);
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
                    v = RankingMath.TieBlockReciprocalRank(blockStart, blockSize, blockRelevant, cut);
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

    /// <summary>
    /// NDCG@k / DCG@k of one query in one thread, as the CPU evaluator's insertion path computes it: one pass
    /// keeps the k best rows in a sorted buffer (order: score descending, then the tie policy's grade order
    /// for pessimistic / optimistic ties, then input position) and the k largest gains for the ideal DCG;
    /// under averaged ties the rows after the last held one are scanned again for the rest of the tie block
    /// straddling position k (its size and gain sum, in input order as the CPU sums it). Work is O(n k) per query with most rows rejected by one
    /// comparison, where counting ranks costs O(n^2): the difference that matters for long queries.
    /// </summary>
    private static void TopKDcgKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, MetricKernelSettings m, ArrayView<double> gains, ArrayView<double> perQuery)
    {
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        int n = end - start;
        if (n <= 0)
        {
            perQuery[q] = double.NaN;
            return;
        }
        int cut = m.K < n ? m.K : n;
        bool ndcg = m.Metric == (int)MetricKind.Ndcg;
        bool averaged = m.Ties == (int)TiePolicy.Averaged;
        // Grades break score ties only under pessimistic and optimistic ties; otherwise the labels are not read.
        bool fixedTies = m.Ties == (int)TiePolicy.Pessimistic || m.Ties == (int)TiePolicy.Optimistic;
        var keys = LocalMemory.Allocate<ulong>(MaxTopK);
        var positions = LocalMemory.Allocate<int>(MaxTopK);
        var idealGains = LocalMemory.Allocate<double>(MaxTopK);
        int held = 0, heldIdeal = 0;
        // The worst held key and gain live in registers: most rows are rejected by one comparison with them,
        // without touching the buffers (thread-local memory, slower than registers on a GPU).
        ulong worstKey = ulong.MaxValue;
        double worstIdeal = double.PositiveInfinity;
        for (int p = 0; p < n; p++)
        {
            int row = start + p;
            ulong key = OrderKey(m.Ties, scores[row], fixedTies ? qa.Labels[row] : 0f);
            // Rows come in input order, so a row whose key equals the worst held key is worse than it.
            if (held < cut || key < worstKey)
            {
                int j = held < cut ? held++ : cut - 1;
                while (j > 0 && keys[j - 1] > key)
                {
                    keys[j] = keys[j - 1];
                    positions[j] = positions[j - 1];
                    j--;
                }
                keys[j] = key;
                positions[j] = p;
                if (held == cut) worstKey = keys[cut - 1];
            }
            if (ndcg)
            {
                double g = gains[row];
                if (heldIdeal < cut || g > worstIdeal)
                {
                    int j = heldIdeal < cut ? heldIdeal++ : cut - 1;
                    while (j > 0 && idealGains[j - 1] < g)
                    {
                        idealGains[j] = idealGains[j - 1];
                        j--;
                    }
                    idealGains[j] = g;
                    if (heldIdeal == cut) worstIdeal = idealGains[cut - 1];
                }
            }
        }

        double dcg = 0.0;
        if (!averaged)
        {
            for (int p = 0; p < cut; p++) dcg += gains[start + positions[p]] * RankingMath.Discount(p);
        }
        else
        {
            // The tie block at the cut may reach past it. Its rows before the last held row are all held (they
            // beat it); the rest come after it in input order. Count and sum them all in input order, as the CPU does.
            uint boundary = (uint)(keys[cut - 1] >> 32);
            int boundaryCount = 0;
            double boundaryGains = 0.0;
            for (int p = 0; p < cut; p++)
            {
                if ((uint)(keys[p] >> 32) != boundary) continue;
                boundaryCount++;
                boundaryGains += gains[start + positions[p]];
            }
            for (int p = positions[cut - 1] + 1; p < n; p++)
            {
                if (RankingMath.DescendingScoreKey(scores[start + p]) != boundary) continue;
                boundaryCount++;
                boundaryGains += gains[start + p];
            }
            for (int p = 0; p < cut;)
            {
                uint score = (uint)(keys[p] >> 32);
                int size;
                double sum;
                if (score == boundary)
                {
                    size = boundaryCount;
                    sum = boundaryGains;
                }
                else
                {
                    size = 1;
                    sum = gains[start + positions[p]];
                    while (p + size < cut && (uint)(keys[p + size] >> 32) == score)
                    {
                        sum += gains[start + positions[p + size]];
                        size++;
                    }
                }
                int blockEnd = p + size < cut ? p + size : cut;
                dcg += size == 1 ? sum * RankingMath.Discount(p) : sum / size * RankingMath.DiscountSum(p, blockEnd);
                p += size;
            }
        }

        if (!ndcg)
        {
            perQuery[q] = dcg * m.DcgScale;
            return;
        }
        double ideal = 0.0;
        for (int p = 0; p < heldIdeal; p++) ideal += idealGains[p] * RankingMath.Discount(p);
        double empty = m.Empty == (int)EmptyQueryPolicy.CountAsOne ? 1.0 : m.Empty == (int)EmptyQueryPolicy.CountAsZero ? 0.0 : double.NaN;
        perQuery[q] = ideal > 0 ? dcg / ideal : empty;
    }

    private static void IdealFromOrderKernel(Index1D index, QueryArrays qa, ArrayView<int> byGain, ArrayView<double> gains, int k, ArrayView<double> ideal)
    {
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], n = qa.Offsets[q + 1] - start;
        int cut = k == 0 ? n : (k < n ? k : n);
        int seg = start - qa.RowBase;
        double sum = 0.0;
        for (int p = 0; p < cut; p++) sum += gains[byGain[seg + p]] * RankingMath.Discount(p);
        ideal[q] = sum;
    }

    /// <summary>Where the tie block starting at place p ends (p + 1 unless ties are averaged).</summary>
    private static int BlockEnd(SortedWalkInputs w, int seg, int n, int p, bool averaged)
    {
        int e = p + 1;
        if (!averaged) return e;
        uint score = RankingMath.DescendingScoreKey(w.Scores[w.Order[seg + p]]);
        while (e < n && RankingMath.DescendingScoreKey(w.Scores[w.Order[seg + e]]) == score) e++;
        return e;
    }

    private static int RelevantIn(SortedWalkInputs w, int seg, int from, int to, double threshold)
    {
        int r = 0;
        for (int p = from; p < to; p++) if (w.Query.Labels[w.Order[seg + p]] > threshold) r++;
        return r;
    }

    /// <summary>
    /// One query's metric from its sorted rows, a thread per query: the CPU evaluator's walk
    /// (Ranking.Metrics.QueryMetrics) over the same order, tie blocks and expected values.
    /// </summary>
    private static void SortedWalkKernel(Index1D index, SortedWalkInputs w, ArrayView<double> perQuery)
    {
        var qa = w.Query;
        var m = w.Settings;
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], n = qa.Offsets[q + 1] - start;
        if (n <= 0)
        {
            perQuery[q] = double.NaN;
            return;
        }
        int seg = start - qa.RowBase;
        int cut = m.K == 0 ? n : (m.K < n ? m.K : n);
        // ERR has no closed form over tie orders: under averaged ties it keeps input order (as the CPU path).
        bool averaged = m.Ties == (int)TiePolicy.Averaged && m.Metric != (int)MetricKind.Err;
        double threshold = m.RelevanceThreshold;
        double empty = m.Empty == (int)EmptyQueryPolicy.CountAsOne ? 1.0 : m.Empty == (int)EmptyQueryPolicy.CountAsZero ? 0.0 : double.NaN;
        double result = 0.0;
        if (m.Metric == (int)MetricKind.Ndcg || m.Metric == (int)MetricKind.Dcg)
        {
            double dcg = 0.0;
            for (int p = 0; p < cut;)
            {
                int e = BlockEnd(w, seg, n, p, averaged);
                if (e - p == 1)
                {
                    dcg += w.Gains[w.Order[seg + p]] * RankingMath.Discount(p);
                }
                else
                {
                    double sum = 0.0;
                    for (int i = p; i < e; i++) sum += w.Gains[w.Order[seg + i]];
                    dcg += sum / (e - p) * RankingMath.DiscountSum(p, e < cut ? e : cut);
                }
                p = e;
            }
            if (m.Metric == (int)MetricKind.Dcg) result = dcg * m.DcgScale;
            else result = w.Ideal[q] > 0 ? dcg / w.Ideal[q] : empty;
        }
        else if (m.Metric == (int)MetricKind.Err)
        {
            double stillLooking = 1.0;
            for (int p = 0; p < cut; p++)
            {
                double satisfied = RankingMath.ErrSatisfaction(qa.Labels[w.Order[seg + p]], m.ErrMaxGrade);
                result += stillLooking * satisfied / (p + 1);
                stillLooking *= 1.0 - satisfied;
            }
        }
        else
        {
            int relevant = RelevantIn(w, seg, 0, n, threshold);
            if (m.Metric == (int)MetricKind.Precision || m.Metric == (int)MetricKind.Recall)
            {
                double hits = 0.0;
                for (int p = 0; p < cut;)
                {
                    int e = BlockEnd(w, seg, n, p, averaged);
                    int r = RelevantIn(w, seg, p, e, threshold);
                    hits += e - p == 1 ? r : r * (double)((e < cut ? e : cut) - p) / (e - p);
                    p = e;
                }
                if (m.Metric == (int)MetricKind.Precision) result = hits / (m.K == 0 ? n : m.K);
                else result = relevant == 0 ? empty : hits / relevant;
            }
            else if (relevant == 0)
            {
                result = empty;
            }
            else if (m.Metric == (int)MetricKind.Map)
            {
                double sum = 0.0;
                int before = 0;
                for (int p = 0; p < cut;)
                {
                    int e = BlockEnd(w, seg, n, p, averaged);
                    int size = e - p;
                    if (size == 1)
                    {
                        if (qa.Labels[w.Order[seg + p]] > threshold)
                        {
                            before++;
                            sum += before / (p + 1.0);
                        }
                    }
                    else
                    {
                        int r = RelevantIn(w, seg, p, e, threshold);
                        if (r > 0)
                        {
                            sum += RankingMath.TieBlockPrecisionSum(p, size, r, before, cut);
                            before += r;
                        }
                    }
                    p = e;
                }
                result = sum / (m.K == 0 ? relevant : (m.K < relevant ? m.K : relevant));
            }
            else
            {
                // MRR: 1 / place of the first relevant row within the cut; expected value over a tie block.
                for (int p = 0; p < cut;)
                {
                    int e = BlockEnd(w, seg, n, p, averaged);
                    int size = e - p;
                    int r = size == 1 ? (qa.Labels[w.Order[seg + p]] > threshold ? 1 : 0) : RelevantIn(w, seg, p, e, threshold);
                    if (r > 0)
                    {
                        result = size == 1 ? 1.0 / (p + 1) : RankingMath.TieBlockReciprocalRank(p, size, r, cut);
                        break;
                    }
                    p = e;
                }
            }
        }
        perQuery[q] = result;
    }

    /// <summary>
    /// A row's place in the ranking as one integer (smaller = higher): the score's descending key, then under
    /// pessimistic ties the grade ascending and under optimistic ties the grade descending (the CPU path's
    /// ReorderTies); input position breaks what is left, outside the key.
    /// </summary>
    private static ulong OrderKey(int ties, float score, float grade)
    {
        uint tieKey = 0;
        if (ties == (int)TiePolicy.Pessimistic) tieKey = ~RankingMath.DescendingScoreKey(grade);
        else if (ties == (int)TiePolicy.Optimistic) tieKey = RankingMath.DescendingScoreKey(grade);
        return ((ulong)RankingMath.DescendingScoreKey(score) << 32) | tieKey;
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
