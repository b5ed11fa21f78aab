namespace Ranking.Objectives;

/// <summary>
/// The loop every objective shares: parallel over queries, one scratch per worker (no allocation per
/// query), each query's loss kept in its own slot and summed in query order afterwards, so the result
/// is bit-identical for every thread count. Query weights multiply loss, gradients and Hessians.
/// Subclasses write only the math of one query.
/// </summary>
public abstract class QueryObjective : IRankingObjective
{
    public abstract string Name { get; }
    public abstract ObjectiveFamily Family { get; }

    // Scratch buffers outlive a call, so a trainer calling once per mini-batch does not re-grow them.
    private readonly System.Collections.Concurrent.ConcurrentBag<ObjectiveScratch> _scratchPool = new();

    private ObjectiveScratch RentScratch() => _scratchPool.TryTake(out var scratch) ? scratch : new ObjectiveScratch();

    /// <summary>Seed of every random draw (with the batch's iteration and the query index).</summary>
    public int Seed { get; init; }

    public double Compute(in ObjectiveBatch batch, float[] gradients, float[] hessians) => ComputeWithAuxiliary(batch, null, gradients, hessians);

    /// <summary>
    /// <see cref="Compute(in ObjectiveBatch, float[], float[])"/> with one extra float per row that some
    /// objectives read (<see cref="QueryData.Auxiliary"/>: e.g. the scores a sampling proposal is built
    /// from, or given noise weights); null = none.
    /// </summary>
    protected double ComputeWithAuxiliary(in ObjectiveBatch batch, float[]? auxiliary, float[] gradients, float[] hessians)
    {
        batch.CheckOutputs(gradients, hessians);
        if (auxiliary is not null && auxiliary.Length != batch.RowCount)
            throw new ArgumentException($"{auxiliary.Length} auxiliary values for {batch.RowCount} rows.", nameof(auxiliary));
        Validate(batch);

        int queries = batch.QueryCount;
        var lossPerQuery = new double[queries];
        float[] labels = batch.Labels, scores = batch.Scores;
        int[] offsets = batch.GroupOffsets;
        float[]? weights = batch.QueryWeights;
        int iteration = batch.Iteration;
        var options = new ParallelOptions { MaxDegreeOfParallelism = batch.MaxDegreeOfParallelism <= 0 ? -1 : batch.MaxDegreeOfParallelism };

        // One query's work; identical whichever worker and scratch run it.
        void RunQuery(int q, ObjectiveScratch scratch)
        {
            int start = offsets[q], n = offsets[q + 1] - start;
            var grad = gradients.AsSpan(start, n);
            var hess = hessians.AsSpan(start, n);
            double loss = 0;
            if (n > 0)
            {
                var query = new QueryData(q, start, iteration, labels.AsSpan(start, n), scores.AsSpan(start, n),
                    auxiliary is null ? default : auxiliary.AsSpan(start, n));
                loss = ComputeQuery(query, grad, hess, scratch);
            }
            if (weights is not null && weights[q] != 1f)
            {
                float wq = weights[q];
                for (int i = 0; i < n; i++) { grad[i] *= wq; hess[i] *= wq; }
                loss *= wq;
            }
            lossPerQuery[q] = loss;
        }

        if (options.MaxDegreeOfParallelism == 1 || queries < 2)
        {
            var scratch = RentScratch();
            for (int q = 0; q < queries; q++) RunQuery(q, scratch);
            _scratchPool.Add(scratch);
        }
        else
        {
            Parallel.For(0, queries, options, RentScratch, (q, _, scratch) => { RunQuery(q, scratch); return scratch; }, _scratchPool.Add);
        }

        double total = 0;
        for (int q = 0; q < queries; q++) total += lossPerQuery[q];
        return total;
    }

    /// <summary>Checks the batch once before the parallel loop (e.g. labels inside a gain table).</summary>
    protected virtual void Validate(in ObjectiveBatch batch) { }

    /// <summary>
    /// The loss of one query (unweighted, in float64); writes every row's gradient and Hessian
    /// (all of them: the spans hold stale values on entry). Must not allocate.
    /// </summary>
    protected abstract double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch);

    /// <summary>The random stream of a query (see <see cref="Ranking.Numerics.RankingMath.StreamKey"/>).</summary>
    protected ulong StreamOf(in QueryData query) => Ranking.Numerics.RankingMath.StreamKey(Seed, query.Iteration, query.Index);
}

/// <summary>One query's slice of a batch.</summary>
public readonly ref struct QueryData
{
    public QueryData(int index, int start, int iteration, ReadOnlySpan<float> labels, ReadOnlySpan<float> scores, ReadOnlySpan<float> auxiliary = default)
    {
        Index = index; Start = start; Iteration = iteration; Labels = labels; Scores = scores; Auxiliary = auxiliary;
    }

    /// <summary>Query index within the batch (seeds sampling).</summary>
    public int Index { get; }
    /// <summary>First row of the query within the batch.</summary>
    public int Start { get; }
    public int Iteration { get; }
    public ReadOnlySpan<float> Labels { get; }
    public ReadOnlySpan<float> Scores { get; }
    /// <summary>One extra value per row when the caller passed some, else empty.</summary>
    public ReadOnlySpan<float> Auxiliary { get; }
    public int Count => Labels.Length;
}

/// <summary>
/// Per-worker buffers that grow to the longest query seen and are reused for every query after it.
/// Contents are garbage on entry to a query: each objective initialises what it reads.
/// </summary>
public sealed class ObjectiveScratch
{
    private readonly double[][] _doubles = new double[6][];
    private readonly int[][] _ints = new int[3][];
    private ulong[] _keys = [];

    public ObjectiveScratch()
    {
        for (int i = 0; i < _doubles.Length; i++) _doubles[i] = [];
        for (int i = 0; i < _ints.Length; i++) _ints[i] = [];
    }

    /// <summary>Buffer number <paramref name="slot"/> (0..5) of at least n doubles.</summary>
    public Span<double> Doubles(int slot, int n)
    {
        if (_doubles[slot].Length < n) _doubles[slot] = new double[Grow(n)];
        return _doubles[slot].AsSpan(0, n);
    }

    /// <summary>Buffer number <paramref name="slot"/> (0..2) of at least n ints.</summary>
    public Span<int> Ints(int slot, int n)
    {
        if (_ints[slot].Length < n) _ints[slot] = new int[Grow(n)];
        return _ints[slot].AsSpan(0, n);
    }

    /// <summary>A buffer of n sort keys.</summary>
    public Span<ulong> Keys(int n)
    {
        if (_keys.Length < n) _keys = new ulong[Grow(n)];
        return _keys.AsSpan(0, n);
    }

    private static int Grow(int n) => Math.Max(64, (int)Math.Min(Array.MaxLength, (long)n * 3 / 2));
}
