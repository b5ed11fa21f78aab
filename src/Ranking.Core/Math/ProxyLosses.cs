namespace Ranking.Numerics;

// The row bodies of the proxy losses (Ranking.Embeddings.ProxyLoss). Proxy-NCA needs no body of its own: with
// the class proxies as the references, one positive per row and c_j = log of each proxy's inclusion
// probability in the sampled set, NtXent is its sampled softmax with the log-Q correction (and the full
// softmax when every proxy is in the set, c = 0).
public static partial class BatchLosses
{
    /// <summary>
    /// Noise-contrastive estimation over the kept pairs with logits l_j = -f_j / t - c_j (c_j = log of reference
    /// j's expected draws, <see cref="RankingMath.LogExpectedDraws"/>): each positive a data point, each negative
    /// a noise draw, the logistic term of <see cref="RankingMath.NceTerm"/> summed; one term per anchor with a
    /// kept pair. The same term as the ranking objective's NCE (Ranking.Objectives.NceObjective).
    /// </summary>
    public static RowLoss Nce<TRow>(ref TRow row, float temperature) where TRow : struct, IBatchRow
    {
        var result = new RowLoss();
        int n = row.Count, kept = 0;
        for (int j = 0; j < n; j++)
        {
            int mask = row.Mask(j);
            if (mask == NotAPair) continue;
            kept++;
            double u = -row.Farness(j) / (double)temperature - row.LogitCorrection(j);
            result.Loss += RankingMath.NceTerm(u, mask == Positive, out double slope);
            row.SetGradient(j, (float)(-slope / temperature));
        }
        if (kept == 0) return result;
        result.Terms = 1;
        result.NonZero = result.Loss > 0 ? 1 : 0;
        return result;
    }

    /// <summary>
    /// Proxy-anchor (Kim et al. CVPR 2020) for one proxy's row against the batch's items, in farness units with
    /// m = sign * delta (pytorch-metric-learning's form for any distance):
    /// w_pos log(1 + sum_pos exp(alpha (f - m))) + w_neg log(1 + sum_neg exp(-alpha (f + m))). The weights carry
    /// the loss's two averages (1 / proxies with a positive in the batch; 1 / all proxies, times the proxies a
    /// sampled one stands for when the row has no positive), so the reducer sums. One term per row with a kept pair.
    /// </summary>
    public static RowLoss ProxyAnchor<TRow>(ref TRow row, float alpha, float margin, float positiveWeight, float negativeWeight, float unseenNegativeWeight)
        where TRow : struct, IBatchRow
    {
        var result = new RowLoss();
        int n = row.Count, positives = 0, negatives = 0;
        // Shifts: the largest exponent of each side, at least 0 (the "1 +" inside the log).
        double maxPos = 0.0, maxNeg = 0.0;
        for (int j = 0; j < n; j++)
        {
            int mask = row.Mask(j);
            double f = row.Farness(j);
            if (mask == Positive) { positives++; maxPos = Math.Max(maxPos, alpha * (f - margin)); }
            else if (mask == Negative) { negatives++; maxNeg = Math.Max(maxNeg, -alpha * (f + margin)); }
        }
        if (positives + negatives == 0) return result;
        double wNeg = positives > 0 ? negativeWeight : unseenNegativeWeight;
        double sumPos = Math.Exp(-maxPos), sumNeg = Math.Exp(-maxNeg);
        for (int j = 0; j < n; j++)
        {
            int mask = row.Mask(j);
            double f = row.Farness(j);
            if (mask == Positive) sumPos += Math.Exp(alpha * (f - margin) - maxPos);
            else if (mask == Negative) sumNeg += Math.Exp(-alpha * (f + margin) - maxNeg);
        }
        for (int j = 0; j < n; j++)
        {
            int mask = row.Mask(j);
            double f = row.Farness(j);
            if (mask == Positive) row.SetGradient(j, (float)(positiveWeight * alpha * Math.Exp(alpha * (f - margin) - maxPos) / sumPos));
            else if (mask == Negative) row.SetGradient(j, (float)(-wNeg * alpha * Math.Exp(-alpha * (f + margin) - maxNeg) / sumNeg));
        }
        // log(1 + sum) = max + log(sum shifted); a side with no pair contributes log 1 = 0.
        double positiveTerm = positives > 0 ? maxPos + Math.Log(sumPos) : 0.0;
        double negativeTerm = negatives > 0 ? maxNeg + Math.Log(sumNeg) : 0.0;
        result.Loss = positiveWeight * positiveTerm + wNeg * negativeTerm;
        result.Terms = 1;
        result.NonZero = result.Loss > 0 ? 1 : 0;
        return result;
    }
}
