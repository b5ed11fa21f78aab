namespace Ranking.Embeddings;

/// <summary>
/// Cross-batch memory (XBM, Wang et al. CVPR 2020): a FIFO queue of past embeddings and their labels that
/// serve as extra references. The current batch is enqueued <em>before</em> the loss, so the references are
/// the queue (the batch included); the loss forms batch x memory pairs only, leaves out each anchor's own
/// entry, and sends no gradient into the memory (its entries are copies).
/// </summary>
public sealed class CrossBatchMemory
{
    private int _head;

    /// <summary>An empty queue of <paramref name="capacity"/> embeddings of <paramref name="dimension"/> values.</summary>
    public CrossBatchMemory(int capacity, int dimension)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), "the memory holds at least one entry.");
        if (dimension < 1) throw new ArgumentOutOfRangeException(nameof(dimension));
        Capacity = capacity;
        Dimension = dimension;
        Embeddings = new float[(long)capacity * dimension];
        Labels = new int[capacity];
    }

    /// <summary>Entries the queue can hold.</summary>
    public int Capacity { get; }
    /// <summary>Embedding dimension.</summary>
    public int Dimension { get; }
    /// <summary>Entries held (grows to <see cref="Capacity"/>, then stays).</summary>
    public int Count { get; private set; }
    /// <summary>Entry embeddings, row-major; slots [0, Count) are valid.</summary>
    public float[] Embeddings { get; }
    /// <summary>Entry labels.</summary>
    public int[] Labels { get; }

    /// <summary>
    /// Enqueues a batch, overwriting the oldest entries once full; writes in <paramref name="slots"/> where each
    /// item went (its self index for the loss). A batch larger than the memory is an error.
    /// </summary>
    public void Enqueue(float[] embeddings, int[] labels, int count, int[] slots)
    {
        if (count > Capacity) throw new ArgumentException($"a batch of {count} does not fit a memory of {Capacity}.", nameof(count));
        for (int i = 0; i < count; i++)
        {
            Array.Copy(embeddings, (long)i * Dimension, Embeddings, (long)_head * Dimension, Dimension);
            Labels[_head] = labels[i];
            slots[i] = _head;
            _head = (_head + 1) % Capacity;
        }
        Count = Math.Min(Capacity, Count + count);
    }

    /// <summary>The memory as the references of the batch just enqueued (self indices from <see cref="Enqueue"/>).</summary>
    public BatchReferences References(int[] slots, float[]? logQ = null) => new(Embeddings, Labels, Count, slots, AreTheBatch: false, logQ);
}
