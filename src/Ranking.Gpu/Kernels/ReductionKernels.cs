using ILGPU;
using ILGPU.Runtime;

namespace Ranking.Gpu.Kernels;

/// <summary>
/// A deterministic sum of a device array: fixed chunks summed by one thread each in index order, then the
/// chunk sums in order by one thread. No atomics, so the same input gives the same bits every run.
/// </summary>
public sealed class ReductionKernels : IDisposable
{
    private const int Chunks = 1024;
    private readonly Action<Index1D, ArrayView<double>, int, ArrayView<double>> _chunks;
    private readonly Action<Index1D, ArrayView<double>, int, ArrayView<double>> _copyTotal;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _partials;

    /// <summary>Compiles the reduction kernels on <paramref name="accelerator"/> and allocates room for the chunk sums.</summary>
    public ReductionKernels(Accelerator accelerator)
    {
        _chunks = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, int, ArrayView<double>>(ChunkKernel);
        _copyTotal = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, int, ArrayView<double>>(TotalKernel);
        _partials = accelerator.Allocate1D<double>(Chunks + 1);
    }

    /// <summary>Sums the first <paramref name="count"/> values and downloads the total (one double).</summary>
    public double Sum(GpuDevice device, ArrayView<double> values, int count)
    {
        if (count <= 0) return 0.0;
        SumInto(values, count, _partials.View.SubView(Chunks, 1));
        var total = new double[1];
        device.Download(_partials.View.SubView(Chunks, 1), total);
        return total[0];
    }

    /// <summary>Queues the sum of the first <paramref name="count"/> values into <paramref name="target"/>[0] (nothing downloaded).</summary>
    public void SumInto(ArrayView<double> values, int count, ArrayView<double> target)
    {
        if (count <= 0) { target.SubView(0, 1).MemSetToZero(); return; }
        _chunks(Chunks, values.SubView(0, count), count, _partials.View);
        _copyTotal(1, _partials.View, Chunks, target);
    }

    private static void ChunkKernel(Index1D index, ArrayView<double> values, int count, ArrayView<double> partials)
    {
        int chunk = index;
        int size = (count + Chunks - 1) / Chunks;
        int start = chunk * size;
        int end = start + size < count ? start + size : count;
        double sum = 0.0;
        for (int i = start; i < end; i++) sum += values[i];
        partials[chunk] = sum;
    }

    private static void TotalKernel(Index1D index, ArrayView<double> partials, int chunks, ArrayView<double> target)
    {
        double sum = 0.0;
        for (int c = 0; c < chunks; c++) sum += partials[c];
        target[0] = sum;
    }

    /// <summary>Frees the chunk sums.</summary>
    public void Dispose() => _partials.Dispose();
}
