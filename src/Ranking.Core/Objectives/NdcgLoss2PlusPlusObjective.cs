using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>The knobs of <see cref="NdcgLoss2PlusPlusObjective"/>.</summary>
public sealed class NdcgLoss2PlusPlusOptions
{
    /// <summary>Steepness of the pair sigmoid.</summary>
    [Knob(ObjectiveKnobText.Sigma, Aliases = "sigmoid", Min = 0, MinExclusive = true)]
    public double Sigma { get; init; } = 1.0;
    /// <summary>Weight of NDCG-Loss2's term against LambdaRank's (allRank's default 10).</summary>
    [Knob("weight of the NDCG-Loss2 term", Min = 0)]
    public double Mu { get; init; } = 10.0;
    /// <summary>0 = the whole list; k &gt; 0 = pairs with both rows in the top k by score, maxDCG@k.</summary>
    [Knob("pairs with both rows in the top k by score, maxDCG@k; 0 = the whole list", Min = 0)]
    public int Truncation { get; init; }
}

/// <summary>LambdaLoss's NDCG-Loss2++ (<see cref="NdcgLoss2PlusPlus"/> holds the math).</summary>
public sealed class NdcgLoss2PlusPlusObjective(NdcgLoss2PlusPlusOptions? options = null)
    : QueryLossObjective<NdcgLoss2PlusPlus>(Body(options ?? new NdcgLoss2PlusPlusOptions()))
{
    private static NdcgLoss2PlusPlus Body(NdcgLoss2PlusPlusOptions o)
    {
        KnobSet.Checked(o, "objective 'ndcg-loss2pp'");
        return new NdcgLoss2PlusPlus { Sigma = o.Sigma, Mu = o.Mu, Truncation = o.Truncation };
    }

    /// <inheritdoc/>
    public override string Name => "ndcg-loss2pp";
    /// <inheritdoc/>
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;
}
