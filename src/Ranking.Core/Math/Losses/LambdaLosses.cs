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
