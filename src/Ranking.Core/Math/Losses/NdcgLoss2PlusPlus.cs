namespace Ranking.Numerics;

/// <summary>
/// LambdaLoss's NDCG-Loss2++ (Wang, Li, Golbandi, Bendersky, Najork, CIKM 2018; the weighting allRank
/// ships as ndcgLoss2PP_scheme and TF-Ranking as its NDCG lambda weight): with the rows in the current
/// order by score (places r = 0, 1, ... stable), normalised gains G_i = (2^y_i - 1) / maxDCG, discounts
/// D(r) = 1 / log2(r + 2), every pair with y_i &gt; y_j, both places inside the truncation, pays
/// w_ij log2(1 + exp(-sigma (s_i - s_j))) with w_ij = (|D(r_i) - D(r_j)| + mu |D(|r_i - r_j| - 1) -
/// D(|r_i - r_j|)|) |G_i - G_j|: LambdaRank's |delta NDCG| weight plus mu times NDCG-Loss2's weight,
/// which still pushes pairs whose swap barely moves NDCG. The weights are taken at the current order
/// (hard assignment, as every implementation does), so the gradient and the Hessian (sigma^2 w p (1 - p)
/// / ln 2, p = sigmoid(-sigma (s_i - s_j))) are exact while no two rows change places. maxDCG is cut at
/// the truncation; a query with maxDCG = 0 contributes nothing. Cost O(k^2) with k the truncation (n by
/// default). Workspace: <see cref="IQueryRows.Order"/> the ideal order, <see cref="IQueryRows.ScoreOrder"/>
/// the current one, <see cref="IQueryRows.RowValue"/> the normalised gains, <see cref="IQueryRows.PlaceValue"/>
/// the discount of each place.
/// </summary>
public struct NdcgLoss2PlusPlus : IQueryLoss
{
    /// <summary>Steepness of the pair sigmoid.</summary>
    public double Sigma;
    /// <summary>Weight of the NDCG-Loss2 term against LambdaRank's (allRank's default 10).</summary>
    public double Mu;
    /// <summary>0 = the whole list; k &gt; 0 = pairs with both rows in the top k by score, maxDCG@k.</summary>
    public int Truncation;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.Quadratic;

    /// <inheritdoc/>
    public readonly ulong OrderKey(float label, ulong stream, int row) => 0;

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count;
        if (n < 2) return 0;
        int k = Truncation > 0 && Truncation < n ? Truncation : n;
        double maxDcg = LossMath.MaxDcg(ref rows, k);
        if (!(maxDcg > 0)) return 0;
        rows.SortByScore();
        for (int i = 0; i < n; i++) rows.RowValue(i) = RankingMath.ExponentialGain(rows.Label(i)) / maxDcg;
        for (int r = 0; r < k; r++) rows.PlaceValue(r) = RankingMath.Discount(r);

        const double InverseLn2 = 1.4426950408889634;
        double loss = 0;
        for (int a = 0; a < k - 1; a++)
        {
            int i = rows.ScoreOrder(a);
            float yi = rows.Label(i);
            for (int b = a + 1; b < k; b++)
            {
                int j = rows.ScoreOrder(b);
                float yj = rows.Label(j);
                if (yi == yj) continue;
                int high = yi > yj ? i : j, low = yi > yj ? j : i;
                double lambdaRankWeight = Math.Abs(rows.PlaceValue(a) - rows.PlaceValue(b));
                double loss2Weight = Math.Abs(rows.PlaceValue(b - a - 1) - rows.PlaceValue(b - a));
                double weight = (lambdaRankWeight + Mu * loss2Weight) * Math.Abs(rows.RowValue(i) - rows.RowValue(j)) * InverseLn2;
                double lambda = LambdaMath.PairLambda(Sigma, weight, (double)rows.Score(high) - rows.Score(low), out double hessian, out double pairLoss);
                rows.Gradient(high) += lambda;
                rows.Gradient(low) -= lambda;
                rows.Hessian(high) += hessian;
                rows.Hessian(low) += hessian;
                loss += pairLoss;
            }
        }
        return loss;
    }
}
