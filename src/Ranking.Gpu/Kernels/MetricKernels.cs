using ILGPU;
using ILGPU.Runtime;
using Ranking.Metrics;
using Ranking.Numerics;

namespace Ranking.Gpu.Kernels;

/// <summary>One metric of one launch: the walk's knobs and the contract's, as plain fields for a kernel.</summary>
public struct MetricKernelSettings
{
    /// <summary>The metric, as <see cref="MetricWalks"/> reads it.</summary>
    public MetricWalkSettings Walk;
    /// <summary>A <see cref="GainKind"/>.</summary>
    public int Gain;
    /// <summary>A <see cref="TiePolicy"/>.</summary>
    public int Ties;
    /// <summary>A <see cref="DiscountKind"/>.</summary>
    public int Discount;
    /// <summary>c of the reciprocal discount.</summary>
    public double DiscountOffset;
    /// <summary>alpha of alpha-NDCG / alpha-DCG (<see cref="DiversityWalks"/>).</summary>
    public double Alpha;
}

/// <summary>
/// All queries' values of one metric, computed by the walks the CPU evaluator runs (<see cref="MetricWalks"/>):
/// only how a query's ranking is found differs. Three paths:
/// <list type="bullet">
/// <item>Top-k (every metric with 1 &lt;= k &lt;= <see cref="MaxTopK"/>, NDCG@10 the common case): one launch, a
/// thread per query keeps its k best rows in a small sorted buffer (O(n k) per query; most rows cost one
/// comparison) and walks it (<see cref="TopKRankedQuery"/>).</item>
/// <item>Counting (short queries, other metrics): a thread per row finds its place by counting the rows of its
/// query that beat it (O(n^2) per query, no sort) and writes itself into the query's order; then a thread per
/// query walks the order (<see cref="SortedRankedQuery"/>).</item>
/// <item>Sorted (sets with long queries): the order comes from a segmented sort, then the same walk.</item>
/// </list>
/// The diversity metrics (alpha-NDCG) take the counting or sorted ranking and a thread per query runs
/// <see cref="DiversityWalks"/> over it with the uploaded subtopic judgements (<see cref="SubtopicArrays"/>).
/// Deterministic: no atomics.
/// </summary>
public sealed partial class MetricKernels
{
    private readonly Action<Index1D, TopKInputs, ArrayView<double>> _topK;
    private readonly Action<Index1D, WalkInputs, ArrayView<double>> _walk;
    private readonly Action<Index1D, CountingInputs> _countOrder;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, ArrayView<double>> _weighGains;
    private readonly Action<Index1D, DiversityInputs, ArrayView<double>> _diversity;

    /// <summary>What the top-k kernel reads.</summary>
    public struct TopKInputs
    {
        /// <summary>The set's per-query arrays.</summary>
        public QueryArrays Query;
        /// <summary>Score per row.</summary>
        public ArrayView<float> Scores;
        /// <summary>Gain per row under the contract.</summary>
        public ArrayView<double> Gains;
        /// <summary>The metric and the contract.</summary>
        public MetricKernelSettings Settings;
        /// <summary>Values that order tied rows under pessimistic / optimistic ties: the grades, or document-id keys.</summary>
        public ArrayView<float> TieGrades;
    }

    /// <summary>What the walk over ordered rows reads.</summary>
    public struct WalkInputs
    {
        /// <summary>The set's per-query arrays.</summary>
        public QueryArrays Query;
        /// <summary>Score per row.</summary>
        public ArrayView<float> Scores;
        /// <summary>Gain per row under the contract.</summary>
        public ArrayView<double> Gains;
        /// <summary>The metric and the contract.</summary>
        public MetricKernelSettings Settings;
        /// <summary>Rows in ranking order, query after query (place of the query's first row = its row - RowBase).</summary>
        public ArrayView<int> Order;
        /// <summary>Rows in descending gain order, laid out as <see cref="Order"/> (NDCG only).</summary>
        public ArrayView<int> IdealOrder;
    }

    /// <summary>What the counting kernel reads and writes.</summary>
    public struct CountingInputs
    {
        /// <summary>The set's per-query arrays.</summary>
        public QueryArrays Query;
        /// <summary>Score per row.</summary>
        public ArrayView<float> Scores;
        /// <summary>Gain per row under the contract.</summary>
        public ArrayView<double> Gains;
        /// <summary>A <see cref="TiePolicy"/>: which tied row comes first.</summary>
        public int Ties;
        /// <summary>1 = also write the ideal order (NDCG).</summary>
        public int Ideal;
        /// <summary>Values that order tied rows under pessimistic / optimistic ties: the grades, or document-id keys.</summary>
        public ArrayView<float> TieGrades;
        /// <summary>Written: rows in ranking order, query after query.</summary>
        public ArrayView<int> Order;
        /// <summary>Written when <see cref="Ideal"/> is 1: rows in descending gain order, laid out as <see cref="Order"/>.</summary>
        public ArrayView<int> IdealOrder;
    }

    /// <summary>Largest cut-off the top-k path serves; the same limit as the CPU evaluator's insertion buffer.</summary>
    public const int MaxTopK = 32;

    /// <summary>
    /// The top-k path serves sets whose longest query has at most this many rows (one thread reads a whole
    /// query); sets with a longer query sort instead. A judgement, not a measurement (no GPU at hand).
    /// </summary>
    public const int TopKMaxQueryLength = 65_536;

    /// <summary>Compiles the metric kernels on <paramref name="accelerator"/>.</summary>
    public MetricKernels(Accelerator accelerator)
    {
        _topK = accelerator.LoadAutoGroupedStreamKernel<Index1D, TopKInputs, ArrayView<double>>(TopKKernel);
        _walk = accelerator.LoadAutoGroupedStreamKernel<Index1D, WalkInputs, ArrayView<double>>(WalkKernel);
        _countOrder = accelerator.LoadAutoGroupedStreamKernel<Index1D, CountingInputs>(CountingOrderKernel);
        _weighGains = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, ArrayView<double>>(WeighGainsKernel);
        _diversity = accelerator.LoadAutoGroupedStreamKernel<Index1D, DiversityInputs, ArrayView<double>>(DiversityKernel);
    }

    /// <summary>Can the top-k kernel (a thread per query, O(n k) per query) compute this metric?</summary>
    public static bool UsesTopK(MetricKernelSettings settings) =>
        settings.Walk.K >= 1 && settings.Walk.K <= MaxTopK && !MetricCode.IsDiversity(settings.Walk.Metric);

    /// <summary>How one metric is computed on one set.</summary>
    private enum MetricPath { TopK, Sorted, Counting }

    /// <summary>
    /// Metrics with k &lt;= <see cref="MaxTopK"/> take the top-k kernel unless a query is longer than
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
    /// metric needs them, the ranking and the ideal ranking, each computed once for all metrics.
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
        /// <summary>Values that order tied rows under pessimistic / optimistic ties (grades or document-id keys).</summary>
        internal ArrayView<float> TieGrades { get; set; }
        /// <summary>Rows in ranking order and in descending gain order, from the sort (sorted path only).</summary>
        internal (ArrayView<int> Order, ArrayView<int> Ideal) Sorted { get; set; }
        /// <summary>The same from counting (counting path only).</summary>
        internal (ArrayView<int> Order, ArrayView<int> Ideal) Counted { get; set; }
        /// <summary>Subtopic judgements for the diversity metrics (a default value when none were given).</summary>
        internal SubtopicArrays Subtopics { get; set; }
    }

    /// <summary>
    /// Queues what the metrics of one evaluation share (see <see cref="Prepared"/>); the metrics must be of
    /// one contract (same gain and tie policy). Then <see cref="Launch"/> each metric. <paramref name="tieGrades"/>
    /// replaces the grades as what orders tied rows (document-id keys); <paramref name="documentWeights"/>
    /// multiply the rows' gains; <paramref name="subtopics"/> are the subtopic judgements the diversity metrics
    /// read. All are optional (default views).
    /// </summary>
    public Prepared Prepare(DeviceQuerySet set, QueryRange range, ArrayView<float> scores, IReadOnlyList<MetricKernelSettings> metrics, ArrayView<double> gainTable,
        int sortFrom = SortedRankKernels.DefaultSortFrom, int topKMaxQueryLength = TopKMaxQueryLength,
        ArrayView<float> tieGrades = default, ArrayView<float> documentWeights = default, SubtopicArrays subtopics = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(metrics);
        if (metrics.Count == 0) throw new ArgumentException("no metric to prepare for.", nameof(metrics));
        if (metrics.Any(m => MetricCode.IsDiversity(m.Walk.Metric)) && !subtopics.RowOffsets.IsValid)
            throw new ArgumentException("alpha-NDCG and alpha-DCG read subtopic judgements: none were given.", nameof(subtopics));
        foreach (var m in metrics)
            if (m.Gain != metrics[0].Gain || m.Ties != metrics[0].Ties)
                throw new ArgumentException("the metrics of one evaluation share one contract (gain and tie policy).", nameof(metrics));
        var prepared = new Prepared(set, range, scores, set.RowScratch(2), sortFrom, topKMaxQueryLength)
        {
            TieGrades = tieGrades.IsValid ? tieGrades : range.Arrays.Labels,
            Subtopics = subtopics,
        };
        if (range.RowCount == 0) return prepared;
        if (metrics.Any(m => m.Walk.Metric is MetricCode.Ndcg or MetricCode.Dcg))
        {
            set.Device.Kernels(a => new GainKernels(a)).Launch(range, metrics[0].Gain, gainTable, prepared.Gains);
            if (documentWeights.IsValid) _weighGains(range.RowCount, range.Arrays, documentWeights, prepared.Gains);
        }
        int ties = metrics[0].Ties;
        var sorted = metrics.Where(m => PathOf(m, set, sortFrom, topKMaxQueryLength) == MetricPath.Sorted).ToList();
        if (sorted.Count > 0)
        {
            var sorter = set.Device.Kernels(a => new SortedRankKernels(a));
            var buffers = set.SortBuffers(sorter);
            // The two orders live in different buffers, so every metric reads them without sorting again.
            ArrayView<int> ideal = default;
            if (sorted.Any(m => m.Walk.Metric == MetricCode.Ndcg)) ideal = sorter.OrderByGain(range, buffers, prepared.Gains);
            int gradeOrder = ties == (int)TiePolicy.Pessimistic ? 1 : ties == (int)TiePolicy.Optimistic ? -1 : 0;
            prepared.Sorted = (sorter.Order(range, buffers, scores, gradeOrder, prepared.TieGrades), ideal);
        }
        var counted = metrics.Where(m => PathOf(m, set, sortFrom, topKMaxQueryLength) == MetricPath.Counting).ToList();
        if (counted.Count > 0)
        {
            var (order, ideal) = set.RankingOrders();
            var inputs = new CountingInputs
            {
                Query = range.Arrays, Scores = scores, Gains = prepared.Gains, Ties = ties, TieGrades = prepared.TieGrades,
                Ideal = counted.Any(m => m.Walk.Metric == MetricCode.Ndcg) ? 1 : 0, Order = order, IdealOrder = ideal,
            };
            _countOrder(range.RowCount, inputs);
            prepared.Counted = (order, ideal);
        }
        return prepared;
    }

    /// <summary>Queues one metric of a prepared evaluation; per-query values land in <paramref name="perQuery"/> (NaN = left out).</summary>
    public void Launch(Prepared prepared, MetricKernelSettings settings, ArrayView<double> perQuery)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        var range = prepared.Range;
        if (range.RowCount == 0) return;
        var path = PathOf(settings, prepared.Set, prepared.SortFrom, prepared.TopKMaxQueryLength);
        if (path == MetricPath.TopK)
        {
            var inputs = new TopKInputs { Query = range.Arrays, Scores = prepared.Scores, Gains = prepared.Gains, Settings = settings, TieGrades = prepared.TieGrades };
            _topK(range.QueryCount, inputs, perQuery);
            return;
        }
        var (order, ideal) = path == MetricPath.Sorted ? prepared.Sorted : prepared.Counted;
        if (MetricCode.IsDiversity(settings.Walk.Metric))
        {
            _diversity(range.QueryCount, new DiversityInputs { Query = range.Arrays, Settings = settings, Order = order, Subtopics = prepared.Subtopics }, perQuery);
            return;
        }
        var walk = new WalkInputs
        {
            Query = range.Arrays, Scores = prepared.Scores, Gains = prepared.Gains, Settings = settings,
            Order = order, IdealOrder = ideal.IsValid ? ideal : order,
        };
        _walk(range.QueryCount, walk, perQuery);
    }

    /// <summary>One query's metric from its ordered rows (sorted or counted), a thread per query.</summary>
    private static void WalkKernel(Index1D index, WalkInputs w, ArrayView<double> perQuery)
    {
        var qa = w.Query;
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], n = qa.Offsets[q + 1] - start;
        if (n <= 0)
        {
            perQuery[q] = double.NaN;
            return;
        }
        var query = new SortedRankedQuery
        {
            Order = w.Order, IdealOrder = w.IdealOrder, Labels = qa.Labels, Scores = w.Scores, Gains = w.Gains,
            Start = start, Seg = start - qa.RowBase, N = n, DiscountKind = w.Settings.Discount, DiscountOffset = w.Settings.DiscountOffset,
        };
        perQuery[q] = MetricWalks.Evaluate(query, w.Settings.Walk);
    }

    /// <summary>
    /// One query's metric with k &lt;= <see cref="MaxTopK"/> in one thread, as the CPU evaluator's insertion path
    /// ranks it: one pass keeps the k best rows in a sorted buffer (order: score descending, then the tie
    /// policy's grade order, then input position) and, for NDCG, the k largest gains; then the walk.
    /// </summary>
    private static void TopKKernel(Index1D index, TopKInputs t, ArrayView<double> perQuery)
    {
        var qa = t.Query;
        var m = t.Settings;
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], n = qa.Offsets[q + 1] - start;
        if (n <= 0)
        {
            perQuery[q] = double.NaN;
            return;
        }
        int cut = m.Walk.K < n ? m.Walk.K : n;
        bool ndcg = m.Walk.Metric == MetricCode.Ndcg;
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
            ulong key = OrderKey(m.Ties, t.Scores[row], fixedTies ? t.TieGrades[row] : 0f);
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
                double g = t.Gains[row];
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
        var query = new TopKRankedQuery
        {
            Keys = keys, Positions = positions, IdealGains = idealGains, Held = cut,
            Labels = qa.Labels, Scores = t.Scores, Gains = t.Gains, Start = start, N = n,
            DiscountKind = m.Discount, DiscountOffset = m.DiscountOffset,
        };
        if (m.Walk.Averaged != 0 && m.Walk.Metric != MetricCode.Err) query.CountTail();
        perQuery[q] = MetricWalks.Evaluate(query, m.Walk);
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

    /// <summary>
    /// A thread per row: its place among its query's rows (score descending, the tie policy's grade order,
    /// input position; averaged ties keep input order, the walk averages them) and, for NDCG, its place by
    /// gain descending; each row writes itself to its places, so every query's order is complete after the
    /// launch. O(n) per row, O(n^2) per query: for sets of short queries.
    /// </summary>
    private static void CountingOrderKernel(Index1D index, CountingInputs c)
    {
        var qa = c.Query;
        int i = index + qa.RowBase;
        int q = qa.RowQuery[i];
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        int ties = c.Ties == (int)TiePolicy.Averaged ? (int)TiePolicy.InputOrder : c.Ties;
        bool fixedTies = ties == (int)TiePolicy.Pessimistic || ties == (int)TiePolicy.Optimistic;
        ulong keyI = OrderKey(ties, c.Scores[i], fixedTies ? c.TieGrades[i] : 0f);
        double gainI = c.Ideal != 0 ? c.Gains[i] : 0.0;
        int place = 0, idealPlace = 0;
        for (int j = start; j < end; j++)
        {
            ulong keyJ = OrderKey(ties, c.Scores[j], fixedTies ? c.TieGrades[j] : 0f);
            if (keyJ < keyI || (keyJ == keyI && j < i)) place++;
            if (c.Ideal != 0)
            {
                double gainJ = c.Gains[j];
                if (gainJ > gainI || (gainJ == gainI && j < i)) idealPlace++;
            }
        }
        int seg = start - qa.RowBase;
        c.Order[seg + place] = i;
        if (c.Ideal != 0) c.IdealOrder[seg + idealPlace] = i;
    }

    /// <summary>A thread per row: the row's gain times its document weight (TF-Ranking's per-item weights).</summary>
    private static void WeighGainsKernel(Index1D index, QueryArrays qa, ArrayView<float> weights, ArrayView<double> gains)
    {
        int i = index + qa.RowBase;
        gains[i] *= weights[i];
    }
}
