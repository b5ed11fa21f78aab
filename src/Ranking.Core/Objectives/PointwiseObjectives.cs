using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>
/// Squared error on the grade: loss = (s - y)^2 / 2 per row, gradient s - y, Hessian 1 (exact).
/// The half keeps the Hessian at 1, as LightGBM's regression objective does.
/// </summary>
public sealed class SquaredErrorObjective : QueryObjective
{
    /// <summary>"mse": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "mse";
    /// <summary>Pointwise: each row's loss depends on its own score and grade only.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Pointwise;

    /// <inheritdoc/>
    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        double loss = 0;
        for (int i = 0; i < query.Count; i++)
        {
            double r = (double)query.Scores[i] - query.Labels[i];
            loss += 0.5 * r * r;
            gradients[i] = (float)r;
            hessians[i] = 1f;
        }
        return loss;
    }
}

/// <summary>The knobs of <see cref="SigmoidCrossEntropyObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
public sealed class SigmoidCrossEntropyOptions
{
    /// <summary>A row is relevant (target 1) when its grade is above this.</summary>
    [Knob(ObjectiveKnobText.Threshold)]
    public double Threshold { get; init; } = 0.0;
}

/// <summary>
/// Sigmoid cross-entropy on relevant (grade above the threshold) vs not: loss = softplus(s) - t s,
/// gradient sigmoid(s) - t, Hessian sigmoid(s) (1 - sigmoid(s)) (exact; tends to 0 for huge |s|).
/// </summary>
public sealed class SigmoidCrossEntropyObjective(SigmoidCrossEntropyOptions? options = null) : QueryObjective
{
    /// <summary>The settings: the grade above which a row counts as relevant.</summary>
    public SigmoidCrossEntropyOptions Options { get; } = options ?? new SigmoidCrossEntropyOptions();
    /// <summary>"sigmoid-ce": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "sigmoid-ce";
    /// <summary>Pointwise: each row's loss depends on its own score and grade only.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Pointwise;

    /// <inheritdoc/>
    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        double loss = 0, threshold = Options.Threshold;
        for (int i = 0; i < query.Count; i++)
        {
            double s = query.Scores[i];
            bool relevant = query.Labels[i] > threshold;
            double p = RankingMath.Sigmoid(s);
            loss += relevant ? RankingMath.Softplus(-s) : RankingMath.Softplus(s);
            gradients[i] = (float)(relevant ? p - 1.0 : p);
            hessians[i] = (float)(p * (1.0 - p));
        }
        return loss;
    }
}
