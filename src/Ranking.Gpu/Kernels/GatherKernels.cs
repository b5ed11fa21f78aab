using ILGPU;
using ILGPU.Runtime;

namespace Ranking.Gpu.Kernels;

/// <summary>Copies rows of one device set into another in a new order (an epoch's shuffled queries).</summary>
public sealed class GatherKernels
{
    private readonly Action<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _rows;

    /// <summary>Compiles the gather kernel on <paramref name="accelerator"/>.</summary>
    public GatherKernels(Accelerator accelerator)
    {
        _rows = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(RowsKernel);
    }

    /// <summary>Row i of the target takes row map[i] of the source: its label and its features.</summary>
    public void Rows(int rowCount, ArrayView<int> map, ArrayView<float> sourceLabels, ArrayView<float> targetLabels, ArrayView<float> sourceFeatures, ArrayView<float> targetFeatures, int featureCount)
    {
        if (rowCount > 0) _rows(rowCount, map, sourceLabels, targetLabels, sourceFeatures, targetFeatures, featureCount);
    }

    private static void RowsKernel(Index1D index, ArrayView<int> map, ArrayView<float> sourceLabels, ArrayView<float> targetLabels, ArrayView<float> sourceFeatures, ArrayView<float> targetFeatures, int featureCount)
    {
        int i = index;
        int from = map[i];
        targetLabels[i] = sourceLabels[from];
        long s = (long)from * featureCount, t = (long)i * featureCount;
        for (int f = 0; f < featureCount; f++) targetFeatures[t + f] = sourceFeatures[s + f];
    }
}
