namespace Ranking.Objectives;

/// <summary>
/// The loop every objective shares: parallel over queries, one scratch per worker (no allocation per
/// query), each query's loss kept in its own slot and summed in query order afterwards, so the result
/// is bit-identical for every thread count. Query weights multiply loss, gradients and Hessians.
/// Subclasses write only the math of one query.
/// </summary>
public abstract class QueryObjective : IRankingObjective
{
    /// <inheritdoc/>
    public abstract string Name { get; }
    /// <inheritdoc/>
    public abstract ObjectiveFamily Family { get; }

    // Scratch buffers outlive a call, so a trainer calling once per mini-batch does not re-grow them.
    private readonly System.Collections.Concurrent.ConcurrentBag<ObjectiveScratch> _scratchPool = new();

    private ObjectiveScratch RentScratch() => _scratchPool.TryTake(out var scratch) ? scratch : new ObjectiveScratch();

    /// <summary>Seed of every random draw (with the batch's iteration and the query index).</summary>
    public int Seed { get; init; }

    /// <inheritdoc/>
    public virtual double Compute(in ObjectiveBatch batch, float[] gradients, float[] hessians) => ComputeWithAuxiliary(batch, null, gradients, hessians);

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
    /// <summary>One query's slice: <paramref name="index"/> within the batch, <paramref name="start"/> its first row in the batch, and spans of its rows' grades, scores and optional extra values.</summary>
    public QueryData(int index, int start, int iteration, ReadOnlySpan<float> labels, ReadOnlySpan<float> scores, ReadOnlySpan<float> auxiliary = default)
    {
        Index = index; Start = start; Iteration = iteration; Labels = labels; Scores = scores; Auxiliary = auxiliary;
    }

    /// <summary>Query index within the batch (seeds sampling).</summary>
    public int Index { get; }
    /// <summary>First row of the query within the batch.</summary>
    public int Start { get; }
    /// <summary>The batch's training iteration (seeds sampling with the query index).</summary>
    public int Iteration { get; }
    /// <summary>Grade of each of the query's rows.</summary>
    public ReadOnlySpan<float> Labels { get; }
    /// <summary>Current score of each of the query's rows.</summary>
    public ReadOnlySpan<float> Scores { get; }
    /// <summary>One extra value per row when the caller passed some, else empty.</summary>
    public ReadOnlySpan<float> Auxiliary { get; }
    /// <summary>Rows in the query.</summary>
    public int Count => Labels.Length;
}

/// <summary>
/// Per-worker buffers that grow to the longest query seen and are reused for every query after it.
/// Contents are garbage on entry to a query: each objective initialises what it reads. The named
/// columns back <see cref="CpuQueryRows"/>; the numbered ones serve LambdaRank's own loop.
/// </summary>
public sealed class ObjectiveScratch
{
    private readonly double[][] _doubles = new double[6][];
    private readonly int[][] _ints = new int[3][];
    private ulong[] _keys = [];
    private double[] _gradientSums = [], _hessianSums = [], _rowValues = [], _placeValues = [];
    private int[] _order = [], _scoreOrder = [], _picked = [];

    /// <summary>Empty buffers; each grows on first use to the longest query it serves.</summary>
    public ObjectiveScratch()
    {
        for (int i = 0; i < _doubles.Length; i++) _doubles[i] = [];
        for (int i = 0; i < _ints.Length; i++) _ints[i] = [];
    }

    /// <summary>Buffer number <paramref name="slot"/> (0..5) of at least n doubles.</summary>
    public Span<double> Doubles(int slot, int n) => Take(ref _doubles[slot], n);

    /// <summary>Buffer number <paramref name="slot"/> (0..2) of at least n ints.</summary>
    public Span<int> Ints(int slot, int n) => Take(ref _ints[slot], n);

    /// <summary>A buffer of n sort keys.</summary>
    public Span<ulong> Keys(int n) => Take(ref _keys, n);

    /// <summary>The float64 gradient sums of a query's rows.</summary>
    public Span<double> GradientSums(int n) => Take(ref _gradientSums, n);

    /// <summary>The float64 Hessian sums of a query's rows.</summary>
    public Span<double> HessianSums(int n) => Take(ref _hessianSums, n);

    /// <summary>One float64 per row (<see cref="Ranking.Numerics.IQueryRows.RowValue"/>).</summary>
    public Span<double> RowValues(int n) => Take(ref _rowValues, n);

    /// <summary>One float64 per place of an order (<see cref="Ranking.Numerics.IQueryRows.PlaceValue"/>).</summary>
    public Span<double> PlaceValues(int n) => Take(ref _placeValues, n);

    /// <summary>An order by sort key (<see cref="Ranking.Numerics.IQueryRows.Order"/>).</summary>
    public Span<int> Order(int n) => Take(ref _order, n);

    /// <summary>The order by score (<see cref="Ranking.Numerics.IQueryRows.ScoreOrder"/>).</summary>
    public Span<int> ScoreOrder(int n) => Take(ref _scoreOrder, n);

    /// <summary>A list of picked rows (<see cref="Ranking.Numerics.IQueryRows.Picked"/>).</summary>
    public Span<int> Picked(int n) => Take(ref _picked, n);

    private static Span<T> Take<T>(ref T[] buffer, int n)
    {
        if (buffer.Length < n) buffer = new T[Grow(n)];
        return buffer.AsSpan(0, n);
    }

    private static int Grow(int n) => Math.Max(64, (int)Math.Min(Array.MaxLength, (long)n * 3 / 2));
}

/// <summary>
/// <see cref="Ranking.Numerics.IQueryRows"/> over one query's spans and a worker's scratch: what the CPU
/// loop hands every loss body. Sorting is a real sort here (the device counts or sorts on the device).
/// </summary>
public ref struct CpuQueryRows : Ranking.Numerics.IQueryRows
{
    private readonly ReadOnlySpan<float> _labels, _scores, _auxiliary;
    private readonly ReadOnlySpan<double> _constants;
    private readonly Span<double> _gradient, _hessian, _rowValues, _placeValues, _queryOutputs;
    private readonly Span<ulong> _keys;
    private readonly Span<int> _order, _scoreOrder, _picked;

    /// <summary>The rows of <paramref name="query"/> with cleared gradient and Hessian sums from <paramref name="scratch"/>.</summary>
    public CpuQueryRows(in QueryData query, ObjectiveScratch scratch) : this(query, scratch, default, default) { }

    /// <summary>
    /// As <see cref="CpuQueryRows(in QueryData, ObjectiveScratch)"/>, with the loss's constants for this call and
    /// this query's slice of the per-query outputs (<see cref="Ranking.Numerics.IQueryRows.Constant"/>,
    /// <see cref="Ranking.Numerics.IQueryRows.QueryOutput"/>; the slice must hold zeros).
    /// </summary>
    public CpuQueryRows(in QueryData query, ObjectiveScratch scratch, ReadOnlySpan<double> constants, Span<double> queryOutputs)
    {
        _constants = constants;
        _queryOutputs = queryOutputs;
        int n = query.Count;
        _labels = query.Labels;
        _scores = query.Scores;
        _auxiliary = query.Auxiliary;
        _gradient = scratch.GradientSums(n);
        _hessian = scratch.HessianSums(n);
        _gradient.Clear();
        _hessian.Clear();
        _rowValues = scratch.RowValues(n);
        _placeValues = scratch.PlaceValues(n);
        _keys = scratch.Keys(n);
        _order = scratch.Order(n);
        _scoreOrder = scratch.ScoreOrder(n);
        _picked = scratch.Picked(n);
    }

    /// <inheritdoc/>
    public readonly int Count => _labels.Length;
    /// <inheritdoc/>
    public readonly float Label(int row) => _labels[row];
    /// <inheritdoc/>
    public readonly float Score(int row) => _scores[row];
    /// <inheritdoc/>
    public readonly bool HasAuxiliary => !_auxiliary.IsEmpty;
    /// <inheritdoc/>
    public readonly float Auxiliary(int row) => _auxiliary[row];
    /// <inheritdoc/>
    public readonly double Constant(int index) => _constants[index];
    /// <inheritdoc/>
    public readonly ref double QueryOutput(int index) => ref _queryOutputs[index];
    /// <inheritdoc/>
    public readonly ref double Gradient(int row) => ref _gradient[row];
    /// <inheritdoc/>
    public readonly ref double Hessian(int row) => ref _hessian[row];
    /// <inheritdoc/>
    public readonly ref double RowValue(int row) => ref _rowValues[row];
    /// <inheritdoc/>
    public readonly ref double PlaceValue(int place) => ref _placeValues[place];
    /// <inheritdoc/>
    public readonly ref ulong SortKey(int row) => ref _keys[row];
    /// <inheritdoc/>
    public readonly ref int Order(int place) => ref _order[place];
    /// <inheritdoc/>
    public readonly ref int ScoreOrder(int place) => ref _scoreOrder[place];
    /// <inheritdoc/>
    public readonly ref int Picked(int index) => ref _picked[index];

    /// <inheritdoc/>
    public readonly void SortByKey()
    {
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        _keys.Sort(_order);
    }

    /// <inheritdoc/>
    public readonly void SortByScore() => QueryOrder.ByScoreDescending(_scores, _scoreOrder, _keys);

    /// <summary>The sums rounded to float, as the objective's outputs.</summary>
    public readonly void WriteOutputs(Span<float> gradients, Span<float> hessians)
    {
        for (int i = 0; i < _gradient.Length; i++)
        {
            gradients[i] = (float)_gradient[i];
            hessians[i] = (float)_hessian[i];
        }
    }
}

/// <summary>
/// An objective whose per-query math is a loss body (<see cref="Ranking.Numerics.IQueryLoss"/>): this class
/// runs it on the CPU over <see cref="CpuQueryRows"/>, and a compute backend runs the same body in its
/// kernels (it reaches the body's type through <see cref="Accept{TResult}"/>). A new loss is its body, its
/// options and its registration in <see cref="ObjectiveFactory"/>. A loss that reads more than grades and
/// scores says so here, once for every backend: per-row inputs from the batch's labels and display positions
/// (<see cref="RowInputs"/>), a table of constants (<see cref="Constants"/>), and per-query outputs the
/// objective learns from after each call (<see cref="QueryOutputWidth"/>, <see cref="Learn"/>).
/// </summary>
public abstract class QueryLossObjective<TLoss> : QueryObjective, IQueryLossObjective where TLoss : struct, Ranking.Numerics.IQueryLoss
{
    private readonly TLoss _loss;
    private double[] _queryOutputs = [];

    /// <summary>An objective computing <paramref name="loss"/> for every query.</summary>
    protected QueryLossObjective(TLoss loss) { _loss = loss; }

    /// <summary>The loss body and its settings.</summary>
    public TLoss Loss => _loss;

    /// <inheritdoc/>
    public TResult Accept<TResult>(IQueryLossVisitor<TResult> visitor) => visitor.Visit(this, _loss);

    /// <inheritdoc/>
    public virtual bool ReadsRowInputs => false;

    /// <inheritdoc/>
    public virtual float[]? RowInputs(in ObjectiveBatch batch) => null;

    /// <inheritdoc/>
    public virtual ReadOnlySpan<double> Constants => default;

    /// <inheritdoc/>
    public virtual int QueryOutputWidth => 0;

    /// <inheritdoc/>
    public virtual void Learn(ReadOnlySpan<double> queryOutputs, float[]? queryWeights) { }

    /// <summary>The loop with the body's per-row inputs, then (for a loss with per-query outputs) <see cref="Learn"/>.</summary>
    public override double Compute(in ObjectiveBatch batch, float[] gradients, float[] hessians)
    {
        batch.CheckOutputs(gradients, hessians);
        float[]? inputs = ReadsRowInputs ? RowInputs(batch) : null;
        int width = QueryOutputWidth;
        if (width == 0) return ComputeWithAuxiliary(batch, inputs, gradients, hessians);
        int need = checked(batch.QueryCount * width);
        if (_queryOutputs.Length < need) _queryOutputs = new double[need];
        Array.Clear(_queryOutputs, 0, need);
        double loss = ComputeWithAuxiliary(batch, inputs, gradients, hessians);
        Learn(_queryOutputs.AsSpan(0, need), batch.QueryWeights);
        return loss;
    }

    /// <inheritdoc/>
    protected sealed override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int width = QueryOutputWidth;
        var outputs = width == 0 ? default : _queryOutputs.AsSpan(query.Index * width, width);
        var rows = new CpuQueryRows(query, scratch, Constants, outputs);
        double loss = _loss.Compute(ref rows, StreamOf(query));
        rows.WriteOutputs(gradients, hessians);
        return loss;
    }
}

/// <summary>An objective computed by a loss body; backends reach the body's type through a visitor (no reflection).</summary>
public interface IQueryLossObjective : IRankingObjective
{
    /// <summary>Seed of every random draw.</summary>
    int Seed { get; }

    /// <summary>Calls <paramref name="visitor"/> with this objective's loss body.</summary>
    TResult Accept<TResult>(IQueryLossVisitor<TResult> visitor);

    /// <summary>True when the body reads per-row inputs (<see cref="RowInputs"/>) through <see cref="Ranking.Numerics.IQueryRows.Auxiliary"/>.</summary>
    bool ReadsRowInputs { get; }

    /// <summary>
    /// The per-row inputs of <paramref name="batch"/>, from its labels and display positions (IPW's click weights,
    /// unbiased LambdaMART's positions), in row order; null when the body reads none. They depend on nothing else,
    /// so a backend that keeps a query set on its device computes them once for the set.
    /// </summary>
    float[]? RowInputs(in ObjectiveBatch batch);

    /// <summary>The body's constants for the next call (<see cref="Ranking.Numerics.IQueryRows.Constant"/>), the same for every query; empty when none.</summary>
    ReadOnlySpan<double> Constants { get; }

    /// <summary>Doubles per query the body writes through <see cref="Ranking.Numerics.IQueryRows.QueryOutput"/>; 0 = none (the objective learns nothing from a call).</summary>
    int QueryOutputWidth { get; }

    /// <summary>
    /// Hands the objective a call's per-query outputs (queries in batch order, <see cref="QueryOutputWidth"/> each)
    /// and the batch's query weights, so it updates what it learns across calls (unbiased LambdaMART's position
    /// biases). The CPU loop calls it after each call; a device backend, after downloading the outputs.
    /// </summary>
    void Learn(ReadOnlySpan<double> queryOutputs, float[]? queryWeights);
}

/// <summary>Receives a loss body with its static type (a backend builds its kernels for that type).</summary>
public interface IQueryLossVisitor<out TResult>
{
    /// <summary>Called with the objective and its loss body.</summary>
    TResult Visit<TLoss>(IQueryLossObjective objective, TLoss loss) where TLoss : struct, Ranking.Numerics.IQueryLoss;
}
