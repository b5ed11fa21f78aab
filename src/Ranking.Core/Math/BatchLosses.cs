namespace Ranking.Numerics;

/// <summary>
/// One anchor's row of a batch: its pairs with every reference (the batch itself, or the cross-batch
/// memory), seen as a <em>farness</em> f (a distance, or a negated similarity, so smaller is always closer),
/// the pair's relation (positive / negative / not a pair), the miner's mask and the gradient d loss / d f.
/// The CPU loop implements it over arrays (Ranking.Embeddings), the GPU kernels over device views
/// (Ranking.Gpu); <see cref="BatchLosses"/> is written once against it, generic over the struct, so the JIT
/// and ILGPU both specialise the same body with no virtual calls.
/// </summary>
public interface IBatchRow
{
    /// <summary>References in the row.</summary>
    int Count { get; }
    /// <summary>f_ij: the distance, or minus the similarity, between the anchor and reference j.</summary>
    float Farness(int j);
    /// <summary><see cref="BatchLosses.Positive"/>, <see cref="BatchLosses.Negative"/> or <see cref="BatchLosses.NotAPair"/> (the anchor itself).</summary>
    int Relation(int j);
    /// <summary>What the miner kept of pair j (a relation, or <see cref="BatchLosses.NotAPair"/> when dropped).</summary>
    int Mask(int j);
    /// <summary>Records the miner's decision for pair j.</summary>
    void SetMask(int j, int mask);
    /// <summary>Subtracted from the logit of reference j by the softmax losses: log q_j for the log-Q correction, else 0.</summary>
    float LogitCorrection(int j);
    /// <summary>d loss / d f_ij written so far.</summary>
    float Gradient(int j);
    /// <summary>Overwrites d loss / d f_ij.</summary>
    void SetGradient(int j, float gradient);
    /// <summary>
    /// Cell <paramref name="i"/> of the row's own scratch for the semi-hard miner, <see cref="BatchLosses.SemiHardScratchCells"/>
    /// cells (its sorted positives, their farness bits, a rank table; the miner writes every cell it reads).
    /// </summary>
    int Scratch(int i);
    /// <summary>Writes cell <paramref name="i"/> of the semi-hard miner's scratch.</summary>
    void SetScratch(int i, int value);
}

/// <summary>What one anchor's row contributed: its summed loss, the terms it holds and how many are non-zero.</summary>
public struct RowLoss
{
    /// <summary>The sum of the row's terms (before the reducer divides).</summary>
    public double Loss;
    /// <summary>Terms in the row: pairs, triplets, positives, or 1 for a loss of the whole row.</summary>
    public int Terms;
    /// <summary>Terms with a positive loss (what "mean over non-zero" divides by).</summary>
    public int NonZero;
}

/// <summary>The batch losses.</summary>
public enum BatchLossKind
{
    /// <summary>Contrastive (Hadsell et al. 2006): positives [f - m_pos]_+, negatives [m_neg - f]_+.</summary>
    Contrastive = 0,
    /// <summary>Triplet margin [f_ap - f_an + m]_+, or the soft margin log(1 + exp(f_ap - f_an)).</summary>
    Triplet = 1,
    /// <summary>Multi-similarity (Wang et al. 2019).</summary>
    MultiSimilarity = 2,
    /// <summary>Supervised contrastive (Khosla et al. 2020): the softmax over the row averaged over every positive.</summary>
    SupCon = 3,
    /// <summary>InfoNCE / NT-Xent: per positive, its softmax against the negatives only (with the log-Q correction: in-batch sampled softmax).</summary>
    NtXent = 4,
    /// <summary>Noise-contrastive estimation over the row: the positive a data point, each negative a noise draw, logistic on the logit corrected by log of its expected draws.</summary>
    Nce = 5,
    /// <summary>Proxy-anchor (Kim et al. 2020): the row is a class proxy against the batch's items.</summary>
    ProxyAnchor = 6,
}

/// <summary>The miners: which pairs of a row the loss sees.</summary>
public enum MinerKind
{
    /// <summary>Every positive and negative pair.</summary>
    All = 0,
    /// <summary>Every positive, a random subset of negatives (the too-easy baseline).</summary>
    Random = 1,
    /// <summary>FaceNet's semi-hard triplets f_ap &lt; f_an &lt; f_ap + m (pair losses see the pairs those triplets use).</summary>
    SemiHard = 2,
    /// <summary>Hermans et al. 2017: the farthest positive and the nearest negative of each anchor.</summary>
    BatchHard = 3,
    /// <summary>Wang et al. 2019: negatives closer than the farthest positive + eps, positives farther than the nearest negative - eps.</summary>
    MultiSimilarity = 4,
}

/// <summary>
/// Every knob of a batch loss and its miner, in farness units (see <see cref="ForDistance"/>): a plain
/// struct so it passes into a kernel as it is.
/// </summary>
public struct BatchLossSettings
{
    /// <summary>Which loss.</summary>
    public BatchLossKind Loss;
    /// <summary>Which miner.</summary>
    public MinerKind Miner;
    /// <summary>Triplet margin m (also the semi-hard miner's window).</summary>
    public float Margin;
    /// <summary>Contrastive margin of positives, in farness units.</summary>
    public float PositiveMargin;
    /// <summary>Contrastive margin of negatives, in farness units.</summary>
    public float NegativeMargin;
    /// <summary>Multi-similarity's alpha (weight of positives).</summary>
    public float Alpha;
    /// <summary>Multi-similarity's beta (weight of negatives).</summary>
    public float Beta;
    /// <summary>Multi-similarity's base lambda, in farness units.</summary>
    public float Base;
    /// <summary>Softmax temperature t of SupCon and NT-Xent.</summary>
    public float Temperature;
    /// <summary>The multi-similarity miner's epsilon.</summary>
    public float MinerEpsilon;
    /// <summary>Negatives the random miner keeps per anchor (on average).</summary>
    public int RandomNegatives;
    /// <summary>1: the triplet loss takes its soft-margin form.</summary>
    public int SoftMargin;
    /// <summary>+1 when the distance is a distance (f = d), -1 for a similarity (f = -s): d loss / d value = Sign * d loss / d f.</summary>
    public float Sign;
    /// <summary>Seed of the random miner's draws.</summary>
    public int Seed;
    /// <summary>Proxy-anchor: weight of a row's positive term (1 / proxies with a positive in the batch).</summary>
    public float PositiveWeight;
    /// <summary>Proxy-anchor: weight of the negative term of a row that has positives (1 / all proxies).</summary>
    public float NegativeWeight;
    /// <summary>Proxy-anchor: weight of the negative term of a row without positives (a sampled proxy: 1 / all proxies times the proxies each drawn one stands for).</summary>
    public float UnseenNegativeWeight;

    /// <summary>
    /// Settings with margins given in the distance's own units (pytorch-metric-learning's convention: for a
    /// similarity a positive margin of 1 means "pull until s = 1"), turned into farness units.
    /// </summary>
    public static BatchLossSettings ForDistance(BatchLossKind loss, MinerKind miner, bool isSimilarity, float margin, float positiveMargin,
        float negativeMargin, float alpha, float beta, float baseSimilarity, float temperature, float minerEpsilon, int randomNegatives, bool softMargin, int seed)
    {
        float sign = isSimilarity ? -1f : 1f;
        return new BatchLossSettings
        {
            Loss = loss, Miner = miner, Margin = margin, PositiveMargin = sign * positiveMargin, NegativeMargin = sign * negativeMargin,
            Alpha = alpha, Beta = beta, Base = sign * baseSimilarity, Temperature = temperature, MinerEpsilon = minerEpsilon,
            RandomNegatives = randomNegatives, SoftMargin = softMargin ? 1 : 0, Sign = sign, Seed = seed,
        };
    }
}

/// <summary>
/// The miners and batch losses of metric learning, one body each over an <see cref="IBatchRow"/>. Every
/// body writes d (row loss) / d f into the row, unscaled; the reducer's scale is applied by the caller
/// (it needs totals over the batch). Same rules as <see cref="RankingMath"/>: no allocation, no throw
/// paths, finite output for finite input (softmaxes and log-sum-exps are shifted by their maximum).
/// </summary>
public static partial class BatchLosses
{
    /// <summary>Relation / mask value: not a pair (the anchor itself), or dropped by the miner.</summary>
    public const int NotAPair = 0;
    /// <summary>Relation / mask value: same class.</summary>
    public const int Positive = 1;
    /// <summary>Relation / mask value: different class.</summary>
    public const int Negative = 2;

    /// <summary>Mines then computes one anchor's row: the whole per-row work of a batch loss, shared by the CPU loop and the GPU kernel.</summary>
    public static RowLoss Row<TRow>(ref TRow row, BatchLossSettings s, int iteration, int anchor) where TRow : struct, IBatchRow
    {
        // The triplet loss applies the semi-hard window to each (positive, negative) pair itself, so the miner's
        // own pass over every pair would only mark what the loss then skips: the mask of all pairs gives the same
        // terms, and the loss writes that mask (and clears the gradient) in its own first pass over the row.
        if (s.Loss == BatchLossKind.Triplet && s.Miner == MinerKind.SemiHard)
            return SemiHardTriplet(ref row, s.Margin, s.SoftMargin != 0, AllPairs);
        Mine(ref row, s, iteration, anchor);
        return Loss(ref row, s);
    }

    /// <summary>Fills the row's mask by the miner of <paramref name="s"/>; draws of the random miner depend on (seed, iteration, anchor, j) only.</summary>
    public static void Mine<TRow>(ref TRow row, BatchLossSettings s, int iteration, int anchor) where TRow : struct, IBatchRow
    {
        int n = row.Count;
        if (s.Miner == MinerKind.All)
        {
            for (int j = 0; j < n; j++) row.SetMask(j, row.Relation(j));
            return;
        }
        float maxPositive = float.NegativeInfinity, minNegative = float.PositiveInfinity;
        int farthestPositive = -1, nearestNegative = -1, negatives = 0;
        for (int j = 0; j < n; j++)
        {
            row.SetMask(j, NotAPair);
            int relation = row.Relation(j);
            float f = row.Farness(j);
            if (relation == Positive && f > maxPositive) { maxPositive = f; farthestPositive = j; }
            else if (relation == Negative)
            {
                negatives++;
                if (f < minNegative) { minNegative = f; nearestNegative = j; }
            }
        }
        if (s.Miner == MinerKind.BatchHard)
        {
            if (farthestPositive >= 0 && nearestNegative >= 0)
            {
                row.SetMask(farthestPositive, Positive);
                row.SetMask(nearestNegative, Negative);
            }
        }
        else if (s.Miner == MinerKind.Random)
        {
            double keep = negatives == 0 ? 0.0 : s.RandomNegatives / (double)negatives;
            ulong key = RankingMath.StreamKey(s.Seed, iteration, anchor);
            for (int j = 0; j < n; j++)
            {
                int relation = row.Relation(j);
                if (relation == Positive || (relation == Negative && RankingMath.RandomUnit(key, j) < keep)) row.SetMask(j, relation);
            }
        }
        else if (s.Miner == MinerKind.MultiSimilarity)
        {
            for (int j = 0; j < n; j++)
            {
                int relation = row.Relation(j);
                float f = row.Farness(j);
                if (relation == Negative && f - s.MinerEpsilon < maxPositive) row.SetMask(j, Negative);
                else if (relation == Positive && f + s.MinerEpsilon > minNegative) row.SetMask(j, Positive);
            }
        }
        else MineSemiHard(ref row, s.Margin);
    }

    /// <summary>The loss of <paramref name="s"/> over the row's mined pairs.</summary>
    public static RowLoss Loss<TRow>(ref TRow row, BatchLossSettings s) where TRow : struct, IBatchRow
    {
        for (int j = 0; j < row.Count; j++) row.SetGradient(j, 0f);
        if (s.Loss == BatchLossKind.Contrastive) return Contrastive(ref row, s.PositiveMargin, s.NegativeMargin);
        if (s.Loss == BatchLossKind.Triplet) return s.Miner == MinerKind.SemiHard ? SemiHardTriplet(ref row, s.Margin, s.SoftMargin != 0) : Triplet(ref row, s.Margin, s.SoftMargin != 0);
        if (s.Loss == BatchLossKind.MultiSimilarity) return MultiSimilarity(ref row, s.Alpha, s.Beta, s.Base);
        if (s.Loss == BatchLossKind.SupCon) return SupCon(ref row, s.Temperature);
        if (s.Loss == BatchLossKind.Nce) return Nce(ref row, s.Temperature);
        if (s.Loss == BatchLossKind.ProxyAnchor) return ProxyAnchor(ref row, s.Alpha, s.Sign * s.Margin, s.PositiveWeight, s.NegativeWeight, s.UnseenNegativeWeight);
        return NtXent(ref row, s.Temperature);
    }

    /// <summary>Contrastive: each kept positive [f - m_pos]_+, each kept negative [m_neg - f]_+; a term per pair.</summary>
    public static RowLoss Contrastive<TRow>(ref TRow row, float positiveMargin, float negativeMargin) where TRow : struct, IBatchRow
    {
        var result = new RowLoss();
        for (int j = 0; j < row.Count; j++)
        {
            int mask = row.Mask(j);
            if (mask == NotAPair) continue;
            float f = row.Farness(j);
            double term = mask == Positive ? f - positiveMargin : negativeMargin - f;
            result.Terms++;
            if (term > 0)
            {
                result.Loss += term;
                result.NonZero++;
                row.SetGradient(j, mask == Positive ? 1f : -1f);
            }
        }
        return result;
    }

    /// <summary>Triplet: for every kept positive p and kept negative n, [f_ap - f_an + m]_+ or softplus(f_ap - f_an); a term per triplet.</summary>
    public static RowLoss Triplet<TRow>(ref TRow row, float margin, bool soft) where TRow : struct, IBatchRow
    {
        var result = new RowLoss();
        int n = row.Count;
        for (int p = 0; p < n; p++)
        {
            if (row.Mask(p) != Positive) continue;
            float fp = row.Farness(p);
            double gradPositive = 0.0;
            for (int q = 0; q < n; q++)
            {
                if (row.Mask(q) != Negative) continue;
                result.Terms++;
                double term = TripletTerm(fp, row.Farness(q), margin, soft, out double slope);
                if (term <= 0) continue;
                result.Loss += term;
                result.NonZero++;
                gradPositive += slope;
                row.SetGradient(q, row.Gradient(q) - (float)slope);
            }
            row.SetGradient(p, row.Gradient(p) + (float)gradPositive);
        }
        return result;
    }

    /// <summary>
    /// One triplet's term and its slope d term / d f_ap (= -d term / d f_an): the hinge f_ap - f_an + m (slope 1) or,
    /// with <paramref name="soft"/>, softplus(f_ap - f_an) (slope sigmoid). A term &lt;= 0 contributes nothing.
    /// </summary>
    public static double TripletTerm(float fp, float fn, float margin, bool soft, out double slope)
    {
        double x = (double)fp - fn;
        if (soft)
        {
            slope = RankingMath.Sigmoid(x);
            return RankingMath.Softplus(x);
        }
        slope = 1.0;
        return x + margin;
    }

    /// <summary>
    /// FaceNet's semi-hard window, the one definition of which negatives are semi-hard for a positive:
    /// f_ap &lt; f_an &lt; f_ap + m (the sum in single precision, as every caller computes it).
    /// </summary>
    public static bool InSemiHardWindow(float fp, float fn, float margin) => fn > fp && fn < fp + margin;

    /// <summary>
    /// Multi-similarity over the kept pairs, with f = -s and base b in farness units:
    /// (1/alpha) log(1 + sum_pos exp(alpha (f - b))) + (1/beta) log(1 + sum_neg exp(-beta (f - b))); one term per anchor with a kept pair.
    /// </summary>
    public static RowLoss MultiSimilarity<TRow>(ref TRow row, float alpha, float beta, float baseFarness) where TRow : struct, IBatchRow
    {
        var result = new RowLoss();
        int n = row.Count;
        // Shifts: the largest exponent of each side, at least 0 (the "1 +" inside the log).
        double maxPos = 0.0, maxNeg = 0.0;
        int kept = 0;
        for (int j = 0; j < n; j++)
        {
            int mask = row.Mask(j);
            if (mask == NotAPair) continue;
            kept++;
            double f = row.Farness(j) - baseFarness;
            if (mask == Positive) maxPos = Math.Max(maxPos, alpha * f);
            else maxNeg = Math.Max(maxNeg, -beta * f);
        }
        if (kept == 0) return result;
        double sumPos = Math.Exp(-maxPos), sumNeg = Math.Exp(-maxNeg);
        for (int j = 0; j < n; j++)
        {
            int mask = row.Mask(j);
            if (mask == NotAPair) continue;
            double f = row.Farness(j) - baseFarness;
            if (mask == Positive) sumPos += Math.Exp(alpha * f - maxPos);
            else sumNeg += Math.Exp(-beta * f - maxNeg);
        }
        for (int j = 0; j < n; j++)
        {
            int mask = row.Mask(j);
            if (mask == NotAPair) continue;
            double f = row.Farness(j) - baseFarness;
            if (mask == Positive) row.SetGradient(j, (float)(Math.Exp(alpha * f - maxPos) / sumPos));
            else row.SetGradient(j, (float)(-Math.Exp(-beta * f - maxNeg) / sumNeg));
        }
        result.Loss = (maxPos + Math.Log(sumPos)) / alpha + (maxNeg + Math.Log(sumNeg)) / beta;
        result.Terms = 1;
        result.NonZero = result.Loss > 0 ? 1 : 0;
        return result;
    }

    /// <summary>
    /// SupCon with logits l_j = -f_j / t - c_j over the kept pairs: loss = logsumexp(l) - mean over positives of l_p;
    /// one term per anchor with a kept positive. One exp per pair: exp(l_j - max) is kept in the gradient cell between
    /// the sum and the gradient pass (the hot loop of a SupCon training step).
    /// </summary>
    public static RowLoss SupCon<TRow>(ref TRow row, float temperature) where TRow : struct, IBatchRow
    {
        var result = new RowLoss();
        int n = row.Count, positives = 0;
        double inverseTemperature = 1.0 / temperature;
        double max = double.NegativeInfinity, sumPositiveLogits = 0.0;
        for (int j = 0; j < n; j++)
        {
            int mask = row.Mask(j);
            if (mask == NotAPair) continue;
            double logit = -row.Farness(j) * inverseTemperature - row.LogitCorrection(j);
            max = Math.Max(max, logit);
            if (mask == Positive) { positives++; sumPositiveLogits += logit; }
        }
        if (positives == 0) return result;
        double sum = 0.0;
        for (int j = 0; j < n; j++)
        {
            if (row.Mask(j) == NotAPair) continue;
            double shifted = Math.Exp(-row.Farness(j) * inverseTemperature - row.LogitCorrection(j) - max);
            sum += shifted;
            row.SetGradient(j, (float)shifted);
        }
        double inverseSum = 1.0 / sum, positiveShare = 1.0 / positives;
        for (int j = 0; j < n; j++)
        {
            int mask = row.Mask(j);
            if (mask == NotAPair) continue;
            double dLogit = row.Gradient(j) * inverseSum - (mask == Positive ? positiveShare : 0.0);
            row.SetGradient(j, (float)(-dLogit * inverseTemperature));
        }
        result.Loss = max + Math.Log(sum) - sumPositiveLogits / positives;
        result.Terms = 1;
        result.NonZero = result.Loss > 0 ? 1 : 0;
        return result;
    }

    /// <summary>
    /// InfoNCE / NT-Xent with logits l_j = -f_j / t - c_j: for each kept positive p, log(exp(l_p) + sum_neg exp(l_n)) - l_p;
    /// a term per positive. With c_j = log q_j it is the in-batch sampled softmax with the log-Q correction (Yi et al. 2019).
    /// </summary>
    public static RowLoss NtXent<TRow>(ref TRow row, float temperature) where TRow : struct, IBatchRow
    {
        var result = new RowLoss();
        int n = row.Count;
        double maxNeg = double.NegativeInfinity;
        for (int j = 0; j < n; j++)
            if (row.Mask(j) == Negative) maxNeg = Math.Max(maxNeg, -row.Farness(j) / (double)temperature - row.LogitCorrection(j));
        double logSumNeg = double.NegativeInfinity;
        if (maxNeg > double.NegativeInfinity)
        {
            double sum = 0.0;
            for (int j = 0; j < n; j++)
                if (row.Mask(j) == Negative) sum += Math.Exp(-row.Farness(j) / (double)temperature - row.LogitCorrection(j) - maxNeg);
            logSumNeg = maxNeg + Math.Log(sum);
        }
        // weightOfNegatives = sum over positives of exp(logSumNeg - LSE_p): each negative's share is exp(l_n - logSumNeg) times it.
        double weightOfNegatives = 0.0;
        for (int p = 0; p < n; p++)
        {
            if (row.Mask(p) != Positive) continue;
            double logit = -row.Farness(p) / (double)temperature - row.LogitCorrection(p);
            double lse = RankingMath.LogAddExp(logit, logSumNeg);
            double term = lse - logit;
            result.Terms++;
            result.Loss += term;
            if (term > 0) result.NonZero++;
            double dLogit = Math.Exp(logit - lse) - 1.0;
            row.SetGradient(p, (float)(-dLogit / temperature));
            if (logSumNeg > double.NegativeInfinity) weightOfNegatives += Math.Exp(logSumNeg - lse);
        }
        if (result.Terms == 0 || weightOfNegatives == 0.0) return result;
        for (int j = 0; j < n; j++)
        {
            if (row.Mask(j) != Negative) continue;
            double share = Math.Exp(-row.Farness(j) / (double)temperature - row.LogitCorrection(j) - logSumNeg);
            row.SetGradient(j, (float)(-share * weightOfNegatives / temperature));
        }
        return result;
    }
}
