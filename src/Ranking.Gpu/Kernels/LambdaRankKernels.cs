using Ranking.Numerics;
using ILGPU;
using ILGPU.Runtime;
using Ranking.Compute;

namespace Ranking.Gpu.Kernels;

/// <summary>LambdaRank's knobs (Ranking.Objectives.LambdaRankOptions) as plain kernel fields.</summary>
public struct LambdaRankSettings
{
    /// <summary>Pairs are taken where the better-ranked row is above this rank.</summary>
    public int Truncation;
    /// <summary>Steepness of the pair's logistic: the pair loss is log(1 + exp(-Sigma (s_i - s_j))).</summary>
    public double Sigma;
    /// <summary>1: divide |dNDCG| by 0.01 + |s_h - s_l| and rescale each query by log2(1 + S) / S.</summary>
    public int Normalize;
    /// <summary>The gain formula, a GainKind code: exponential 2^grade - 1 or a table lookup.</summary>
    public int Gain;
    /// <summary>
    /// Ranks come from a segmented sort (<see cref="SortedRankKernels"/>) when counting would compare each
    /// row with more rows than this on average (<see cref="DeviceQuerySet.ComparisonsPerRow"/>); below it,
    /// from counting (one thread per row compares it with every row of its query).
    /// </summary>
    public int SortRanksFrom;
}

/// <summary>
/// LambdaRank gradients for every query in five launches, O(k n) work per query as on the CPU:
/// (1) a thread per row finds its rank by counting (stable: equal scores keep input order) and its ideal
/// rank, and rows ranked above the truncation level register in their query's top list (sets of long
/// queries, past <see cref="LambdaRankSettings.SortRanksFrom"/> comparisons per row, take both rankings
/// from a segmented sort instead: a fixed number of radix passes per row rather than O(n^2) per query);
/// (2) a thread per query sums maxDCG@k and checks whether all scores are equal;
/// (3) a thread per row accumulates its own side of every pair it belongs to (a top row against all rows,
/// any other row against the top list), in float64;
/// (4) a thread per query takes S = sum of 2|lambda| for the normalisation factor;
/// (5) a thread per row scales and writes float gradients and Hessians.
/// </summary>
public sealed class LambdaRankKernels
{
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, LambdaRankSettings, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<double>> _ranks;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>> _prepare;
    private readonly Action<Index1D, QueryArrays, LambdaRankSettings, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<double>> _sortedRanks;
    private readonly Action<Index1D, PairInputs, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>> _pairs;
    private readonly Action<Index1D, QueryArrays, ArrayView<int>, ArrayView<double>> _discounts;
    private readonly Action<Index1D, QueryArrays, LambdaRankSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>> _normalise;
    private readonly Action<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>> _finish;

    /// <summary>What the pair kernel reads (one struct: a kernel takes a limited number of arguments).</summary>
    public struct PairInputs
    {
        /// <summary>The set's per-query arrays.</summary>
        public QueryArrays Query;
        /// <summary>Current score per row.</summary>
        public ArrayView<float> Scores;
        /// <summary>LambdaRank's knobs.</summary>
        public LambdaRankSettings Settings;
        /// <summary>Gain of each row (absolute row index).</summary>
        public ArrayView<double> Gains;
        /// <summary>Each row's 0-based rank by score within its query (ties in input order).</summary>
        public ArrayView<int> Ranks;
        /// <summary>Per query, its rows ranked above the truncation level, Truncation slots per query.</summary>
        public ArrayView<int> TopRows;
        /// <summary>Per query, 1 / maxDCG@Truncation (0 when maxDCG is 0).</summary>
        public ArrayView<double> InverseMaxDcg;
        /// <summary>Per query, 1 when all its scores are equal (the query then gets no lambda normalisation).</summary>
        public ArrayView<double> AllEqual;
        /// <summary>Discount of each row's current rank, computed once per row rather than once per pair.</summary>
        public ArrayView<double> Discounts;
    }

    /// <summary>Compiles the LambdaRank kernels on <paramref name="accelerator"/>.</summary>
    public LambdaRankKernels(Accelerator accelerator)
    {
        _ranks = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, LambdaRankSettings, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<double>>(RankKernel);
        _sortedRanks = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, LambdaRankSettings, ArrayView<double>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<double>>(SortedRankKernel);
        _prepare = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, ArrayView<double>, ArrayView<double>, ArrayView<double>>(PrepareKernel);
        _pairs = accelerator.LoadAutoGroupedStreamKernel<Index1D, PairInputs, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>>(PairKernel);
        _discounts = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<int>, ArrayView<double>>(DiscountKernel);
        _normalise = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, LambdaRankSettings, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>>(NormaliseKernel);
        _finish = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>>(FinishKernel);
    }

    /// <summary>
    /// Queues the launches: reads <paramref name="scores"/>, writes the set's Gradients and Hessians and
    /// each query's loss (already times the query weight) into <see cref="DeviceQuerySet.QueryLoss"/>.
    /// </summary>
    public void Launch(DeviceQuerySet set, QueryRange range, ArrayView<float> scores, LambdaRankSettings settings, ArrayView<double> gainTable)
    {
        if (range.RowCount == 0) return;
        int k = settings.Truncation;
        var top = set.TopRows(k);
        var ranks = set.RowBuffer<int>(Workspace.Ranks);
        var ideal = set.RowBuffer<double>(Workspace.Discounts);
        var inverseMaxDcg = set.QueryBuffer<double>(Workspace.InverseMaxDcg);
        var allEqual = set.QueryBuffer<double>(Workspace.AllScoresEqual);
        var factor = set.QueryBuffer<double>(Workspace.LambdaFactor);
        var loss = set.QueryLoss;
        var grad = set.RowBuffer<double>(Workspace.GradientSums);
        var hess = set.RowBuffer<double>(Workspace.HessianSums);
        var absLambda = set.RowBuffer<double>(Workspace.AbsLambdas);
        var pairLoss = set.RowBuffer<double>(Workspace.LossParts);
        var gains = set.RowBuffer<double>(Workspace.Gains);
        set.Device.Kernels(a => new GainKernels(a)).Launch(range, settings.Gain, gainTable, gains);
        if (set.ComparisonsPerRow > settings.SortRanksFrom && set.Device.Algorithms)
        {
            // Long queries: two segmented sorts (by score, by gain) instead of O(n^2) counting per query.
            var sorter = set.Device.Kernels(a => new SortedRankKernels(a));
            var buffers = set.SortBuffers(sorter);
            sorter.Ranks(range, buffers, scores, gains, byGain: false, ranks);
            sorter.Ranks(range, buffers, scores, gains, byGain: true, buffers.SecondInts.View);
            _sortedRanks(range.RowCount, range.Arrays, settings, gains, ranks, buffers.SecondInts.View, top, ideal);
        }
        else
        {
            _ranks(range.RowCount, range.Arrays, scores, settings, gains, ranks, top, ideal);
        }
        _prepare(range.QueryCount, range.Arrays, scores, ideal, inverseMaxDcg, allEqual);
        // The ideal-DCG column is consumed by _prepare; it now holds each row's discount for the pair pass.
        var discounts = ideal;
        _discounts(range.RowCount, range.Arrays, ranks, discounts);
        var inputs = new PairInputs
        {
            Query = range.Arrays, Scores = scores, Settings = settings, Gains = gains,
            Ranks = ranks, TopRows = top, InverseMaxDcg = inverseMaxDcg, AllEqual = allEqual,
            Discounts = discounts,
        };
        _pairs(range.RowCount, inputs, grad, hess, absLambda, pairLoss);
        _normalise(range.QueryCount, range.Arrays, settings, absLambda, pairLoss, factor, loss);
        _finish(range.RowCount, range.Arrays, factor, grad, hess, set.Gradients.View, set.Hessians.View);
    }

    private static void RankKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, LambdaRankSettings m, ArrayView<double> gains, ArrayView<int> ranks, ArrayView<int> top, ArrayView<double> ideal)
    {
        int i = index + qa.RowBase;
        int q = qa.RowQuery[i];
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        float si = scores[i];
        double gi = gains[i];
        int rank = 0, idealRank = 0;
        for (int j = start; j < end; j++)
        {
            if (j == i) continue;
            float sj = scores[j];
            if (sj > si || (sj == si && j < i)) rank++;
            double gj = gains[j];
            if (gj > gi || (gj == gi && j < i)) idealRank++;
        }
        ranks[i] = rank;
        if (rank < m.Truncation) top[(long)q * m.Truncation + rank] = i;
        ideal[i] = idealRank < m.Truncation ? gi * RankingMath.Discount(idealRank) : 0.0;
    }

    /// <summary>What <see cref="RankKernel"/> writes after the ranks, from ranks a sort found.</summary>
    private static void SortedRankKernel(Index1D index, QueryArrays qa, LambdaRankSettings m, ArrayView<double> gains, ArrayView<int> ranks, ArrayView<int> idealRanks, ArrayView<int> top, ArrayView<double> ideal)
    {
        int i = index + qa.RowBase;
        int q = qa.RowQuery[i];
        int rank = ranks[i], idealRank = idealRanks[i];
        if (rank < m.Truncation) top[(long)q * m.Truncation + rank] = i;
        ideal[i] = idealRank < m.Truncation ? gains[i] * RankingMath.Discount(idealRank) : 0.0;
    }

    private static void PrepareKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, ArrayView<double> ideal, ArrayView<double> inverseMaxDcg, ArrayView<double> allEqual)
    {
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        double maxDcg = 0.0;
        float min = scores[start], max = scores[start];
        for (int r = start; r < end; r++)
        {
            maxDcg += ideal[r];
            float s = scores[r];
            if (s < min) min = s;
            if (s > max) max = s;
        }
        inverseMaxDcg[q] = maxDcg > 0 ? 1.0 / maxDcg : 0.0;
        allEqual[q] = min == max ? 1.0 : 0.0;
    }

    private static void DiscountKernel(Index1D index, QueryArrays qa, ArrayView<int> ranks, ArrayView<double> discounts)
    {
        int i = index + qa.RowBase;
        discounts[i] = RankingMath.Discount(ranks[i]);
    }

    private static void PairKernel(Index1D index, PairInputs p, ArrayView<double> gradOut, ArrayView<double> hessOut, ArrayView<double> absOut, ArrayView<double> lossOut)
    {
        var qa = p.Query;
        int i = index + qa.RowBase;
        var m = p.Settings;
        int q = qa.RowQuery[i];
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        int n = end - start;
        double grad = 0.0, hess = 0.0, absSum = 0.0, loss = 0.0;
        double inverseMaxDcg = p.InverseMaxDcg[q];
        if (inverseMaxDcg > 0)
        {
            bool normalise = m.Normalize != 0 && p.AllEqual[q] == 0.0;
            int rankI = p.Ranks[i];
            float yi = qa.Labels[i];
            float si = p.Scores[i];
            double gi = p.Gains[i];
            double di = p.Discounts[i];
            // A row inside the truncation pairs with every row; a row below it only with the top list.
            bool inTop = rankI < m.Truncation;
            int count = inTop ? n : (n < m.Truncation ? n : m.Truncation);
            for (int t = 0; t < count; t++)
            {
                int j = inTop ? start + t : p.TopRows[(long)q * m.Truncation + t];
                if (j == i) continue;
                float yj = qa.Labels[j];
                if (yj == yi) continue;
                bool iHigher = yi > yj;
                float sh = iHigher ? si : p.Scores[j];
                float sl = iHigher ? p.Scores[j] : si;
                double gj = p.Gains[j];
                double deltaNdcg = RankingMath.PairDeltaNdcg(gi, gj, di, p.Discounts[j], inverseMaxDcg);
                double scoreDiff = (double)sh - sl;
                if (normalise) deltaNdcg = RankingMath.NormalizedDeltaNdcg(deltaNdcg, scoreDiff);
                double lambda = LambdaMath.PairLambda(m.Sigma, deltaNdcg, scoreDiff, out double pairHess, out double pairLoss);
                grad += iHigher ? lambda : -lambda;
                hess += pairHess;
                absSum += Math.Abs(lambda);
                loss += pairLoss;
            }
        }
        gradOut[i] = grad;
        hessOut[i] = hess;
        absOut[i] = absSum;
        lossOut[i] = loss;
    }

    private static void NormaliseKernel(Index1D index, QueryArrays qa, LambdaRankSettings m, ArrayView<double> absLambda, ArrayView<double> pairLoss, ArrayView<double> factor, ArrayView<double> lossOut)
    {
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        double s = 0.0, loss = 0.0; // s = sum over pairs of 2|lambda|: each pair's |lambda| from both rows
        for (int r = start; r < end; r++)
        {
            s += absLambda[r];
            loss += pairLoss[r];
        }
        double weight = qa.QueryWeights[q];
        double f = m.Normalize != 0 ? RankingMath.LambdaNormalizationFactor(s) : 1.0;
        factor[q] = f * weight;
        // Each pair was seen from both of its rows: half the sums are the query's S and loss.
        lossOut[q] = 0.5 * loss * f * weight;
    }

    private static void FinishKernel(Index1D index, QueryArrays qa, ArrayView<double> factor, ArrayView<double> grad, ArrayView<double> hess, ArrayView<float> gradients, ArrayView<float> hessians)
    {
        int i = index + qa.RowBase;
        double f = factor[qa.RowQuery[i]];
        gradients[i] = (float)(grad[i] * f);
        hessians[i] = (float)(hess[i] * f);
    }
}
