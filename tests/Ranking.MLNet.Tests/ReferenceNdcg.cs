using Ranking.Data;

namespace Ranking.MLNet.Tests;

/// <summary>
/// Brute-force NDCG@k for tests, written from the definition: gain 2^y - 1, discount 1/log2(rank + 2),
/// ties in input order (stable sort by score), a query with no relevant row counts as
/// <paramref name="emptyQuery"/> (1 under LightGBM's convention). Mean over queries, unweighted.
/// </summary>
public static class ReferenceNdcg
{
    public static double Mean(RankingDataset data, float[] scores, int k, double emptyQuery = 1.0)
    {
        double total = 0;
        for (int q = 0; q < data.QueryCount; q++)
        {
            int start = data.GroupOffsets[q], n = data.QueryLength(q);
            var rows = Enumerable.Range(start, n).ToArray();
            var byScore = rows.OrderByDescending(r => scores[r]).ToArray(); // OrderBy is stable
            var ideal = rows.Select(r => data.Labels[r]).OrderByDescending(y => y).ToArray();
            double dcg = 0, max = 0;
            for (int i = 0; i < Math.Min(k, n); i++)
            {
                double d = 1 / Math.Log2(i + 2);
                dcg += (Math.Pow(2, data.Labels[byScore[i]]) - 1) * d;
                max += (Math.Pow(2, ideal[i]) - 1) * d;
            }
            total += max == 0 ? emptyQuery : dcg / max;
        }
        return total / data.QueryCount;
    }
}
