using Ranking.Data;

namespace Ranking.LightGbm.Tests;

/// <summary>Small generated ranking sets: a hidden linear-plus-interaction relevance, graded 0..4.</summary>
internal static class TinyData
{
    public static RankingDataset Make(int queries, int docsPerQuery, int features, int seed, bool weights = false, double noise = 0.8)
    {
        var rng = new Random(seed);
        int rows = queries * docsPerQuery;
        var x = new float[rows * features];
        var y = new float[rows];
        var offsets = new int[queries + 1];
        for (int r = 0; r < rows; r++)
        {
            double u = 0;
            for (int f = 0; f < features; f++)
            {
                float v = (float)rng.NextDouble();
                x[r * features + f] = v;
                u += f < 3 ? (3 - f) * v : 0;
            }
            u += x[r * features] * x[r * features + 1] * 2 + rng.NextDouble() * noise;
            y[r] = (float)Math.Clamp(Math.Floor(u * 5 / 9.0), 0, 4);
        }
        for (int q = 0; q <= queries; q++) offsets[q] = q * docsPerQuery;
        float[]? w = weights ? Enumerable.Range(0, queries).Select(q => 0.5f + q % 3).ToArray() : null;
        return new RankingDataset(x, features, y, offsets, queryWeights: w);
    }

    /// <summary>The train set with NaN in ~30% of feature 1 and zeros in ~30% of feature 2, so trees learn missing-value directions.</summary>
    public static RankingDataset WithMissing(RankingDataset data, int seed)
    {
        var x = (float[])data.Features.Clone();
        var rng = new Random(seed);
        for (int r = 0; r < data.RowCount; r++)
        {
            if (rng.NextDouble() < 0.3) x[r * data.FeatureCount + 1] = float.NaN;
            if (rng.NextDouble() < 0.3) x[r * data.FeatureCount + 2] = 0f;
        }
        return new RankingDataset(x, data.FeatureCount, data.Labels, data.GroupOffsets);
    }

    /// <summary>Brute-force NDCG@k (gain 2^l - 1, log2 discount, ties broken by row order, empty query = 1) for tests.</summary>
    public static double MeanNdcg(RankingDataset data, ReadOnlySpan<float> scores, int k)
    {
        double sum = 0;
        for (int q = 0; q < data.QueryCount; q++)
        {
            int start = data.GroupOffsets[q], n = data.QueryLength(q);
            var idx = Enumerable.Range(start, n).ToArray();
            var s = scores.Slice(start, n).ToArray();
            var order = idx.OrderByDescending(i => s[i - start]).ThenBy(i => i).ToArray();
            var ideal = idx.OrderByDescending(i => data.Labels[i]).ToArray();
            double dcg = 0, idcg = 0;
            for (int i = 0; i < Math.Min(k, n); i++)
            {
                dcg += (Math.Pow(2, data.Labels[order[i]]) - 1) / Math.Log2(i + 2);
                idcg += (Math.Pow(2, data.Labels[ideal[i]]) - 1) / Math.Log2(i + 2);
            }
            sum += idcg == 0 ? 1 : dcg / idcg;
        }
        return sum / data.QueryCount;
    }
}
