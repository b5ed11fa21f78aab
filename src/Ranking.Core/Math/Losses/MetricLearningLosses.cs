namespace Ranking.Numerics;

/// <summary>
/// The contrastive loss on (query, document) (Ranking.Objectives.ContrastiveObjective): distance
/// D = softplus(-s); relevant rows pay D^2 / 2, the rest max(0, margin - D)^2 / 2.
/// </summary>
public struct ContrastiveLoss : IQueryLoss
{
    /// <summary>Irrelevant documents are pushed to a distance of at least this.</summary>
    public double Margin;
    /// <summary>Rows with a grade above this are similar to the query.</summary>
    public double Threshold;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.Linear;

    /// <inheritdoc/>
    public readonly ulong OrderKey(float label, ulong stream, int row) => 0;

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        double loss = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            double s = rows.Score(i);
            double d = RankingMath.ScoreDistance(s);
            double slope = RankingMath.Sigmoid(-s); // = -dD/ds
            if (rows.Label(i) > Threshold)
            {
                loss += 0.5 * d * d;
                rows.Gradient(i) = -d * slope;
                rows.Hessian(i) = slope * slope + d * slope * RankingMath.Sigmoid(s);
            }
            else
            {
                double gap = Math.Max(0.0, Margin - d);
                loss += 0.5 * gap * gap;
                rows.Gradient(i) = gap * slope;
                rows.Hessian(i) = gap > 0 ? slope * slope : 0.0;
            }
        }
        return loss;
    }
}

/// <summary>Negative mining of <see cref="TripletLoss"/> (the values of Ranking.Objectives.NegativeMining).</summary>
public enum TripletMining
{
    /// <summary>Every negative of the positive.</summary>
    All,
    /// <summary>k negatives drawn uniformly with replacement.</summary>
    Random,
    /// <summary>The k highest-scoring negatives.</summary>
    Hard,
    /// <summary>Up to k negatives scoring below the positive inside the margin; the hard ones when there is none.</summary>
    SemiHard,
}

/// <summary>What makes a triplet's (positive, negative) pair (kernel-side twin of Ranking.Objectives.TripletPairing).</summary>
public enum TripletPairs
{
    /// <summary>Positives above the threshold, negatives at or below it.</summary>
    Threshold,
    /// <summary>Any two rows with different grades: the higher is the positive.</summary>
    Graded,
}

/// <summary>
/// The triplet margin loss with the query as anchor (Ranking.Objectives.TripletObjective):
/// max(0, margin - (s_pos - s_neg)) for each positive and each mined negative. Workspace:
/// <see cref="IQueryRows.Order"/> rows by grade ascending (the negatives of any positive are a prefix),
/// <see cref="IQueryRows.ScoreOrder"/> rows by score, <see cref="IQueryRows.PlaceValue"/> the sorted scores,
/// <see cref="IQueryRows.Picked"/> the hard negatives (shared by positives with the same negative set).
/// </summary>
public struct TripletLoss : IQueryLoss
{
    /// <summary>The hinge margin.</summary>
    public double Margin;
    /// <summary>Which negatives each positive meets.</summary>
    public TripletMining Mining;
    /// <summary>k: negatives per positive for random, hard and semi-hard mining.</summary>
    public int Negatives;
    /// <summary>What makes a (positive, negative) pair.</summary>
    public TripletPairs Pairs;
    /// <summary>The positive/negative cut of threshold pairing.</summary>
    public double Threshold;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.Quadratic;

    /// <inheritdoc/>
    public readonly ulong OrderKey(float label, ulong stream, int row) => 0;

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count;
        for (int i = 0; i < n; i++) rows.SortKey(i) = RankingMath.DescendingScoreKey(-rows.Label(i), i);
        rows.SortByKey();
        rows.SortByScore();
        for (int r = 0; r < n; r++)
        {
            int row = rows.ScoreOrder(r);
            rows.PlaceValue(r) = rows.Score(row);
        }

        int k = Negatives;
        int hardLimit = Math.Min(k, n), hardCount = 0, hardFor = -1;
        double loss = 0;
        int thresholdNegatives = 0;
        for (int i = 0; i < n; i++) if (rows.Label(i) <= Threshold) thresholdNegatives++;

        int start = 0; // first place in Order of the current grade level
        for (int pos = 0; pos < n; pos++)
        {
            int p = rows.Order(pos);
            float yp = rows.Label(p);
            if (pos > 0)
            {
                int previous = rows.Order(pos - 1);
                if (rows.Label(previous) != yp) start = pos;
            }
            int negatives = Pairs == TripletPairs.Threshold ? (yp > Threshold ? thresholdNegatives : 0) : start;
            if (negatives == 0) continue;
            double sp = rows.Score(p);
            int lastNegative = rows.Order(negatives - 1);
            float negativeBelow = rows.Label(lastNegative); // a row is a negative when its grade <= this

            if (Mining == TripletMining.All)
            {
                for (int t = 0; t < negatives; t++) loss += Term(ref rows, p, rows.Order(t));
            }
            else if (Mining == TripletMining.Random)
            {
                for (int t = 0; t < k; t++)
                {
                    int drawn = RankingMath.RandomIndex(stream, (long)p * k + t, negatives);
                    loss += Term(ref rows, p, rows.Order(drawn));
                }
            }
            else
            {
                if (hardFor != negatives)
                {
                    hardCount = 0;
                    for (int r = 0; r < n && hardCount < hardLimit; r++)
                    {
                        int row = rows.ScoreOrder(r);
                        if (rows.Label(row) > negativeBelow) continue;
                        rows.Picked(hardCount) = row;
                        hardCount++;
                    }
                    hardFor = negatives;
                }
                int taken = 0;
                if (Mining == TripletMining.SemiHard)
                {
                    // First place scoring strictly below the positive, then down while inside the margin band.
                    for (int r = FirstBelow(ref rows, sp); r < n && taken < k && sp - rows.PlaceValue(r) < Margin; r++)
                    {
                        int q = rows.ScoreOrder(r);
                        if (rows.Label(q) > negativeBelow) continue;
                        loss += Term(ref rows, p, q);
                        taken++;
                    }
                }
                if (taken == 0)
                    for (int t = 0; t < hardCount; t++) loss += Term(ref rows, p, rows.Picked(t));
            }
        }
        return loss;
    }

    /// <summary>First place r with PlaceValue(r) &lt; value, the place values sorted descending.</summary>
    private static int FirstBelow<TRows>(ref TRows rows, double value) where TRows : IQueryRows, allows ref struct
    {
        int lo = 0, hi = rows.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (rows.PlaceValue(mid) < value) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    private readonly double Term<TRows>(ref TRows rows, int positive, int negative) where TRows : IQueryRows, allows ref struct
    {
        double loss = RankingMath.Hinge(Margin, (double)rows.Score(positive) - rows.Score(negative));
        if (loss > 0)
        {
            rows.Gradient(positive) -= 1; rows.Gradient(negative) += 1;
            rows.Hessian(positive) += 1; rows.Hessian(negative) += 1;
        }
        return loss;
    }
}
