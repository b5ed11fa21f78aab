using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>What ListNet's target distribution is a softmax of.</summary>
public enum ListNetTarget
{
    /// <summary>softmax(grade) (Cao et al. 2007).</summary>
    Grade,
    /// <summary>softmax(2^grade - 1).</summary>
    Gain,
}

/// <summary>The knobs of <see cref="ListNetObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
public sealed class ListNetOptions
{
    /// <summary>Scores are divided by T before the softmax.</summary>
    [Knob("scores are divided by T before the softmax", Min = 0, MinExclusive = true)]
    public double Temperature { get; init; } = 1.0;
    /// <summary>What the target distribution is a softmax of.</summary>
    [Knob("grade | gain: softmax of the grades or of 2^grade - 1")]
    public ListNetTarget Target { get; init; } = ListNetTarget.Grade;
}

/// <summary>
/// ListNet top-1 (Cao et al. 2007): P = softmax(phi(y)), Q = softmax(s / T), loss = -sum P log Q (the
/// cross-entropy, so an already perfect query still pays the entropy of P: log n when all grades tie);
/// gradient (Q - P) / T; Hessian Q (1 - Q) / T^2 (the exact diagonal). Both softmaxes shift by the max.
/// </summary>
public sealed class ListNetObjective : QueryLossObjective<ListNetLoss>
{
    private readonly ListNetOptions _options;

    /// <summary>The objective with <paramref name="options"/> (null = every knob at its default); a setting out of range is an <see cref="ArgumentException"/>.</summary>
    public ListNetObjective(ListNetOptions? options = null) : base(Body(options ??= new ListNetOptions()))
    {
        _options = options;
    }

    private static ListNetLoss Body(ListNetOptions options)
    {
        KnobSet.Checked(options, "objective 'listnet'");
        return new ListNetLoss { Temperature = options.Temperature, Target = (ListNetTargetKind)options.Target };
    }

    /// <summary>The settings.</summary>
    public ListNetOptions Options => _options;
    /// <summary>"listnet": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "listnet";
    /// <summary>Listwise: the loss is a function of the whole query's scores at once.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;
}

/// <summary>The knobs of <see cref="SoftmaxObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
public sealed class SoftmaxOptions
{
    /// <summary>Rows with a grade above this are the positives.</summary>
    [Knob(ObjectiveKnobText.Threshold)]
    public double Threshold { get; init; } = 0.0;
}

/// <summary>
/// Softmax cross-entropy over the full list: each relevant row p contrasted with every row of its query,
/// loss = -sum_p w_p log softmax(s)_p with w_p = G(y_p) / sum of G over the relevant rows (exponential
/// gain), so each query's weights sum to 1. Gradient softmax(s) - w; Hessian softmax (1 - softmax) (the
/// exact diagonal). A query without relevant rows contributes nothing.
/// </summary>
public sealed class SoftmaxObjective(SoftmaxOptions? options = null)
    : QueryLossObjective<SoftmaxLoss>(new SoftmaxLoss { Threshold = (options = KnobSet.Checked(options ?? new SoftmaxOptions(), "objective 'softmax'")).Threshold })
{
    /// <summary>The settings.</summary>
    public SoftmaxOptions Options { get; } = options ?? new SoftmaxOptions();
    /// <summary>"softmax": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "softmax";
    /// <summary>Listwise: the loss is a function of the whole query's scores at once.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;
}
