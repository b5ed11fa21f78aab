namespace Ranking.Numerics;

/// <summary>
/// The pair gradient of the lambda losses, written once: LambdaRank's CPU loop (its scalar form and the
/// tail of its AVX2 form) and its device pair kernel both call <see cref="PairLambda"/> (as XGBoost's
/// LambdaGrad serves both lambdarank_obj.cc and .cu).
/// </summary>
public static class LambdaMath
{
    /// <summary>
    /// One pair with weight <paramref name="weight"/> (|delta NDCG|, already divided by the score gap where
    /// LightGBM's normalisation asks) at d = s_high - s_low: returns lambda = -sigma w p (the high row's
    /// gradient; the low row gets its negative), with p = sigmoid(-sigma d); <paramref name="hessian"/> =
    /// sigma^2 w p (1 - p) for both rows; <paramref name="loss"/> = w log(1 + exp(-sigma d)). p and the loss
    /// come from one exp.
    /// </summary>
    public static double PairLambda(double sigma, double weight, double difference, out double hessian, out double loss)
    {
        double pairLoss = RankingMath.RankNetPairLossAndProbability(sigma, difference, out double p);
        hessian = sigma * sigma * weight * p * (1.0 - p);
        loss = weight * pairLoss;
        return -sigma * weight * p;
    }
}

/// <summary>
/// Unbiased LambdaMART's per-query body (Hu et al. WWW 2019; XGBoost's <c>lambdarank_unbiased</c>;
/// Ranking.Objectives.UnbiasedLambdaRankObjective): LightGBM's LambdaRank pairs (stable order by score,
/// the better-ranked row above <see cref="Truncation"/>, different grades, |delta NDCG| with maxDCG cut at
/// the truncation, divided by 0.01 + |score gap| and the query rescaled by log2(1+S)/S when
/// <see cref="Normalize"/> is 1), each pair's lambda from <see cref="LambdaMath.PairLambda"/> and then divided
/// by t+_(k_high) t-_(k_low), the click bias of the better-graded row's display position and the
/// non-click bias of the other's. The biases are the loss's constants (<see cref="IQueryRows.Constant"/>:
/// t+ of positions 1..K, then t- of positions 1..K, K = <see cref="MaxPosition"/>); a row's position is its
/// <see cref="IQueryRows.Auxiliary"/> value. For the objective's bias update the body reports each pair's
/// cost c = RankNet loss x |delta NDCG| (XGBoost's) in the query's outputs (<see cref="IQueryRows.QueryOutput"/>):
/// c / t-_(k_low) added at k_high - 1 (L+), c / t+_(k_high) at K + k_low - 1 (L-); pairs with a row past
/// position K keep factor 1 and report nothing. Grades below 0 count as gain 0. Workspace: <see cref="IQueryRows.Order"/>
/// the ideal order (maxDCG), <see cref="IQueryRows.ScoreOrder"/> the current one, <see cref="IQueryRows.RowValue"/> the gains.
/// </summary>
public struct UnbiasedLambdaRankLoss : IQueryLoss
{
    /// <summary>Steepness of the pair sigmoid.</summary>
    public double Sigma;
    /// <summary>Pairs whose better-ranked row sits above this rank; maxDCG cut here (at least 1).</summary>
    public int Truncation;
    /// <summary>1 = LightGBM's normalisation (score-gap division and the log2(1+S)/S query factor); an int, as kernel parameters must be blittable.</summary>
    public int Normalize;
    /// <summary>K: positions 1..K are debiased; the constants hold 2K biases, the outputs 2K costs.</summary>
    public int MaxPosition;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.Quadratic;

    /// <inheritdoc/>
    public readonly ulong OrderKey(float label, ulong stream, int row) => 0;

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count, k = MaxPosition;
        if (n < 2) return 0;
        // maxDCG at the truncation: gains of the rows by grade, descending.
        for (int i = 0; i < n; i++)
        {
            rows.SortKey(i) = RankingMath.DescendingScoreKey(rows.Label(i), i);
            rows.RowValue(i) = RankingMath.ExponentialGain(Math.Max(0f, rows.Label(i)));
        }
        rows.SortByKey();
        double maxDcg = 0;
        int ideal = n < Truncation ? n : Truncation;
        for (int r = 0; r < ideal; r++)
        {
            int row = rows.Order(r);
            maxDcg += rows.RowValue(row) * RankingMath.Discount(r);
        }
        if (!(maxDcg > 0)) return 0;
        double inverseMaxDcg = 1.0 / maxDcg;
        rows.SortByScore();
        int first = rows.ScoreOrder(0), last = rows.ScoreOrder(n - 1);
        bool spread = rows.Score(first) != rows.Score(last);
        double loss = 0, sumLambdas = 0;
        int top = Truncation < n - 1 ? Truncation : n - 1;
        for (int a = 0; a < top; a++)
        {
            int i = rows.ScoreOrder(a);
            for (int b = a + 1; b < n; b++)
            {
                int j = rows.ScoreOrder(b);
                float yi = rows.Label(i), yj = rows.Label(j);
                if (yi == yj) continue;
                int high = i, low = j, rankHigh = a, rankLow = b;
                if (yj > yi) { high = j; low = i; rankHigh = b; rankLow = a; }
                double delta = RankingMath.PairDeltaNdcg(rows.RowValue(high), rows.RowValue(low), RankingMath.Discount(rankHigh), RankingMath.Discount(rankLow), inverseMaxDcg);
                double difference = (double)rows.Score(high) - rows.Score(low);
                if (Normalize != 0 && spread) delta = RankingMath.NormalizedDeltaNdcg(delta, difference);
                double lambda = LambdaMath.PairLambda(Sigma, delta, difference, out double hessian, out double cost);
                int positionHigh = (int)rows.Auxiliary(high), positionLow = (int)rows.Auxiliary(low);
                double factor = 1.0;
                if (positionHigh >= 1 && positionHigh <= k && positionLow >= 1 && positionLow <= k)
                {
                    double tPlus = rows.Constant(positionHigh - 1), tMinus = rows.Constant(k + positionLow - 1);
                    if (tPlus > 1e-16 && tMinus > 1e-16) factor = 1.0 / (tPlus * tMinus);
                    if (tMinus > 1e-16) rows.QueryOutput(positionHigh - 1) += cost / tMinus;
                    if (tPlus > 1e-16) rows.QueryOutput(k + positionLow - 1) += cost / tPlus;
                }
                lambda *= factor;
                hessian *= factor;
                rows.Gradient(high) += lambda;
                rows.Gradient(low) -= lambda;
                rows.Hessian(high) += hessian;
                rows.Hessian(low) += hessian;
                sumLambdas += 2.0 * Math.Abs(lambda);
                loss += cost * factor;
            }
        }
        double scale = Normalize != 0 ? RankingMath.LambdaNormalizationFactor(sumLambdas) : 1.0;
        if (scale != 1.0)
            for (int i = 0; i < n; i++)
            {
                rows.Gradient(i) *= scale;
                rows.Hessian(i) *= scale;
            }
        return loss * scale;
    }
}
