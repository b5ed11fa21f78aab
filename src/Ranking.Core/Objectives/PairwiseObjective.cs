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

    /// <summary>The declared ranges (<see cref="KnobSet.Checked{T}"/>) and the one rule no single knob can state.</summary>
    internal void Check()
    {
        KnobSet.Checked(this, "pair selection");
        if (Truncation > 0 && PairsPerRow > 0) throw new ArgumentException("truncation and pairs-per-row cannot both be set: choose one way to bound the pairs.");
    }
}

/// <summary>
/// RankNet, RankSVM and the contrastive document-pair loss: a pair term (<see cref="IPairTerm"/>) visited
/// by the one pair loop <see cref="PairLoss{TTerm}"/> (every pair, truncated by score rank, or seeded
/// draws; fixed visiting order, float64 sums, so results repeat). A backend reaches the pair term's type
/// through <see cref="AcceptPairs{TResult}"/> to run the same pairs a thread per row on long queries.
/// </summary>
public abstract class PairwiseObjective<TTerm> : QueryLossObjective<PairLoss<TTerm>>, IPairwiseObjective where TTerm : struct, IPairTerm
{
    /// <summary>
    /// The objective of <paramref name="term"/> over the pairs <paramref name="pairs"/> selects, each worth what
    /// <paramref name="weights"/> says (grades, or IPW click weights).
    /// </summary>
    protected PairwiseObjective(TTerm term, PairSelection? pairs, PairWeights weights = PairWeights.Grades) : base(Loop(term, pairs, weights))
    {
        Pairs = pairs ?? new PairSelection();
    }

    private static PairLoss<TTerm> Loop(TTerm term, PairSelection? pairs, PairWeights weights)
    {
        pairs ??= new PairSelection();
        pairs.Check();
        return new PairLoss<TTerm> { Term = term, Truncation = pairs.Truncation, PairsPerRow = pairs.PairsPerRow, Weights = weights };
    }

    /// <summary>Which pairs are visited.</summary>
    public PairSelection Pairs { get; }

    /// <inheritdoc/>
    public TResult AcceptPairs<TResult>(IPairLossVisitor<TResult> visitor) => visitor.Visit(this, Loss);
}

/// <summary>A pairwise objective whose pair term a backend can reach with its static type.</summary>
public interface IPairwiseObjective : IQueryLossObjective
{
    /// <summary>Which pairs are visited.</summary>
    PairSelection Pairs { get; }

    /// <summary>Calls <paramref name="visitor"/> with this objective's pair loop.</summary>
    TResult AcceptPairs<TResult>(IPairLossVisitor<TResult> visitor);
}

/// <summary>Receives a pair loop with its pair term's static type.</summary>
public interface IPairLossVisitor<out TResult>
{
    /// <summary>Called with the objective and its pair loop.</summary>
    TResult Visit<TTerm>(IPairwiseObjective objective, PairLoss<TTerm> loss) where TTerm : struct, IPairTerm;
}

/// <summary>The knobs of <see cref="RankNetObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
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
public sealed class RankNetObjective(RankNetOptions? options = null)
    : PairwiseObjective<RankNetPair>(new RankNetPair { Sigma = (options = KnobSet.Checked(options ?? new RankNetOptions(), "objective 'ranknet'")).Sigma }, options.Pairs)
{

    /// <summary>RankNet's sigma.</summary>
    public double Sigma => Loss.Term.Sigma;

    /// <summary>"ranknet": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "ranknet";
    /// <summary>Pairwise: the loss sums over pairs of rows of a query with different grades.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;
}

/// <summary>The knobs of <see cref="RankSvmObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
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
public sealed class RankSvmObjective(RankSvmOptions? options = null)
    : PairwiseObjective<RankSvmPair>(new RankSvmPair { Margin = (options = KnobSet.Checked(options ?? new RankSvmOptions(), "objective 'ranksvm'")).Margin }, options.Pairs)
{

    /// <summary>The margin.</summary>
    public double Margin => Loss.Term.Margin;

    /// <summary>"ranksvm": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "ranksvm";
    /// <summary>Pairwise: the loss sums over pairs of rows of a query with different grades.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;
}

/// <summary>The knobs of <see cref="ContrastivePairsObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
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
public sealed class ContrastivePairsObjective(ContrastivePairsOptions? options = null)
    : PairwiseObjective<ContrastivePair>(new ContrastivePair { Margin = (options = KnobSet.Checked(options ?? new ContrastivePairsOptions(), "objective 'contrastive-pairs'")).Margin }, options.Pairs)
{
    /// <summary>The margin.</summary>
    public double Margin => Loss.Term.Margin;

    /// <summary>"contrastive-pairs": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "contrastive-pairs";
    /// <summary>Metric learning: scores act as negated distances between a query and its documents.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.MetricLearning;
}
