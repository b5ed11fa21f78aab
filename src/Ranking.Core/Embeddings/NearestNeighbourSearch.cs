using Ranking.Models;
using Ranking.Numerics;

namespace Ranking.Embeddings;

/// <summary>
/// The k nearest references of each query, nearest first: <see cref="Indices"/> and <see cref="Values"/>
/// are QueryCount x K, row-major. Values are in the distance's own units (a distance, or a similarity for
/// cosine and dot). A row has fewer than K real neighbours only when there are fewer references; the rest
/// hold index -1.
/// </summary>
/// <param name="QueryCount">Number of queries searched.</param>
/// <param name="K">Neighbours kept per query.</param>
/// <param name="Indices">QueryCount x K reference indices, nearest first; -1 past the last real neighbour.</param>
/// <param name="Values">QueryCount x K distances (or similarities for cosine and dot) of those neighbours.</param>
public sealed record NeighbourList(int QueryCount, int K, int[] Indices, float[] Values);

/// <summary>
/// k-nearest-neighbour search over a fixed set of reference embeddings: the seam an approximate index
/// (HNSW and the like) can implement later for corpora that outgrow exact search.
/// </summary>
public interface INearestNeighbourSearch
{
    /// <summary>References held.</summary>
    int Count { get; }
    /// <summary>Embedding dimension.</summary>
    int Dimension { get; }
    /// <summary>The distance neighbours are ranked by.</summary>
    EmbeddingDistance Distance { get; }

    /// <summary>
    /// The <paramref name="k"/> nearest references of each of <paramref name="queryCount"/> queries (row-major).
    /// With <paramref name="leaveOneOut"/>, query i is reference i and is not its own neighbour.
    /// </summary>
    NeighbourList Search(float[] queries, int queryCount, int k, bool leaveOneOut);
}

/// <summary>
/// Exact search: queries in blocks, each block against every reference by one matrix product (the SIMD
/// kernels of the dense models), then a selection of the k best per query (quickselect on packed
/// (farness, index) keys, so ties go to the lower index and results do not depend on threads). Memory stays
/// bounded by threads x block x references, whatever the number of queries.
/// </summary>
public sealed class ExactNearestNeighbourSearch : INearestNeighbourSearch
{
    private const int QueryBlock = 48;
    private readonly float[] _transposed; // dim x count
    private readonly float[] _squaredNorms;
    private readonly int _threads;

    /// <summary>An index over <paramref name="count"/> references (row-major, already normalised for cosine).</summary>
    public ExactNearestNeighbourSearch(float[] references, int count, int dimension, EmbeddingDistance distance, int threads = -1)
    {
        ArgumentNullException.ThrowIfNull(references);
        if (references.LongLength < (long)count * dimension) throw new ArgumentException("fewer reference values than count x dimension.", nameof(references));
        Count = count;
        Dimension = dimension;
        Distance = distance;
        _threads = threads;
        _transposed = new float[(long)count * dimension];
        DenseKernels.Transpose(references, count, dimension, _transposed);
        _squaredNorms = new float[count];
        for (int j = 0; j < count; j++)
        {
            var r = references.AsSpan(j * dimension, dimension);
            _squaredNorms[j] = System.Numerics.Tensors.TensorPrimitives.Dot(r, r);
        }
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
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), "k must be at least 1.");
        if (leaveOneOut && queryCount != Count) throw new ArgumentException("leave-one-out needs the queries to be the references.", nameof(queryCount));
        int m = Count, d = Dimension;
        var indices = new int[(long)queryCount * k];
        var values = new float[(long)queryCount * k];
        Array.Fill(indices, -1);
        int blocks = (queryCount + QueryBlock - 1) / QueryBlock;
        var options = new ParallelOptions { MaxDegreeOfParallelism = _threads <= 0 ? -1 : _threads };
        Parallel.For(0, blocks, options,
            () => (Products: new float[(long)QueryBlock * m], Keys: new ulong[m], Block: new float[(long)QueryBlock * d]),
            (b, _, work) =>
            {
                int q0 = b * QueryBlock, rows = Math.Min(QueryBlock, queryCount - q0);
                Array.Copy(queries, (long)q0 * d, work.Block, 0, (long)rows * d);
                DenseKernels.Multiply(work.Block, rows, d, _transposed, m, work.Products, null, 1);
                for (int r = 0; r < rows; r++)
                {
                    int q = q0 + r;
                    var dots = work.Products.AsSpan(r * m, m);
                    float qq = Distance.IsSimilarity() ? 0f : System.Numerics.Tensors.TensorPrimitives.Dot(queries.AsSpan(q * d, d), queries.AsSpan(q * d, d));
                    int n = 0;
                    for (int j = 0; j < m; j++)
                    {
                        if (leaveOneOut && j == q) continue;
                        work.Keys[n++] = RankingMath.DescendingScoreKey(-Farness(dots[j], qq, _squaredNorms[j]), j);
                    }
                    int take = Math.Min(k, n);
                    Selection.SmallestFirst(work.Keys, n, take);
                    for (int t = 0; t < take; t++)
                    {
                        int j = RankingMath.KeyIndex(work.Keys[t]);
                        indices[(long)q * k + t] = j;
                        float f = Farness(dots[j], qq, _squaredNorms[j]);
                        values[(long)q * k + t] = Distance.IsSimilarity() ? -f : f;
                    }
                }
                return work;
            },
            _ => { });
        return new NeighbourList(queryCount, k, indices, values);
    }

    /// <summary>The farness (distance, or minus the similarity) from a dot product and the squared norms.</summary>
    private float Farness(float dot, float queryNorm, float referenceNorm) => Distance switch
    {
        EmbeddingDistance.L2 => MathF.Sqrt(MathF.Max(queryNorm + referenceNorm - 2f * dot, 0f)),
        EmbeddingDistance.SquaredL2 => MathF.Max(queryNorm + referenceNorm - 2f * dot, 0f),
        _ => -dot,
    };
}

/// <summary>Partial sorting of packed keys.</summary>
internal static class Selection
{
    /// <summary>Moves the <paramref name="take"/> smallest of keys[0..n) to the front, sorted ascending (quickselect, then a sort of the front).</summary>
    public static void SmallestFirst(ulong[] keys, int n, int take)
    {
        if (take <= 0) return;
        int lo = 0, hi = n - 1;
        while (hi > lo && take < n)
        {
            // Median of three as the pivot: deterministic, and no quadratic case on sorted input.
            int mid = lo + (hi - lo) / 2;
            ulong a = keys[lo], b = keys[mid], c = keys[hi];
            ulong pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
            int i = lo, j = hi;
            while (i <= j)
            {
                while (keys[i] < pivot) i++;
                while (keys[j] > pivot) j--;
                if (i <= j) { (keys[i], keys[j]) = (keys[j], keys[i]); i++; j--; }
            }
            if (take - 1 <= j) hi = j;
            else if (take - 1 >= i) lo = i;
            else break;
        }
        Array.Sort(keys, 0, take);
    }
}
