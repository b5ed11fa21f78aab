using Ranking.Numerics;
using Ranking.Compute;

namespace Ranking.Gpu.Diagnostics;

/// <summary>
/// Benchmark input with the shape of MSLR-WEB (the mslr-like preset of SyntheticGenerator): query
/// lengths 1 + 119 x chi-square(3) / 3 capped at 1250 (mean ~120), MSLR's grade shares (52/32/13.4/1.9/0.7%),
/// 136 features, and scores = grade / 2 + noise so rankings are neither perfect nor random. Generated
/// here with counter-based random numbers (RankingMath's), parallel and seeded, because 10M rows of the
/// full synthetic world take too long on the benchmark machine; timings depend on the shape only.
/// Features are made only when asked for (the MLP epoch).
/// </summary>
public sealed class MslrLikeWorkload
{
    public const int FeatureCount = 136;
    private static readonly double[] GradeShares = [0.52, 0.32, 0.134, 0.019, 0.007];

    private MslrLikeWorkload(float[] labels, float[] scores, int[] offsets, float[]? features)
    {
        Labels = labels;
        Scores = scores;
        Offsets = offsets;
        Features = features;
    }

    public float[] Labels { get; }
    public float[] Scores { get; }
    public int[] Offsets { get; }
    /// <summary>Row-major, rows x <see cref="FeatureCount"/>; null unless requested.</summary>
    public float[]? Features { get; }
    public int RowCount => Labels.Length;
    public int QueryCount => Offsets.Length - 1;

    /// <summary>
    /// Whole queries until at least <paramref name="rows"/> rows; every query <paramref name="queryLength"/>
    /// rows long when given (the long-query workload), else MSLR's length distribution.
    /// </summary>
    public static MslrLikeWorkload Generate(int rows, bool withFeatures, int seed = 2026, int? queryLength = null)
    {
        var lengths = new List<int>();
        long total = 0;
        ulong lengthStream = RankingMath.StreamKey(seed, 0, -1);
        for (int q = 0; total < rows; q++)
        {
            double chi = 0;
            for (int d = 0; d < 3; d++)
            {
                double z = Normal(lengthStream, 6L * q + 2 * d);
                chi += z * z;
            }
            int n = queryLength ?? Math.Min(1250, 1 + (int)(119.0 * chi / 3.0));
            n = (int)Math.Min(n, rows - total);
            lengths.Add(n);
            total += n;
        }
        var offsets = new int[lengths.Count + 1];
        for (int q = 0; q < lengths.Count; q++) offsets[q + 1] = offsets[q] + lengths[q];
        int rowCount = offsets[^1];
        var labels = new float[rowCount];
        var scores = new float[rowCount];
        float[]? features = withFeatures ? new float[(long)rowCount * FeatureCount] : null;
        Parallel.For(0, lengths.Count, q =>
        {
            ulong key = RankingMath.StreamKey(seed, 1, q);
            for (int i = offsets[q]; i < offsets[q + 1]; i++)
            {
                long c = 4L * (i - offsets[q]);
                double u = RankingMath.RandomUnit(key, c);
                int grade = 0;
                for (double cumulative = GradeShares[0]; grade < 4 && u >= cumulative; cumulative += GradeShares[++grade]) { }
                labels[i] = grade;
                scores[i] = (float)(0.5 * grade + Normal(key, c + 1));
            }
            if (features is not null)
            {
                ulong featureKey = RankingMath.StreamKey(seed, 2, q);
                long from = (long)offsets[q] * FeatureCount, to = (long)offsets[q + 1] * FeatureCount;
                for (long j = from; j < to; j++)
                    features[j] = (float)(RankingMath.RandomUnit(featureKey, j - from) * 2 - 1 + 0.1 * labels[j / FeatureCount]);
            }
        });
        return new MslrLikeWorkload(labels, scores, offsets, features);
    }

    /// <summary>A standard normal deviate (Box-Muller on two counter-based uniforms).</summary>
    private static double Normal(ulong key, long counter)
    {
        double u1 = RankingMath.RandomUnit(key, counter), u2 = RankingMath.RandomUnit(key, counter + 1);
        return Math.Sqrt(-2.0 * Math.Log(1.0 - u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
