using Ranking.Numerics;
using ILGPU;
using ILGPU.Runtime;
using Ranking.Compute;

namespace Ranking.Gpu.Kernels;

/// <summary>Which per-query loop a <see cref="QueryLoopKernels"/> launch runs.</summary>
public enum QueryLoop
{
    RankNet = 0,
    RankSvm = 1,
    ContrastivePairs = 2,
    Softmax = 3,
    Contrastive = 4,
    ApproxNdcg = 5,
    ListMle = 6,
    SampledSoftmax = 7,
    Nce = 8,
    Triplet = 9,
}

/// <summary>The knobs of every loop, as plain kernel fields (each loop reads its own).</summary>
public struct QueryLoopSettings
{
    public int Loop;
    /// <summary>sigma (RankNet), margin (RankSVM, contrastive), threshold (softmax), temperature (ApproxNDCG).</summary>
    public double A;
    /// <summary>threshold (contrastive).</summary>
    public double B;
    /// <summary>Pairs: 0 all, 1 truncation (PairParam = k), 2 sampled (PairParam = partners per row). ListMLE: PairParam = top-k factors (0 = all).</summary>
    public int PairMode;
    public int PairParam;
    /// <summary>ApproxNDCG: exact up to this length, else Samples partners per row.</summary>
    public int ExactLimit;
    public int Samples;
    public int Seed;
    public int Iteration;
    /// <summary>ListMLE: 1 when the order by (grade, random key) is already in the ranks scratch (sorted on the device).</summary>
    public int OrderGiven;
}

/// <summary>
/// The objectives whose CPU loop is a short serial pass over one query (pairwise RankNet / RankSVM /
/// contrastive pairs, softmax, contrastive, ApproxNDCG) as a thread per query running the same loop in
/// the same order with the same RankingMath calls and the same seeded draws (the query's stream key from
/// its index within the launch), accumulating in float64 into per-row scratch that only that thread
/// touches; a thread per row then writes float gradients and Hessians times the query weight (as the
/// CPU: round to float, then multiply). A thread per query suits the short lists of learning-to-rank
/// sets; on sets with long queries the pair loops run a thread per row (<see cref="RowPairsKernel"/>).
/// </summary>
public sealed class QueryLoopKernels
{
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, QueryLoopSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<int>> _queries;
    private readonly Action<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>> _finish;

    private readonly Action<Index1D, RowPairInputs, ArrayView<double>, ArrayView<double>, ArrayView<double>> _rowPairs;
    private readonly Action<Index1D, QueryArrays, int, ArrayView<int>, ArrayView<int>> _topList;
    private readonly Action<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>> _queryLoss;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, ArrayView<int>> _countRanks;
    private readonly Action<Index1D, QueryArrays, QueryLoopSettings, ArrayView<ulong>, ArrayView<int>> _listMleKeys;
    private readonly Action<Index1D, QueryArrays, ArrayView<int>, ArrayView<int>> _orderFromSort;

    public QueryLoopKernels(Accelerator accelerator)
    {
        _rowPairs = accelerator.LoadAutoGroupedStreamKernel<Index1D, RowPairInputs, ArrayView<double>, ArrayView<double>, ArrayView<double>>(RowPairsKernel);
        _topList = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, int, ArrayView<int>, ArrayView<int>>(TopListKernel);
        _queryLoss = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>>(QueryLossKernel);
        _countRanks = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, ArrayView<int>>(CountRanksKernel);
        _listMleKeys = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, QueryLoopSettings, ArrayView<ulong>, ArrayView<int>>(ListMleKeyKernel);
        _orderFromSort = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<int>, ArrayView<int>>(OrderFromSortKernel);
        _queries = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, QueryLoopSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<int>>(QueryKernel);
        _finish = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>>(FinishKernel);
    }

    /// <summary>Is this a pair loop that a thread per row can run (all or truncated pairs; sampled pairs stay per query)?</summary>
    public static bool HasRowParallelForm(QueryLoopSettings settings) =>
        settings.Loop <= (int)QueryLoop.ContrastivePairs && settings.PairMode != 2;

    /// <summary>
    /// Queues the loop over <paramref name="range"/>; per-query loss (times weight) in QueryScratch(3). On a set
    /// whose longest query exceeds <paramref name="rowParallelFrom"/> rows, pair loops run a thread per row
    /// (<see cref="RowPairsKernel"/>) instead of a thread per query, and ListMLE takes its order from a
    /// segmented sort.
    /// </summary>
    public void Launch(DeviceQuerySet set, QueryRange range, ArrayView<float> scores, QueryLoopSettings settings, int rowParallelFrom = int.MaxValue)
    {
        if (range.RowCount == 0) return;
        var grad = set.RowScratch(1);
        var hess = set.RowScratch(2);
        if (HasRowParallelForm(settings) && set.MaxQueryLength > rowParallelFrom)
        {
            var inputs = new RowPairInputs { Query = range.Arrays, Scores = scores, Settings = settings, Ranks = set.RowInts.View, TopRows = set.TopRows(1) };
            if (settings.PairMode == 1)
            {
                if (set.Device.Algorithms)
                {
                    var sorter = set.Device.Kernels(a => new SortedRankKernels(a));
                    sorter.RanksByScore(range, set.SortBuffers(sorter), scores, set.RowInts.View);
                }
                else
                {
                    _countRanks(range.RowCount, range.Arrays, scores, set.RowInts.View);
                }
                inputs.TopRows = set.TopRows(settings.PairParam);
                _topList(range.RowCount, range.Arrays, settings.PairParam, set.RowInts.View, inputs.TopRows);
            }
            var lossPart = set.RowScratch(0);
            _rowPairs(range.RowCount, inputs, grad, hess, lossPart);
            _queryLoss(range.QueryCount, range.Arrays, lossPart, set.QueryScratch(3));
            _finish(range.RowCount, range.Arrays, grad, hess, set.Gradients.View, set.Hessians.View);
            return;
        }
        if (settings.Loop == (int)QueryLoop.ListMle && set.MaxQueryLength > rowParallelFrom && set.Device.Algorithms)
        {
            // ListMLE's order (grade descending, seeded random key among equal grades) by a segmented sort of
            // the same keys, instead of counting them in the per-query thread (O(n^2)).
            var sorter = set.Device.Kernels(a => new SortedRankKernels(a));
            var buffers = set.SortBuffers(sorter);
            var (keys, rows) = sorter.KeyViews(buffers, range.RowCount);
            _listMleKeys(range.RowCount, range.Arrays, settings, keys, rows);
            _orderFromSort(range.RowCount, range.Arrays, sorter.OrderWithinQueries(range, buffers), set.RowInts.View);
            settings.OrderGiven = 1;
        }
        // Per-row scratch besides the accumulators: ApproxNDCG's smooth ranks then a_i, the pair loop's ranks.
        _queries(range.QueryCount, range.Arrays, scores, settings, grad, hess, set.RowScratch(0), set.QueryScratch(3), set.RowInts.View);
        _finish(range.RowCount, range.Arrays, grad, hess, set.Gradients.View, set.Hessians.View);
    }

    private static void QueryKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, ArrayView<double> grad, ArrayView<double> hess, ArrayView<double> aux, ArrayView<double> lossOut, ArrayView<int> ranks)
    {
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        int n = end - start;
        for (int r = start; r < end; r++) { grad[r] = 0.0; hess[r] = 0.0; }
        double loss = 0.0;
        if (n > 0)
        {
            ulong stream = RankingMath.StreamKey(m.Seed, m.Iteration, q - qa.QueryBase);
            if (m.Loop <= (int)QueryLoop.ContrastivePairs) loss = Pairs(qa, scores, m, start, n, stream, grad, hess, ranks);
            else if (m.Loop == (int)QueryLoop.Softmax) loss = Softmax(qa, scores, m, start, n, grad, hess);
            else if (m.Loop == (int)QueryLoop.Contrastive) loss = Contrastive(qa, scores, m, start, n, grad, hess);
            else if (m.Loop == (int)QueryLoop.ApproxNdcg) loss = ApproxNdcg(qa, scores, m, start, n, stream, grad, hess, aux);
            else if (m.Loop == (int)QueryLoop.ListMle) loss = ListMle(qa, scores, m, start, n, stream, grad, hess, aux, ranks);
            else if (m.Loop == (int)QueryLoop.SampledSoftmax) loss = SampledSoftmax(qa, scores, m, start, n, stream, grad, hess, aux, ranks);
            else if (m.Loop == (int)QueryLoop.Nce) loss = Nce(qa, scores, m, start, n, stream, grad, hess);
            else loss = Triplet(qa, scores, m, start, n, stream, grad, hess, aux, ranks);
        }
        lossOut[q] = loss * qa.QueryWeights[q];
    }

    private static void FinishKernel(Index1D index, QueryArrays qa, ArrayView<double> grad, ArrayView<double> hess, ArrayView<float> gradients, ArrayView<float> hessians)
    {
        int i = index + qa.RowBase;
        float w = qa.QueryWeights[qa.RowQuery[i]];
        float g = (float)grad[i], h = (float)hess[i];
        if (w != 1f) { g *= w; h *= w; }
        gradients[i] = g;
        hessians[i] = h;
    }

    // ------------------------------------------------------------ ListMLE (Ranking.Objectives.ListMleObjective)

    private static double ListMle(QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, int start, int n, ulong stream, ArrayView<double> grad, ArrayView<double> hess, ArrayView<double> aux, ArrayView<int> order)
    {
        // The order by grade, descending, ties by a random key per row: each row's position by counting keys
        // (O(n^2)), unless a segmented sort of the same keys already wrote it.
        for (int i = 0; i < n && m.OrderGiven == 0; i++)
        {
            ulong ki = ListMleKey(qa.Labels[start + i], stream, i);
            int position = 0;
            for (int j = 0; j < n; j++)
            {
                ulong kj = ListMleKey(qa.Labels[start + j], stream, j);
                if (kj < ki || (kj == ki && j < i)) position++;
            }
            order[start + position] = i;
        }
        // Suffix log-sum-exps by position (in aux).
        aux[start + n - 1] = scores[start + order[start + n - 1]];
        for (int i = n - 2; i >= 0; i--) aux[start + i] = RankingMath.LogAddExp(scores[start + order[start + i]], aux[start + i + 1]);
        int factors = m.PairParam > 0 ? (m.PairParam < n ? m.PairParam : n) : n;
        double loss = 0;
        double logSumInv = double.NegativeInfinity, logSumInv2 = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            int row = order[start + i];
            double s = scores[start + row];
            double lse = aux[start + i];
            if (i < factors)
            {
                loss += lse - s;
                logSumInv = RankingMath.LogAddExp(logSumInv, -lse);
                logSumInv2 = RankingMath.LogAddExp(logSumInv2, -2 * lse);
            }
            double sumP = Math.Exp(s + logSumInv);
            double sumP2 = Math.Exp(2 * s + logSumInv2);
            grad[start + row] = (i < factors ? -1.0 : 0.0) + sumP;
            double h = sumP - sumP2;
            hess[start + row] = h > 0.0 ? h : 0.0;
        }
        return loss;
    }

    /// <summary>Each row's ListMLE key (its query's stream, its place in the query) for the segmented sort.</summary>
    private static void ListMleKeyKernel(Index1D index, QueryArrays qa, QueryLoopSettings m, ArrayView<ulong> keys, ArrayView<int> rows)
    {
        int row = index + qa.RowBase;
        int q = qa.RowQuery[row];
        ulong stream = RankingMath.StreamKey(m.Seed, m.Iteration, q - qa.QueryBase);
        keys[index] = ListMleKey(qa.Labels[row], stream, row - qa.Offsets[q]);
        rows[index] = row;
    }

    /// <summary>order[start + place] = the row's index in its query, from the rows sorted query by query.</summary>
    private static void OrderFromSortKernel(Index1D index, QueryArrays qa, ArrayView<int> sortedRows, ArrayView<int> order)
    {
        int row = sortedRows[index];
        int start = qa.Offsets[qa.RowQuery[row]];
        order[index + qa.RowBase] = row - start;
    }

    private static ulong ListMleKey(float grade, ulong stream, int i) =>
        (RankingMath.DescendingScoreKey(grade, 0) & 0xFFFFFFFF00000000UL) | (RankingMath.RandomBits(stream, i) >> 32);

    // ------------------------------------------------------------ sampled softmax and NCE (Ranking.Objectives.SampledObjectives)

    /// <summary>
    /// Sampled softmax without per-positive buffers: the draws are counter-based, so each positive's k
    /// draws are simply drawn again for the second and third pass (max, then the gradients).
    /// </summary>
    private static double SampledSoftmax(QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, int start, int n, ulong stream, ArrayView<double> grad, ArrayView<double> hess, ArrayView<double> cumulative, ArrayView<int> negatives)
    {
        int k = m.PairParam;
        int negativeCount = 0;
        double totalGain = 0, maxProposal = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            float y = qa.Labels[start + i];
            if (y > m.A) totalGain += RankingMath.ExponentialGain(y);
            else
            {
                negatives[start + negativeCount++] = i;
                double s = scores[start + i];
                if (s > maxProposal) maxProposal = s;
            }
        }
        if (negativeCount == 0 || !(totalGain > 0)) return 0.0;
        bool byScore = m.PairMode == 1;
        double logK = Math.Log(k), logNormalizer = 0;
        if (byScore)
        {
            double sum = 0;
            for (int t = 0; t < negativeCount; t++) { sum += Math.Exp(scores[start + negatives[start + t]] - maxProposal); cumulative[start + t] = sum; }
            for (int t = 0; t < negativeCount; t++) cumulative[start + t] /= sum;
            cumulative[start + negativeCount - 1] = 1.0;
            logNormalizer = maxProposal + Math.Log(sum);
        }
        double uniformCorrection = logK - Math.Log(negativeCount);
        double loss = 0;
        for (int p = 0; p < n; p++)
        {
            float yp = qa.Labels[start + p];
            if (!(yp > m.A)) continue;
            double w = RankingMath.ExponentialGain(yp) / totalGain;
            double l0 = scores[start + p];
            double max = l0;
            for (int t = 0; t < k; t++)
            {
                double logit = DrawnLogit(scores, start, stream, (long)p * k + t, byScore, cumulative, negatives, negativeCount, logK, logNormalizer, uniformCorrection, out _);
                if (logit > max) max = logit;
            }
            double sumExp = Math.Exp(l0 - max);
            for (int t = 0; t < k; t++)
                sumExp += Math.Exp(DrawnLogit(scores, start, stream, (long)p * k + t, byScore, cumulative, negatives, negativeCount, logK, logNormalizer, uniformCorrection, out _) - max);
            double lse = max + Math.Log(sumExp);
            loss += w * (lse - l0);
            double p0 = Math.Exp(l0 - lse);
            grad[start + p] += w * (p0 - 1.0);
            hess[start + p] += w * p0 * (1.0 - p0);
            for (int t = 0; t < k; t++)
            {
                double logit = DrawnLogit(scores, start, stream, (long)p * k + t, byScore, cumulative, negatives, negativeCount, logK, logNormalizer, uniformCorrection, out int j);
                double pt = Math.Exp(logit - lse);
                grad[start + j] += w * pt;
                hess[start + j] += w * pt * (1.0 - pt);
            }
        }
        return loss;
    }

    /// <summary>Draw number <paramref name="counter"/>: the negative (query-local row) and its corrected logit s_j - log(k q_j).</summary>
    private static double DrawnLogit(ArrayView<float> scores, int start, ulong stream, long counter, bool byScore, ArrayView<double> cumulative, ArrayView<int> negatives, int negativeCount, double logK, double logNormalizer, double uniformCorrection, out int j)
    {
        if (byScore)
        {
            double u = RankingMath.RandomUnit(stream, counter);
            int lo = 0, hi = negativeCount - 1;
            while (lo < hi)
            {
                int mid = (lo + hi) >> 1;
                if (cumulative[start + mid] > u) hi = mid; else lo = mid + 1;
            }
            j = negatives[start + lo];
            return scores[start + j] - (logK + (scores[start + j] - logNormalizer));
        }
        j = negatives[start + RankingMath.RandomIndex(stream, counter, negativeCount)];
        return scores[start + j] - uniformCorrection;
    }

    /// <summary>NCE with uniform noise over the query's rows (the objective's Compute; noise weights are CPU-only).</summary>
    private static double Nce(QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, int start, int n, ulong stream, ArrayView<double> grad, ArrayView<double> hess)
    {
        int k = m.PairParam;
        double logKNoise = Math.Log(k) + -Math.Log(n);
        double loss = 0;
        for (int x = 0; x < n; x++)
        {
            if (!(qa.Labels[start + x] > m.A)) continue;
            double u = scores[start + x] - logKNoise;
            double h = RankingMath.Sigmoid(u);
            loss += RankingMath.Softplus(-u);
            grad[start + x] += h - 1.0;
            hess[start + x] += h * (1.0 - h);
            for (int t = 0; t < k; t++)
            {
                int y = RankingMath.RandomIndex(stream, (long)x * k + t, n);
                double v = scores[start + y] - logKNoise;
                double hy = RankingMath.Sigmoid(v);
                loss += RankingMath.Softplus(v);
                grad[start + y] += hy;
                hess[start + y] += hy * (1.0 - hy);
            }
        }
        return loss;
    }

    // ------------------------------------------------------------ triplet (Ranking.Objectives.TripletObjective)

    /// <summary>
    /// The CPU's triplet loop: rows by grade ascending (in <paramref name="byGradeSlot"/>, as exact doubles)
    /// and by score descending (in <paramref name="byScore"/>), both found by counting; the hard list is
    /// re-scanned from the score order instead of cached. Settings: A margin, B threshold, PairMode mining
    /// (0 all, 1 random, 2 hard, 3 semi-hard), PairParam k, ExactLimit pairing (0 threshold, 1 graded).
    /// </summary>
    private static double Triplet(QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, int start, int n, ulong stream, ArrayView<double> grad, ArrayView<double> hess, ArrayView<double> byGradeSlot, ArrayView<int> byScore)
    {
        for (int i = 0; i < n; i++)
        {
            float yi = qa.Labels[start + i], si = scores[start + i];
            int gradePosition = 0, scorePosition = 0;
            for (int j = 0; j < n; j++)
            {
                float yj = qa.Labels[start + j], sj = scores[start + j];
                if (yj < yi || (yj == yi && j < i)) gradePosition++;
                if (sj > si || (sj == si && j < i)) scorePosition++;
            }
            byGradeSlot[start + gradePosition] = i;
            byScore[start + scorePosition] = i;
        }
        int k = m.PairParam;
        double margin = m.A, loss = 0;
        int thresholdNegatives = 0;
        for (int i = 0; i < n; i++) if (qa.Labels[start + i] <= m.B) thresholdNegatives++;
        int level = 0;
        for (int pos = 0; pos < n; pos++)
        {
            int p = (int)byGradeSlot[start + pos];
            float yp = qa.Labels[start + p];
            if (pos > 0 && qa.Labels[start + (int)byGradeSlot[start + pos - 1]] != yp) level = pos;
            int negatives = m.ExactLimit == 0 ? (yp > m.B ? thresholdNegatives : 0) : level;
            if (negatives == 0) continue;
            double sp = scores[start + p];
            float negativeBelow = qa.Labels[start + (int)byGradeSlot[start + negatives - 1]];
            if (m.PairMode == 0)
            {
                for (int t = 0; t < negatives; t++) loss += TripletTerm(p, (int)byGradeSlot[start + t], margin, scores, start, grad, hess);
            }
            else if (m.PairMode == 1)
            {
                for (int t = 0; t < k; t++)
                    loss += TripletTerm(p, (int)byGradeSlot[start + RankingMath.RandomIndex(stream, (long)p * k + t, negatives)], margin, scores, start, grad, hess);
            }
            else
            {
                int taken = 0;
                if (m.PairMode == 3)
                {
                    // First rank scoring strictly below the positive (binary search on the descending scores).
                    int lo = 0, hi = n;
                    while (lo < hi)
                    {
                        int mid = (lo + hi) >> 1;
                        if ((double)scores[start + byScore[start + mid]] < sp) hi = mid; else lo = mid + 1;
                    }
                    for (int r = lo; r < n && taken < k && sp - scores[start + byScore[start + r]] < margin; r++)
                    {
                        int q = byScore[start + r];
                        if (qa.Labels[start + q] > negativeBelow) continue;
                        loss += TripletTerm(p, q, margin, scores, start, grad, hess);
                        taken++;
                    }
                }
                if (taken == 0)
                {
                    int hard = 0, limit = k < n ? k : n;
                    for (int r = 0; r < n && hard < limit; r++)
                    {
                        int q = byScore[start + r];
                        if (qa.Labels[start + q] > negativeBelow) continue;
                        loss += TripletTerm(p, q, margin, scores, start, grad, hess);
                        hard++;
                    }
                }
            }
        }
        return loss;
    }

    private static double TripletTerm(int positive, int negative, double margin, ArrayView<float> scores, int start, ArrayView<double> grad, ArrayView<double> hess)
    {
        double loss = RankingMath.Hinge(margin, (double)scores[start + positive] - scores[start + negative]);
        if (loss > 0)
        {
            grad[start + positive] -= 1; grad[start + negative] += 1;
            hess[start + positive] += 1; hess[start + negative] += 1;
        }
        return loss;
    }

    // ------------------------------------------------------------ pairwise (Ranking.Objectives.PairwiseObjective)

    private static double Pairs(QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, int start, int n, ulong stream, ArrayView<double> grad, ArrayView<double> hess, ArrayView<int> ranks)
    {
        double loss = 0.0;
        if (m.PairMode == 1)
        {
            // Stable ranks by score (ties in input order), then pairs (rank a, any lower rank) for a < k.
            for (int i = 0; i < n; i++)
            {
                float si = scores[start + i];
                int rank = 0;
                for (int j = 0; j < n; j++)
                {
                    float sj = scores[start + j];
                    if (sj > si || (sj == si && j < i)) rank++;
                }
                ranks[start + i] = rank;
            }
            int top = m.PairParam < n - 1 ? m.PairParam : n - 1;
            for (int a = 0; a < top; a++)
            {
                int rowA = 0;
                for (int i = 0; i < n; i++) if (ranks[start + i] == a) rowA = i;
                for (int j = 0; j < n; j++)
                    if (ranks[start + j] > a) loss += Visit(qa, scores, m, start, rowA, j, 1.0, grad, hess);
            }
        }
        else if (m.PairMode == 2 && m.PairParam < n - 1)
        {
            int draws = m.PairParam;
            double weight = (n - 1) / (2.0 * draws);
            for (int i = 0; i < n; i++)
                for (int t = 0; t < draws; t++)
                {
                    int j = RankingMath.RandomIndex(stream, (long)i * draws + t, n - 1);
                    if (j >= i) j++;
                    loss += Visit(qa, scores, m, start, i, j, weight, grad, hess);
                }
        }
        else
        {
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                    loss += Visit(qa, scores, m, start, i, j, 1.0, grad, hess);
        }
        return loss;
    }

    private static double Visit(QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, int start, int i, int j, double weight, ArrayView<double> grad, ArrayView<double> hess)
    {
        if (!PairTerms(qa, scores, m, start, i, j, out int high, out double loss, out double dLoss, out double curvature)) return 0.0;
        int low = high == i ? j : i;
        grad[start + high] += weight * dLoss;
        grad[start + low] -= weight * dLoss;
        hess[start + high] += weight * curvature;
        hess[start + low] += weight * curvature;
        return weight * loss;
    }

    /// <summary>
    /// The pair (i, j) of one query, visited in this order: its loss, d loss / d s_high (the low row gets the
    /// negative) and curvature (both rows). False when the pair counts for nothing (equal grades, except for
    /// contrastive pairs, where i plays "high": equal grades pull together).
    /// </summary>
    private static bool PairTerms(QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, int start, int i, int j, out int high, out double loss, out double dLoss, out double curvature)
    {
        float yi = qa.Labels[start + i], yj = qa.Labels[start + j];
        high = i;
        int low = j;
        if (yi == yj)
        {
            loss = dLoss = curvature = 0.0;
            if (m.Loop != (int)QueryLoop.ContrastivePairs) return false;
            // Equal grades pull together: (s_i - s_j)^2 / 2.
            double d = (double)scores[start + i] - scores[start + j];
            loss = 0.5 * d * d;
            dLoss = d;
            curvature = 1.0;
            return true;
        }
        if (yj > yi) { high = j; low = i; }
        double difference = (double)scores[start + high] - scores[start + low];
        if (m.Loop == (int)QueryLoop.RankNet)
        {
            loss = RankingMath.RankNetPairLossAndProbability(m.A, difference, out double p);
            dLoss = -m.A * p;
            curvature = m.A * m.A * p * (1.0 - p);
        }
        else if (m.Loop == (int)QueryLoop.RankSvm)
        {
            loss = RankingMath.Hinge(m.A, difference);
            bool active = loss > 0;
            dLoss = active ? -1.0 : 0.0;
            curvature = active ? 1.0 : 0.0;
        }
        else
        {
            double gap = m.A - difference;
            bool active = gap > 0;
            dLoss = active ? -gap : 0.0;
            curvature = active ? 1.0 : 0.0;
            loss = active ? 0.5 * gap * gap : 0.0;
        }
        return true;
    }

    // ------------------------------------------------------------ pairs of long queries, a thread per row

    /// <summary>What the row-parallel pair kernel reads.</summary>
    public struct RowPairInputs
    {
        public QueryArrays Query;
        public ArrayView<float> Scores;
        public QueryLoopSettings Settings;
        /// <summary>Each row's stable rank by score (truncated pairs only).</summary>
        public ArrayView<int> Ranks;
        /// <summary>queryCount x PairParam: the row at each top rank (truncated pairs only).</summary>
        public ArrayView<int> TopRows;
    }

    /// <summary>
    /// All or truncated pairs (RankNet, RankSVM, contrastive pairs) with a thread per row: the row visits each
    /// pair it belongs to, in the CPU loop's (i, j) order, and keeps its own side; the pair's loss is counted
    /// once, by the pair's first row. O(n) per row where the per-query loop is O(n^2) in one thread.
    /// </summary>
    private static void RowPairsKernel(Index1D index, RowPairInputs p, ArrayView<double> grad, ArrayView<double> hess, ArrayView<double> lossPart)
    {
        var qa = p.Query;
        var m = p.Settings;
        int row = index + qa.RowBase;
        int q = qa.RowQuery[row];
        int start = qa.Offsets[q], n = qa.Offsets[q + 1] - start;
        int self = row - start;
        double g = 0.0, h = 0.0, loss = 0.0;
        if (m.PairMode == 1)
        {
            int top = m.PairParam < n - 1 ? m.PairParam : n - 1;
            int rank = p.Ranks[row];
            if (rank < top)
            {
                // This row is a top row: it pairs with every row ranked below it, and counts those pairs' loss.
                for (int j = 0; j < n; j++)
                {
                    if (p.Ranks[start + j] <= rank) continue;
                    if (!PairTerms(qa, p.Scores, m, start, self, j, out int high, out double pairLoss, out double dLoss, out double curvature)) continue;
                    g += high == self ? dLoss : -dLoss;
                    h += curvature;
                    loss += pairLoss;
                }
            }
            // The top rows ranked above this row pair with it (it is their "any lower rank" partner).
            int above = rank < top ? rank : top;
            for (int a = 0; a < above; a++)
            {
                int other = p.TopRows[(long)q * m.PairParam + a] - start;
                if (!PairTerms(qa, p.Scores, m, start, other, self, out int high, out _, out double dLoss, out double curvature)) continue;
                g += high == self ? dLoss : -dLoss;
                h += curvature;
            }
        }
        else
        {
            for (int j = 0; j < n; j++)
            {
                if (j == self) continue;
                int first = self < j ? self : j, second = self < j ? j : self;
                if (!PairTerms(qa, p.Scores, m, start, first, second, out int high, out double pairLoss, out double dLoss, out double curvature)) continue;
                g += high == self ? dLoss : -dLoss;
                h += curvature;
                if (first == self) loss += pairLoss;
            }
        }
        grad[row] = g;
        hess[row] = h;
        lossPart[row] = loss;
    }

    /// <summary>The rows at each top rank (truncated pairs of long queries).</summary>
    private static void TopListKernel(Index1D index, QueryArrays qa, int perQuery, ArrayView<int> ranks, ArrayView<int> top)
    {
        int row = index + qa.RowBase;
        int rank = ranks[row];
        if (rank < perQuery) top[(long)qa.RowQuery[row] * perQuery + rank] = row;
    }

    /// <summary>A query's loss: its rows' parts summed in row order, times the query weight.</summary>
    private static void QueryLossKernel(Index1D index, QueryArrays qa, ArrayView<double> lossPart, ArrayView<double> lossOut)
    {
        int q = index + qa.QueryBase;
        double loss = 0.0;
        for (int r = qa.Offsets[q]; r < qa.Offsets[q + 1]; r++) loss += lossPart[r];
        lossOut[q] = loss * qa.QueryWeights[q];
    }

    /// <summary>Stable ranks by score, counted (O(n) per row) for the truncated pairs when no sort is available.</summary>
    private static void CountRanksKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, ArrayView<int> ranks)
    {
        int row = index + qa.RowBase;
        int q = qa.RowQuery[row];
        float s = scores[row];
        int rank = 0;
        for (int j = qa.Offsets[q]; j < qa.Offsets[q + 1]; j++)
        {
            float sj = scores[j];
            if (sj > s || (sj == s && j < row)) rank++;
        }
        ranks[row] = rank;
    }

    // ------------------------------------------------------------ softmax (Ranking.Objectives.SoftmaxObjective)

    private static double Softmax(QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, int start, int n, ArrayView<double> grad, ArrayView<double> hess)
    {
        double totalGain = 0, max = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            float y = qa.Labels[start + i];
            double w = y > m.A ? RankingMath.ExponentialGain(y) : 0.0;
            grad[start + i] = w; // the weights, overwritten below
            totalGain += w;
            double s = scores[start + i];
            if (s > max) max = s;
        }
        if (!(totalGain > 0))
        {
            for (int i = 0; i < n; i++) grad[start + i] = 0.0;
            return 0.0;
        }
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.Exp(scores[start + i] - max);
        double logSum = max + Math.Log(sum);
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double wi = grad[start + i] / totalGain;
            double logP = scores[start + i] - logSum;
            double p = Math.Exp(logP);
            if (wi > 0) loss -= wi * logP;
            grad[start + i] = p - wi;
            hess[start + i] = p * (1.0 - p);
        }
        return loss;
    }

    // ------------------------------------------------------------ contrastive (Ranking.Objectives.ContrastiveObjective)

    private static double Contrastive(QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, int start, int n, ArrayView<double> grad, ArrayView<double> hess)
    {
        double loss = 0, margin = m.A;
        for (int i = 0; i < n; i++)
        {
            double s = scores[start + i];
            double d = RankingMath.ScoreDistance(s);
            double slope = RankingMath.Sigmoid(-s);
            if (qa.Labels[start + i] > m.B)
            {
                loss += 0.5 * d * d;
                grad[start + i] = -d * slope;
                hess[start + i] = slope * slope + d * slope * RankingMath.Sigmoid(s);
            }
            else
            {
                double gap = margin - d > 0.0 ? margin - d : 0.0;
                loss += 0.5 * gap * gap;
                grad[start + i] = gap * slope;
                hess[start + i] = gap > 0 ? slope * slope : 0.0;
            }
        }
        return loss;
    }

    // ------------------------------------------------------------ ApproxNDCG (Ranking.Objectives.ApproxNdcgObjective)

    private static double ApproxNdcg(QueryArrays qa, ArrayView<float> scores, QueryLoopSettings m, int start, int n, ulong stream, ArrayView<double> grad, ArrayView<double> hess, ArrayView<double> aux)
    {
        // maxDCG of the whole list by counting each row's ideal rank (gain descending, ties by index).
        double maxDcg = 0;
        for (int i = 0; i < n; i++)
        {
            double gi = RankingMath.ExponentialGain(qa.Labels[start + i]);
            int idealRank = 0;
            for (int j = 0; j < n; j++)
            {
                double gj = RankingMath.ExponentialGain(qa.Labels[start + j]);
                if (gj > gi || (gj == gi && j < i)) idealRank++;
            }
            maxDcg += gi * RankingMath.Discount(idealRank);
        }
        if (!(maxDcg > 0) || n < 2) return 0.0;
        double inverseT = 1.0 / m.A;
        bool sampled = n > m.ExactLimit;
        int draws = m.Samples;
        double scale = sampled ? (n - 1) / (double)draws : 1.0;

        // Pass 1: smooth ranks (in aux).
        for (int i = 0; i < n; i++) aux[start + i] = 1.0;
        if (!sampled)
        {
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                {
                    double sij = RankingMath.Sigmoid((scores[start + j] - (double)scores[start + i]) * inverseT);
                    aux[start + i] += sij;
                    aux[start + j] += 1.0 - sij;
                }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int d = 0; d < draws; d++) sum += RankingMath.Sigmoid((scores[start + Partner(stream, i, d, draws, n)] - (double)scores[start + i]) * inverseT);
                aux[start + i] += scale * sum;
            }
        }
        // a_i = d(G_i / log2(1 + rhat_i) / maxDCG) / d rhat_i replaces the rank in aux.
        double approx = 0;
        for (int i = 0; i < n; i++)
        {
            double gain = RankingMath.ExponentialGain(qa.Labels[start + i]);
            double rank = aux[start + i];
            double log2r = RankingMath.Log2(1.0 + rank);
            approx += gain / log2r;
            aux[start + i] = -gain / (maxDcg * Math.Log(2.0) * (1.0 + rank) * log2r * log2r);
        }
        // Pass 2: gradient (1/T) sigmoid' (a_k - a_i) per pair.
        if (!sampled)
        {
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                {
                    double ai = aux[start + i], aj = aux[start + j];
                    if (ai == aj) continue;
                    double sij = RankingMath.Sigmoid((scores[start + j] - (double)scores[start + i]) * inverseT);
                    double c = sij * (1.0 - sij) * inverseT;
                    double diff = ai - aj;
                    grad[start + i] += c * diff; grad[start + j] -= c * diff;
                    double h = c * Math.Abs(diff) * inverseT;
                    hess[start + i] += h; hess[start + j] += h;
                }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                double ai = aux[start + i];
                if (ai == 0) continue;
                for (int d = 0; d < draws; d++)
                {
                    int j = Partner(stream, i, d, draws, n);
                    double sij = RankingMath.Sigmoid((scores[start + j] - (double)scores[start + i]) * inverseT);
                    double c = scale * sij * (1.0 - sij) * inverseT * ai;
                    grad[start + i] += c; grad[start + j] -= c;
                    double h = Math.Abs(c) * inverseT;
                    hess[start + i] += h; hess[start + j] += h;
                }
            }
        }
        return 1.0 - approx / maxDcg;
    }

    private static int Partner(ulong stream, int i, int d, int m, int n)
    {
        int j = RankingMath.RandomIndex(stream, (long)i * m + d, n - 1);
        return j >= i ? j + 1 : j;
    }
}
