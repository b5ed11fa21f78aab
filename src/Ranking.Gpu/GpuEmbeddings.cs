using ILGPU;
using ILGPU.Runtime;
using Ranking.Embeddings;
using Ranking.Gpu.Kernels;
using Ranking.Numerics;

namespace Ranking.Gpu;

/// <summary>
/// A batch loss on the device, the counterpart of <see cref="BatchLoss"/>: farness matrix, mining and the row
/// body (the same <see cref="BatchLosses.Row"/> as the CPU), the reducer's scales (the same
/// <see cref="BatchLoss.ReducerScales"/>, on the host: one number per anchor crosses the bus), and the chain
/// rule back to the embeddings; with a cross-batch memory held on the device (enqueued by a kernel).
/// </summary>
public sealed class GpuBatchLoss : IEmbeddingLossStep
{
    private readonly GpuDevice _device;
    private readonly EmbeddingKernels _kernels;
    private readonly BatchLossSettings _settings;
    private readonly int _distanceKind;
    private MemoryBuffer1D<float, Stride1D.Dense>? _memory;
    private MemoryBuffer1D<int, Stride1D.Dense>? _memoryLabels;
    private int _memoryHead, _memoryCount, _memoryCapacity, _dim;
    // The host's copy of the memory's labels (ints, cheap): the log-Q correction and the collapse check read them without a download.
    private int[] _hostMemoryLabels = [], _lastSlots = [];
    private float[] _referenceLogQ = [];
    private float[]? _lastLogQ;

    /// <summary>A device batch loss from checked options; <paramref name="memory"/> entries of cross-batch memory (0 = none).</summary>
    public GpuBatchLoss(GpuDevice device, BatchLossOptions options, int memory = 0, int dimension = 0)
    {
        _device = device ?? throw new ArgumentNullException(nameof(device));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _settings = options.Settings();
        _distanceKind = (int)options.Distance;
        _kernels = device.Kernels(a => new EmbeddingKernels(a));
        if (memory > 0)
        {
            if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension), "a memory needs the embedding dimension.");
            _memoryCapacity = memory;
            _dim = dimension;
            lock (device.Sync)
            {
                _memory = device.Accelerator.Allocate1D<float>((long)memory * dimension);
                _memoryLabels = device.Accelerator.Allocate1D<int>(memory);
            }
            _hostMemoryLabels = new int[memory];
            _referenceLogQ = new float[memory];
        }
    }

    /// <summary>The options this loss was built from.</summary>
    public BatchLossOptions Options { get; }
    /// <summary>Entries in the device memory.</summary>
    public int MemoryCount => _memoryCount;
    /// <summary>Entries the device memory holds at most (0: built without one).</summary>
    public int MemoryCapacity => _memoryCapacity;
    /// <summary>Statistics of the last batch's farness matrix, computed on the device (a row-statistics kernel; one spread, sum and count per anchor cross the bus).</summary>
    public BatchStatistics LastStatistics { get; private set; }

    /// <summary>
    /// <see cref="IEmbeddingLossStep.ComputeAgainstMemory"/>: the batch enqueued into the device memory by a kernel, then the loss
    /// against the memory (see <see cref="Compute(float[], int[], int, int, float[], int, float[])"/>); the slots are the ring's, as the CPU queue's.
    /// </summary>
    public double ComputeAgainstMemory(float[] embeddings, int[] labels, int count, int dim, float[] embeddingGradient, int iteration, int[] slots, float[]? classLogQ = null)
    {
        if (_memory is null) throw new InvalidOperationException("this loss step was built without a cross-batch memory.");
        if (count > _memoryCapacity) throw new ArgumentException($"a batch of {count} does not fit a memory of {_memoryCapacity}.", nameof(count));
        // The ring's slots and labels on the host, as the enqueue kernel writes them (the CPU queue's order).
        for (int i = 0; i < count; i++)
        {
            int slot = (_memoryHead + i) % _memoryCapacity;
            slots[i] = slot;
            _hostMemoryLabels[slot] = labels[i];
        }
        int entries = Math.Min(_memoryCapacity, _memoryCount + count);
        _lastLogQ = null;
        if (classLogQ is not null)
        {
            for (int j = 0; j < entries; j++) _referenceLogQ[j] = classLogQ[_hostMemoryLabels[j]];
            _lastLogQ = _referenceLogQ;
        }
        _lastSlots = slots;
        return Compute(embeddings, labels, count, dim, embeddingGradient, iteration, _lastLogQ);
    }

    /// <summary>The memory as references of the batch last enqueued: the host's labels, slots and log q; no embeddings (they stay on the device).</summary>
    public BatchReferences MemoryReferences => _memory is null
        ? throw new InvalidOperationException("this loss step was built without a cross-batch memory.")
        : new BatchReferences([], _hostMemoryLabels, _memoryCount, _lastSlots, AreTheBatch: false, _lastLogQ);

    /// <summary>The settings the shared row body receives.</summary>
    public BatchLossSettings Settings => _settings;

    /// <summary>
    /// The reduced loss and d loss / d embeddings of a batch (host arrays in and out, as <see cref="BatchLoss.Compute"/>).
    /// With a memory, the batch is enqueued on the device first and the references are the memory; otherwise the batch itself.
    /// <paramref name="logQ"/>: log q per reference when the loss takes the log-Q correction.
    /// </summary>
    public double Compute(float[] embeddings, int[] labels, int count, int dim, float[] embeddingGradient, int iteration, float[]? logQ = null)
    {
        lock (_device.Sync)
        {
            var acc = _device.Accelerator;
            using var e = _device.Upload(embeddings.AsSpan(0, count * dim).ToArray());
            using var lab = _device.Upload(labels.AsSpan(0, count).ToArray());
            using var self = acc.Allocate1D<int>(count);
            if (_memory is null)
            {
                self.CopyFromCPU(Enumerable.Range(0, count).ToArray());
                return Run(e, lab, count, dim, e.View, lab.View, count, self, true, logQ, _settings, embeddingGradient, null, iteration);
            }
            if (dim != _dim) throw new ArgumentException($"the memory holds {_dim}-dimensional embeddings, got {dim}.");
            if (count > _memoryCapacity) throw new ArgumentException($"a batch of {count} does not fit a memory of {_memoryCapacity}.");
            _kernels.Enqueue(e.View, lab.View, _memory.View, _memoryLabels!.View, self.View, count, dim, _memoryHead, _memoryCapacity);
            _memoryHead = (_memoryHead + count) % _memoryCapacity;
            _memoryCount = Math.Min(_memoryCapacity, _memoryCount + count);
            return Run(e, lab, count, dim, _memory.View, _memoryLabels.View, _memoryCount, self, false, logQ, _settings, embeddingGradient, null, iteration);
        }
    }

    /// <summary>
    /// <see cref="IBatchLossStep.Compute"/> on the device against host references (the batch itself, or references apart
    /// from it such as class proxies, whose gradient comes back in <paramref name="referenceGradient"/>); the device memory is not used.
    /// </summary>
    public double Compute(float[] embeddings, int[] labels, int count, int dim, BatchReferences references, float[] embeddingGradient, int iteration,
        float[]? referenceGradient = null, BatchLossSettings? settings = null)
    {
        if (referenceGradient is not null && references.AreTheBatch) throw new ArgumentException("the batch's own gradient is the embeddings' gradient.", nameof(referenceGradient));
        lock (_device.Sync)
        {
            var acc = _device.Accelerator;
            int m = references.Count;
            using var e = _device.Upload(embeddings.AsSpan(0, count * dim).ToArray());
            using var lab = _device.Upload(labels.AsSpan(0, count).ToArray());
            using var self = _device.Upload(references.SelfIndex.AsSpan(0, count).ToArray());
            if (references.AreTheBatch)
                return Run(e, lab, count, dim, e.View, lab.View, count, self, true, references.LogQ, settings ?? _settings, embeddingGradient, null, iteration);
            using var r = _device.Upload(references.Embeddings.AsSpan(0, m * dim).ToArray());
            using var rl = _device.Upload(references.Labels.AsSpan(0, m).ToArray());
            return Run(e, lab, count, dim, r.View, rl.View, m, self, false, references.LogQ, settings ?? _settings, embeddingGradient, referenceGradient, iteration);
        }
    }

    /// <summary>Farness, rows, reducer (on the host, one number per anchor) and the chain rule; the caller holds the device lock.</summary>
    private double Run(MemoryBuffer1D<float, Stride1D.Dense> e, MemoryBuffer1D<int, Stride1D.Dense> lab, int count, int dim, ArrayView<float> refs, ArrayView<int> refLabels, int m,
        MemoryBuffer1D<int, Stride1D.Dense> self, bool batchRefs, float[]? logQ, BatchLossSettings settings, float[] embeddingGradient, float[]? referenceGradient, int iteration)
    {
        var acc = _device.Accelerator;
        long cells = (long)count * m;
        using var farness = acc.Allocate1D<float>(cells);
        using var mask = acc.Allocate1D<int>(cells);
        using var gradient = acc.Allocate1D<float>(cells);
        int scratchCells = settings.Miner == MinerKind.SemiHard ? BatchLosses.SemiHardScratchCells(m) : 0;
        using var scratch = acc.Allocate1D<int>(Math.Max(1L, (long)count * scratchCells));
        using var q = acc.Allocate1D<float>(Math.Max(1, m));
        if (logQ is not null) q.View.SubView(0, m).CopyFromCPU(logQ.AsSpan(0, m).ToArray());
        using var rowLoss = acc.Allocate1D<double>(count);
        using var rowTerms = acc.Allocate1D<int>(count);
        using var rowNonZero = acc.Allocate1D<int>(count);
        _kernels.Farness(e.View, refs, farness.View, count, m, dim, _distanceKind, settings.Sign);
        var (spread, farnessSum, pairs) = RowStatistics(farness, self, count, m);
        var template = new DeviceBatchRow
        {
            FarnessMatrix = farness.View, MaskMatrix = mask.View, GradientMatrix = gradient.View, ScratchMatrix = scratch.View, ScratchCells = scratchCells, ReferenceLabels = refLabels,
            LogQ = q.View, References = m, HasLogQ = logQ is null ? 0 : 1,
        };
        _kernels.Rows(count, template, lab.View, self.View, settings, iteration, rowLoss.View, rowTerms.View, rowNonZero.View);
        var loss = rowLoss.GetAsArray1D();
        var terms = rowTerms.GetAsArray1D();
        var nonZero = rowNonZero.GetAsArray1D();
        var rows = new RowLoss[count];
        for (int i = 0; i < count; i++) rows[i] = new RowLoss { Loss = loss[i], Terms = terms[i], NonZero = nonZero[i] };
        var scales = new float[count];
        double value = BatchLoss.ReducerScales(rows, count, Options.EffectiveReducer, settings.Sign, scales, out long termCount, out long nonZeroCount);
        LastStatistics = new BatchStatistics(termCount, nonZeroCount, count == 0 ? 0 : spread / count, pairs == 0 ? 0 : farnessSum / pairs);
        using var scaleBuffer = _device.Upload(scales);
        _kernels.ScaleRows(gradient.View, scaleBuffer.View, count, m);
        using var output = acc.Allocate1D<float>((long)count * dim);
        _kernels.EmbeddingGradient(gradient.View, e.View, refs, output.View, count, m, dim, _distanceKind, batchRefs);
        _device.Download(output.View, embeddingGradient.AsSpan(0, count * dim));
        if (referenceGradient is not null)
        {
            using var referenceOutput = acc.Allocate1D<float>((long)m * dim);
            _kernels.ReferenceGradient(gradient.View, e.View, refs, referenceOutput.View, count, m, dim, _distanceKind);
            _device.Download(referenceOutput.View, referenceGradient.AsSpan(0, m * dim));
        }
        return value;
    }

    /// <summary>Sums over anchors of the row spreads, the farness sum and the pairs, self-pairs left out (the CPU's <see cref="BatchLoss"/> statistics).</summary>
    private (double Spread, double Sum, long Pairs) RowStatistics(MemoryBuffer1D<float, Stride1D.Dense> farness, MemoryBuffer1D<int, Stride1D.Dense> self, int count, int m)
    {
        var acc = _device.Accelerator;
        using var rowSpread = acc.Allocate1D<float>(Math.Max(1, count));
        using var rowSum = acc.Allocate1D<double>(Math.Max(1, count));
        using var rowPairs = acc.Allocate1D<int>(Math.Max(1, count));
        _kernels.RowStatistics(farness.View, self.View, count, m, rowSpread.View, rowSum.View, rowPairs.View);
        if (count == 0) return (0, 0, 0);
        var spreads = rowSpread.GetAsArray1D();
        var sums = rowSum.GetAsArray1D();
        var pairCounts = rowPairs.GetAsArray1D();
        double spread = 0, sum = 0;
        long pairs = 0;
        for (int i = 0; i < count; i++) { spread += spreads[i]; sum += sums[i]; pairs += pairCounts[i]; }
        return (spread, sum, pairs);
    }

    /// <summary>The device memory's entries and labels (for tests: the queue's contents after the enqueues so far).</summary>
    public (float[] Embeddings, int[] Labels) MemoryContents()
    {
        if (_memory is null) return ([], []);
        lock (_device.Sync) return (_memory.GetAsArray1D()[..(_memoryCount * _dim)], _memoryLabels!.GetAsArray1D()[.._memoryCount]);
    }

    /// <summary>Frees the device memory.</summary>
    public void Dispose()
    {
        _memory?.Dispose();
        _memoryLabels?.Dispose();
    }
}

/// <summary>
/// Exact k-nearest-neighbour search on the device behind <see cref="INearestNeighbourSearch"/>: queries in
/// chunks (so device memory stays bounded by chunk x k keys), a thread per query. Meant for small k
/// (each thread keeps its k best in order); the CPU's blocked search serves k in the thousands.
/// </summary>
public sealed class GpuNearestNeighbourSearch : INearestNeighbourSearch, IDisposable
{
    private const int QueryChunk = 16384;
    private readonly GpuDevice _device;
    private readonly EmbeddingKernels _kernels;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _references;

    /// <summary>Uploads <paramref name="count"/> references (row-major; normalised already for cosine).</summary>
    public GpuNearestNeighbourSearch(GpuDevice device, float[] references, int count, int dimension, EmbeddingDistance distance)
    {
        _device = device ?? throw new ArgumentNullException(nameof(device));
        _kernels = device.Kernels(a => new EmbeddingKernels(a));
        Count = count;
        Dimension = dimension;
        Distance = distance;
        lock (device.Sync) _references = device.Upload(references.AsSpan(0, count * dimension).ToArray());
    }

    /// <inheritdoc/>
    public int Count { get; }
    /// <inheritdoc/>
    public int Dimension { get; }
    /// <inheritdoc/>
    public EmbeddingDistance Distance { get; }

    /// <inheritdoc/>
    public NeighbourList Search(float[] queries, int queryCount, int k, bool leaveOneOut)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k));
        if (leaveOneOut && queryCount != Count) throw new ArgumentException("leave-one-out needs the queries to be the references.", nameof(queryCount));
        var indices = new int[(long)queryCount * k];
        var values = new float[(long)queryCount * k];
        var keys = new ulong[(long)Math.Min(queryCount, QueryChunk) * k];
        lock (_device.Sync)
        {
            for (int q0 = 0; q0 < queryCount; q0 += QueryChunk)
            {
                int n = Math.Min(QueryChunk, queryCount - q0);
                using var chunk = _device.Upload(queries.AsSpan(q0 * Dimension, n * Dimension).ToArray());
                using var keyBuffer = _device.Accelerator.Allocate1D<ulong>((long)n * k);
                _kernels.Nearest(n, chunk.View, _references.View, Count, Dimension, k, (int)Distance, leaveOneOut, q0, keyBuffer.View);
                _device.Download(keyBuffer.View, keys.AsSpan(0, n * k));
                for (long t = 0; t < (long)n * k; t++)
                {
                    long at = (long)q0 * k + t;
                    if (keys[t] == ulong.MaxValue) { indices[at] = -1; continue; }
                    int j = RankingMath.KeyIndex(keys[t]);
                    indices[at] = j;
                    int q = q0 + (int)(t / k);
                    values[at] = (float)Distance.Value(queries.AsSpan(q * Dimension, Dimension), ReferenceRow(j));
                }
            }
        }
        return new NeighbourList(queryCount, k, indices, values);
    }

    private float[]? _hostReferences;
    private ReadOnlySpan<float> ReferenceRow(int j)
    {
        _hostReferences ??= _references.GetAsArray1D();
        return _hostReferences.AsSpan(j * Dimension, Dimension);
    }

    /// <summary>Frees the device copy of the references.</summary>
    public void Dispose() => _references.Dispose();
}
