using Ranking.Data;

namespace Ranking.Embeddings;

/// <summary>
/// Seeded k-means++ (Arthur and Vassilvitskii 2007, Lloyd's iterations after the seeding) and normalised
/// mutual information, for the clustering side of retrieval evaluation (NMI as AccuracyCalculator reports it,
/// with the arithmetic-mean normalisation scikit-learn uses by default).
/// </summary>
public static class Clustering
{
    /// <summary>Cluster ids of <paramref name="count"/> points (row-major) in <paramref name="clusters"/> clusters; squared Euclidean distance.</summary>
    public static int[] KMeans(float[] points, int count, int dim, int clusters, ulong seed, int maxIterations = 100)
    {
        if (clusters < 1 || clusters > count) throw new ArgumentOutOfRangeException(nameof(clusters), $"need 1 <= clusters <= {count}.");
        var random = new SeededRandom(seed);
        var centres = new double[clusters * dim];
        var nearest = new double[count];
        Array.Fill(nearest, double.PositiveInfinity);
        int firstPick = random.NextInt(count);
        for (int j = 0; j < dim; j++) centres[j] = points[(long)firstPick * dim + j];
        for (int c = 1; c <= clusters; c++)
        {
            double total = 0;
            for (int i = 0; i < count; i++)
            {
                nearest[i] = Math.Min(nearest[i], SquaredDistance(points, i, centres, c - 1, dim));
                total += nearest[i];
            }
            if (c == clusters) break;
            // The next centre with probability proportional to the squared distance to the nearest chosen one.
            double target = random.NextDouble() * total, run = 0;
            int pick = count - 1;
            for (int i = 0; i < count; i++) { run += nearest[i]; if (run > target) { pick = i; break; } }
            for (int j = 0; j < dim; j++) centres[c * dim + j] = points[(long)pick * dim + j];
        }
        var assignment = new int[count];
        var sums = new double[clusters * dim];
        var sizes = new int[clusters];
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            bool changed = false;
            Parallel.For(0, count, i =>
            {
                int best = 0;
                double bestDistance = double.PositiveInfinity;
                for (int c = 0; c < clusters; c++)
                {
                    double d = SquaredDistance(points, i, centres, c, dim);
                    if (d < bestDistance) { bestDistance = d; best = c; }
                }
                if (assignment[i] != best || iteration == 0) { assignment[i] = best; changed = true; }
            });
            if (!changed) break;
            Array.Clear(sums);
            Array.Clear(sizes);
            for (int i = 0; i < count; i++)
            {
                int c = assignment[i];
                sizes[c]++;
                for (int j = 0; j < dim; j++) sums[c * dim + j] += points[(long)i * dim + j];
            }
            for (int c = 0; c < clusters; c++)
                if (sizes[c] > 0)
                    for (int j = 0; j < dim; j++) centres[c * dim + j] = sums[c * dim + j] / sizes[c];
        }
        return assignment;
    }

    private static double SquaredDistance(float[] points, int i, double[] centres, int c, int dim)
    {
        double s = 0;
        for (int j = 0; j < dim; j++)
        {
            double diff = points[(long)i * dim + j] - centres[c * dim + j];
            s += diff * diff;
        }
        return s;
    }

    /// <summary>NMI = I(A; B) / ((H(A) + H(B)) / 2) of two labellings (1 when both are a single cluster).</summary>
    public static double NormalisedMutualInformation(int[] a, int[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException("the labellings have different lengths.");
        int n = a.Length;
        var joint = new Dictionary<(int, int), int>();
        var countA = new Dictionary<int, int>();
        var countB = new Dictionary<int, int>();
        for (int i = 0; i < n; i++)
        {
            joint[(a[i], b[i])] = joint.GetValueOrDefault((a[i], b[i])) + 1;
            countA[a[i]] = countA.GetValueOrDefault(a[i]) + 1;
            countB[b[i]] = countB.GetValueOrDefault(b[i]) + 1;
        }
        double Entropy(Dictionary<int, int> counts) => -counts.Values.Sum(c => c / (double)n * Math.Log(c / (double)n));
        double ha = Entropy(countA), hb = Entropy(countB);
        if (ha == 0 && hb == 0) return 1.0;
        double mi = 0;
        foreach (var ((x, y), c) in joint)
            mi += c / (double)n * Math.Log(c / (double)n * n * n / ((double)countA[x] * countB[y]));
        return ha + hb == 0 ? 0 : mi / ((ha + hb) / 2);
    }
}
