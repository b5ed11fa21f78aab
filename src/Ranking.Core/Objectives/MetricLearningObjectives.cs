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

/// <summary>The knobs of <see cref="TripletObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
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
public sealed class TripletObjective : QueryLossObjective<TripletLoss>
{
    private readonly TripletOptions _options;

    /// <summary>The objective with <paramref name="options"/> (null = every knob at its default); a setting out of range is an <see cref="ArgumentException"/>.</summary>
    public TripletObjective(TripletOptions? options = null) : base(Body(options ??= new TripletOptions()))
    {
        _options = options;
    }

    private static TripletLoss Body(TripletOptions options)
    {
        KnobSet.Checked(options, "objective 'triplet'");
        return new TripletLoss
        {
            Margin = options.Margin, Mining = (TripletMining)options.Mining, Negatives = options.Negatives,
            Pairs = (TripletPairs)options.Pairing, Threshold = options.Threshold,
        };
    }

    /// <summary>The settings.</summary>
    public TripletOptions Options => _options;
    /// <summary>"triplet": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "triplet";
    /// <summary>Metric learning: scores act as negated distances between a query and its documents.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.MetricLearning;
}

/// <summary>The knobs of <see cref="ContrastiveObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
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
public sealed class ContrastiveObjective : QueryLossObjective<ContrastiveLoss>
{
    private readonly ContrastiveOptions _options;

    /// <summary>The settings.</summary>
    public ContrastiveOptions Options => _options;

    /// <summary>The objective with <paramref name="options"/> (null = every knob at its default); a setting out of range is an <see cref="ArgumentException"/>.</summary>
    public ContrastiveObjective(ContrastiveOptions? options = null)
        : base(new ContrastiveLoss { Margin = (options = KnobSet.Checked(options ?? new ContrastiveOptions(), "objective 'contrastive'")).Margin, Threshold = options.Threshold })
    {
        _options = options;
    }

    /// <summary>"contrastive": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "contrastive";
    /// <summary>Metric learning: scores act as negated distances between a query and its documents.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.MetricLearning;
}
