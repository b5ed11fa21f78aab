using Ranking.Numerics;

namespace Ranking.Embeddings;

/// <summary>
/// The batch-loss step a training runs on, made by a compute backend
/// (<see cref="IEmbeddingComputeBackend.CreateEmbeddingLoss"/>): an <see cref="IBatchLossStep"/> against given
/// references (the batch itself, class proxies, another tower's items) and, when built with a memory, against its own
/// cross-batch memory (<see cref="ComputeAgainstMemory"/>), which lives where the step computes: host arrays on the CPU,
/// a device buffer on a GPU (so a 65,536-entry memory never crosses the bus). The math is the same on every backend
/// (<see cref="BatchLoss"/>'s shared row bodies and reducer).
/// </summary>
public interface IEmbeddingLossStep : IBatchLossStep, IDisposable
{
    /// <summary>Entries the step's cross-batch memory holds at most; 0 when it was built without one.</summary>
    int MemoryCapacity { get; }

    /// <summary>Entries in the memory (grows to <see cref="MemoryCapacity"/>, then stays).</summary>
    int MemoryCount { get; }

    /// <summary>
    /// Enqueues the batch into the step's memory (before the loss, as XBM does; the oldest entries are overwritten once
    /// full), then the reduced loss of the batch against the memory's entries, the batch included and each anchor's own
    /// entry left out; d loss / d embeddings into <paramref name="embeddingGradient"/> (overwritten, no gradient into the
    /// memory). <paramref name="slots"/> receives each item's slot (its self index among the references).
    /// <paramref name="classLogQ"/>: log q per class, for a loss with the log-Q correction (each entry takes its class's).
    /// </summary>
    double ComputeAgainstMemory(float[] embeddings, int[] labels, int count, int dim, float[] embeddingGradient, int iteration, int[] slots, float[]? classLogQ = null);

    /// <summary>
    /// The memory as the references of the batch last enqueued, on the host: labels, self indices (from the last
    /// <see cref="ComputeAgainstMemory"/>) and log q; the embeddings are the host queue on the CPU and empty where the memory
    /// lives on a device. Enough for <see cref="BatchLoss.LossAtCollapse"/>, which needs no embedding.
    /// </summary>
    BatchReferences MemoryReferences { get; }
}

/// <summary>
/// The CPU's <see cref="IEmbeddingLossStep"/>: a <see cref="BatchLoss"/> and, with a memory, a <see cref="CrossBatchMemory"/>
/// on the host. Computes exactly what the two compute alone.
/// </summary>
public sealed class CpuEmbeddingLossStep : IEmbeddingLossStep
{
    private readonly BatchLoss _loss;
    private readonly CrossBatchMemory? _memory;
    private readonly float[] _referenceLogQ;
    private int[] _slots = [];
    private float[]? _lastLogQ;

    /// <summary>A CPU step from checked options; <paramref name="memory"/> entries of <paramref name="dimension"/> values (0 = none).</summary>
    public CpuEmbeddingLossStep(BatchLossOptions options, int memory = 0, int dimension = 0, int threads = -1)
    {
        _loss = new BatchLoss(options, threads);
        if (memory < 0) throw new ArgumentOutOfRangeException(nameof(memory), "the memory must not be negative.");
        _memory = memory > 0 ? new CrossBatchMemory(memory, dimension) : null;
        _referenceLogQ = memory > 0 ? new float[memory] : [];
    }

    /// <summary>The CPU batch loss this step runs.</summary>
    public BatchLoss Loss => _loss;
    /// <summary>The host memory (null without one).</summary>
    public CrossBatchMemory? Memory => _memory;
    /// <inheritdoc/>
    public BatchLossOptions Options => _loss.Options;
    /// <inheritdoc/>
    public BatchLossSettings Settings => _loss.Settings;
    /// <inheritdoc/>
    public BatchStatistics LastStatistics => _loss.LastStatistics;
    /// <inheritdoc/>
    public int MemoryCapacity => _memory?.Capacity ?? 0;
    /// <inheritdoc/>
    public int MemoryCount => _memory?.Count ?? 0;

    /// <inheritdoc/>
    public double Compute(float[] embeddings, int[] labels, int count, int dim, BatchReferences references, float[] embeddingGradient, int iteration,
        float[]? referenceGradient = null, BatchLossSettings? settings = null) =>
        _loss.Compute(embeddings, labels, count, dim, references, embeddingGradient, iteration, referenceGradient, settings);

    /// <inheritdoc/>
    public double ComputeAgainstMemory(float[] embeddings, int[] labels, int count, int dim, float[] embeddingGradient, int iteration, int[] slots, float[]? classLogQ = null)
    {
        var memory = _memory ?? throw new InvalidOperationException("this loss step was built without a cross-batch memory.");
        if (dim != memory.Dimension) throw new ArgumentException($"the memory holds {memory.Dimension}-dimensional embeddings, got {dim}.", nameof(dim));
        memory.Enqueue(embeddings, labels, count, slots);
        if (classLogQ is not null) for (int j = 0; j < memory.Count; j++) _referenceLogQ[j] = classLogQ[memory.Labels[j]];
        _slots = slots;
        _lastLogQ = classLogQ is null ? null : _referenceLogQ;
        return _loss.Compute(embeddings, labels, count, dim, memory.References(slots, _lastLogQ), embeddingGradient, iteration);
    }

    /// <inheritdoc/>
    public BatchReferences MemoryReferences =>
        (_memory ?? throw new InvalidOperationException("this loss step was built without a cross-batch memory.")).References(_slots, _lastLogQ);

    /// <summary>Nothing to release: host arrays only.</summary>
    public void Dispose() { }
}
