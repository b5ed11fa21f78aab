using ILGPU;
using ILGPU.Runtime;
using Ranking.Numerics;

namespace Ranking.Gpu.Kernels;

/// <summary>What the thread-per-row pair kernel reads.</summary>
public struct RowPairInputs<TTerm> where TTerm : struct, IPairTerm
{
    /// <summary>Labels, offsets, weights.</summary>
    public QueryArrays Query;
    /// <summary>The workspaces (scores and nothing else is read through them).</summary>
    public DeviceRowViews Views;
    /// <summary>The pair loop and its term.</summary>
    public PairLoss<TTerm> Loss;
    /// <summary>Each row's stable rank by score (truncated pairs only).</summary>
    public ArrayView<int> Ranks;
    /// <summary>queryCount x truncation: the row at each top rank (truncated pairs only).</summary>
    public ArrayView<int> TopRows;
}

/// <summary>
/// All or truncated pairs of long queries (RankNet, RankSVM, contrastive pairs, IPW RankNet/LambdaRank: any <see cref="IPairTerm"/>)
/// with a thread per row instead of per query: the row visits each pair it belongs to in the per-query
/// loop's order, through the same <see cref="PairLoss{TTerm}.Terms"/>, and keeps its own side; each pair's
/// loss is counted once, by the row that owns it. O(n) per row where the per-query loop is O(n^2) in one
/// thread. Truncated pairs take their ranks from the segmented sort (or by counting without ILGPU.Algorithms).
/// </summary>
public sealed class PairKernels<TTerm> where TTerm : struct, IPairTerm
{
    private readonly Action<Index1D, RowPairInputs<TTerm>, ArrayView<double>, ArrayView<double>, ArrayView<double>> _rowPairs;
    private readonly Action<Index1D, QueryArrays, int, ArrayView<int>, ArrayView<int>> _topList;
    private readonly Action<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>> _queryLoss;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, ArrayView<int>> _countRanks;
    private readonly Action<Index1D, QueryArrays, ArrayView<int>, ArrayView<double>> _discounts;
    private readonly Action<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>> _finish;

    /// <summary>Compiles the kernels for <typeparamref name="TTerm"/>.</summary>
    public PairKernels(Accelerator accelerator)
    {
        _rowPairs = accelerator.LoadAutoGroupedStreamKernel<Index1D, RowPairInputs<TTerm>, ArrayView<double>, ArrayView<double>, ArrayView<double>>(PairKernel.RowPairs);
        _topList = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, int, ArrayView<int>, ArrayView<int>>(PairKernel.TopList);
        _queryLoss = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>>(PairKernel.QueryLossSum);
        _countRanks = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, ArrayView<int>>(PairKernel.CountRanks);
        _discounts = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<int>, ArrayView<double>>(PairKernel.RankDiscounts);
        _finish = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>>(QueryLossKernel.Finish);
    }

    /// <summary>Queues the thread-per-row form over <paramref name="range"/> (all pairs, or truncated ones; never sampled).</summary>
    public void Launch(DeviceQuerySet set, QueryRange range, ArrayView<float> scores, PairLoss<TTerm> loss)
    {
        if (range.RowCount == 0) return;
        var views = DeviceRowViews.Of(set, scores);
        var ranks = set.RowBuffer<int>(Workspace.Ranks);
        var inputs = new RowPairInputs<TTerm> { Query = range.Arrays, Views = views, Loss = loss, Ranks = ranks, TopRows = set.TopRows(1) };
        if (loss.Truncation > 0 || loss.ReadsDiscounts)
        {
            if (set.Device.Algorithms)
            {
                var sorter = set.Device.Kernels(a => new SortedRankKernels(a));
                sorter.RanksByScore(range, set.SortBuffers(sorter), scores, ranks);
            }
            else
            {
                _countRanks(range.RowCount, range.Arrays, scores, ranks);
            }
        }
        // IPW LambdaRank's pairs read each row's discount at its rank, as the per-query loop's FillDiscounts writes it.
        if (loss.ReadsDiscounts) _discounts(range.RowCount, range.Arrays, ranks, views.RowValues);
        if (loss.Truncation > 0)
        {
            inputs.TopRows = set.TopRows(loss.Truncation);
            _topList(range.RowCount, range.Arrays, loss.Truncation, ranks, inputs.TopRows);
        }
        var lossParts = set.RowBuffer<double>(Workspace.LossParts);
        _rowPairs(range.RowCount, inputs, views.GradientSums, views.HessianSums, lossParts);
        _queryLoss(range.QueryCount, range.Arrays, lossParts, set.QueryLoss);
        _finish(range.RowCount, range.Arrays, views.GradientSums, views.HessianSums, set.Gradients.View, set.Hessians.View);
    }
}

/// <summary>The kernels of <see cref="PairKernels{TTerm}"/>.</summary>
public static class PairKernel
{
    /// <summary>A thread per row: its side of every pair it belongs to, and the loss of the pairs it owns.</summary>
    public static void RowPairs<TTerm>(Index1D index, RowPairInputs<TTerm> p, ArrayView<double> grad, ArrayView<double> hess, ArrayView<double> lossPart)
        where TTerm : struct, IPairTerm
    {
        var qa = p.Query;
        int row = index + qa.RowBase;
        int q = qa.RowQuery[row];
        int start = qa.Offsets[q], n = qa.Offsets[q + 1] - start;
        int self = row - start;
        var rows = new DeviceQueryRows { Labels = qa.Labels, Views = p.Views, Start = start, N = n };
        int k = p.Loss.Truncation;
        double g = 0.0, h = 0.0, loss = 0.0;
        if (k > 0)
        {
            int top = k < n - 1 ? k : n - 1;
            int rank = p.Ranks[row];
            if (rank < top)
            {
                // A top row pairs with every row ranked below it, and owns those pairs' loss.
                for (int j = 0; j < n; j++)
                {
                    if (p.Ranks[start + j] <= rank) continue;
                    if (!p.Loss.Terms(ref rows, self, j, out int high, out double pairLoss, out double slope, out double curvature)) continue;
                    g += high == self ? slope : -slope;
                    h += curvature;
                    loss += pairLoss;
                }
            }
            // The top rows ranked above this row pair with it.
            int above = rank < top ? rank : top;
            for (int a = 0; a < above; a++)
            {
                int other = p.TopRows[(long)q * k + a] - start;
                if (!p.Loss.Terms(ref rows, other, self, out int high, out _, out double slope, out double curvature)) continue;
                g += high == self ? slope : -slope;
                h += curvature;
            }
        }
        else
        {
            for (int j = 0; j < n; j++)
            {
                if (j == self) continue;
                int first = self < j ? self : j, second = self < j ? j : self;
                if (!p.Loss.Terms(ref rows, first, second, out int high, out double pairLoss, out double slope, out double curvature)) continue;
                g += high == self ? slope : -slope;
                h += curvature;
                if (first == self) loss += pairLoss;
            }
        }
        grad[row] = g;
        hess[row] = h;
        lossPart[row] = loss;
    }

    /// <summary>The rows at each top rank (truncated pairs of long queries).</summary>
    public static void TopList(Index1D index, QueryArrays qa, int perQuery, ArrayView<int> ranks, ArrayView<int> top)
    {
        int row = index + qa.RowBase;
        int rank = ranks[row];
        if (rank < perQuery) top[(long)qa.RowQuery[row] * perQuery + rank] = row;
    }

    /// <summary>A query's loss: its rows' parts summed in row order, times the query weight.</summary>
    public static void QueryLossSum(Index1D index, QueryArrays qa, ArrayView<double> lossPart, ArrayView<double> lossOut)
    {
        int q = index + qa.QueryBase;
        double loss = 0.0;
        for (int r = qa.Offsets[q]; r < qa.Offsets[q + 1]; r++) loss += lossPart[r];
        lossOut[q] = loss * qa.QueryWeights[q];
    }

    /// <summary>A thread per row: the discount of its rank (<see cref="PairLoss{TTerm}.FillDiscounts"/>'s values).</summary>
    public static void RankDiscounts(Index1D index, QueryArrays qa, ArrayView<int> ranks, ArrayView<double> discounts)
    {
        int row = index + qa.RowBase;
        discounts[row] = RankingMath.Discount(ranks[row]);
    }

    /// <summary>Stable ranks by score, counted (O(n) per row) for truncated pairs when no sort is available.</summary>
    public static void CountRanks(Index1D index, QueryArrays qa, ArrayView<float> scores, ArrayView<int> ranks)
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
}
