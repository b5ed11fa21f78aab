using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>The knobs of <see cref="ListMleObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
public sealed class ListMleOptions
{
    /// <summary>0 = the full list; k &gt; 0 = top-k ListMLE (Xia et al. 2009): only the first k factors of the likelihood.</summary>
    [Knob("top-k ListMLE: only the first k factors; 0 = the full list", Min = 0, Flag = true)]
    public int Truncation { get; init; }
}

/// <summary>
/// ListMLE (Xia et al. 2008): the negative log Plackett-Luce likelihood of the order by grade, descending,
/// rows with equal grades in a seeded random order (a fresh order per iteration, the same on every thread
/// count and on the GPU). loss = sum over positions i of [logsumexp(s of positions i..n-1) - s at i];
/// the row at position i gets -1 + sum over m &lt;= i of P_m(i), P_m(i) = exp(s_i - lse_m); Hessian
/// sum P_m(i) (1 - P_m(i)) (the exact diagonal). Suffix log-sum-exps once, prefix sums in log space: O(n log n).
/// </summary>
public sealed class ListMleObjective(ListMleOptions? options = null)
    : QueryLossObjective<ListMleLoss>(new ListMleLoss { Truncation = KnobSet.Checked(options ?? new ListMleOptions(), "objective 'listmle'").Truncation })
{

    /// <summary>Top-k factors of the likelihood; 0 = the full list.</summary>
    public int Truncation => Loss.Truncation;
    /// <summary>"listmle": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "listmle";
    /// <summary>Listwise: the loss is a function of the whole query's scores at once.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;
}
