using ILGPU;
using ILGPU.Runtime;
using Ranking.Numerics;

namespace Ranking.Gpu.Kernels;

/// <summary>The device views a loss body reaches through <see cref="DeviceQueryRows"/>: the set's named workspaces, every row of it.</summary>
public struct DeviceRowViews
{
    /// <summary>Current scores.</summary>
    public ArrayView<float> Scores;
    /// <summary><see cref="Workspace.GradientSums"/>.</summary>
    public ArrayView<double> GradientSums;
    /// <summary><see cref="Workspace.HessianSums"/>.</summary>
    public ArrayView<double> HessianSums;
    /// <summary><see cref="Workspace.RowValues"/>.</summary>
    public ArrayView<double> RowValues;
    /// <summary><see cref="Workspace.PlaceValues"/>.</summary>
    public ArrayView<double> PlaceValues;
    /// <summary><see cref="Workspace.SortKeys"/>.</summary>
    public ArrayView<ulong> SortKeys;
    /// <summary><see cref="Workspace.Order"/>.</summary>
    public ArrayView<int> Order;
    /// <summary><see cref="Workspace.ScoreOrder"/>.</summary>
    public ArrayView<int> ScoreOrder;
    /// <summary><see cref="Workspace.Picked"/>.</summary>
    public ArrayView<int> Picked;
    /// <summary><see cref="Workspace.RowInputs"/>: the objective's per-row inputs (<see cref="IQueryRows.Auxiliary"/>).</summary>
    public ArrayView<float> Auxiliary;
    /// <summary>1 when the set holds per-row inputs (<see cref="DeviceQuerySet.HasRowInputs"/>).</summary>
    public int AuxiliaryGiven;
    /// <summary>The loss's constants for this launch (<see cref="IQueryRows.Constant"/>).</summary>
    public ArrayView<double> Constants;
    /// <summary>Every query's outputs, <see cref="QueryOutputWidth"/> per query (<see cref="IQueryRows.QueryOutput"/>).</summary>
    public ArrayView<double> QueryOutputs;
    /// <summary>Doubles per query in <see cref="QueryOutputs"/> (0 = none).</summary>
    public int QueryOutputWidth;

    /// <summary>
    /// The views of <paramref name="set"/>'s workspaces (allocated on first use) and per-row inputs, with the
    /// loss's <paramref name="tables"/> (none by default).
    /// </summary>
    public static DeviceRowViews Of(DeviceQuerySet set, ArrayView<float> scores, DeviceLossTables tables = default) => new()
    {
        Scores = scores,
        GradientSums = set.RowBuffer<double>(Workspace.GradientSums),
        HessianSums = set.RowBuffer<double>(Workspace.HessianSums),
        RowValues = set.RowBuffer<double>(Workspace.RowValues),
        PlaceValues = set.RowBuffer<double>(Workspace.PlaceValues),
        SortKeys = set.RowBuffer<ulong>(Workspace.SortKeys),
        Order = set.RowBuffer<int>(Workspace.Order),
        ScoreOrder = set.RowBuffer<int>(Workspace.ScoreOrder),
        Picked = set.RowBuffer<int>(Workspace.Picked),
        Auxiliary = set.RowBuffer<float>(Workspace.RowInputs),
        AuxiliaryGiven = set.HasRowInputs ? 1 : 0,
        // Views a launch never reads still have to be valid ones.
        Constants = tables.Constants.IsValid ? tables.Constants : set.QueryLoss,
        QueryOutputs = tables.QueryOutputWidth > 0 ? tables.QueryOutputs : set.QueryLoss,
        QueryOutputWidth = tables.QueryOutputWidth,
    };
}

/// <summary>What a loss with constants or per-query outputs reads and writes besides the set's rows (<see cref="IQueryRows.Constant"/>, <see cref="IQueryRows.QueryOutput"/>).</summary>
public struct DeviceLossTables
{
    /// <summary>The constants (invalid = none).</summary>
    public ArrayView<double> Constants;
    /// <summary>queryCount x <see cref="QueryOutputWidth"/> outputs, indexed by absolute query.</summary>
    public ArrayView<double> QueryOutputs;
    /// <summary>Doubles per query (0 = none).</summary>
    public int QueryOutputWidth;
}

/// <summary>
/// <see cref="IQueryRows"/> on the device: one query's slice [start, start + n) of the set's views, seen
/// by the thread that runs the query. Sorting counts (O(n^2) in one thread, stable by row), unless a
/// segmented sort on the device already placed the order (<see cref="OrderGiven"/>).
/// </summary>
public struct DeviceQueryRows : IQueryRows
{
    /// <summary>Grades of every row of the set.</summary>
    public ArrayView<float> Labels;
    /// <summary>The workspaces.</summary>
    public DeviceRowViews Views;
    /// <summary>First row of the query.</summary>
    public int Start;
    /// <summary>Rows in the query.</summary>
    public int N;
    /// <summary>True when <see cref="DeviceRowViews.Order"/> already holds the order <see cref="SortByKey"/> would count.</summary>
    public int OrderGiven;
    /// <summary>Where the query's outputs start in <see cref="DeviceRowViews.QueryOutputs"/>.</summary>
    public long OutputStart;

    /// <inheritdoc/>
    public readonly int Count => N;
    /// <inheritdoc/>
    public readonly float Label(int row) => Labels[Start + row];
    /// <inheritdoc/>
    public readonly float Score(int row) => Views.Scores[Start + row];
    /// <inheritdoc/>
    public readonly bool HasAuxiliary => Views.AuxiliaryGiven != 0;
    /// <inheritdoc/>
    public readonly float Auxiliary(int row) => Views.Auxiliary[Start + row];
    /// <inheritdoc/>
    public readonly double Constant(int index) => Views.Constants[index];
    /// <inheritdoc/>
    public readonly ref double QueryOutput(int index) => ref Views.QueryOutputs[OutputStart + index];
    /// <inheritdoc/>
    public readonly ref double Gradient(int row) => ref Views.GradientSums[Start + row];
    /// <inheritdoc/>
    public readonly ref double Hessian(int row) => ref Views.HessianSums[Start + row];
    /// <inheritdoc/>
    public readonly ref double RowValue(int row) => ref Views.RowValues[Start + row];
    /// <inheritdoc/>
    public readonly ref double PlaceValue(int place) => ref Views.PlaceValues[Start + place];
    /// <inheritdoc/>
    public readonly ref ulong SortKey(int row) => ref Views.SortKeys[Start + row];
    /// <inheritdoc/>
    public readonly ref int Order(int place) => ref Views.Order[Start + place];
    /// <inheritdoc/>
    public readonly ref int ScoreOrder(int place) => ref Views.ScoreOrder[Start + place];
    /// <inheritdoc/>
    public readonly ref int Picked(int index) => ref Views.Picked[Start + index];

    /// <inheritdoc/>
    public readonly void SortByKey()
    {
        if (OrderGiven != 0) return;
        for (int i = 0; i < N; i++)
        {
            ulong ki = Views.SortKeys[Start + i];
            int place = 0;
            for (int j = 0; j < N; j++)
            {
                ulong kj = Views.SortKeys[Start + j];
                if (kj < ki || (kj == ki && j < i)) place++;
            }
            Views.Order[Start + place] = i;
        }
    }

    /// <inheritdoc/>
    public readonly void SortByScore()
    {
        for (int i = 0; i < N; i++)
        {
            float si = Views.Scores[Start + i];
            int place = 0;
            for (int j = 0; j < N; j++)
            {
                float sj = Views.Scores[Start + j];
                if (sj > si || (sj == si && j < i)) place++;
            }
            Views.ScoreOrder[Start + place] = i;
        }
    }
}

/// <summary>Which iteration and seed a launch draws with (the query's stream is keyed by its index within the launch).</summary>
public struct LossDraws
{
    /// <summary>The objective's seed.</summary>
    public int Seed;
    /// <summary>The batch's iteration.</summary>
    public int Iteration;
}

/// <summary>
/// Any per-query loss body (<see cref="IQueryLoss"/>) on the device: a thread per query clears its rows'
/// sums (and its outputs), runs the body over <see cref="DeviceQueryRows"/> and writes its weighted loss into the set's
/// <see cref="DeviceQuerySet.QueryLoss"/>; a thread per row then writes float gradients and Hessians times
/// the query weight (as the CPU: round to float, then multiply). Bodies that sort by key
/// (<see cref="QueryWork.SortsByKey"/>) take their order from a segmented sort of the body's own keys
/// on sets of long queries. One instance per loss type: ILGPU compiles the body for that struct.
/// </summary>
public sealed class QueryLossKernels<TLoss> where TLoss : struct, IQueryLoss
{
    private readonly Action<Index1D, QueryArrays, DeviceRowViews, TLoss, LossDraws, int, ArrayView<double>> _queries;
    private readonly Action<Index1D, QueryArrays, TLoss, LossDraws, ArrayView<ulong>, ArrayView<int>> _orderKeys;
    private readonly Action<Index1D, QueryArrays, ArrayView<int>, ArrayView<int>> _orderFromSort;
    private readonly Action<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>> _finish;

    /// <summary>Compiles the kernels for <typeparamref name="TLoss"/>.</summary>
    public QueryLossKernels(Accelerator accelerator)
    {
        _queries = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, DeviceRowViews, TLoss, LossDraws, int, ArrayView<double>>(QueryLossKernel.Query);
        _orderKeys = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, TLoss, LossDraws, ArrayView<ulong>, ArrayView<int>>(QueryLossKernel.OrderKeys);
        _orderFromSort = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<int>, ArrayView<int>>(QueryLossKernel.OrderFromSort);
        _finish = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<float>>(QueryLossKernel.Finish);
    }

    /// <summary>
    /// Queues the body over <paramref name="range"/>. With <paramref name="sortOrder"/> (a body that sorts by
    /// key, on a device with ILGPU.Algorithms) the order comes from a segmented sort of every row's key.
    /// <paramref name="tables"/>: the loss's constants and per-query outputs, if it has any.
    /// </summary>
    public void Launch(DeviceQuerySet set, QueryRange range, ArrayView<float> scores, TLoss loss, LossDraws draws, bool sortOrder, DeviceLossTables tables = default)
    {
        if (range.RowCount == 0) return;
        var views = DeviceRowViews.Of(set, scores, tables);
        if (sortOrder)
        {
            var sorter = set.Device.Kernels(a => new SortedRankKernels(a));
            var buffers = set.SortBuffers(sorter);
            var (keys, rows) = sorter.KeyViews(buffers, range.RowCount);
            _orderKeys(range.RowCount, range.Arrays, loss, draws, keys, rows);
            _orderFromSort(range.RowCount, range.Arrays, sorter.OrderWithinQueries(range, buffers), views.Order);
        }
        _queries(range.QueryCount, range.Arrays, views, loss, draws, sortOrder ? 1 : 0, set.QueryLoss);
        _finish(range.RowCount, range.Arrays, views.GradientSums, views.HessianSums, set.Gradients.View, set.Hessians.View);
    }
}

/// <summary>The kernels of <see cref="QueryLossKernels{TLoss}"/> (generic over the loss; ILGPU compiles one per loss type).</summary>
public static class QueryLossKernel
{
    /// <summary>A thread per query: the body, its loss times the query weight.</summary>
    public static void Query<TLoss>(Index1D index, QueryArrays qa, DeviceRowViews views, TLoss loss, LossDraws draws, int orderGiven, ArrayView<double> lossOut)
        where TLoss : struct, IQueryLoss
    {
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], end = qa.Offsets[q + 1];
        for (int r = start; r < end; r++) { views.GradientSums[r] = 0.0; views.HessianSums[r] = 0.0; }
        long outputs = (long)q * views.QueryOutputWidth;
        for (int o = 0; o < views.QueryOutputWidth; o++) views.QueryOutputs[outputs + o] = 0.0;
        double value = 0.0;
        if (end > start)
        {
            var rows = new DeviceQueryRows { Labels = qa.Labels, Views = views, Start = start, N = end - start, OrderGiven = orderGiven, OutputStart = outputs };
            value = loss.Compute(ref rows, RankingMath.StreamKey(draws.Seed, draws.Iteration, q - qa.QueryBase));
        }
        lossOut[q] = value * qa.QueryWeights[q];
    }

    /// <summary>A thread per row: float gradient and Hessian times the query weight.</summary>
    public static void Finish(Index1D index, QueryArrays qa, ArrayView<double> grad, ArrayView<double> hess, ArrayView<float> gradients, ArrayView<float> hessians)
    {
        int i = index + qa.RowBase;
        float w = qa.QueryWeights[qa.RowQuery[i]];
        float g = (float)grad[i], h = (float)hess[i];
        if (w != 1f) { g *= w; h *= w; }
        gradients[i] = g;
        hessians[i] = h;
    }

    /// <summary>A thread per row: the body's sort key of the row (its query's stream, its place in the query), for the segmented sort.</summary>
    public static void OrderKeys<TLoss>(Index1D index, QueryArrays qa, TLoss loss, LossDraws draws, ArrayView<ulong> keys, ArrayView<int> rows)
        where TLoss : struct, IQueryLoss
    {
        int row = index + qa.RowBase;
        int q = qa.RowQuery[row];
        ulong stream = RankingMath.StreamKey(draws.Seed, draws.Iteration, q - qa.QueryBase);
        keys[index] = loss.OrderKey(qa.Labels[row], stream, row - qa.Offsets[q]);
        rows[index] = row;
    }

    /// <summary>order[start + place] = the row's index in its query, from the rows sorted query by query.</summary>
    public static void OrderFromSort(Index1D index, QueryArrays qa, ArrayView<int> sortedRows, ArrayView<int> order)
    {
        int row = sortedRows[index];
        int start = qa.Offsets[qa.RowQuery[row]];
        order[index + qa.RowBase] = row - start;
    }
}
