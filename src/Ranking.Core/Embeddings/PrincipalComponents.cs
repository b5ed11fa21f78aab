namespace Ranking.Embeddings;

/// <summary>
/// Principal component analysis of embeddings for a picture: the centred data's covariance (dimension x
/// dimension, in double), its leading eigenvectors by power iteration with deflation (seeded start, so the
/// same input gives the same axes), each axis's sign fixed so that its largest component is positive, and
/// the items projected onto them. Enough for 2-D views of 10^4 items in 128 dimensions; not a general solver.
/// </summary>
public static class PrincipalComponents
{
    /// <summary>
    /// Projects <paramref name="count"/> rows (row-major, <paramref name="dimension"/> wide) onto the first
    /// <paramref name="components"/> principal axes: count x components values, row-major. Also returns each
    /// axis's variance (its eigenvalue).
    /// </summary>
    public static (double[] Projection, double[] Variance) Project(ReadOnlySpan<float> rows, int count, int dimension, int components = 2)
    {
        if (count < 1 || dimension < 1) throw new ArgumentException("PCA needs at least one row of at least one value.");
        if (rows.Length < (long)count * dimension) throw new ArgumentException("fewer values than count x dimension.", nameof(rows));
        if (components < 1 || components > dimension) throw new ArgumentOutOfRangeException(nameof(components), $"between 1 and {dimension}.");
        int d = dimension;
        var mean = new double[d];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < d; j++) mean[j] += rows[i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= count;
        var covariance = new double[d * d];
        var centred = new double[d];
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < d; j++) centred[j] = rows[i * d + j] - mean[j];
            for (int a = 0; a < d; a++)
            {
                double ca = centred[a];
                if (ca == 0) continue;
                for (int b = a; b < d; b++) covariance[a * d + b] += ca * centred[b];
            }
        }
        for (int a = 0; a < d; a++)
            for (int b = a; b < d; b++)
            {
                double v = covariance[a * d + b] / Math.Max(1, count - 1);
                covariance[a * d + b] = v;
                covariance[b * d + a] = v;
            }

        var axes = new double[components][];
        var variance = new double[components];
        var random = new Random(12345);
        var next = new double[d];
        for (int c = 0; c < components; c++)
        {
            var v = new double[d];
            for (int j = 0; j < d; j++) v[j] = random.NextDouble() - 0.5;
            double lambda = 0;
            for (int iteration = 0; iteration < 1000; iteration++)
            {
                Orthogonalise(v, axes, c);
                Normalise(v);
                for (int a = 0; a < d; a++)
                {
                    double s = 0;
                    for (int b = 0; b < d; b++) s += covariance[a * d + b] * v[b];
                    next[a] = s;
                }
                Orthogonalise(next, axes, c);
                double norm = Normalise(next);
                double change = 0;
                for (int j = 0; j < d; j++) change = Math.Max(change, Math.Abs(next[j] - v[j]));
                Array.Copy(next, v, d);
                lambda = norm;
                if (change < 1e-10) break;
            }
            int largest = 0;
            for (int j = 1; j < d; j++) if (Math.Abs(v[j]) > Math.Abs(v[largest])) largest = j;
            if (v[largest] < 0) for (int j = 0; j < d; j++) v[j] = -v[j];
            axes[c] = v;
            variance[c] = lambda;
        }

        var projection = new double[(long)count * components];
        for (int i = 0; i < count; i++)
            for (int c = 0; c < components; c++)
            {
                double s = 0;
                for (int j = 0; j < d; j++) s += (rows[i * d + j] - mean[j]) * axes[c][j];
                projection[(long)i * components + c] = s;
            }
        return (projection, variance);
    }

    private static void Orthogonalise(double[] v, double[][] axes, int done)
    {
        for (int c = 0; c < done; c++)
        {
            double dot = 0;
            for (int j = 0; j < v.Length; j++) dot += v[j] * axes[c][j];
            for (int j = 0; j < v.Length; j++) v[j] -= dot * axes[c][j];
        }
    }

    private static double Normalise(double[] v)
    {
        double norm = 0;
        foreach (double x in v) norm += x * x;
        norm = Math.Sqrt(norm);
        if (norm > 0) for (int j = 0; j < v.Length; j++) v[j] /= norm;
        return norm;
    }
}
