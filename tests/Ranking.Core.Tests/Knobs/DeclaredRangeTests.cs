using Ranking.Knobs;
using Ranking.Objectives;

namespace Ranking.Core.Tests.Knobs;

/// <summary>
/// An objective's constructor checks its options against the ranges its knobs declare (the one range check),
/// so a library caller who builds options in code meets the same rule, and the same message, as the factory.
/// </summary>
public class DeclaredRangeTests
{
    public static TheoryData<string, Func<IRankingObjective>> OutOfRange => new()
    {
        { "sigma", () => new LambdaRankObjective(new LambdaRankOptions { Sigma = -1 }) },
        { "truncation", () => new LambdaRankObjective(new LambdaRankOptions { Truncation = 0 }) },
        { "sigma", () => new RankNetObjective(new RankNetOptions { Sigma = double.NaN }) },
        { "pairs-per-row", () => new RankNetObjective(new RankNetOptions { Pairs = new PairSelection { PairsPerRow = -2 } }) },
        { "margin", () => new RankSvmObjective(new RankSvmOptions { Margin = double.PositiveInfinity }) },
        { "margin", () => new ContrastiveObjective(new ContrastiveOptions { Margin = -0.5 }) },
        { "negatives", () => new TripletObjective(new TripletOptions { Negatives = 0 }) },
        { "temperature", () => new ListNetObjective(new ListNetOptions { Temperature = 0 }) },
        { "truncation", () => new ListMleObjective(new ListMleOptions { Truncation = -1 }) },
        { "exact-limit", () => new ApproxNdcgObjective(new ApproxNdcgOptions { ExactLimit = 0 }) },
        { "negatives", () => new SampledSoftmaxObjective(new SampledSoftmaxOptions { Negatives = 0 }) },
        { "negatives", () => new NceObjective(new NceOptions { Negatives = -3 }) },
        { "mu", () => new NdcgLoss2PlusPlusObjective(new NdcgLoss2PlusPlusOptions { Mu = -1 }) },
        { "sigma", () => new IpwRankNetObjective(new IpwOptions { Sigma = 0 }) },
        { "clip", () => new IpwLambdaRankObjective(new IpwOptions { Propensities = new PropensityOptions { Clip = 1.5 } }) },
        { "clip", () => new IpwSoftmaxObjective(new IpwSoftmaxOptions { Propensities = new PropensityOptions { Clip = -0.1 } }) },
        { "max-position", () => new UnbiasedLambdaRankObjective(new UnbiasedLambdaRankOptions { MaxPosition = 2000 }) },
        { "bias-decay", () => new UnbiasedLambdaRankObjective(new UnbiasedLambdaRankOptions { BiasDecay = 1 }) },
        { "truncation", () => new UnbiasedLambdaRankObjective(new UnbiasedLambdaRankOptions { Truncation = 0 }) },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void A_value_outside_the_declared_range_is_refused_by_the_constructor(string knob, Func<IRankingObjective> build)
    {
        var error = Assert.Throws<ArgumentException>(() => build());
        Assert.Contains($"knob '{knob}'", error.Message);
    }

    [Fact]
    public void The_constructor_says_what_the_factory_says()
    {
        var fromFactory = Assert.Throws<ArgumentException>(() => ObjectiveFactory.Create("lambdarank", new Dictionary<string, string> { ["sigma"] = "-1" }));
        var fromCode = Assert.Throws<ArgumentException>(() => new LambdaRankObjective(new LambdaRankOptions { Sigma = -1 }));
        Assert.Equal(fromFactory.Message, fromCode.Message);
    }

    [Fact]
    public void Rules_no_single_knob_states_stay_with_the_constructor()
    {
        Assert.Throws<ArgumentException>(() => new RankNetObjective(new RankNetOptions { Pairs = new PairSelection { Truncation = 3, PairsPerRow = 2 } }));
        var bad = Assert.Throws<ArgumentException>(() => new IpwSoftmaxObjective(new IpwSoftmaxOptions { Propensities = new PropensityOptions { Text = "eta:x" } }));
        Assert.Contains("eta:x", bad.Message);
        // Values inside the ranges build.
        Assert.NotNull(KnobSet.Checked(new UnbiasedLambdaRankOptions { MaxPosition = 1024, BiasDecay = 0 }, "test"));
    }
}
