namespace Ranking.Numerics;

/// <summary>
/// One query's rows as a per-query loss sees them: grades and scores in, float64 gradient and Hessian
/// sums out, and the named workspaces a loss may use. The CPU loop implements it over spans of its
/// per-worker scratch, the ILGPU kernels over device views of a query's rows; both are structs, and every
/// loss body is generic over them (<c>where TRows : IQueryRows, allows ref struct</c>), so the JIT and
/// ILGPU each compile a specialised body with no virtual call. Rows are numbered 0..Count-1 within the query.
/// Contents on entry to a body: the gradient and Hessian sums are 0; every workspace holds garbage (a body
/// writes what it reads).
/// <para>One rule for bodies: an argument of a call on the rows is a local or plain arithmetic, never
/// another call nor an increment (write <c>int row = rows.Order(i); rows.Score(row)</c>, not
/// <c>rows.Score(rows.Order(i))</c>; <c>rows.Picked(count) = i; count++;</c>, not <c>rows.Picked(count++) = i</c>):
/// ILGPU 1.5.3's PTX back end fails on a call evaluated while the rows' address waits on its stack
/// ("Cannot convert from Int64 to Ptr"). Ranking.Gpu.Tests' PTX compile test catches a slip.</para>
/// </summary>
public interface IQueryRows
{
    /// <summary>Rows in the query (at least 1).</summary>
    int Count { get; }

    /// <summary>Grade of row <paramref name="row"/>.</summary>
    float Label(int row);

    /// <summary>Current model score of row <paramref name="row"/>.</summary>
    float Score(int row);

    /// <summary>
    /// True when the caller passed one extra value per row: sampled softmax's proposal scores, NCE's noise
    /// weights, or the per-row inputs a click objective computes from labels and display positions (IPW's
    /// click weight, unbiased LambdaMART's position).
    /// </summary>
    bool HasAuxiliary { get; }

    /// <summary>The extra value of row <paramref name="row"/> (only when <see cref="HasAuxiliary"/>).</summary>
    float Auxiliary(int row);

    /// <summary>
    /// Entry <paramref name="index"/> of the loss's read-only table for this call, the same for every query
    /// (unbiased LambdaMART's click and non-click position biases); only losses whose objective supplies one read it.
    /// </summary>
    double Constant(int index);

    /// <summary>
    /// Entry <paramref name="index"/> of this query's slice of the per-query outputs (0 on entry): what a loss
    /// reports besides gradients for its objective to learn from after the call (unbiased LambdaMART's
    /// position costs). Only losses whose objective asks for outputs write it.
    /// </summary>
    ref double QueryOutput(int index);

    /// <summary>d loss / d score of row <paramref name="row"/>, summed in float64 (0 on entry).</summary>
    ref double Gradient(int row);

    /// <summary>The diagonal Hessian entry of row <paramref name="row"/>, summed in float64 (0 on entry).</summary>
    ref double Hessian(int row);

    /// <summary>Workspace: one float64 per row, indexed by row (a gain, a smooth rank, a weight).</summary>
    ref double RowValue(int row);

    /// <summary>Workspace: one float64 per place of an order, indexed by place (a suffix sum, a sorted score, a cumulative probability).</summary>
    ref double PlaceValue(int place);

    /// <summary>Workspace: one sort key per row, read by <see cref="SortByKey"/>.</summary>
    ref ulong SortKey(int row);

    /// <summary>The row at place <paramref name="place"/> of the order <see cref="SortByKey"/> wrote.</summary>
    ref int Order(int place);

    /// <summary>The row at place <paramref name="place"/> of the order by score <see cref="SortByScore"/> wrote.</summary>
    ref int ScoreOrder(int place);

    /// <summary>Workspace: a list of up to Count rows a loss picks (negatives, hard negatives).</summary>
    ref int Picked(int index);

    /// <summary>
    /// Writes into <see cref="Order"/> the rows by ascending <see cref="SortKey"/> (keys equal in the 64 bits
    /// keep row order). The CPU sorts; a GPU thread counts, or finds the order already placed by a device sort.
    /// May overwrite the keys.
    /// </summary>
    void SortByKey();

    /// <summary>
    /// Writes into <see cref="ScoreOrder"/> the rows by score, descending, ties in row order (a stable sort,
    /// as LightGBM's std::stable_sort; -0 and +0 tie). May overwrite <see cref="SortKey"/>.
    /// </summary>
    void SortByScore();
}

/// <summary>How one query's work grows with its length n; a GPU thread per query stops at a length limit for quadratic bodies.</summary>
public enum QueryWork
{
    /// <summary>O(n) or O(n log n) on the CPU, and no order on the device: one thread per query at any length.</summary>
    Linear,
    /// <summary>
    /// Linear apart from one <see cref="IQueryRows.SortByKey"/> whose keys come from <see cref="IQueryLoss.OrderKey"/>:
    /// a device can sort them for long queries instead of counting.
    /// </summary>
    SortsByKey,
    /// <summary>O(n^2) in one thread (pairs, counting sorts): long queries go to the CPU.</summary>
    Quadratic,
}

/// <summary>
/// The math of one per-query loss, written once over <see cref="IQueryRows"/>: its settings are the fields
/// of the implementing struct, its body <see cref="Compute"/>. The CPU objective's loop and the GPU's
/// kernel for it are generic over the struct, so a new loss needs no kernel code of its own.
/// </summary>
public interface IQueryLoss
{
    /// <summary>How the body's work grows with the query's length.</summary>
    QueryWork Work { get; }

    /// <summary>
    /// The loss of one query (unweighted, float64); adds every row's gradient and Hessian into the sums.
    /// <paramref name="stream"/> is the query's random stream (<see cref="RankingMath.StreamKey"/>).
    /// </summary>
    double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct;

    /// <summary>
    /// For <see cref="QueryWork.SortsByKey"/>: the sort key the body gives row <paramref name="row"/> (a pure
    /// function of these arguments), so a device can sort every query's keys at once. 0 otherwise.
    /// </summary>
    ulong OrderKey(float label, ulong stream, int row);
}
