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
    // The per-batch device buffers, kept across batches (grow-only, sliced to each batch's size): a step allocates
    // nothing once the largest batch has been seen, where a fresh allocation of the (batch x references) matrices
    // would cost several large device allocations and frees per step.
    private readonly KeptBuffer<float> _embeddings = new(), _references = new(), _farness = new(), _gradient = new(), _logQ = new(),
        _rowSpread = new(), _scales = new(), _output = new(), _referenceOutput = new();
    private readonly KeptBuffer<int> _labels = new(), _selfIndex = new(), _referenceLabels = new(), _mask = new(), _scratch = new(),
        _rowTerms = new(), _rowNonZero = new(), _rowPairs = new();
    private readonly KeptBuffer<double> _rowLoss = new(), _rowSum = new();

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
            var e = UploadInto(_embeddings, embeddings.AsSpan(0, count * dim));
            var lab = UploadInto(_labels, labels.AsSpan(0, count));
            var self = _selfIndex.View(_device.Accelerator, count);
            if (_memory is null)
            {
                if (count > 0) self.SubView(0, count).CopyFromCPU(Enumerable.Range(0, count).ToArray());
                return Run(e, lab, count, dim, e, lab, count, self, true, logQ, _settings, embeddingGradient, null, iteration);
            }
            if (dim != _dim) throw new ArgumentException($"the memory holds {_dim}-dimensional embeddings, got {dim}.");
            if (count > _memoryCapacity) throw new ArgumentException($"a batch of {count} does not fit a memory of {_memoryCapacity}.");
            _kernels.Enqueue(e, lab, _memory.View, _memoryLabels!.View, self, count, dim, _memoryHead, _memoryCapacity);
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
            int m = references.Count;
            var e = UploadInto(_embeddings, embeddings.AsSpan(0, count * dim));
            var lab = UploadInto(_labels, labels.AsSpan(0, count));
            var self = UploadInto(_selfIndex, references.SelfIndex.AsSpan(0, count));
            if (references.AreTheBatch)
                return Run(e, lab, count, dim, e, lab, count, self, true, references.LogQ, settings ?? _settings, embeddingGradient, null, iteration);
            var r = UploadInto(_references, references.Embeddings.AsSpan(0, m * dim));
            var rl = UploadInto(_referenceLabels, references.Labels.AsSpan(0, m));
            return Run(e, lab, count, dim, r, rl, m, self, false, references.LogQ, settings ?? _settings, embeddingGradient, referenceGradient, iteration);
        }
    }

    /// <summary>Farness, rows, reducer (on the host, one number per anchor) and the chain rule; the caller holds the device lock.</summary>
    private double Run(ArrayView<float> e, ArrayView<int> lab, int count, int dim, ArrayView<float> refs, ArrayView<int> refLabels, int m,
        ArrayView<int> self, bool batchRefs, float[]? logQ, BatchLossSettings settings, float[] embeddingGradient, float[]? referenceGradient, int iteration)
    {
        var acc = _device.Accelerator;
        long cells = (long)count * m;
        var farness = _farness.View(acc, cells);
        var mask = _mask.View(acc, cells);
        var gradient = _gradient.View(acc, cells);
        int scratchCells = settings.Miner == MinerKind.SemiHard ? BatchLosses.SemiHardScratchCells(m) : 0;
        var scratch = _scratch.View(acc, (long)count * scratchCells);
        var q = _logQ.View(acc, m);
        if (logQ is not null && m > 0) q.SubView(0, m).CopyFromCPU(logQ.AsSpan(0, m));
        var rowLoss = _rowLoss.View(acc, count);
        var rowTerms = _rowTerms.View(acc, count);
        var rowNonZero = _rowNonZero.View(acc, count);
        _kernels.Farness(e, refs, farness, count, m, dim, _distanceKind, settings.Sign);
        var (spread, farnessSum, pairs) = RowStatistics(farness, self, count, m);
        var template = new DeviceBatchRow
        {
            FarnessMatrix = farness, MaskMatrix = mask, GradientMatrix = gradient, ScratchMatrix = scratch, ScratchCells = scratchCells, ReferenceLabels = refLabels,
            LogQ = q, References = m, HasLogQ = logQ is null ? 0 : 1,
        };
        _kernels.Rows(count, template, lab, self, settings, iteration, rowLoss, rowTerms, rowNonZero);
        var loss = new double[count];
        var terms = new int[count];
        var nonZero = new int[count];
        if (count > 0)
        {
            rowLoss.SubView(0, count).CopyToCPU(loss);
            rowTerms.SubView(0, count).CopyToCPU(terms);
            rowNonZero.SubView(0, count).CopyToCPU(nonZero);
        }
        var rows = new RowLoss[count];
        for (int i = 0; i < count; i++) rows[i] = new RowLoss { Loss = loss[i], Terms = terms[i], NonZero = nonZero[i] };
        var scales = new float[count];
        double value = BatchLoss.ReducerScales(rows, count, Options.EffectiveReducer, settings.Sign, scales, out long termCount, out long nonZeroCount);
        LastStatistics = new BatchStatistics(termCount, nonZeroCount, count == 0 ? 0 : spread / count, pairs == 0 ? 0 : farnessSum / pairs);
        var scaleBuffer = UploadInto(_scales, scales);
        _kernels.ScaleRows(gradient, scaleBuffer, count, m);
        var output = _output.View(acc, (long)count * dim);
        _kernels.EmbeddingGradient(gradient, e, refs, output, count, m, dim, _distanceKind, batchRefs);
        _device.Download(output, embeddingGradient.AsSpan(0, count * dim));
        if (referenceGradient is not null)
        {
            var referenceOutput = _referenceOutput.View(acc, (long)m * dim);
            _kernels.ReferenceGradient(gradient, e, refs, referenceOutput, count, m, dim, _distanceKind);
            _device.Download(referenceOutput, referenceGradient.AsSpan(0, m * dim));
        }
        return value;
    }

    /// <summary>Host data into a kept buffer grown to hold it (counted as <see cref="GpuDevice.Upload{T}(T[])"/> counts); the view of its length (at least one cell).</summary>
    private ArrayView<T> UploadInto<T>(KeptBuffer<T> buffer, ReadOnlySpan<T> data) where T : unmanaged
    {
        var view = buffer.View(_device.Accelerator, data.Length);
        if (data.Length > 0) _device.Upload(data, view);
        return view;
    }

    /// <summary>Sums over anchors of the row spreads, the farness sum and the pairs, self-pairs left out (the CPU's <see cref="BatchLoss"/> statistics).</summary>
    private (double Spread, double Sum, long Pairs) RowStatistics(ArrayView<float> farness, ArrayView<int> self, int count, int m)
    {
        var acc = _device.Accelerator;
        var rowSpread = _rowSpread.View(acc, count);
        var rowSum = _rowSum.View(acc, count);
        var rowPairs = _rowPairs.View(acc, count);
        _kernels.RowStatistics(farness, self, count, m, rowSpread, rowSum, rowPairs);
        if (count == 0) return (0, 0, 0);
        var spreads = new float[count];
        var sums = new double[count];
        var pairCounts = new int[count];
        rowSpread.SubView(0, count).CopyToCPU(spreads);
        rowSum.SubView(0, count).CopyToCPU(sums);
        rowPairs.SubView(0, count).CopyToCPU(pairCounts);
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

    /// <summary>Frees the device memory and the kept per-batch buffers.</summary>
    public void Dispose()
    {
        lock (_device.Sync)
        {
            _memory?.Dispose();
            _memoryLabels?.Dispose();
            foreach (var buffer in new IDisposable[]
            {
                _embeddings, _references, _farness, _gradient, _logQ, _rowSpread, _scales, _output, _referenceOutput,
                _labels, _selfIndex, _referenceLabels, _mask, _scratch, _rowTerms, _rowNonZero, _rowPairs, _rowLoss, _rowSum,
            })
                buffer.Dispose();
        }
    }
}

/// <summary>
/// A device buffer kept across calls and grown only when a call needs more cells than it holds (the old one freed
/// first, so at most one is held); each call works on a view of the cells it needs. The caller holds the device lock.
/// </summary>
internal sealed class KeptBuffer<T> : IDisposable where T : unmanaged
{
    private MemoryBuffer1D<T, Stride1D.Dense>? _buffer;

    /// <summary>The first <paramref name="length"/> cells (at least one, as a fresh buffer of max(1, length) had), reallocated if the buffer is smaller.</summary>
    public ArrayView<T> View(Accelerator accelerator, long length)
    {
        length = Math.Max(1L, length);
        if (_buffer is null || _buffer.Length < length)
        {
            // Freed before the larger one is allocated: the two need not fit on the device together.
            _buffer?.Dispose();
            _buffer = null;
            _buffer = accelerator.Allocate1D<T>(length);
        }
        return _buffer.View.SubView(0, length);
    }

    /// <summary>Frees the buffer; a later <see cref="View"/> allocates again.</summary>
    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
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
    // A query chunk and its keys, kept across chunks and searches (grow-only).
    private readonly KeptBuffer<float> _queryChunk = new();
    private readonly KeptBuffer<ulong> _keys = new();

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
                var chunk = _queryChunk.View(_device.Accelerator, (long)n * Dimension);
                _device.Upload(queries.AsSpan(q0 * Dimension, n * Dimension), chunk);
                var keyBuffer = _keys.View(_device.Accelerator, (long)n * k);
                _kernels.Nearest(n, chunk, _references.View, Count, Dimension, k, (int)Distance, leaveOneOut, q0, keyBuffer);
                _device.Download(keyBuffer, keys.AsSpan(0, n * k));
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

    /// <summary>Frees the device copy of the references and the kept query and key buffers.</summary>
    public void Dispose()
    {
        lock (_device.Sync)
        {
            _references.Dispose();
            _queryChunk.Dispose();
            _keys.Dispose();
        }
    }
}
