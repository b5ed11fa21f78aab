using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>How negatives are chosen for each positive of a query (online mining, on the current scores).</summary>
public enum NegativeMining
{
    /// <summary>Every negative of the positive: O(positives x negatives).</summary>
    All,
    /// <summary>k negatives drawn uniformly with replacement (seeded by seed, iteration, query).</summary>
    Random,
    /// <summary>The k highest-scoring negatives.</summary>
    Hard,
    /// <summary>Up to k of the highest-scoring negatives with s_neg &lt; s_pos and s_pos - s_neg &lt; margin (FaceNet's semi-hard); the hard ones when there is none.</summary>
    SemiHard,
}

/// <summary>What makes a (positive, negative) pair.</summary>
public enum TripletPairing
{
    /// <summary>Positives have a grade above the threshold, negatives at or below it.</summary>
    Threshold,
    /// <summary>Any two rows with different grades: the higher is the positive, every lower-graded row a negative for it.</summary>
    Graded,
}

public sealed class TripletOptions
{
    /// <summary>The hinge margin.</summary>
    [Knob(ObjectiveKnobText.Margin, Min = 0)]
    public double Margin { get; init; } = 1.0;
    /// <summary>Which negatives each positive meets.</summary>
    [Knob("all | random | hard | semi-hard: which negatives each positive meets")]
    public NegativeMining Mining { get; init; } = NegativeMining.All;
    /// <summary>k: negatives per positive for random, hard and semi-hard mining.</summary>
    [Knob(ObjectiveKnobText.Negatives, Min = 1)]
    public int Negatives { get; init; } = 5;
    /// <summary>What makes a (positive, negative) pair.</summary>
    [Knob("threshold (positives above it, negatives at or below) | graded (any pair with different grades)")]
    public TripletPairing Pairing { get; init; } = TripletPairing.Threshold;
    /// <summary>Rows with a grade above this are positives (threshold pairing).</summary>
    [Knob(ObjectiveKnobText.Threshold)]
    public double Threshold { get; init; } = 0.0;
}

/// <summary>
/// The triplet margin loss max(0, d(a,p) - d(a,n) + margin) with the query as anchor, written on scores:
/// max(0, margin - (s_pos - s_neg)) for each positive and each of its mined negatives. Subgradient -1 / +1
/// where active. Hessian: an approximation, 1 per active triplet on both rows (as RankSVM). Mining runs on
/// the scores of this call: hard and semi-hard sets are constant between score changes that reorder rows,
/// so gradients are exact away from those boundaries. Cost: all O(P N); random O(P k); hard O(L n) with L
/// distinct grade levels (the hard list is shared by positives with the same negative set); semi-hard
/// O(P (log n + rows inside the margin band)).
/// </summary>
public sealed class TripletObjective : QueryObjective
{
    private readonly TripletOptions _options;

    public TripletObjective(TripletOptions? options = null)
    {
        _options = options ?? new TripletOptions();
        if (!(_options.Margin >= 0) || !double.IsFinite(_options.Margin)) throw new ArgumentException($"margin must be finite and non-negative, got {_options.Margin}.");
        if (_options.Negatives < 1) throw new ArgumentException($"negatives must be at least 1, got {_options.Negatives}.");
    }

    public TripletOptions Options => _options;
    public override string Name => "triplet";
    public override ObjectiveFamily Family => ObjectiveFamily.MetricLearning;

    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count;
        var labels = query.Labels;
        var scores = query.Scores;
        var grad = scratch.Doubles(0, n);
        var hess = scratch.Doubles(1, n);
        grad.Clear(); hess.Clear();

        // Rows by grade ascending: the negatives of any positive are a prefix of this order.
        var keys = scratch.Keys(n);
        var byGrade = scratch.Ints(0, n);
        for (int i = 0; i < n; i++) keys[i] = RankingMath.DescendingScoreKey(-labels[i], i);
        keys.Sort();
        for (int i = 0; i < n; i++) byGrade[i] = RankingMath.KeyIndex(keys[i]);
        // Rows by score descending, and those scores, for hard and semi-hard mining.
        var byScore = scratch.Ints(1, n);
        QueryOrder.ByScoreDescending(scores, byScore, keys);
        var sortedScores = scratch.Doubles(2, n);
        for (int r = 0; r < n; r++) sortedScores[r] = scores[byScore[r]];

        int k = _options.Negatives;
        var hard = scratch.Ints(2, Math.Min(k, n));
        int hardCount = 0, hardFor = -1;
        double margin = _options.Margin, loss = 0;
        ulong stream = StreamOf(query);
        int thresholdNegatives = 0;
        for (int i = 0; i < n; i++) if (labels[i] <= _options.Threshold) thresholdNegatives++;

        int start = 0; // first position in byGrade of the current grade level
        for (int pos = 0; pos < n; pos++)
        {
            int p = byGrade[pos];
            float yp = labels[p];
            if (pos > 0 && labels[byGrade[pos - 1]] != yp) start = pos;
            int negatives = _options.Pairing == TripletPairing.Threshold
                ? (yp > _options.Threshold ? thresholdNegatives : 0)
                : start;
            if (negatives == 0) continue;
            double sp = scores[p];
            float negativeBelow = labels[byGrade[negatives - 1]]; // a row is a negative when its grade <= this

            switch (_options.Mining)
            {
                case NegativeMining.All:
                    for (int t = 0; t < negatives; t++) loss += Triplet(p, byGrade[t], margin, scores, grad, hess);
                    break;
                case NegativeMining.Random:
                    for (int t = 0; t < k; t++)
                        loss += Triplet(p, byGrade[RankingMath.RandomIndex(stream, (long)p * k + t, negatives)], margin, scores, grad, hess);
                    break;
                case NegativeMining.Hard:
                case NegativeMining.SemiHard:
                    if (hardFor != negatives)
                    {
                        hardCount = 0;
                        for (int r = 0; r < n && hardCount < hard.Length; r++)
                            if (labels[byScore[r]] <= negativeBelow) hard[hardCount++] = byScore[r];
                        hardFor = negatives;
                    }
                    int taken = 0;
                    if (_options.Mining == NegativeMining.SemiHard)
                    {
                        // First rank scoring strictly below the positive, then down while inside the margin band.
                        int r = FirstBelow(sortedScores, sp);
                        for (; r < n && taken < k && sp - sortedScores[r] < margin; r++)
                        {
                            int q = byScore[r];
                            if (labels[q] > negativeBelow) continue;
                            loss += Triplet(p, q, margin, scores, grad, hess);
                            taken++;
                        }
                    }
                    if (taken == 0)
                        for (int t = 0; t < hardCount; t++) loss += Triplet(p, hard[t], margin, scores, grad, hess);
                    break;
            }
        }

        for (int i = 0; i < n; i++) { gradients[i] = (float)grad[i]; hessians[i] = (float)hess[i]; }
        return loss;
    }

    /// <summary>First index r with sorted[r] &lt; value, in scores sorted descending.</summary>
    private static int FirstBelow(ReadOnlySpan<double> sortedDescending, double value)
    {
        int lo = 0, hi = sortedDescending.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sortedDescending[mid] < value) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    private static double Triplet(int positive, int negative, double margin, ReadOnlySpan<float> scores, Span<double> grad, Span<double> hess)
    {
        double loss = RankingMath.Hinge(margin, (double)scores[positive] - scores[negative]);
        if (loss > 0)
        {
            grad[positive] -= 1; grad[negative] += 1;
            hess[positive] += 1; hess[negative] += 1;
        }
        return loss;
    }
}

public sealed class ContrastiveOptions
{
    /// <summary>Irrelevant documents are pushed to a distance of at least this.</summary>
    [Knob(ObjectiveKnobText.Margin, Min = 0)]
    public double Margin { get; init; } = 1.0;
    /// <summary>Rows with a grade above this are similar to the query (Y = 0).</summary>
    [Knob(ObjectiveKnobText.Threshold)]
    public double Threshold { get; init; } = 0.0;
}

/// <summary>
/// The contrastive loss (Hadsell, Chopra, LeCun 2006) on (query, document) pairs: the distance from the
/// query falls as the score rises, D = softplus(-s) (&gt;= 0, so ranking by score is ranking by distance);
/// relevant rows (Y = 0) pay D^2 / 2, the rest max(0, margin - D)^2 / 2. Gradient through
/// dD/ds = -sigmoid(-s). Hessian: exact for relevant rows (sigmoid(-s)^2 + D sigmoid(-s) sigmoid(s));
/// for irrelevant rows the Gauss-Newton term sigmoid(-s)^2 where the margin is active (the exact second
/// derivative can be negative there).
/// </summary>
public sealed class ContrastiveObjective : QueryObjective
{
    private readonly ContrastiveOptions _options;

    /// <summary>The settings (read by the GPU backend).</summary>
    public ContrastiveOptions Options => _options;

    public ContrastiveObjective(ContrastiveOptions? options = null)
    {
        _options = options ?? new ContrastiveOptions();
        if (!(_options.Margin >= 0) || !double.IsFinite(_options.Margin)) throw new ArgumentException($"margin must be finite and non-negative, got {_options.Margin}.");
    }

    public override string Name => "contrastive";
    public override ObjectiveFamily Family => ObjectiveFamily.MetricLearning;

    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        double loss = 0, margin = _options.Margin;
        for (int i = 0; i < query.Count; i++)
        {
            double s = query.Scores[i];
            double d = RankingMath.ScoreDistance(s);
            double slope = RankingMath.Sigmoid(-s); // = -dD/ds
            if (query.Labels[i] > _options.Threshold)
            {
                loss += 0.5 * d * d;
                gradients[i] = (float)(-d * slope);
                hessians[i] = (float)(slope * slope + d * slope * RankingMath.Sigmoid(s));
            }
            else
            {
                double gap = Math.Max(0.0, margin - d);
                loss += 0.5 * gap * gap;
                gradients[i] = (float)(gap * slope);
                hessians[i] = (float)(gap > 0 ? slope * slope : 0.0);
            }
        }
        return loss;
    }
}
