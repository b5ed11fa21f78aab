using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>The examination propensities an IPW objective divides clicks by (a knob group of the IPW options).</summary>
public sealed class PropensityOptions
{
    private PropensityTable? _given;
    private (string Text, double Clip, PropensityTable Table)? _parsed;

    /// <summary>The propensity knob as written (<see cref="PropensityTable.Parse"/>: <c>eta:X</c> or a list).</summary>
    [Knob("examination propensity per position: eta:X for (1/k)^eta, or a list 1,0.5,0.33,... (position 1 first)", Name = "propensities")]
    public string Text { get; init; } = "eta:1";

    /// <summary>Weights divide by max(propensity, clip): clipped IPW.</summary>
    [Knob("weights divide by max(propensity, clip): clipped IPW", Min = 0, Max = 1)]
    public double Clip { get; init; } = 0.01;

    /// <summary>
    /// The propensities by position: the table given, else parsed from <see cref="Text"/> and <see cref="Clip"/>
    /// (bad text is an ArgumentException naming it).
    /// </summary>
    public PropensityTable Table
    {
        get
        {
            if (_given is not null) return _given;
            // Keyed by the text and clip it came from: binding knobs copies options objects, cache and all.
            var parsed = _parsed;
            if (parsed is null || parsed.Value.Text != Text || parsed.Value.Clip != Clip)
            {
                parsed = (Text, Clip, PropensityTable.Parse(Text, Clip));
                _parsed = parsed;
            }
            return parsed.Value.Table;
        }
        init => _given = value;
    }
}

/// <summary>Settings of the pairwise IPW objectives (<see cref="IpwRankNetObjective"/>, <see cref="IpwLambdaRankObjective"/>).</summary>
public sealed class IpwOptions
{
    /// <summary>The propensities clicks are divided by.</summary>
    [KnobGroup]
    public PropensityOptions Propensities { get; init; } = new();
    /// <summary>RankNet's sigma.</summary>
    [Knob(ObjectiveKnobText.Sigma, Aliases = "sigmoid", Min = 0, MinExclusive = true)]
    public double Sigma { get; init; } = 1.0;
    /// <summary>
    /// 0 = every pair (clicked i, any j); k &gt; 0 = only pairs in which i or j ranks in the top k by score,
    /// O(k n) per query instead of O(clicks n).
    /// </summary>
    [Knob("only pairs with a row in the top k by score, O(k n); 0 = every pair of a clicked row", Min = 0)]
    public int Truncation { get; init; }
}

/// <summary>Settings of <see cref="IpwSoftmaxObjective"/>: only the propensities (a softmax has no pair sigma and no truncation).</summary>
public sealed class IpwSoftmaxOptions
{
    /// <summary>The propensities clicks are divided by.</summary>
    [KnobGroup]
    public PropensityOptions Propensities { get; init; } = new();
}

/// <summary>
/// Counterfactual learning to rank with inverse propensity weighting (Joachims et al. WSDM 2017), pairwise: a
/// clicked row (label &gt; 0: a click, or a dwell-weighted click) counts as relevant with weight w_i = label /
/// max(theta_k, clip) for its display position k (<see cref="PropensityTable.ClickWeights"/>; the body reads it
/// as the row's <see cref="IQueryRows.Auxiliary"/> value); unclicked rows weigh 0. Under the PBM,
/// E[click / theta_k] = P(relevant), so in expectation over clicks the loss equals the same loss on the true
/// relevance (full information). The pairs are RankNet's pair term under the one pair loop
/// (<see cref="PairLoss{TTerm}"/> with <see cref="PairWeights"/> set to clicks), so the GPU runs the same body.
/// </summary>
public abstract class IpwPairwiseObjective : PairwiseObjective<RankNetPair>
{
    /// <summary>Checks the settings against their knob declarations; pairs weighted as <paramref name="weights"/> says.</summary>
    protected IpwPairwiseObjective(IpwOptions? options, PairWeights weights, string name)
        : base(new RankNetPair { Sigma = (options = Checked(options, name)).Sigma }, new PairSelection { Truncation = options.Truncation }, weights)
    {
        Options = options;
    }

    private static IpwOptions Checked(IpwOptions? options, string name)
    {
        var checkedOptions = KnobSet.Checked(options ?? new IpwOptions(), $"objective '{name}'");
        _ = checkedOptions.Propensities.Table;   // bad propensity text fails here, not at the first batch
        return checkedOptions;
    }

    /// <summary>The settings.</summary>
    public IpwOptions Options { get; }

    /// <summary>The propensity table the weights come from.</summary>
    public PropensityTable Propensities => Options.Propensities.Table;

    /// <inheritdoc/>
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;

    /// <inheritdoc/>
    public override bool ReadsRowInputs => true;

    /// <summary>Each row's IPW weight (<see cref="PropensityTable.ClickWeights"/>).</summary>
    public override float[] RowInputs(in ObjectiveBatch batch) => Propensities.ClickWeights(batch);
}

/// <summary>
/// IPW RankNet (Propensity-weighted RankNet; Joachims et al. 2017's rank surrogate with the logistic loss):
/// loss = sum over clicked i of w_i sum over j != i of log(1 + exp(-sigma (s_i - s_j))), every other shown row j
/// counting as a row i must beat. Gradient and Hessian exact per pair (Hessian the diagonal).
/// </summary>
public sealed class IpwRankNetObjective(IpwOptions? options = null) : IpwPairwiseObjective(options, PairWeights.Clicks, "ipw-ranknet")
{
    /// <inheritdoc/>
    public override string Name => "ipw-ranknet";
}

/// <summary>
/// IPW LambdaRank: IPW RankNet with each pair (i clicked, j) weighted by |D(r_i) - D(r_j)|, the change in
/// the discount when i and j swap ranks under the current scores (the lambda of DCG with w as gains: still
/// linear in w, so still unbiased). The rank weights are held constant within a step, as in LambdaRank.
/// </summary>
public sealed class IpwLambdaRankObjective(IpwOptions? options = null) : IpwPairwiseObjective(options, PairWeights.ClicksByDiscount, "ipw-lambdarank")
{
    /// <inheritdoc/>
    public override string Name => "ipw-lambdarank";
}

/// <summary>
/// IPW softmax cross-entropy (the listwise IPW loss of Ai et al. SIGIR 2018; ListNet top-1 with clicks as the
/// target): loss = -sum_i w_i log softmax(s)_i with the IPW weights of <see cref="PropensityTable.ClickWeights"/>,
/// not normalised per query (a per-query normaliser would make the estimate biased). Gradient W softmax(s) - w
/// with W = sum w; Hessian W softmax (1 - softmax) (exact diagonal). The body is the softmax loss's
/// (<see cref="SoftmaxLoss"/> with <see cref="SoftmaxWeights.Clicks"/>).
/// </summary>
public sealed class IpwSoftmaxObjective : QueryLossObjective<SoftmaxLoss>
{
    /// <summary>Checks the settings against their knob declarations.</summary>
    public IpwSoftmaxObjective(IpwSoftmaxOptions? options = null) : base(new SoftmaxLoss { Weights = SoftmaxWeights.Clicks })
    {
        Options = KnobSet.Checked(options ?? new IpwSoftmaxOptions(), "objective 'ipw-softmax'");
        _ = Options.Propensities.Table;
    }

    /// <summary>The settings.</summary>
    public IpwSoftmaxOptions Options { get; }

    /// <summary>The propensity table the weights come from.</summary>
    public PropensityTable Propensities => Options.Propensities.Table;

    /// <inheritdoc/>
    public override string Name => "ipw-softmax";
    /// <inheritdoc/>
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;

    /// <inheritdoc/>
    public override bool ReadsRowInputs => true;

    /// <summary>Each row's IPW weight (<see cref="PropensityTable.ClickWeights"/>).</summary>
    public override float[] RowInputs(in ObjectiveBatch batch) => Propensities.ClickWeights(batch);
}

/// <summary>Settings of <see cref="UnbiasedLambdaRankObjective"/>.</summary>
public sealed class UnbiasedLambdaRankOptions
{
    /// <summary>RankNet's sigma.</summary>
    [Knob(ObjectiveKnobText.Sigma, Aliases = "sigmoid", Min = 0, MinExclusive = true)]
    public double Sigma { get; init; } = 1.0;
    /// <summary>Pairs whose better-ranked row is above this rank (as LambdaRank); maxDCG cut here.</summary>
    [Knob("only pairs whose better-ranked row is above this rank; maxDCG cut here", Min = 1)]
    public int Truncation { get; init; } = 30;
    /// <summary>LightGBM's normalisation (score-gap division and log2(1+S)/S per query).</summary>
    [Knob("LightGBM's lambdarank_norm (score-gap division and log2(1+S)/S rescaling)", Name = "norm")]
    public bool Normalize { get; init; } = true;
    /// <summary>p of the propensity update t = (L_k / L_1)^(1 / (1 + p)) (XGBoost's lambdarank_bias_norm).</summary>
    [Knob("p of the bias update t = (L_k / L_1)^(1/(1+p)) (XGBoost's lambdarank_bias_norm)", Min = 0)]
    public double BiasNorm { get; init; } = 1.0;
    /// <summary>
    /// Memory of the position-cost sums across calls: L = decay L + this call's sums. 0 = each call on its own
    /// (XGBoost, one call per boosting round); near 1 for mini-batches, whose sums are noisy.
    /// </summary>
    [Knob("memory of the position-cost sums across calls (0 = each call alone, as XGBoost per round)", Min = 0, Max = 1, MaxExclusive = true)]
    public double BiasDecay { get; init; } = 0.9;
    /// <summary>Positions 1..this are debiased and tracked (pairs with a row below it are left as they are, as XGBoost does).</summary>
    [Knob("positions 1..this are debiased and tracked", Min = 1, Max = 1024)]
    public int MaxPosition { get; init; } = 32;
    /// <summary>Re-estimate t+ and t- after every call (off: they stay at <see cref="InitialPropensities"/>).</summary>
    [Knob("re-estimate the biases after every call; false keeps them at 'propensities'")]
    public bool LearnBias { get; init; } = true;
    private PropensityTable? _initial;
    /// <summary>The starting-bias knob as written (<c>eta:X</c> or a list; 1 = none).</summary>
    [Knob("starting biases t+ = t- per position: eta:X or a list (1 = none)", Name = "propensities")]
    public string InitialPropensityText { get; init; } = "1";
    /// <summary>Starting t+ = t- per position; by default parsed from <see cref="InitialPropensityText"/> (no clip).</summary>
    public PropensityTable? InitialPropensities { get => _initial ?? PropensityTable.Parse(InitialPropensityText, clip: 0); init => _initial = value; }
}

/// <summary>
/// Unbiased LambdaMART (Hu et al. WWW 2019; XGBoost's <c>lambdarank_unbiased</c>): LambdaRank on click labels
/// where each pair (clicked i, unclicked j) has its lambda and Hessian divided by t+_(k_i) t-_(k_j), the
/// position biases of a click at i's position and of a non-click at j's; after each call the biases are
/// re-estimated from the pairs' costs: L+_k += cost_ij / t-_(k_j) for the clicked row's position, L-_k +=
/// cost_ij / t+_(k_i) for the unclicked row's, and t+_k = (L+_k / L+_1)^(1/(1+p)), t-_k likewise (Hu et al.
/// eq. 30-31). The cost of a pair is its RankNet loss times its |delta NDCG| (after the score-gap division
/// when normalising), as in XGBoost. Positions come from <see cref="ObjectiveBatch.Positions"/>, not from row
/// order (XGBoost assumes rows sorted by position). A row is "clicked" when its label is above 0.
/// The per-pair math is the body <see cref="UnbiasedLambdaRankLoss"/> (the shared <see cref="LambdaMath.PairLambda"/>),
/// which the GPU runs too; the biases are its constants and the costs its per-query outputs, and the update of
/// the biases from them (<see cref="Learn"/>) runs on the host after every call, whichever backend computed it.
/// </summary>
public sealed class UnbiasedLambdaRankObjective : QueryLossObjective<UnbiasedLambdaRankLoss>
{
    private readonly UnbiasedLambdaRankOptions _o;
    private readonly int _k;
    private readonly double[] _biases;   // t+ of positions 1..K, then t- of positions 1..K
    private readonly double[] _sums;     // L+ of positions 1..K, then L- of positions 1..K
    private bool _anySums;

    /// <summary>Checks the settings against their knob declarations; the biases start at the initial propensities (or 1).</summary>
    public UnbiasedLambdaRankObjective(UnbiasedLambdaRankOptions? options = null) : base(Body(options = Checked(options)))
    {
        _o = options;
        _k = options.MaxPosition;
        _biases = new double[2 * _k];
        var initial = options.InitialPropensities;
        for (int p = 0; p < _k; p++) _biases[p] = _biases[_k + p] = initial?.Propensity(p + 1) ?? 1.0;
        _sums = new double[2 * _k];
    }

    private static UnbiasedLambdaRankOptions Checked(UnbiasedLambdaRankOptions? options)
    {
        var checkedOptions = KnobSet.Checked(options ?? new UnbiasedLambdaRankOptions(), "objective 'unbiased-lambdarank'");
        _ = checkedOptions.InitialPropensities;   // bad propensity text fails here
        return checkedOptions;
    }

    private static UnbiasedLambdaRankLoss Body(UnbiasedLambdaRankOptions o) =>
        new() { Sigma = o.Sigma, Truncation = o.Truncation, Normalize = o.Normalize ? 1 : 0, MaxPosition = o.MaxPosition };

    /// <inheritdoc/>
    public override string Name => "unbiased-lambdarank";
    /// <inheritdoc/>
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;

    /// <summary>The current click biases t+ of positions 1..max-position (relative to position 1 once learned).</summary>
    public IReadOnlyList<double> ClickPropensities => _biases.AsSpan(0, _k).ToArray();

    /// <summary>The current non-click biases t- of positions 1..max-position.</summary>
    public IReadOnlyList<double> NonClickPropensities => _biases.AsSpan(_k, _k).ToArray();

    /// <inheritdoc/>
    public override bool ReadsRowInputs => true;

    /// <summary>Each row's display position (<see cref="ObjectiveBatch.PositionOf"/>), as the body reads it.</summary>
    public override float[] RowInputs(in ObjectiveBatch batch)
    {
        var positions = new float[batch.RowCount];
        for (int q = 0; q < batch.QueryCount; q++)
            for (int r = batch.GroupOffsets[q]; r < batch.GroupOffsets[q + 1]; r++)
                positions[r] = batch.PositionOf(r, batch.GroupOffsets[q]);
        return positions;
    }

    /// <summary>t+ of positions 1..K, then t- of positions 1..K.</summary>
    public override ReadOnlySpan<double> Constants => _biases;

    /// <summary>L+ and L- contributions of positions 1..K per query.</summary>
    public override int QueryOutputWidth => 2 * _k;

    /// <summary>
    /// The bias update from one call's position costs: the running sums decay by <c>bias-decay</c> and take this
    /// call's (each query's times its weight, in query order: the same sums on any thread count and any backend),
    /// then t+_k = (L+_k / L+_1)^(1/(1+p)) and t-_k likewise. Nothing changes with <c>learn-bias=false</c>.
    /// </summary>
    public override void Learn(ReadOnlySpan<double> queryOutputs, float[]? queryWeights)
    {
        if (!_o.LearnBias) return;
        int k = _k, width = 2 * k, queries = queryOutputs.Length / width;
        double decay = _anySums ? _o.BiasDecay : 0.0;
        for (int p = 0; p < width; p++) _sums[p] *= decay;
        for (int q = 0; q < queries; q++)
        {
            double weight = queryWeights?[q] ?? 1.0;
            for (int p = 0; p < width; p++) _sums[p] += weight * queryOutputs[q * width + p];
        }
        _anySums = true;
        double exponent = 1.0 / (1.0 + _o.BiasNorm);
        for (int p = 0; p < k; p++)
        {
            if (_sums[0] > 1e-16 && _sums[p] > 0) _biases[p] = Math.Pow(_sums[p] / _sums[0], exponent);
            if (_sums[k] > 1e-16 && _sums[k + p] > 0) _biases[k + p] = Math.Pow(_sums[k + p] / _sums[k], exponent);
        }
    }
}
