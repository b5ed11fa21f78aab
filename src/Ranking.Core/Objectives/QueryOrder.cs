using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>Small shared pieces of the per-query loops: stable score order, discounts, gains.</summary>
internal static class QueryOrder
{
    /// <summary>
    /// Row indices ordered by score descending, ties in input order (a stable sort, as LightGBM's
    /// std::stable_sort): packs (score, index) into one integer key and sorts the keys.
    /// </summary>
    public static void ByScoreDescending(ReadOnlySpan<float> scores, Span<int> order, Span<ulong> keys)
    {
        int n = scores.Length;
        for (int i = 0; i < n; i++) keys[i] = RankingMath.DescendingScoreKey(scores[i], i);
        keys[..n].Sort();
        for (int i = 0; i < n; i++) order[i] = RankingMath.KeyIndex(keys[i]);
    }

    /// <summary>1 / log2(rank + 2), from the one discount table (<see cref="RankDiscount.Log2"/>).</summary>
    public static double Discount(int rank) => RankDiscount.Log2.At(rank);

    /// <summary>
    /// DCG of the best order cut at k: <paramref name="gains"/> is used as scratch and left sorted ascending.
    /// </summary>
    public static double MaxDcg(Span<double> gains, int k)
    {
        gains.Sort();
        double dcg = 0;
        int n = gains.Length, top = Math.Min(k, n);
        for (int r = 0; r < top; r++) dcg += gains[n - 1 - r] * Discount(r);
        return dcg;
    }
}
