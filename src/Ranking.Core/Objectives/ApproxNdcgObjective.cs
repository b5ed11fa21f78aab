using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>The knobs of <see cref="ApproxNdcgObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
public sealed class ApproxNdcgOptions
{
    /// <summary>T in sigmoid((s_j - s_i) / T): smaller is closer to the true rank (TF-Ranking's default 0.1).</summary>
    [Knob("T in sigmoid((s_j - s_i) / T)", Min = 0, MinExclusive = true)]
    public double Temperature { get; init; } = 0.1;
    /// <summary>Queries up to this many rows use every pair (O(n^2)).</summary>
    [Knob("queries up to this length use every pair, O(n^2)", Min = 1)]
    public int ExactLimit { get; init; } = 1024;
    /// <summary>Longer queries estimate each smooth rank from this many partners drawn per row (seeded): O(samples n).</summary>
    [Knob("longer queries estimate each smooth rank from this many drawn partners, O(samples n)", Min = 1)]
    public int Samples { get; init; } = 256;
}

/// <summary>
/// ApproxNDCG (Qin, Liu, Li 2010): smooth ranks rhat_i = 1 + sum over j != i of sigmoid((s_j - s_i) / T);
/// loss = 1 - sum_i G(y_i) / log2(1 + rhat_i) / maxDCG (exponential gain, maxDCG of the full list; a query
/// with maxDCG = 0 contributes nothing). The gradient is exact for the loss as computed:
/// dL/ds_k = (1/T) sum over i != k of sigmoid'_ik (a_k - a_i), a_i = d(term i)/d rhat_i. Queries longer
/// than <see cref="ApproxNdcgOptions.ExactLimit"/> estimate rhat_i = 1 + (n-1)/m sum over m drawn partners
/// (the loss is then that estimate's, differentiated exactly). Hessian: a positive approximation, for each
/// pair sigmoid'_ik |a_k - a_i| / T^2 (the scale of the curvature, not the exact diagonal).
/// </summary>
public sealed class ApproxNdcgObjective : QueryLossObjective<ApproxNdcgLoss>
{
    private readonly ApproxNdcgOptions _options;

    /// <summary>The settings.</summary>
    public ApproxNdcgOptions Options => _options;

    /// <summary>The objective with <paramref name="options"/> (null = every knob at its default); a setting out of range is an <see cref="ArgumentException"/>.</summary>
    public ApproxNdcgObjective(ApproxNdcgOptions? options = null) : base(Body(options ??= new ApproxNdcgOptions()))
    {
        _options = options;
    }

    private static ApproxNdcgLoss Body(ApproxNdcgOptions options)
    {
        KnobSet.Checked(options, "objective 'approxndcg'");
        return new ApproxNdcgLoss { Temperature = options.Temperature, ExactLimit = options.ExactLimit, Samples = options.Samples };
    }

    /// <summary>"approxndcg": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "approxndcg";
    /// <summary>Listwise: the loss is a function of the whole query's scores at once.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;
}
