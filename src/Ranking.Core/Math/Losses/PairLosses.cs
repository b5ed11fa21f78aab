namespace Ranking.Numerics;

/// <summary>
/// The loss of one document pair, and nothing else (TF-Ranking's pairwise losses define only this term):
/// <see cref="PairLoss{TTerm}"/> visits the pairs, on the CPU and on the device alike.
/// </summary>
public interface IPairTerm
{
    /// <summary>Whether pairs with equal grades pay something (the contrastive document-pair loss).</summary>
    bool VisitsEqualGrades { get; }

    /// <summary>Loss of a pair with different grades at d = s_high - s_low; <paramref name="slope"/> = d loss / d d; <paramref name="curvature"/> &gt;= 0 the Hessian weight of both rows.</summary>
    double Unequal(double difference, out double slope, out double curvature);

    /// <summary>Loss of a pair with equal grades at d = s_i - s_j (only when <see cref="VisitsEqualGrades"/>).</summary>
    double Equal(double difference, out double slope, out double curvature);
}

/// <summary>RankNet's pair term (Burges et al. 2005): log(1 + exp(-sigma d)); slope -sigma p, curvature sigma^2 p (1 - p), p = sigmoid(-sigma d).</summary>
public struct RankNetPair : IPairTerm
{
    /// <summary>Steepness of the pair sigmoid.</summary>
    public double Sigma;

    /// <inheritdoc/>
    public readonly bool VisitsEqualGrades => false;

    /// <inheritdoc/>
    public readonly double Unequal(double difference, out double slope, out double curvature)
    {
        double loss = RankingMath.RankNetPairLossAndProbability(Sigma, difference, out double p);
        slope = -Sigma * p;
        curvature = Sigma * Sigma * p * (1.0 - p);
        return loss;
    }

    /// <inheritdoc/>
    public readonly double Equal(double difference, out double slope, out double curvature) { slope = 0; curvature = 0; return 0; }
}

/// <summary>RankSVM's hinge max(0, margin - d): slope -1 where active; curvature 1 per active pair (the squared hinge's, an approximation).</summary>
public struct RankSvmPair : IPairTerm
{
    /// <summary>The hinge margin.</summary>
    public double Margin;

    /// <inheritdoc/>
    public readonly bool VisitsEqualGrades => false;

    /// <inheritdoc/>
    public readonly double Unequal(double difference, out double slope, out double curvature)
    {
        double loss = RankingMath.Hinge(Margin, difference);
        bool active = loss > 0;
        slope = active ? -1.0 : 0.0;
        curvature = active ? 1.0 : 0.0;
        return loss;
    }

    /// <inheritdoc/>
    public readonly double Equal(double difference, out double slope, out double curvature) { slope = 0; curvature = 0; return 0; }
}

/// <summary>The contrastive document-pair term: unequal grades pay max(0, margin - d)^2 / 2, equal grades d^2 / 2 (exact curvature).</summary>
public struct ContrastivePair : IPairTerm
{
    /// <summary>How far above the worse row the better one is pushed.</summary>
    public double Margin;

    /// <inheritdoc/>
    public readonly bool VisitsEqualGrades => true;

    /// <inheritdoc/>
    public readonly double Unequal(double difference, out double slope, out double curvature)
    {
        double gap = Margin - difference;
        bool active = gap > 0;
        slope = active ? -gap : 0.0;
        curvature = active ? 1.0 : 0.0;
        return active ? 0.5 * gap * gap : 0.0;
    }

    /// <inheritdoc/>
    public readonly double Equal(double difference, out double slope, out double curvature)
    {
        slope = difference;
        curvature = 1.0;
        return 0.5 * difference * difference;
    }
}

/// <summary>What a pair of <see cref="PairLoss{TTerm}"/> is worth.</summary>
public enum PairWeights
{
    /// <summary>Graded data: a pair with different grades pays the term once, the better-graded row as "high".</summary>
    Grades,
    /// <summary>
    /// Clicks with inverse-propensity weights (IPW; Joachims et al. 2017): row i's weight w_i is its
    /// <see cref="IQueryRows.Auxiliary"/> value (0 = not clicked), and the pair {i, j} pays
    /// w_i term(s_i - s_j) + w_j term(s_j - s_i): each clicked row against every other shown row.
    /// </summary>
    Clicks,
    /// <summary>
    /// <see cref="Clicks"/> with each pair also weighted by |D(r_i) - D(r_j)|, the change in discount when the
    /// two swap ranks under the current scores (IPW LambdaRank: the lambda of DCG with the click weights as gains).
    /// </summary>
    ClicksByDiscount,
}

/// <summary>
/// The pair loop of RankNet, RankSVM, the contrastive document-pair loss and the IPW pairwise click losses,
/// over any <see cref="IPairTerm"/>: every pair (i &lt; j by row; under click weights every pair with a clicked row,
/// from that row), or with <see cref="Truncation"/> k the pairs
/// (place a &lt; k, any later place) of the stable order by score, or with <see cref="PairsPerRow"/> m each row's
/// m seeded partners, each weighted (n - 1) / (2 m) so the expected loss is the all-pairs loss. What a pair
/// pays is <see cref="Weights"/>' business (<see cref="Terms"/>). Pairs are visited in a fixed order and summed
/// in float64, so results repeat. The device's thread-per-row form of long queries visits the same pairs
/// through <see cref="Terms"/>. Workspace: with <see cref="PairWeights.ClicksByDiscount"/>,
/// <see cref="IQueryRows.RowValue"/> holds each row's discount at its current rank (<see cref="FillDiscounts"/>).
/// </summary>
public struct PairLoss<TTerm> : IQueryLoss where TTerm : struct, IPairTerm
{
    /// <summary>The pair term.</summary>
    public TTerm Term;

    /// <summary>0 = no cut; k &gt; 0 = pairs whose better-scored row ranks above k: O(k n).</summary>
    public int Truncation;

    /// <summary>0 = every pair; m &gt; 0 = m partners drawn per row (only when m &lt; n - 1).</summary>
    public int PairsPerRow;

    /// <summary>What a pair is worth: grades (the default), or IPW click weights read from the rows.</summary>
    public PairWeights Weights;

    /// <inheritdoc/>
    public readonly QueryWork Work => QueryWork.Quadratic;

    /// <inheritdoc/>
    public readonly ulong OrderKey(float label, ulong stream, int row) => 0;

    /// <summary>True when a query of <paramref name="n"/> rows takes drawn partners rather than every (or every truncated) pair.</summary>
    public readonly bool Samples(int n) => Truncation == 0 && PairsPerRow > 0 && PairsPerRow < n - 1;

    /// <summary>True when <see cref="Terms"/> reads each row's discount at its current rank from <see cref="IQueryRows.RowValue"/>.</summary>
    public readonly bool ReadsDiscounts => Weights == PairWeights.ClicksByDiscount;

    /// <inheritdoc/>
    public readonly double Compute<TRows>(ref TRows rows, ulong stream) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count;
        double loss = 0;
        if (Truncation > 0 || ReadsDiscounts) rows.SortByScore();
        if (ReadsDiscounts) FillDiscounts(ref rows);
        if (Truncation > 0)
        {
            int top = Truncation < n - 1 ? Truncation : n - 1;
            for (int a = 0; a < top; a++)
                for (int b = a + 1; b < n; b++)
                    loss += Visit(ref rows, rows.ScoreOrder(a), rows.ScoreOrder(b), 1.0);
        }
        else if (Samples(n))
        {
            int m = PairsPerRow;
            double weight = (n - 1) / (2.0 * m);
            for (int i = 0; i < n; i++)
                for (int t = 0; t < m; t++)
                {
                    int j = RankingMath.RandomIndex(stream, (long)i * m + t, n - 1);
                    if (j >= i) j++;
                    loss += Visit(ref rows, i, j, weight);
                }
        }
        else if (Weights != PairWeights.Grades)
        {
            // Only pairs with a clicked row pay: visit them from their clicked rows, O(clicks n), each pair once.
            for (int i = 0; i < n; i++)
            {
                if (!(rows.Auxiliary(i) > 0)) continue;
                for (int j = 0; j < n; j++)
                {
                    if (j == i || (j < i && rows.Auxiliary(j) > 0)) continue;   // a clicked j before i met i already
                    loss += Visit(ref rows, i, j, 1.0);
                }
            }
        }
        else
        {
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                    loss += Visit(ref rows, i, j, 1.0);
        }
        return loss;
    }

    /// <summary>Writes into <see cref="IQueryRows.RowValue"/> each row's discount at its place in <see cref="IQueryRows.ScoreOrder"/> (sorted already).</summary>
    public static void FillDiscounts<TRows>(ref TRows rows) where TRows : IQueryRows, allows ref struct
    {
        int n = rows.Count;
        for (int place = 0; place < n; place++)
        {
            int row = rows.ScoreOrder(place);
            rows.RowValue(row) = RankingMath.Discount(place);
        }
    }

    private readonly double Visit<TRows>(ref TRows rows, int i, int j, double weight) where TRows : IQueryRows, allows ref struct
    {
        if (!Terms(ref rows, i, j, out int high, out double loss, out double slope, out double curvature)) return 0.0;
        int low = high == i ? j : i;
        rows.Gradient(high) += weight * slope;
        rows.Gradient(low) -= weight * slope;
        rows.Hessian(high) += weight * curvature;
        rows.Hessian(low) += weight * curvature;
        return weight * loss;
    }

    /// <summary>
    /// The pair (i, j), visited in this order: its loss, d loss / d s_high (the other row gets the negative)
    /// and curvature (both rows). False when the pair counts for nothing (equal grades, unless the term
    /// visits them, then i plays "high"; with click weights, two unclicked rows, and i plays "high").
    /// </summary>
    public readonly bool Terms<TRows>(ref TRows rows, int i, int j, out int high, out double loss, out double slope, out double curvature)
        where TRows : IQueryRows, allows ref struct
    {
        high = i;
        if (Weights != PairWeights.Grades) return ClickTerms(ref rows, i, j, out loss, out slope, out curvature);
        float yi = rows.Label(i), yj = rows.Label(j);
        if (yi == yj)
        {
            if (!Term.VisitsEqualGrades) { loss = slope = curvature = 0.0; return false; }
            loss = Term.Equal((double)rows.Score(i) - rows.Score(j), out slope, out curvature);
            return true;
        }
        int low = j;
        if (yj > yi) { high = j; low = i; }
        loss = Term.Unequal((double)rows.Score(high) - rows.Score(low), out slope, out curvature);
        return true;
    }

    /// <summary>
    /// The pair {i, j} under click weights: w_i term(s_i - s_j) + w_j term(s_j - s_i), times the change of
    /// discount for <see cref="PairWeights.ClicksByDiscount"/>; slope and curvature as seen from row i.
    /// </summary>
    private readonly bool ClickTerms<TRows>(ref TRows rows, int i, int j, out double loss, out double slope, out double curvature)
        where TRows : IQueryRows, allows ref struct
    {
        loss = slope = curvature = 0.0;
        double wi = rows.Auxiliary(i), wj = rows.Auxiliary(j);
        bool iClicked = wi > 0, jClicked = wj > 0;
        if (!iClicked && !jClicked) return false;
        if (ReadsDiscounts)
        {
            double change = Math.Abs(rows.RowValue(i) - rows.RowValue(j));
            wi *= change;
            wj *= change;
            if (wi == 0 && wj == 0) return false;
        }
        double difference = (double)rows.Score(i) - rows.Score(j);
        if (iClicked)
        {
            double pairLoss = Term.Unequal(difference, out double s, out double c);
            loss += wi * pairLoss;
            slope += wi * s;
            curvature += wi * c;
        }
        if (jClicked)
        {
            double pairLoss = Term.Unequal(-difference, out double s, out double c);
            loss += wj * pairLoss;
            slope -= wj * s;
            curvature += wj * c;
        }
        return true;
    }
}
