using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>How sampled softmax draws its negatives.</summary>
public enum NegativeSampling
{
    /// <summary>Uniformly over the query's negatives.</summary>
    Uniform,
    /// <summary>In proportion to exp(score) of the negatives (the current model's softmax over them).</summary>
    Scores,
}

/// <summary>The knobs of <see cref="SampledSoftmaxObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
public sealed class SampledSoftmaxOptions
{
    /// <summary>k: negatives drawn per positive (with replacement).</summary>
    [Knob(ObjectiveKnobText.Negatives, Min = 1)]
    public int Negatives { get; init; } = 5;
    /// <summary>How negatives are drawn.</summary>
    [Knob("uniform | scores: draw negatives uniformly or in proportion to exp(score)")]
    public NegativeSampling Sampling { get; init; } = NegativeSampling.Uniform;
    /// <summary>Rows with a grade above this are positives; the rest are the negatives drawn from.</summary>
    [Knob(ObjectiveKnobText.Threshold)]
    public double Threshold { get; init; } = 0.0;
}

/// <summary>
/// Sampled softmax (negative sampling; Jean et al. 2015, Bengio and Senecal 2008): each positive p against
/// k negatives drawn from its query with probability q_j, with corrected logits s'_j = s_j - log(k q_j) so
/// the k terms estimate the sum over every negative; the positive is never drawn, so s'_p = s_p.
/// loss_p = logsumexp(s_p, s'_j1..s'_jk) - s_p, weighted by the positive's share of the query's gain (as
/// <see cref="SoftmaxObjective"/>, which this approaches as k grows). q is a stop-gradient: with score-
/// proportional sampling it is computed from the scores (or the proposal scores passed to
/// <see cref="ComputeWithProposal"/>) but not differentiated, as every
/// sampled-softmax implementation does. Gradient w (P - e_p) over the k + 1 logits; Hessian w P (1 - P)
/// per drawn logit (exact when no negative is drawn twice). Cost O(k) per positive plus O(n) per query.
/// </summary>
public sealed class SampledSoftmaxObjective : QueryLossObjective<SampledSoftmaxLoss>
{
    private readonly SampledSoftmaxOptions _options;

    /// <summary>The settings.</summary>
    public SampledSoftmaxOptions Options => _options;

    /// <summary>The objective with <paramref name="options"/> (null = every knob at its default); a setting out of range is an <see cref="ArgumentException"/>.</summary>
    public SampledSoftmaxObjective(SampledSoftmaxOptions? options = null) : base(Body(options ??= new SampledSoftmaxOptions()))
    {
        _options = options;
    }

    private static SampledSoftmaxLoss Body(SampledSoftmaxOptions options)
    {
        KnobSet.Checked(options, "objective 'sampled-softmax'");
        return new SampledSoftmaxLoss { Negatives = options.Negatives, Draw = (NegativeDraw)options.Sampling, Threshold = options.Threshold };
    }

    /// <summary>"sampled-softmax": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "sampled-softmax";
    /// <summary>Listwise: the loss is a function of the whole query's scores at once.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;

    /// <summary>As <see cref="IRankingObjective.Compute"/>, with score-proportional sampling built from
    /// <paramref name="proposalScores"/> (one per row) instead of the batch's scores.</summary>
    public double ComputeWithProposal(in ObjectiveBatch batch, float[] proposalScores, float[] gradients, float[] hessians)
    {
        ArgumentNullException.ThrowIfNull(proposalScores);
        return ComputeWithAuxiliary(batch, proposalScores, gradients, hessians);
    }
}

/// <summary>The noise distributions NCE's options can name.</summary>
public enum NceNoise
{
    /// <summary>Uniform over the query's rows.</summary>
    Uniform,
}

/// <summary>The knobs of <see cref="NceObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
public sealed class NceOptions
{
    /// <summary>k: noise rows drawn per real row.</summary>
    [Knob(ObjectiveKnobText.Negatives, Min = 1)]
    public int Negatives { get; init; } = 5;
    /// <summary>The noise distribution the factory can build (others: <see cref="NceObjective.ComputeWithNoise"/>).</summary>
    [Knob("uniform over the query's rows (other noise distributions: NceObjective.ComputeWithNoise)")]
    public NceNoise Noise { get; init; } = NceNoise.Uniform;
    /// <summary>Rows with a grade above this are the real (data) rows.</summary>
    [Knob(ObjectiveKnobText.Threshold)]
    public double Threshold { get; init; } = 0.0;
}

/// <summary>
/// Noise-contrastive estimation (Gutmann and Hyvarinen 2010): the relevant rows of a query are the data,
/// k noise rows per data row are drawn from a noise distribution p_n over the query's rows (uniform, or
/// in proportion to weights given per row through <see cref="ComputeWithNoise"/>;
/// a row of weight 0 is never drawn and its log p_n is floored at -700), and logistic regression separates
/// them on h(u) = sigmoid(s_u - log(k p_n(u))): loss = -sum log h(x) - sum log(1 - h(y)). Gradient
/// h - 1 for data rows, h for each noise draw; Hessian h (1 - h) per term (exact). p_n does not depend on
/// the scores, so the gradient is the exact derivative of the loss for the drawn noise.
/// </summary>
public sealed class NceObjective : QueryLossObjective<NceLoss>
{
    private readonly NceOptions _options;

    /// <summary>The settings.</summary>
    public NceOptions Options => _options;

    /// <summary>The objective with <paramref name="options"/> (null = every knob at its default); a setting out of range is an <see cref="ArgumentException"/>.</summary>
    public NceObjective(NceOptions? options = null) : base(Body(options ??= new NceOptions()))
    {
        _options = options;
    }

    private static NceLoss Body(NceOptions options)
    {
        KnobSet.Checked(options, "objective 'nce'");
        return new NceLoss { Negatives = options.Negatives, Threshold = options.Threshold };
    }

    /// <summary>"nce": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "nce";
    /// <summary>Listwise: the loss is a function of the whole query's scores at once.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;

    /// <summary>As <see cref="IRankingObjective.Compute"/> with the noise distribution proportional to
    /// <paramref name="noiseWeights"/> (one non-negative finite weight per row) within each query.</summary>
    public double ComputeWithNoise(in ObjectiveBatch batch, float[] noiseWeights, float[] gradients, float[] hessians)
    {
        ArgumentNullException.ThrowIfNull(noiseWeights);
        for (int i = 0; i < noiseWeights.Length; i++)
            if (!(noiseWeights[i] >= 0) || !float.IsFinite(noiseWeights[i])) throw new ArgumentException($"noise weight {i} = {noiseWeights[i]} is not a finite non-negative number.", nameof(noiseWeights));
        return ComputeWithAuxiliary(batch, noiseWeights, gradients, hessians);
    }
}
