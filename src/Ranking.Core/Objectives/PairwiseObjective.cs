using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>Which pairs of a query a pairwise objective visits.</summary>
public sealed class PairSelection
{
    /// <summary>0 = no cut; k &gt; 0 = only pairs whose better-scored row ranks above k (as LambdaRank): O(k n).</summary>
    [Knob("only pairs whose better-scored row ranks above k; 0 = every pair", Min = 0, Flag = true)]
    public int Truncation { get; init; }
    /// <summary>
    /// 0 = every pair; m &gt; 0 = each row draws m partners uniformly from its query (seeded), each drawn
    /// pair weighted (n - 1) / (2 m) so the expected loss is the all-pairs loss: O(m n). Used only when
    /// m &lt; n - 1 (shorter queries take every pair exactly).
    /// </summary>
    [Knob("sample this many partners per row (seeded) instead of every pair; 0 = every pair", Min = 0)]
    public int PairsPerRow { get; init; }

    internal void Check()
    {
        if (Truncation < 0) throw new ArgumentException($"truncation must be 0 (off) or positive, got {Truncation}.");
        if (PairsPerRow < 0) throw new ArgumentException($"pairs-per-row must be 0 (all pairs) or positive, got {PairsPerRow}.");
        if (Truncation > 0 && PairsPerRow > 0) throw new ArgumentException("truncation and pairs-per-row cannot both be set: choose one way to bound the pairs.");
    }
}

/// <summary>
/// The pair loop shared by RankNet, RankSVM and the contrastive document-pair loss. Pairs are visited in
/// a fixed order (by row index, or by score rank under truncation, or by draw number when sampled) and
/// accumulated in float64 per query, so results repeat. A subclass supplies the loss of one pair as a
/// function of d = s_high - s_low (the higher grade first), its derivative, and a curvature &gt;= 0.
/// </summary>
public abstract class PairwiseObjective : QueryObjective
{
    protected PairwiseObjective(PairSelection? pairs)
    {
        Pairs = pairs ?? new PairSelection();
        Pairs.Check();
    }

    public PairSelection Pairs { get; }

    /// <summary>Loss of a pair with different grades at d = s_high - s_low; dLoss = d loss / d d; curvature the Hessian weight for both rows.</summary>
    protected abstract double PairLoss(double difference, out double dLoss, out double curvature);

    /// <summary>Whether pairs with equal grades pay something (the contrastive document-pair loss).</summary>
    protected virtual bool VisitsEqualGrades => false;

    /// <summary>Loss of a pair with equal grades at d = s_i - s_j (only when <see cref="VisitsEqualGrades"/>).</summary>
    protected virtual double EqualPairLoss(double difference, out double dLoss, out double curvature) { dLoss = 0; curvature = 0; return 0; }

    protected sealed override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count;
        var grad = scratch.Doubles(0, n);
        var hess = scratch.Doubles(1, n);
        grad.Clear(); hess.Clear();
        var labels = query.Labels;
        var scores = query.Scores;
        double loss = 0;

        if (Pairs.Truncation > 0)
        {
            var order = scratch.Ints(0, n);
            QueryOrder.ByScoreDescending(scores, order, scratch.Keys(n));
            int top = Math.Min(Pairs.Truncation, n - 1);
            for (int a = 0; a < top; a++)
                for (int b = a + 1; b < n; b++)
                    loss += Visit(order[a], order[b], 1.0, labels, scores, grad, hess);
        }
        else if (Pairs.PairsPerRow > 0 && Pairs.PairsPerRow < n - 1)
        {
            int m = Pairs.PairsPerRow;
            double weight = (n - 1) / (2.0 * m);
            ulong stream = StreamOf(query);
            for (int i = 0; i < n; i++)
                for (int t = 0; t < m; t++)
                {
                    int j = RankingMath.RandomIndex(stream, (long)i * m + t, n - 1);
                    if (j >= i) j++;
                    loss += Visit(i, j, weight, labels, scores, grad, hess);
                }
        }
        else
        {
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                    loss += Visit(i, j, 1.0, labels, scores, grad, hess);
        }

        for (int i = 0; i < n; i++)
        {
            gradients[i] = (float)grad[i];
            hessians[i] = (float)hess[i];
        }
        return loss;
    }

    private double Visit(int i, int j, double weight, ReadOnlySpan<float> labels, ReadOnlySpan<float> scores, Span<double> grad, Span<double> hess)
    {
        float yi = labels[i], yj = labels[j];
        double loss, dLoss, curvature;
        int high = i, low = j;
        if (yi == yj)
        {
            if (!VisitsEqualGrades) return 0;
            loss = EqualPairLoss((double)scores[i] - scores[j], out dLoss, out curvature);
        }
        else
        {
            if (yj > yi) { high = j; low = i; }
            loss = PairLoss((double)scores[high] - scores[low], out dLoss, out curvature);
        }
        grad[high] += weight * dLoss;
        grad[low] -= weight * dLoss;
        hess[high] += weight * curvature;
        hess[low] += weight * curvature;
        return weight * loss;
    }
}

public sealed class RankNetOptions
{
    /// <summary>The steepness of the pair sigmoid.</summary>
    [Knob(ObjectiveKnobText.Sigma, Aliases = "sigmoid", Min = 0, MinExclusive = true)]
    public double Sigma { get; init; } = 1.0;
    /// <summary>Which pairs are visited.</summary>
    [KnobGroup]
    public PairSelection Pairs { get; init; } = new();
}

/// <summary>
/// RankNet (Burges et al. 2005): for every pair with y_h &gt; y_l, loss log(1 + exp(-sigma (s_h - s_l)));
/// gradient -sigma p / +sigma p with p = sigmoid(-sigma (s_h - s_l)); Hessian sigma^2 p (1 - p) (exact
/// per pair; the diagonal sums them). Every pair by default (O(n^2)); see <see cref="PairSelection"/>.
/// </summary>
public sealed class RankNetObjective : PairwiseObjective
{
    private readonly double _sigma;

    /// <summary>RankNet's sigma (read by the GPU backend).</summary>
    public double Sigma => _sigma;

    public RankNetObjective(RankNetOptions? options = null) : base((options ??= new RankNetOptions()).Pairs)
    {
        if (!(options.Sigma > 0) || !double.IsFinite(options.Sigma)) throw new ArgumentException($"sigma must be positive, got {options.Sigma}.");
        _sigma = options.Sigma;
    }

    public override string Name => "ranknet";
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;

    protected override double PairLoss(double difference, out double dLoss, out double curvature)
    {
        double loss = RankingMath.RankNetPairLossAndProbability(_sigma, difference, out double p);
        dLoss = -_sigma * p;
        curvature = _sigma * _sigma * p * (1.0 - p);
        return loss;
    }
}

public sealed class RankSvmOptions
{
    /// <summary>The hinge margin.</summary>
    [Knob(ObjectiveKnobText.Margin, Min = 0)]
    public double Margin { get; init; } = 1.0;
    /// <summary>Which pairs are visited.</summary>
    [KnobGroup]
    public PairSelection Pairs { get; init; } = new();
}

/// <summary>
/// RankSVM's pairwise hinge (Herbrich et al. 2000; Joachims 2002): loss max(0, margin - (s_h - s_l)) per
/// pair with y_h &gt; y_l; subgradient -1 / +1 where active (0 on the kink). The hinge has no curvature,
/// so the Hessian is an approximation: 1 per active pair on both rows (the curvature of the squared
/// hinge), which gives Newton-step learners a positive, scale-aware diagonal.
/// </summary>
public sealed class RankSvmObjective : PairwiseObjective
{
    private readonly double _margin;

    /// <summary>The margin (read by the GPU backend).</summary>
    public double Margin => _margin;

    public RankSvmObjective(RankSvmOptions? options = null) : base((options ??= new RankSvmOptions()).Pairs)
    {
        if (!(options.Margin >= 0) || !double.IsFinite(options.Margin)) throw new ArgumentException($"margin must be finite and non-negative, got {options.Margin}.");
        _margin = options.Margin;
    }

    public override string Name => "ranksvm";
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;

    protected override double PairLoss(double difference, out double dLoss, out double curvature)
    {
        double loss = RankingMath.Hinge(_margin, difference);
        bool active = loss > 0;
        dLoss = active ? -1.0 : 0.0;
        curvature = active ? 1.0 : 0.0;
        return loss;
    }
}

public sealed class ContrastivePairsOptions
{
    /// <summary>The hinge margin.</summary>
    [Knob(ObjectiveKnobText.Margin, Min = 0)]
    public double Margin { get; init; } = 1.0;
    /// <summary>Which pairs are visited.</summary>
    [KnobGroup]
    public PairSelection Pairs { get; init; } = new();
}

/// <summary>
/// The contrastive loss on document pairs: equal grades pay (s_i - s_j)^2 / 2 (pulled together);
/// y_h &gt; y_l pays max(0, margin - (s_h - s_l))^2 / 2 (the better one pushed a margin above). The signed
/// difference, not |s_i - s_j|, is the "distance": an undirected distance cannot rank. Hessian exact:
/// 1 per equal pair and per active unequal pair on both rows.
/// </summary>
public sealed class ContrastivePairsObjective : PairwiseObjective
{
    private readonly double _margin;

    /// <summary>The margin (read by the GPU backend).</summary>
    public double Margin => _margin;

    public ContrastivePairsObjective(ContrastivePairsOptions? options = null) : base((options ??= new ContrastivePairsOptions()).Pairs)
    {
        if (!(options.Margin >= 0) || !double.IsFinite(options.Margin)) throw new ArgumentException($"margin must be finite and non-negative, got {options.Margin}.");
        _margin = options.Margin;
    }

    public override string Name => "contrastive-pairs";
    public override ObjectiveFamily Family => ObjectiveFamily.MetricLearning;
    protected override bool VisitsEqualGrades => true;

    protected override double PairLoss(double difference, out double dLoss, out double curvature)
    {
        double gap = _margin - difference;
        bool active = gap > 0;
        dLoss = active ? -gap : 0.0;
        curvature = active ? 1.0 : 0.0;
        return active ? 0.5 * gap * gap : 0.0;
    }

    protected override double EqualPairLoss(double difference, out double dLoss, out double curvature)
    {
        dLoss = difference;
        curvature = 1.0;
        return 0.5 * difference * difference;
    }
}
