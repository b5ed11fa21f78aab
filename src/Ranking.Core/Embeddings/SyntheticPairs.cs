using Ranking.Data;

namespace Ranking.Embeddings;

/// <summary>Knobs of <see cref="SyntheticPairs"/>; each with its default.</summary>
public sealed record SyntheticPairOptions
{
    /// <summary>Items in the catalogue (every one a retrieval target).</summary>
    public int Items { get; init; } = 200;
    /// <summary>Queries; each makes one pair (its chosen item).</summary>
    public int Queries { get; init; } = 5000;
    /// <summary>Share of the queries whose pairs are held out (the validation pairs).</summary>
    public double HeldOut { get; init; } = 0.2;
    /// <summary>Dimension of the hidden latent space (even: the relation rotates coordinate pairs).</summary>
    public int LatentDimension { get; init; } = 4;
    /// <summary>Features of a query.</summary>
    public int QueryFeatures { get; init; } = 8;
    /// <summary>Features of an item.</summary>
    public int ItemFeatures { get; init; } = 8;
    /// <summary>True: queries and items are seen through the same feature map (needs equal widths); false: each set its own.</summary>
    public bool SameView { get; init; } = true;
    /// <summary>Zipf exponent of the items' popularity prior (0: no popularity).</summary>
    public double Popularity { get; init; }
    /// <summary>Spread s of the choice: 0 picks the item nearest the rotated query; s &gt; 0 samples p(i | z) ∝ pop_i exp(-|Rz - w_i|² / 2s²).</summary>
    public double ChoiceSpread { get; init; }
    /// <summary>Seed.</summary>
    public ulong Seed { get; init; } = 42;
}

/// <summary>
/// Seeded anchor-positive pairs with a planted asymmetric relation. Items have latent points w_i ~ N(0, I) and
/// queries z ~ N(0, I) in a latent space of even dimension L; a query chooses the item nearest to R z, where R rotates
/// each consecutive pair of latent coordinates by 90 degrees (or, with <see cref="SyntheticPairOptions.ChoiceSpread"/>,
/// samples it from a softmax with a Zipf popularity prior). Features are nonlinear views tanh(A x + c) of the latent
/// points (one view for both sets, or one each, of its own width). Two towers can learn the relation (the query tower
/// maps z to the place of R z); one shared encoder g cannot: it must give g(z) = g(R z) = g(R² z) = g(R³ z), so the
/// four items of an orbit look the same to it.
/// </summary>
public static class SyntheticPairs
{
    /// <summary>The generated sets and pairs.</summary>
    /// <param name="Queries">The query set (each query its own class).</param>
    /// <param name="Items">The item catalogue (each item its own class).</param>
    /// <param name="Train">The training pairs (query row, item row), one per training query.</param>
    /// <param name="HeldOut">The held-out pairs, one per held-out query (the last queries).</param>
    public sealed record Set(LabelledItems Queries, LabelledItems Items, IReadOnlyList<(int Query, int Item)> Train, IReadOnlyList<(int Query, int Item)> HeldOut);

    /// <summary>Generates a set.</summary>
    public static Set Generate(SyntheticPairOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        int l = options.LatentDimension;
        if (l < 2 || l % 2 != 0) throw new ArgumentException($"the latent dimension must be even and at least 2, got {l}.");
        if (options.Items < 2 || options.Queries < 2) throw new ArgumentException("at least two items and two queries are needed.");
        if (options.QueryFeatures < 1 || options.ItemFeatures < 1) throw new ArgumentException("feature counts must be positive.");
        if (options.SameView && options.QueryFeatures != options.ItemFeatures) throw new ArgumentException("one view for both sets needs one feature count.");
        if (!(options.HeldOut >= 0 && options.HeldOut < 1)) throw new ArgumentException($"the held-out share must be in [0, 1), got {options.HeldOut}.");
        if (!(options.Popularity >= 0) || !(options.ChoiceSpread >= 0)) throw new ArgumentException("popularity and choice spread must not be negative.");
        var random = new SeededRandom(options.Seed);
        var (queryView, queryBias) = View(random, options.QueryFeatures, l);
        var (itemView, itemBias) = options.SameView ? (queryView, queryBias) : View(random, options.ItemFeatures, l);

        int m = options.Items, n = options.Queries;
        var w = Gaussian(random, m * l);
        var z = Gaussian(random, n * l);
        var logPopularity = new double[m];
        for (int i = 0; i < m; i++) logPopularity[i] = -options.Popularity * Math.Log(i + 1);
        var chosen = new int[n];
        var target = new double[l];
        for (int q = 0; q < n; q++)
        {
            for (int c = 0; c < l; c += 2) { target[c] = -z[q * l + c + 1]; target[c + 1] = z[q * l + c]; }
            double best = double.NegativeInfinity;
            for (int i = 0; i < m; i++)
            {
                double sq = 0;
                for (int c = 0; c < l; c++) { double diff = target[c] - w[i * l + c]; sq += diff * diff; }
                double score = options.ChoiceSpread == 0
                    ? -sq
                    : logPopularity[i] - sq / (2 * options.ChoiceSpread * options.ChoiceSpread) - Math.Log(-Math.Log(Math.Max(random.NextDouble(), 1e-300)));
                if (score > best) { best = score; chosen[q] = i; }
            }
        }
        var queries = Features(z, n, l, queryView, queryBias, options.QueryFeatures, "synthetic pairs: queries");
        var items = Features(w, m, l, itemView, itemBias, options.ItemFeatures, "synthetic pairs: items");
        int held = (int)Math.Round(n * options.HeldOut);
        var train = Enumerable.Range(0, n - held).Select(q => (q, chosen[q])).ToArray();
        var heldOut = Enumerable.Range(n - held, held).Select(q => (q, chosen[q])).ToArray();
        return new Set(queries, items, train, heldOut);
    }

    private static (double[] A, double[] C) View(SeededRandom random, int width, int latent)
    {
        var a = Gaussian(random, width * latent);
        for (int k = 0; k < a.Length; k++) a[k] *= 0.8 / Math.Sqrt(latent) * 2;
        var c = Gaussian(random, width);
        for (int k = 0; k < c.Length; k++) c[k] *= 0.3;
        return (a, c);
    }

    private static LabelledItems Features(double[] latent, int rows, int l, double[] a, double[] c, int width, string source)
    {
        var x = new float[(long)rows * width];
        for (int r = 0; r < rows; r++)
            for (int f = 0; f < width; f++)
            {
                double s = c[f];
                for (int k = 0; k < l; k++) s += a[f * l + k] * latent[r * l + k];
                x[(long)r * width + f] = (float)Math.Tanh(s);
            }
        return new LabelledItems(x, width, Enumerable.Range(0, rows).ToArray(), null, source);
    }

    private static double[] Gaussian(SeededRandom random, int count)
    {
        var values = new double[count];
        for (int k = 0; k < count; k++) values[k] = random.NextNormal();
        return values;
    }
}
