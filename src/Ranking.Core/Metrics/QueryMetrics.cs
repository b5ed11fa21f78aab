using System.Runtime.CompilerServices;
using Ranking.Numerics;

namespace Ranking.Metrics;

/// <summary>
/// The per-metric settings of one evaluation, resolved once (ERR's maximum grade from the data, the
/// depth of the ranking every metric needs) so the per-query loop does no parsing or lookups.
/// </summary>
internal sealed class MetricPlan
{
    public MetricPlan(IReadOnlyList<MetricSpec> metrics, NdcgContract contract, double dataMaxGrade)
    {
        Contract = contract;
        Count = metrics.Count;
        Walks = new MetricWalkSettings[Count];
        Alphas = new double[Count];
        RankDepth = 1;
        IdealDepth = -1;
        for (int m = 0; m < Count; m++)
        {
            MetricSpec s = metrics[m];
            Walks[m] = s.WalkSettings(contract, dataMaxGrade);
            Alphas[m] = s.Alpha;
            if (s.IsDiversity) DiversityCount++;
            // 0 = the whole list; recall's denominator comes from the labels, not the ranking.
            if (RankDepth != 0) RankDepth = s.K == 0 ? 0 : Math.Max(RankDepth, s.K);
            if (s.Kind == MetricKind.Ndcg)
                IdealDepth = IdealDepth == 0 || s.K == 0 ? 0 : Math.Max(IdealDepth, s.K);
        }
    }

    public NdcgContract Contract { get; }
    public int Count { get; }
    /// <summary>Each metric's knobs for <see cref="MetricWalks.Evaluate"/>.</summary>
    public MetricWalkSettings[] Walks { get; }
    /// <summary>How many top positions any metric looks at; 0 = the whole list.</summary>
    public int RankDepth { get; }
    /// <summary>Longest ideal DCG prefix NDCG needs; 0 = whole list; -1 = no NDCG metric.</summary>
    public int IdealDepth { get; }
    /// <summary>Each metric's alpha (read by the diversity metrics only).</summary>
    public double[] Alphas { get; }
    /// <summary>How many metrics read subtopic judgements (alpha-NDCG, alpha-DCG).</summary>
    public int DiversityCount { get; }
}

/// <summary>One query's place in the subtopic judgements (none when <see cref="Judgements"/> is null).</summary>
internal readonly struct QuerySubtopics(SubtopicJudgements? judgements, int query, int firstRow)
{
    public SubtopicJudgements? Judgements { get; } = judgements;
    public int Query { get; } = query;
    /// <summary>The query's first row in the evaluated rows.</summary>
    public int FirstRow { get; } = firstRow;
}

/// <summary>
/// The CPU evaluator's ranked query with subtopic judgements, for <see cref="DiversityWalks"/>: the ranking's
/// sorted keys (row in the low half), the judgements' CSR arrays, and the thread's scratch.
/// </summary>
internal readonly ref struct CpuSubtopicQuery : ISubtopicRankedQuery
{
    private readonly ReadOnlySpan<ulong> _order;
    private readonly int _firstRow, _firstCandidate;
    private readonly SubtopicJudgements _judgements;
    private readonly Span<double> _coverage;
    private readonly Span<bool> _taken;
    private readonly RankDiscount _discount;

    public CpuSubtopicQuery(ReadOnlySpan<ulong> order, int rows, QuerySubtopics subtopics, Span<double> coverage, Span<bool> taken, RankDiscount discount)
    {
        _order = order;
        RowCount = rows;
        _judgements = subtopics.Judgements!;
        _firstRow = subtopics.FirstRow;
        _firstCandidate = _judgements.CandidateOffsets[subtopics.Query];
        CandidateCount = _judgements.CandidateOffsets[subtopics.Query + 1] - _firstCandidate;
        SubtopicCount = _judgements.SubtopicCounts[subtopics.Query];
        _coverage = coverage;
        _taken = taken;
        _discount = discount;
    }

    public int RowCount { get; }
    public int SubtopicCount { get; }
    public int CandidateCount { get; }

    private int RowAt(int place) => _firstRow + (int)(uint)_order[place];

    public int RowEntryCount(int place)
    {
        int row = RowAt(place);
        return _judgements.RowOffsets[row + 1] - _judgements.RowOffsets[row];
    }

    public int RowSubtopic(int place, int entry) => _judgements.RowSubtopics[_judgements.RowOffsets[RowAt(place)] + entry];

    public int RowGrade(int place, int entry) => _judgements.RowGrades[_judgements.RowOffsets[RowAt(place)] + entry];

    public int CandidateEntryCount(int candidate) =>
        _judgements.CandidateEntryOffsets[_firstCandidate + candidate + 1] - _judgements.CandidateEntryOffsets[_firstCandidate + candidate];

    public int CandidateSubtopic(int candidate, int entry) => _judgements.CandidateSubtopics[_judgements.CandidateEntryOffsets[_firstCandidate + candidate] + entry];

    public int CandidateGrade(int candidate, int entry) => _judgements.CandidateGrades[_judgements.CandidateEntryOffsets[_firstCandidate + candidate] + entry];

    public double Coverage(int subtopic) => _coverage[subtopic];

    public void SetCoverage(int subtopic, double value) => _coverage[subtopic] = value;

    public bool Taken(int candidate) => _taken[candidate];

    public void SetTaken(int candidate, bool taken) => _taken[candidate] = taken;

    public double Discount(int rank) => _discount.At(rank);
}

/// <summary>
/// The CPU evaluator's ranked query: sorted 64-bit keys (score key in the high half, row in the low half)
/// over the query's labels, the contract's gain and discount tables, and the ideal gains, for
/// <see cref="MetricWalks"/>. A ref struct over spans: the walks are generic over it, so the JIT
/// specialises and inlines every call.
/// </summary>
internal readonly ref struct CpuRankedQuery : IRankedQuery
{
    private readonly ReadOnlySpan<ulong> _order;
    private readonly ReadOnlySpan<float> _labels;
    private readonly ReadOnlySpan<double> _ideal;
    private readonly LabelGain _gain;
    private readonly RankDiscount _discount;
    private readonly ReadOnlySpan<float> _weights;

    public CpuRankedQuery(ReadOnlySpan<ulong> order, ReadOnlySpan<float> labels, LabelGain gain, RankDiscount discount, ReadOnlySpan<double> ideal, ReadOnlySpan<float> weights)
    {
        _weights = weights;
        _order = order;
        _labels = labels;
        _gain = gain;
        _discount = discount;
        _ideal = ideal;
    }

    public int RowCount => _labels.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Grade(int place) => _labels[(int)(uint)_order[place]];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Gain(int place)
    {
        int row = (int)(uint)_order[place];
        return _weights.IsEmpty ? _gain.Gain(_labels[row]) : _gain.Gain(_labels[row]) * _weights[row];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double IdealGain(int place) => _ideal[place];

    public int CountRelevant(double threshold)
    {
        int r = 0;
        foreach (float y in _labels) if (y > threshold) r++;
        return r;
    }

    public int BlockEnd(int start)
    {
        int e = start + 1;
        uint score = (uint)(_order[start] >> 32);
        while (e < _order.Length && (uint)(_order[e] >> 32) == score) e++;
        return e;
    }

    public double GainSum(int from, int to)
    {
        double sum = 0;
        for (int p = from; p < to; p++) sum += Gain(p);
        return sum;
    }

    public double GradeSum(int from, int to)
    {
        double sum = 0;
        for (int p = from; p < to; p++) sum += Grade(p);
        return sum;
    }

    public int RelevantIn(int from, int to, double threshold)
    {
        int r = 0;
        for (int p = from; p < to; p++) if (Grade(p) > threshold) r++;
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Discount(int rank) => _discount.At(rank);

    public double DiscountSum(int from, int to) => _discount.Sum(from, to);
}

/// <summary>Per-thread buffers, grown to the longest query seen; nothing is allocated per query.</summary>
internal sealed class QueryScratch
{
    [ThreadStatic] private static QueryScratch? t_current;

    public static QueryScratch Current => t_current ??= new QueryScratch();

    public ulong[] Keys = new ulong[256];
    public ulong[] Temp = new ulong[256];
    public double[] Ideal = new double[256];
    /// <summary>The diversity walks' scratch: coverage per subtopic, taken flag per ideal candidate.</summary>
    public double[] Coverage = [];
    public bool[] Taken = [];

    public void EnsureDiversity(int subtopics, int candidates)
    {
        if (Coverage.Length < subtopics) Coverage = new double[Math.Max(subtopics, Coverage.Length * 2)];
        if (Taken.Length < candidates) Taken = new bool[Math.Max(candidates, Taken.Length * 2)];
    }

    public void Ensure(int n)
    {
        if (Keys.Length < n)
        {
            int size = Math.Max(n, Keys.Length * 2);
            Keys = new ulong[size];
            Temp = new ulong[size];
            Ideal = new double[size];
        }
    }
}

/// <summary>
/// Every metric of one query in one pass over its ranking. Sorting is by a 64-bit key per row: the
/// score mapped to an order-preserving (descending) integer in the high half, the row's position in
/// the query in the low half, so a plain integer sort is a stable sort by score (ties in input order)
/// and is the same on every run and thread count. When every metric has a cut-off k much shorter than
/// the list, a selection puts the top k first and only they (plus the rest of the tie straddling
/// position k, which averaged and pessimistic ties need whole) are sorted.
/// </summary>
internal static class QueryMetrics
{
    /// <summary>Order-preserving map of a float to uint where a larger score gives a smaller key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint DescendingKey(float score) => RankingMath.DescendingScoreKey(score);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AscendingKey(float value) => ~DescendingKey(value);

    public static void Evaluate(MetricPlan plan, ReadOnlySpan<float> labels, ReadOnlySpan<float> scores, QueryScratch scratch, Span<double> output,
        ReadOnlySpan<float> tieKeys = default, ReadOnlySpan<float> weights = default, QuerySubtopics subtopics = default)
    {
        int n = labels.Length;
        scratch.Ensure(n);
        NdcgContract contract = plan.Contract;
        Span<ulong> keys = scratch.Keys.AsSpan(0, n);
        int depth = plan.RankDepth == 0 ? n : Math.Min(plan.RankDepth, n);
        Span<ulong> order;
        if (depth < n && depth <= TopKInsertionLimit && depth * 2 <= n)
        {
            order = TopByInsertion(scores, depth, keys);
        }
        else
        {
            for (int i = 0; i < n; i++) keys[i] = ((ulong)DescendingKey(scores[i]) << 32) | (uint)i;
            int head = n;
            if (depth < n && depth * 4 <= n)
            {
                Selection.SmallestFirst(keys, depth);
                uint boundary = 0;
                for (int i = 0; i < depth; i++) boundary = Math.Max(boundary, (uint)(keys[i] >> 32));
                head = depth;
                for (int j = depth; j < n; j++)
                    if ((uint)(keys[j] >> 32) == boundary) (keys[head], keys[j]) = (keys[j], keys[head++]);
            }
            order = keys[..head];
            if (head == n && n >= RadixSortFrom) SortByScoreRadix(order, scratch.Temp.AsSpan(0, n));
            else order.Sort();
        }

        if (contract.Ties is TiePolicy.Pessimistic or TiePolicy.Optimistic)
            ReorderTies(order, labels, contract.Ties == TiePolicy.Pessimistic);
        else if (contract.Ties == TiePolicy.DocIdDescending)
            ReorderTies(order, tieKeys, pessimistic: false);

        int idealLength = 0;
        if (plan.IdealDepth >= 0) idealLength = FillIdealGains(plan, labels, weights, scratch);

        var query = new CpuRankedQuery(order, labels, contract.LabelGain, contract.Discount, scratch.Ideal.AsSpan(0, idealLength), weights);
        if (plan.DiversityCount == 0)
        {
            for (int m = 0; m < plan.Count; m++) output[m] = MetricWalks.Evaluate(query, plan.Walks[m]);
            return;
        }
        EvaluateWithDiversity(plan, query, order, n, subtopics, scratch, output);
    }

    /// <summary>The metric loop when some metrics read subtopic judgements (alpha-NDCG): those take the diversity walk over the same ranking.</summary>
    private static void EvaluateWithDiversity(MetricPlan plan, CpuRankedQuery query, ReadOnlySpan<ulong> order, int n, QuerySubtopics subtopics, QueryScratch scratch, Span<double> output)
    {
        var judgements = subtopics.Judgements!;
        int subtopicCount = judgements.SubtopicCounts[subtopics.Query];
        int candidates = judgements.CandidateOffsets[subtopics.Query + 1] - judgements.CandidateOffsets[subtopics.Query];
        scratch.EnsureDiversity(subtopicCount, candidates);
        var diversity = new CpuSubtopicQuery(order, n, subtopics, scratch.Coverage.AsSpan(0, subtopicCount), scratch.Taken.AsSpan(0, candidates), plan.Contract.Discount);
        for (int m = 0; m < plan.Count; m++)
            output[m] = MetricCode.IsDiversity(plan.Walks[m].Metric)
                ? DiversityWalks.Evaluate(diversity, plan.Walks[m], plan.Alphas[m])
                : MetricWalks.Evaluate(query, plan.Walks[m]);
    }

    /// <summary>From this list length a radix sort beats the comparison sort (measured: about 2x at 125 rows).</summary>
    private const int RadixSortFrom = 64;

    /// <summary>
    /// Stable LSD radix sort on the score half of keys that are in row order (so ties stay in row order,
    /// exactly as the comparison sort of the whole key), one byte per pass; a pass whose byte is the same
    /// for every key is skipped.
    /// </summary>
    private static void SortByScoreRadix(Span<ulong> keys, Span<ulong> temp)
    {
        Span<int> counts = stackalloc int[256];
        Span<ulong> source = keys, target = temp;
        int n = keys.Length;
        for (int shift = 32; shift < 64; shift += 8)
        {
            counts.Clear();
            for (int i = 0; i < n; i++) counts[(int)((source[i] >> shift) & 0xFF)]++;
            if (counts[(int)((source[0] >> shift) & 0xFF)] == n) continue;
            int sum = 0;
            for (int b = 0; b < 256; b++) { int c = counts[b]; counts[b] = sum; sum += c; }
            for (int i = 0; i < n; i++)
            {
                ulong key = source[i];
                target[counts[(int)((key >> shift) & 0xFF)]++] = key;
            }
            Span<ulong> swap = source; source = target; target = swap;
        }
        if (source != keys) source.CopyTo(keys);
    }

    /// <summary>Up to this cut-off the top rows are kept in a small sorted buffer instead of a selection.</summary>
    private const int TopKInsertionLimit = 32;

    /// <summary>
    /// The k best keys in order, in one pass: a key enters a sorted buffer only when it beats the buffer's
    /// worst (most rows do not). Then the rest of the tie at position k (same score, later rows) is
    /// appended, already in order, because averaged and pessimistic ties need the whole tie.
    /// </summary>
    private static Span<ulong> TopByInsertion(ReadOnlySpan<float> scores, int k, Span<ulong> buffer)
    {
        int n = scores.Length, held = 0;
        ulong worst = ulong.MaxValue;
        for (int i = 0; i < n; i++)
        {
            ulong key = ((ulong)DescendingKey(scores[i]) << 32) | (uint)i;
            if (key >= worst) continue;
            int j = held < k ? held++ : k - 1;
            while (j > 0 && buffer[j - 1] > key) { buffer[j] = buffer[j - 1]; j--; }
            buffer[j] = key;
            if (held == k) worst = buffer[k - 1];
        }
        uint boundary = (uint)(worst >> 32);
        for (int i = (int)(uint)worst + 1; i < n; i++)
            if (DescendingKey(scores[i]) == boundary) buffer[held++] = ((ulong)boundary << 32) | (uint)i;
        return buffer[..held];
    }

    /// <summary>Within each run of equal scores, re-sorts by grade (ascending = pessimistic), input order among equal grades.</summary>
    private static void ReorderTies(Span<ulong> order, ReadOnlySpan<float> labels, bool pessimistic)
    {
        int p = 0;
        while (p < order.Length)
        {
            int e = p + 1;
            uint score = (uint)(order[p] >> 32);
            while (e < order.Length && (uint)(order[e] >> 32) == score) e++;
            if (e - p > 1)
            {
                // Replace the (equal) score half by the grade key: the block is then sorted by grade, then position.
                for (int i = p; i < e; i++)
                {
                    uint row = (uint)order[i];
                    uint gradeKey = pessimistic ? AscendingKey(labels[(int)row]) : DescendingKey(labels[(int)row]);
                    order[i] = ((ulong)gradeKey << 32) | row;
                }
                order[p..e].Sort();
                // Restore the score half so later tie detection (not used for fixed orders) stays meaningful.
                for (int i = p; i < e; i++) order[i] = ((ulong)score << 32) | (uint)order[i];
            }
            p = e;
        }
    }

    /// <summary>Writes the gains sorted descending (as many as the longest NDCG cut needs) into scratch.Ideal.</summary>
    private static int FillIdealGains(MetricPlan plan, ReadOnlySpan<float> labels, ReadOnlySpan<float> weights, QueryScratch scratch)
    {
        NdcgContract contract = plan.Contract;
        int n = labels.Length;
        int length = plan.IdealDepth == 0 ? n : Math.Min(plan.IdealDepth, n);
        Span<double> ideal = scratch.Ideal.AsSpan(0, n);
        if (contract.LabelGain.IsMonotone && weights.IsEmpty)
        {
            // Integer grades in the gain table: count them and walk from the top grade (no sort).
            int grades = Math.Min(contract.LabelGain.TabulatedGrades, 64);
            Span<int> counts = stackalloc int[64];
            counts.Clear();
            bool integral = true;
            for (int i = 0; i < n; i++)
            {
                float y = labels[i];
                int g = (int)y;
                if (g != y || (uint)g >= (uint)grades) { integral = false; break; }
                counts[g]++;
            }
            if (integral)
            {
                int p = 0;
                for (int g = grades - 1; g >= 0 && p < length; g--)
                {
                    double gain = contract.LabelGain.Gain(g);
                    for (int c = counts[g]; c > 0 && p < length; c--) ideal[p++] = gain;
                }
                return length;
            }
        }
        for (int i = 0; i < n; i++) ideal[i] = contract.LabelGain.Gain(labels[i]) * (weights.IsEmpty ? 1.0 : weights[i]);
        ideal.Sort();
        ideal.Reverse();
        return length;
    }
}

/// <summary>Deterministic in-place selection (quickselect, median of three) on 64-bit keys.</summary>
internal static class Selection
{
    /// <summary>Reorders so the <paramref name="count"/> smallest keys come first (in no particular order).</summary>
    public static void SmallestFirst(Span<ulong> keys, int count)
    {
        int lo = 0, hi = keys.Length - 1, target = count - 1;
        while (hi - lo > 16)
        {
            int mid = lo + ((hi - lo) >> 1);
            // median of three as pivot
            if (keys[mid] < keys[lo]) (keys[mid], keys[lo]) = (keys[lo], keys[mid]);
            if (keys[hi] < keys[lo]) (keys[hi], keys[lo]) = (keys[lo], keys[hi]);
            if (keys[hi] < keys[mid]) (keys[hi], keys[mid]) = (keys[mid], keys[hi]);
            ulong pivot = keys[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] < pivot) i++;
                while (keys[j] > pivot) j--;
                if (i <= j) { (keys[i], keys[j]) = (keys[j], keys[i]); i++; j--; }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return;
        }
        keys[lo..(hi + 1)].Sort();
    }
}
