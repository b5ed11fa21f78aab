using static Ranking.Core.Tests.Objectives.ObjectiveTestKit;

namespace Ranking.Core.Tests.Objectives;

/// <summary>
/// Every objective, in every option combination that changes its math, against central finite
/// differences of its own loss in float64 (relative error below 1e-4). Margins are 0.7 so no hinge sits
/// on a kink of the 2^-6 score grid; scores are distinct so ranks and mined sets stay put under the probe.
/// </summary>
public class GradientCheckTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "mse", "" },
        { "sigmoid-ce", "" },
        { "sigmoid-ce", "threshold=1" },
        { "ranknet", "" },
        { "ranknet", "sigma=2.5" },
        { "ranknet", "truncation=3" },
        { "ranknet", "pairs-per-row=2" },
        { "ranksvm", "margin=0.7" },
        { "ranksvm", "margin=0.7;truncation=2" },
        { "ranksvm", "margin=0.7;pairs-per-row=3" },
        { "contrastive-pairs", "margin=0.7" },
        { "contrastive-pairs", "margin=0.7;pairs-per-row=2" },
        { "lambdarank", "norm=false" },
        { "lambdarank", "norm=false;sigma=2;truncation=3" },
        { "lambdarank", "norm=false;truncation=1" },
        { "lambdarank", "norm=false;label-gain=0,1,2,5" },
        { "listnet", "" },
        { "listnet", "temperature=0.5" },
        { "listnet", "target=gain" },
        { "softmax", "" },
        { "softmax", "threshold=1" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradient_matches_central_differences(string name, string knobs)
    {
        var objective = Create(name, knobs);
        for (int seed = 1; seed <= 3; seed++)
        {
            var (labels, scores, offsets, weights) = RandomQueries(seed, [1, 6, 9, 4]);
            double error = WorstGradientError(objective, labels, scores, offsets, weights, iteration: seed);
            Assert.True(error < 1e-4, $"{name} [{knobs}] seed {seed}: relative gradient error {error:E2}");
        }
    }

    /// <summary>Objectives whose Hessian is documented as the exact diagonal.</summary>
    public static TheoryData<string, string> ExactHessianCases => new()
    {
        { "mse", "" },
        { "sigmoid-ce", "" },
        { "ranknet", "sigma=2.5" },
        { "ranknet", "truncation=3" },
        { "lambdarank", "norm=false;sigma=2;truncation=3" },
        { "listnet", "temperature=0.5" },
        { "softmax", "" },
    };

    [Theory]
    [MemberData(nameof(ExactHessianCases))]
    public void Exact_hessians_match_differences_of_the_gradient(string name, string knobs)
    {
        var objective = Create(name, knobs);
        var (labels, scores, offsets, weights) = RandomQueries(11, [5, 8]);
        double error = WorstHessianError(objective, labels, scores, offsets, weights);
        Assert.True(error < 2e-3, $"{name} [{knobs}]: relative Hessian error {error:E2}");
    }
}
