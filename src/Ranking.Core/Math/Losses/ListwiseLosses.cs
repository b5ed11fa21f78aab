namespace Ranking.Numerics;

/// <summary>What the targets of <see cref="SoftmaxLoss"/> are.</summary>
public enum SoftmaxWeights
{
    /// <summary>Graded data: w_p = G(y_p) / sum of G over the relevant rows (grade above the threshold); each query's weights sum to 1.</summary>
    Gains,
    /// <summary>
    /// Clicks with inverse-propensity weights (the listwise IPW loss of Ai et al. SIGIR 2018): w_i is the row's
    /// <see cref="IQueryRows.Auxiliary"/> value, not normalised per query (a per-query normaliser would bias the
    /// estimate); gradient W softmax - w and Hessian W softmax (1 - softmax), W = sum of w.
    /// </summary>
    Clicks,
}

/// <summary>
/// Softmax cross-entropy over the full list (Ranking.Objectives.SoftmaxObjective, and IPW softmax on clicks):
/// loss = -sum_i w_i log softmax(s)_i with the targets <see cref="Weights"/> names; gradient W softmax - w,
/// Hessian W softmax (1 - softmax), W = sum of w (1 for graded data, whose weights are normalised). A query
/// whose weights sum to 0 contributes nothing. Workspace: <see cref="IQueryRows.RowValue"/> holds the weights.
/// </summary>
public struct SoftmaxLoss : IQueryLoss
{
    /// <summary>Rows with a grade above this are the positives (graded targets).</summary>
    public double Threshold;

    /// <summary>Graded targets (the default) or IPW click weights read from the rows.</summary>
    public SoftmaxWeights Weights;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.Linear;

    /// <inheritdoc/>
    public readonly ulong OrderKey(float label, ulong stream, int row) => 0;

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count;
        bool clicks = Weights == SoftmaxWeights.Clicks;
        double total = 0, max = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            float y = rows.Label(i);
            double w = clicks ? rows.Auxiliary(i) : y > Threshold ? RankingMath.ExponentialGain(y) : 0.0;
            rows.RowValue(i) = w;
            total += w;
            max = Math.Max(max, rows.Score(i));
        }
        if (!(total > 0)) return 0;
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.Exp(rows.Score(i) - max);
        double logSum = max + Math.Log(sum);
        // Graded weights are divided by their total (scale 1); click weights are kept, so W = total.
        double scale = clicks ? total : 1.0;
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double wi = clicks ? rows.RowValue(i) : rows.RowValue(i) / total;
            double logP = rows.Score(i) - logSum;
            double p = Math.Exp(logP);
            if (wi > 0) loss -= wi * logP;
            rows.Gradient(i) = scale * p - wi;
            rows.Hessian(i) = scale * p * (1.0 - p);
        }
        return loss;
    }
}

/// <summary>What ListNet's target distribution is a softmax of (kernel-side twin of Ranking.Objectives.ListNetTarget).</summary>
public enum ListNetTargetKind
{
    /// <summary>softmax(grade).</summary>
    Grade,
    /// <summary>softmax(2^grade - 1).</summary>
    Gain,
}

/// <summary>How sampled softmax draws negatives (kernel-side twin of Ranking.Objectives.NegativeSampling).</summary>
public enum NegativeDraw
{
    /// <summary>Uniformly over the query's negatives.</summary>
    Uniform,
    /// <summary>In proportion to exp(proposal score).</summary>
    ByScore,
}

/// <summary>The two normalisers of one ListNet query (<see cref="ListNetLoss.Sums"/>), read by every row.</summary>
public struct ListNetSums
{
    /// <summary>The largest target value of the query.</summary>
    public double MaxTarget;
    /// <summary>sum of exp(target - MaxTarget).</summary>
    public double TargetSum;
    /// <summary>log sum exp(s / T).</summary>
    public double LogSumScores;
}

/// <summary>
/// ListNet top-1 (Ranking.Objectives.ListNetObjective): P = softmax(phi(y)), Q = softmax(s / T),
/// loss -sum P log Q, gradient (Q - P) / T, Hessian Q (1 - Q) / T^2. Split into <see cref="Sums"/> (per
/// query) and <see cref="Row"/> (per row) so the device can run the row part a thread per row; the CPU
/// runs both in <see cref="Compute"/>. Workspace: <see cref="IQueryRows.RowValue"/> caches exp(target - max).
/// </summary>
public struct ListNetLoss : IQueryLoss
{
    /// <summary>Scores are divided by T before the softmax.</summary>
    public double Temperature;
    /// <summary>What P is a softmax of.</summary>
    public ListNetTargetKind Target;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.Linear;

    /// <inheritdoc/>
    public readonly ulong OrderKey(float label, ulong stream, int row) => 0;

    /// <summary>phi(grade): the value P is a softmax of.</summary>
    public readonly double TargetOf(float grade) => Target == ListNetTargetKind.Gain ? RankingMath.ExponentialGain(grade) : grade;

    /// <summary>The query's normalisers (two passes, each shifted by its maximum).</summary>
    public readonly ListNetSums Sums<TRows>(ref TRows rows) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count;
        double maxTarget = double.NegativeInfinity, maxLogit = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            maxTarget = Math.Max(maxTarget, TargetOf(rows.Label(i)));
            maxLogit = Math.Max(maxLogit, rows.Score(i) / Temperature);
        }
        double sumP = 0, sumQ = 0;
        for (int i = 0; i < n; i++)
        {
            sumP += Math.Exp(TargetOf(rows.Label(i)) - maxTarget);
            sumQ += Math.Exp(rows.Score(i) / Temperature - maxLogit);
        }
        return new ListNetSums { MaxTarget = maxTarget, TargetSum = sumP, LogSumScores = maxLogit + Math.Log(sumQ) };
    }

    /// <summary>
    /// One row: its loss term -P log Q, gradient and Hessian, from the query's sums and the row's
    /// exp(target - max) (<paramref name="expTarget"/>).
    /// </summary>
    public readonly double Row(in ListNetSums sums, double expTarget, float score, out double gradient, out double hessian)
    {
        double p = expTarget / sums.TargetSum;
        double lq = score / Temperature - sums.LogSumScores;
        double q = Math.Exp(lq);
        gradient = (q - p) / Temperature;
        hessian = q * (1.0 - q) / (Temperature * Temperature);
        return -(p * lq);
    }

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count;
        var sums = Sums(ref rows);
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            loss += Row(sums, Math.Exp(TargetOf(rows.Label(i)) - sums.MaxTarget), rows.Score(i), out double g, out double h);
            rows.Gradient(i) = g;
            rows.Hessian(i) = h;
        }
        return loss;
    }
}

/// <summary>
/// ListMLE (Ranking.Objectives.ListMleObjective): negative log Plackett-Luce likelihood of the order by
/// grade, descending, equal grades in a seeded random order. Workspace: <see cref="IQueryRows.Order"/> the
/// order (from <see cref="OrderKey"/>), <see cref="IQueryRows.PlaceValue"/> the suffix log-sum-exps.
/// </summary>
public struct ListMleLoss : IQueryLoss
{
    /// <summary>0 = the full list; k &gt; 0 = only the first k factors (top-k ListMLE).</summary>
    public int Truncation;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.SortsByKey;

    /// <summary>High half: the grade, descending; low half: a random tie-breaker drawn for this row.</summary>
    public readonly ulong OrderKey(float label, ulong stream, int row) =>
        (RankingMath.DescendingScoreKey(label, 0) & 0xFFFFFFFF00000000UL) | (RankingMath.RandomBits(stream, row) >> 32);

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count;
        for (int i = 0; i < n; i++) rows.SortKey(i) = OrderKey(rows.Label(i), stream, i);
        rows.SortByKey();

        int last = rows.Order(n - 1);
        rows.PlaceValue(n - 1) = rows.Score(last);
        for (int i = n - 2; i >= 0; i--)
        {
            int row = rows.Order(i);
            rows.PlaceValue(i) = RankingMath.LogAddExp(rows.Score(row), rows.PlaceValue(i + 1));
        }

        int factors = Truncation > 0 ? Math.Min(Truncation, n) : n;
        double loss = 0;
        double logSumInv = double.NegativeInfinity, logSumInv2 = double.NegativeInfinity; // log sum exp(-lse_m), log sum exp(-2 lse_m), m <= i
        for (int i = 0; i < n; i++)
        {
            int row = rows.Order(i);
            double s = rows.Score(row);
            double lse = rows.PlaceValue(i);
            if (i < factors)
            {
                loss += lse - s;
                logSumInv = RankingMath.LogAddExp(logSumInv, -lse);
                logSumInv2 = RankingMath.LogAddExp(logSumInv2, -2 * lse);
            }
            double sumP = Math.Exp(s + logSumInv);        // sum over m of P_m(i)
            double sumP2 = Math.Exp(2 * s + logSumInv2);  // sum over m of P_m(i)^2
            rows.Gradient(row) = (i < factors ? -1.0 : 0.0) + sumP;
            rows.Hessian(row) = Math.Max(0.0, sumP - sumP2);
        }
        return loss;
    }
}

/// <summary>
/// 1 - ApproxNDCG (Ranking.Objectives.ApproxNdcgObjective): smooth ranks from sigmoids of score
/// differences, exact up to <see cref="ExactLimit"/> rows, estimated from <see cref="Samples"/> drawn
/// partners per row beyond. Workspace: <see cref="IQueryRows.Order"/> the ideal order (maxDCG),
/// <see cref="IQueryRows.RowValue"/> each row's smooth rank, then a_i = d(term i) / d rank_i.
/// </summary>
public struct ApproxNdcgLoss : IQueryLoss
{
    /// <summary>T in sigmoid((s_j - s_i) / T).</summary>
    public double Temperature;
    /// <summary>Queries up to this many rows use every pair.</summary>
    public int ExactLimit;
    /// <summary>Partners drawn per row beyond <see cref="ExactLimit"/>.</summary>
    public int Samples;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.Quadratic;

    /// <inheritdoc/>
    public readonly ulong OrderKey(float label, ulong stream, int row) => 0;

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count;
        double maxDcg = LossMath.MaxDcg(ref rows, n);
        if (!(maxDcg > 0) || n < 2) return 0;
        double inverseT = 1.0 / Temperature;
        bool sampled = n > ExactLimit;
        int m = Samples;
        double scale = sampled ? (n - 1) / (double)m : 1.0;

        // Pass 1: smooth ranks.
        for (int i = 0; i < n; i++) rows.RowValue(i) = 1.0;
        if (!sampled)
        {
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                {
                    double sij = RankingMath.Sigmoid((rows.Score(j) - (double)rows.Score(i)) * inverseT); // j above i
                    rows.RowValue(i) += sij;
                    rows.RowValue(j) += 1.0 - sij;
                }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int d = 0; d < m; d++)
                {
                    int j = LossMath.Partner(stream, i, d, m, n);
                    sum += RankingMath.Sigmoid((rows.Score(j) - (double)rows.Score(i)) * inverseT);
                }
                rows.RowValue(i) += scale * sum;
            }
        }

        // a_i = d(G_i / log2(1 + rhat_i) / maxDCG) / d rhat_i replaces the smooth rank.
        double approx = 0;
        for (int i = 0; i < n; i++)
        {
            double gain = RankingMath.ExponentialGain(rows.Label(i));
            double rank = rows.RowValue(i);
            double log2r = RankingMath.Log2(1.0 + rank);
            approx += gain / log2r;
            rows.RowValue(i) = -gain / (maxDcg * Math.Log(2.0) * (1.0 + rank) * log2r * log2r);
        }

        // Pass 2: gradient (1/T) sigmoid' (a_k - a_i) per pair; d rhat_i / d s_j = sigmoid'/T.
        if (!sampled)
        {
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                {
                    double ai = rows.RowValue(i), aj = rows.RowValue(j);
                    if (ai == aj) continue;
                    double sij = RankingMath.Sigmoid((rows.Score(j) - (double)rows.Score(i)) * inverseT);
                    double c = sij * (1.0 - sij) * inverseT;
                    double diff = ai - aj;
                    rows.Gradient(i) += c * diff; rows.Gradient(j) -= c * diff;
                    double h = c * Math.Abs(diff) * inverseT;
                    rows.Hessian(i) += h; rows.Hessian(j) += h;
                }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                double ai = rows.RowValue(i);
                if (ai == 0) continue;
                for (int d = 0; d < m; d++)
                {
                    int j = LossMath.Partner(stream, i, d, m, n);
                    double sij = RankingMath.Sigmoid((rows.Score(j) - (double)rows.Score(i)) * inverseT);
                    double c = scale * sij * (1.0 - sij) * inverseT * ai; // d(-term_i)/d s_i
                    rows.Gradient(i) += c; rows.Gradient(j) -= c;
                    double h = Math.Abs(c) * inverseT;
                    rows.Hessian(i) += h; rows.Hessian(j) += h;
                }
            }
        }
        return 1.0 - approx / maxDcg;
    }
}

/// <summary>
/// Sampled softmax (Ranking.Objectives.SampledSoftmaxObjective): each positive against k negatives drawn
/// from its query, logits corrected by log(k q). The draws are counter-based, so each positive's k draws
/// are drawn again for each pass (max, sum, gradients) instead of kept. Proposal scores are the
/// auxiliary values when given, else the scores. Workspace: <see cref="IQueryRows.Picked"/> the negatives,
/// <see cref="IQueryRows.PlaceValue"/> their cumulative proposal probabilities.
/// </summary>
public struct SampledSoftmaxLoss : IQueryLoss
{
    /// <summary>k: negatives drawn per positive.</summary>
    public int Negatives;
    /// <summary>How negatives are drawn.</summary>
    public NegativeDraw Draw;
    /// <summary>Rows with a grade above this are positives.</summary>
    public double Threshold;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.Linear;

    /// <inheritdoc/>
    public readonly ulong OrderKey(float label, ulong stream, int row) => 0;

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count, k = Negatives;
        bool proposalGiven = rows.HasAuxiliary;
        int negativeCount = 0;
        double totalGain = 0, maxProposal = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            float y = rows.Label(i);
            if (y > Threshold) totalGain += RankingMath.ExponentialGain(y);
            else
            {
                rows.Picked(negativeCount) = i;
                negativeCount++;
                maxProposal = Math.Max(maxProposal, proposalGiven ? rows.Auxiliary(i) : rows.Score(i));
            }
        }
        if (negativeCount == 0 || !(totalGain > 0)) return 0;

        // Proposal: log(k q_j) per negative; for score sampling a cumulative table to draw from.
        double logK = Math.Log(k), logNormalizer = 0;
        if (Draw == NegativeDraw.ByScore)
        {
            double sum = 0;
            for (int t = 0; t < negativeCount; t++)
            {
                int j = rows.Picked(t);
                sum += Math.Exp((proposalGiven ? rows.Auxiliary(j) : rows.Score(j)) - maxProposal);
                rows.PlaceValue(t) = sum;
            }
            for (int t = 0; t < negativeCount; t++) rows.PlaceValue(t) /= sum;
            rows.PlaceValue(negativeCount - 1) = 1.0;
            logNormalizer = maxProposal + Math.Log(sum);
        }
        double uniformCorrection = RankingMath.LogExpectedDraws(k, 1.0 / negativeCount);

        double loss = 0;
        for (int p = 0; p < n; p++)
        {
            float yp = rows.Label(p);
            if (!(yp > Threshold)) continue;
            double w = RankingMath.ExponentialGain(yp) / totalGain;
            double l0 = rows.Score(p);
            double max = l0;
            for (int t = 0; t < k; t++)
                max = Math.Max(max, DrawnLogit(ref rows, stream, (long)p * k + t, negativeCount, proposalGiven, logK, logNormalizer, uniformCorrection, out _));
            double sumExp = Math.Exp(l0 - max);
            for (int t = 0; t < k; t++)
                sumExp += Math.Exp(DrawnLogit(ref rows, stream, (long)p * k + t, negativeCount, proposalGiven, logK, logNormalizer, uniformCorrection, out _) - max);
            double lse = max + Math.Log(sumExp);
            loss += w * (lse - l0);
            double p0 = Math.Exp(l0 - lse);
            rows.Gradient(p) += w * (p0 - 1.0);
            rows.Hessian(p) += w * p0 * (1.0 - p0);
            for (int t = 0; t < k; t++)
            {
                double logit = DrawnLogit(ref rows, stream, (long)p * k + t, negativeCount, proposalGiven, logK, logNormalizer, uniformCorrection, out int j);
                double pt = Math.Exp(logit - lse);
                rows.Gradient(j) += w * pt;
                rows.Hessian(j) += w * pt * (1.0 - pt);
            }
        }
        return loss;
    }

    /// <summary>Draw number <paramref name="counter"/>: the negative <paramref name="j"/> and its corrected logit s_j - log(k q_j).</summary>
    private readonly double DrawnLogit<TRows>(ref TRows rows, ulong stream, long counter, int negativeCount, bool proposalGiven,
        double logK, double logNormalizer, double uniformCorrection, out int j) where TRows : IQueryRows, allows ref struct
    {
        if (Draw == NegativeDraw.ByScore)
        {
            int slot = LossMath.DrawFromCumulative(ref rows, negativeCount, RankingMath.RandomUnit(stream, counter));
            j = rows.Picked(slot);
            return rows.Score(j) - (logK + ((proposalGiven ? rows.Auxiliary(j) : rows.Score(j)) - logNormalizer));
        }
        int drawn = RankingMath.RandomIndex(stream, counter, negativeCount);
        j = rows.Picked(drawn);
        return rows.Score(j) - uniformCorrection;
    }
}

/// <summary>
/// Noise-contrastive estimation (Ranking.Objectives.NceObjective): relevant rows against k noise draws per
/// row, logistic on s - log(k p_noise); noise uniform, or in proportion to the auxiliary values when
/// given. Workspace: <see cref="IQueryRows.RowValue"/> log(k p_noise(u)), <see cref="IQueryRows.PlaceValue"/>
/// the cumulative noise distribution.
/// </summary>
public struct NceLoss : IQueryLoss
{
    /// <summary>k: noise rows drawn per real row.</summary>
    public int Negatives;
    /// <summary>Rows with a grade above this are the real (data) rows.</summary>
    public double Threshold;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.Linear;

    /// <inheritdoc/>
    public readonly ulong OrderKey(float label, ulong stream, int row) => 0;

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count, k = Negatives;
        bool given = rows.HasAuxiliary;
        double total = 0;
        if (given)
        {
            for (int i = 0; i < n; i++) { total += rows.Auxiliary(i); rows.PlaceValue(i) = total; }
            if (!(total > 0)) given = false; // no mass to draw from: fall back to uniform
        }
        for (int i = 0; i < n; i++)
        {
            double logP = given ? Math.Max(-700.0, Math.Log(rows.Auxiliary(i) / total)) : -Math.Log(n);
            rows.RowValue(i) = Math.Log(k) + logP; // log(k p_noise), RankingMath.LogExpectedDraws in log space (p may underflow)
            if (given) rows.PlaceValue(i) /= total;
        }
        if (given) rows.PlaceValue(n - 1) = 1.0;

        double loss = 0;
        for (int x = 0; x < n; x++)
        {
            if (!(rows.Label(x) > Threshold)) continue;
            double u = rows.Score(x) - rows.RowValue(x);
            loss += RankingMath.NceTerm(u, true, out double slope);
            rows.Gradient(x) += slope;
            rows.Hessian(x) += -slope * (1.0 + slope);
            for (int t = 0; t < k; t++)
            {
                long counter = (long)x * k + t;
                int y = given ? LossMath.DrawFromCumulative(ref rows, n, RankingMath.RandomUnit(stream, counter)) : RankingMath.RandomIndex(stream, counter, n);
                double v = rows.Score(y) - rows.RowValue(y);
                loss += RankingMath.NceTerm(v, false, out double hy);
                rows.Gradient(y) += hy;
                rows.Hessian(y) += hy * (1.0 - hy);
            }
        }
        return loss;
    }
}

/// <summary>Small pieces several loss bodies share.</summary>
public static class LossMath
{
    /// <summary>Draw number d of row i: a partner uniform over the other n - 1 rows.</summary>
    public static int Partner(ulong stream, int i, int d, int m, int n)
    {
        int j = RankingMath.RandomIndex(stream, (long)i * m + d, n - 1);
        return j >= i ? j + 1 : j;
    }

    /// <summary>Smallest place t &lt; count whose cumulative probability (<see cref="IQueryRows.PlaceValue"/>) exceeds u.</summary>
    public static int DrawFromCumulative<TRows>(ref TRows rows, int count, double u) where TRows : IQueryRows, allows ref struct
    {
        int lo = 0, hi = count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (rows.PlaceValue(mid) > u) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>
    /// DCG of the ideal order cut at k (exponential gain): the rows sorted by grade, descending, in
    /// <see cref="IQueryRows.Order"/> (uses the sort keys).
    /// </summary>
    public static double MaxDcg<TRows>(ref TRows rows, int k) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count;
        for (int i = 0; i < n; i++) rows.SortKey(i) = RankingMath.DescendingScoreKey(rows.Label(i), i);
        rows.SortByKey();
        double dcg = 0;
        int top = Math.Min(k, n);
        for (int r = 0; r < top; r++)
        {
            int row = rows.Order(r);
            dcg += RankingMath.ExponentialGain(rows.Label(row)) * RankingMath.Discount(r);
        }
        return dcg;
    }
}
