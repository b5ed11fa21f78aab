namespace Ranking.Embeddings;

/// <summary>How two embeddings are compared.</summary>
public enum EmbeddingDistance
{
    /// <summary>Euclidean distance |a - b| (a distance: smaller is closer).</summary>
    L2,
    /// <summary>Squared Euclidean distance |a - b|^2.</summary>
    SquaredL2,
    /// <summary>Cosine similarity of the L2-normalised vectors (a similarity: larger is closer).</summary>
    Cosine,
    /// <summary>Dot product (a similarity).</summary>
    Dot,
}

/// <summary>Names, parsing and the properties of <see cref="EmbeddingDistance"/>.</summary>
public static class EmbeddingDistances
{
    /// <summary>The names the CLI and the model file use.</summary>
    public static IReadOnlyList<string> Names { get; } = ["l2", "squared-l2", "cosine", "dot"];

    /// <summary>True for similarities (cosine, dot): larger means closer.</summary>
    public static bool IsSimilarity(this EmbeddingDistance distance) => distance is EmbeddingDistance.Cosine or EmbeddingDistance.Dot;

    /// <summary>Cosine compares directions only: the embeddings are L2-normalised before it.</summary>
    public static bool NeedsNormalisedInput(this EmbeddingDistance distance) => distance == EmbeddingDistance.Cosine;

    /// <summary>The name of a distance.</summary>
    public static string Name(this EmbeddingDistance distance) => Names[(int)distance];

    /// <summary>Parses a name (case-insensitive; "sqeuclidean"/"euclidean" accepted too).</summary>
    public static EmbeddingDistance Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "l2" or "euclidean" => EmbeddingDistance.L2,
        "squared-l2" or "sql2" or "sqeuclidean" => EmbeddingDistance.SquaredL2,
        "cosine" or "cos" => EmbeddingDistance.Cosine,
        "dot" => EmbeddingDistance.Dot,
        _ => throw new ArgumentException($"unknown distance '{name}'; known: {string.Join(", ", Names)}."),
    };

    /// <summary>The value of one pair (vectors already normalised for cosine): a distance or a similarity.</summary>
    public static double Value(this EmbeddingDistance distance, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, sq = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            double diff = (double)a[i] - b[i];
            sq += diff * diff;
        }
        return distance switch
        {
            EmbeddingDistance.L2 => Math.Sqrt(Math.Max(sq, MinSquaredDistance)),
            EmbeddingDistance.SquaredL2 => sq,
            _ => dot,
        };
    }

    /// <summary>The floor of the squared distance under the square root: keeps L2's gradient finite for identical points.</summary>
    public const double MinSquaredDistance = 1e-12;

    /// <summary>Scales each row of <paramref name="x"/> (rows x dim) to unit length in place; returns the norms (a zero row stays zero).</summary>
    public static void NormaliseRows(float[] x, int rows, int dim, float[] norms)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * dim, dim);
            float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.Dot(row, row));
            norms[r] = norm;
            if (norm > 0) System.Numerics.Tensors.TensorPrimitives.Multiply(row, 1f / norm, row);
        }
    }

    /// <summary>
    /// Back through <see cref="NormaliseRows"/>: given u = x / |x| and d loss / d u in <paramref name="gradient"/>,
    /// overwrites it with d loss / d x = (g - u (u . g)) / |x|.
    /// </summary>
    public static void NormaliseRowsBackward(float[] normalised, float[] norms, float[] gradient, int rows, int dim)
    {
        for (int r = 0; r < rows; r++)
        {
            var u = normalised.AsSpan(r * dim, dim);
            var g = gradient.AsSpan(r * dim, dim);
            if (norms[r] <= 0) { g.Clear(); continue; }
            float along = System.Numerics.Tensors.TensorPrimitives.Dot(u, g);
            float inv = 1f / norms[r];
            for (int i = 0; i < dim; i++) g[i] = (g[i] - u[i] * along) * inv;
        }
    }
}
