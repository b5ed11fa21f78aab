using ILGPU;
using ILGPU.Runtime;
using Ranking.Numerics;

namespace Ranking.Gpu.Kernels;

/// <summary>
/// ListNet (top-1) in two launches over the one body <see cref="ListNetLoss"/>: a thread per query takes the
/// query's sums (<see cref="ListNetLoss.Sums"/>) and its loss; a thread per row writes its gradient and
/// Hessian (<see cref="ListNetLoss.Row"/>), rounded to float and then times the query weight, as the CPU.
/// </summary>
public sealed class ListNetKernels
{
    private readonly Action<Index1D, QueryArrays, DeviceRowViews, ListNetLoss, ArrayView<ListNetSums>, ArrayView<double>> _queries;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, ListNetLoss, ArrayView<ListNetSums>, ArrayView<float>, ArrayView<float>> _rows;

    /// <summary>Compiles the kernels.</summary>
    public ListNetKernels(Accelerator accelerator)
    {
        _queries = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, DeviceRowViews, ListNetLoss, ArrayView<ListNetSums>, ArrayView<double>>(QueryKernel);
        _rows = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, ListNetLoss, ArrayView<ListNetSums>, ArrayView<float>, ArrayView<float>>(RowKernel);
    }

    /// <summary>Queues the launches; each query's loss (times weight) lands in <see cref="DeviceQuerySet.QueryLoss"/>.</summary>
    public void Launch(DeviceQuerySet set, QueryRange range, ArrayView<float> scores, ListNetLoss loss)
    {
        if (range.RowCount == 0) return;
        var sums = set.QueryBuffer<ListNetSums>(Workspace.ListNetSums);
        var views = new DeviceRowViews { Scores = scores };
        _queries(range.QueryCount, range.Arrays, views, loss, sums, set.QueryLoss);
        _rows(range.RowCount, range.Arrays, scores, loss, sums, set.Gradients.View, set.Hessians.View);
    }

    private static void QueryKernel(Index1D index, QueryArrays qa, DeviceRowViews views, ListNetLoss loss, ArrayView<ListNetSums> sumsOut, ArrayView<double> lossOut)
    {
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], n = qa.Offsets[q + 1] - start;
        double value = 0.0;
        if (n > 0)
        {
            var rows = new DeviceQueryRows { Labels = qa.Labels, Views = views, Start = start, N = n };
            var sums = loss.Sums(ref rows);
            for (int i = 0; i < n; i++)
                value += loss.Row(sums, Math.Exp(loss.TargetOf(rows.Label(i)) - sums.MaxTarget), rows.Score(i), out _, out _);
            sumsOut[q] = sums;
        }
        lossOut[q] = value * qa.QueryWeights[q];
    }

    private static void RowKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, ListNetLoss loss, ArrayView<ListNetSums> sumsView, ArrayView<float> gradients, ArrayView<float> hessians)
    {
        int i = index + qa.RowBase;
        int q = qa.RowQuery[i];
        var sums = sumsView[q];
        loss.Row(sums, Math.Exp(loss.TargetOf(qa.Labels[i]) - sums.MaxTarget), scores[i], out double g, out double h);
        float w = qa.QueryWeights[q];
        float gf = (float)g, hf = (float)h;
        if (w != 1f) { gf *= w; hf *= w; }
        gradients[i] = gf;
        hessians[i] = hf;
    }
}
