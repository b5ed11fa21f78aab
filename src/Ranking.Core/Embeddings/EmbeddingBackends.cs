using Ranking.Compute;

namespace Ranking.Embeddings;

/// <summary>
/// What a compute backend does for metric learning, declared once: the batch-loss step of a training (with its
/// cross-batch memory held where the step computes) and exact k-nearest-neighbour search. The GPU backend
/// (Ranking.Gpu's GpuComputeBackend) implements it beside <see cref="IComputeBackend"/>; the managed CPU's is
/// <see cref="EmbeddingBackends.Cpu"/>. Both compute the same numbers from the same shared loss bodies (to 1e-4).
/// </summary>
public interface IEmbeddingComputeBackend
{
    /// <summary>
    /// The batch-loss step of an embedding training for checked <paramref name="options"/>: farness, mining, the shared
    /// row bodies, the reducer and the chain rule, with a cross-batch memory of <paramref name="memory"/> entries of
    /// <paramref name="dimension"/> values held where the step computes (0 = none). The caller disposes it.
    /// </summary>
    IEmbeddingLossStep CreateEmbeddingLoss(BatchLossOptions options, int memory = 0, int dimension = 0, int threads = -1);

    /// <summary>
    /// Exact k-nearest-neighbour search over <paramref name="count"/> references (row-major, normalised already where the
    /// distance wants it); every backend ranks by the same packed (farness, index) keys, so ties break alike. The caller
    /// disposes it when it is <see cref="IDisposable"/>.
    /// </summary>
    INearestNeighbourSearch CreateNearestNeighbourSearch(float[] references, int count, int dimension, EmbeddingDistance distance, int threads = -1);
}

/// <summary>The embedding side of a compute backend (<see cref="IEmbeddingComputeBackend"/>).</summary>
public static class EmbeddingBackends
{
    /// <summary>The managed CPU's: <see cref="CpuEmbeddingLossStep"/> (<see cref="BatchLoss"/> with a host <see cref="CrossBatchMemory"/>) and <see cref="ExactNearestNeighbourSearch"/>.</summary>
    public static IEmbeddingComputeBackend Cpu { get; } = new CpuEmbeddingBackend();

    /// <summary>
    /// <paramref name="backend"/>'s embedding side: the backend itself when it implements <see cref="IEmbeddingComputeBackend"/>
    /// (the GPU backend), else the managed CPU's (for null and for the CPU backend).
    /// </summary>
    public static IEmbeddingComputeBackend For(IComputeBackend? backend) => backend as IEmbeddingComputeBackend ?? Cpu;

    private sealed class CpuEmbeddingBackend : IEmbeddingComputeBackend
    {
        public IEmbeddingLossStep CreateEmbeddingLoss(BatchLossOptions options, int memory = 0, int dimension = 0, int threads = -1) =>
            new CpuEmbeddingLossStep(options, memory, dimension, threads);

        public INearestNeighbourSearch CreateNearestNeighbourSearch(float[] references, int count, int dimension, EmbeddingDistance distance, int threads = -1) =>
            new ExactNearestNeighbourSearch(references, count, dimension, distance, threads);
    }
}
