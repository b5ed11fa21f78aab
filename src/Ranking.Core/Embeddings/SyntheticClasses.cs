using Ranking.Data;

namespace Ranking.Embeddings;

/// <summary>Shape of a <see cref="SyntheticClasses"/> set; the seed fixes every value.</summary>
public sealed record SyntheticClassOptions
{
    /// <summary>Number of classes (identities); 1,000 to 100,000 is the range the generator is meant for.</summary>
    public int Classes { get; init; } = 1000;
    /// <summary>Items drawn per class.</summary>
    public int ItemsPerClass { get; init; } = 10;
    /// <summary>Dimension of the hidden class space the items are generated in.</summary>
    public int LatentDimension { get; init; } = 16;
    /// <summary>Features an item shows (the nonlinear view of its latent point).</summary>
    public int Dimension { get; init; } = 64;
    /// <summary>Within-class spread relative to the spread of class centres (larger: harder).</summary>
    public double Noise { get; init; } = 0.35;
    /// <summary>Scale of the per-item nuisance factor (a second latent vector, mapped linearly into the features): raw distances see it, a learned metric can project it out.</summary>
    public double Nuisance { get; init; } = 1.0;
    /// <summary>The seed of every draw.</summary>
    public ulong Seed { get; init; } = 42;
}

/// <summary>
/// Seeded many-class data with known structure, for scale and for the cross-batch-memory experiment. Each
/// class k has a centre c_k ~ N(0, I) in a latent space; an item of class k is z = c_k + noise * N(0, I);
/// what a model sees is a fixed random two-layer nonlinear view x = W2 tanh(W1 z + b1) + nuisance U u + 0.05 N(0, I),
/// with u ~ N(0, I) a per-item nuisance factor of the latent dimension that carries no class information: raw
/// distances are confused by it, a learned metric can project it out, and the nonlinear view means a linear
/// metric cannot undo the class structure exactly where an MLP can learn more. The latent centres are returned
/// (the structure a perfect encoder would recover). Items of a class are contiguous; class ids are 0..C-1.
/// </summary>
public static class SyntheticClasses
{
    /// <summary>The generated items and the hidden class centres (Classes x LatentDimension, row-major).</summary>
    /// <param name="Items">The generated items with their classes (a class's items contiguous).</param>
    /// <param name="LatentCentres">The hidden class centres, Classes x LatentDimension, row-major.</param>
    public sealed record Set(LabelledItems Items, float[] LatentCentres);

    /// <summary>Generates a set; classes [0, C) each with <see cref="SyntheticClassOptions.ItemsPerClass"/> items.</summary>
    public static Set Generate(SyntheticClassOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Classes < 2) throw new ArgumentOutOfRangeException(nameof(options), "at least two classes are needed.");
        if (options.ItemsPerClass < 1 || options.LatentDimension < 1 || options.Dimension < 1)
            throw new ArgumentOutOfRangeException(nameof(options), "items per class and dimensions must be positive.");
        if ((long)options.Classes * options.ItemsPerClass * options.Dimension > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(options), "the set is too large for one array.");
        int z = options.LatentDimension, d = options.Dimension, hidden = 2 * Math.Max(z, d);
        // The view: one stream, independent of the number of classes, so sets of any size share it.
        var view = SeededRandom.For(options.Seed, 1);
        var w1 = Gaussian(view, hidden * z, 1.5 / Math.Sqrt(z));
        var b1 = Gaussian(view, hidden, 0.5);
        var w2 = Gaussian(view, d * hidden, 1.0 / Math.Sqrt(hidden));
        var u = Gaussian(view, d * z, 1.0 / Math.Sqrt(z));
        var nuisance = new double[z];
        var centres = new float[options.Classes * z];
        var features = new float[(long)options.Classes * options.ItemsPerClass * d];
        var classes = new int[options.Classes * options.ItemsPerClass];
        var latent = new double[z];
        var h = new double[hidden];
        for (int c = 0; c < options.Classes; c++)
        {
            // One stream per class: the first N classes of a larger set equal a set of N classes.
            var random = SeededRandom.For(options.Seed, 1000UL + (ulong)c);
            for (int j = 0; j < z; j++) centres[c * z + j] = (float)random.NextNormal();
            for (int i = 0; i < options.ItemsPerClass; i++)
            {
                int item = c * options.ItemsPerClass + i;
                classes[item] = c;
                for (int j = 0; j < z; j++) latent[j] = centres[c * z + j] + options.Noise * random.NextNormal();
                for (int v = 0; v < hidden; v++)
                {
                    double sum = b1[v];
                    for (int j = 0; j < z; j++) sum += w1[v * z + j] * latent[j];
                    h[v] = Math.Tanh(sum);
                }
                for (int j = 0; j < z; j++) nuisance[j] = options.Nuisance * random.NextNormal();
                for (int f = 0; f < d; f++)
                {
                    double sum = 0.05 * random.NextNormal();
                    for (int v = 0; v < hidden; v++) sum += w2[f * hidden + v] * h[v];
                    for (int j = 0; j < z; j++) sum += u[f * z + j] * nuisance[j];
                    features[(long)item * d + f] = (float)sum;
                }
            }
        }
        string source = $"synthetic classes={options.Classes} items={options.ItemsPerClass} seed={options.Seed}";
        return new Set(new LabelledItems(features, d, classes, null, source), centres);
    }

    /// <summary>
    /// Splits by class, as metric learning is evaluated: the first <paramref name="trainClasses"/> classes
    /// train, the rest are unseen identities for testing. Test class ids are renumbered from 0.
    /// </summary>
    public static (LabelledItems Train, LabelledItems Test) SplitByClass(LabelledItems items, int trainClasses)
    {
        if (trainClasses < 1 || trainClasses >= items.ClassCount) throw new ArgumentOutOfRangeException(nameof(trainClasses));
        var train = Enumerable.Range(0, items.Count).Where(i => items.Classes[i] < trainClasses).ToArray();
        var test = Enumerable.Range(0, items.Count).Where(i => items.Classes[i] >= trainClasses).ToArray();
        var testItems = items.Subset(test);
        var shifted = testItems.Classes.Select(c => c - trainClasses).ToArray();
        return (items.Subset(train), new LabelledItems(testItems.Features, items.Dimension, shifted, null, items.Source));
    }

    private static double[] Gaussian(SeededRandom random, int n, double std)
    {
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = std * random.NextNormal();
        return values;
    }
}
