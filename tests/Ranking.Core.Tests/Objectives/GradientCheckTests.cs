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
        { "triplet", "margin=0.7" },
        { "triplet", "margin=0.7;threshold=1" },
        { "triplet", "margin=0.7;mining=random;negatives=3" },
        { "triplet", "margin=0.7;mining=hard;negatives=2" },
        { "triplet", "margin=0.7;mining=semi-hard;negatives=2" },
        { "triplet", "margin=0.7;pairing=graded" },
        { "triplet", "margin=0.7;pairing=graded;mining=hard;negatives=2" },
        { "triplet", "margin=0.7;pairing=graded;mining=semi-hard;negatives=3" },
        { "triplet", "margin=0.7;pairing=graded;mining=random;negatives=2" },
        { "contrastive", "" },
        { "contrastive", "margin=2;threshold=1" },
        { "listmle", "" },
        { "listmle", "truncation=3" },
        { "approxndcg", "" },
        { "approxndcg", "temperature=1" },
        { "approxndcg", "exact-limit=3;samples=2" },
        { "sampled-softmax", "" },
        { "sampled-softmax", "negatives=3;threshold=1" },
        { "nce", "" },
        { "nce", "negatives=2;threshold=1" },
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
        { "listmle", "" },
        { "listmle", "truncation=2" },
        { "nce", "" },
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

    /// <summary>Score-proportional sampled softmax: the proposal is a stop-gradient, so the check holds it
    /// fixed (built from the unperturbed scores) while the logits move.</summary>
    [Theory]
    [InlineData(5)]
    [InlineData(2)]
    public void Sampled_softmax_by_score_matches_differences_with_the_proposal_held_fixed(int negatives)
    {
        var objective = new Ranking.Objectives.SampledSoftmaxObjective(new() { Negatives = negatives, Sampling = Ranking.Objectives.NegativeSampling.Scores }) { Seed = 5 };
        var (labels, scores, offsets, weights) = RandomQueries(21, [1, 6, 9, 4]);
        var proposal = (float[])scores.Clone();
        double Loss(float[] s, float[] g, float[] h) => objective.ComputeWithProposal(new(labels, s, offsets, weights, 2), proposal, g, h);
        var grad = new float[scores.Length];
        var hess = new float[scores.Length];
        Loss(scores, grad, hess);
        Assert.Contains(grad, x => x != 0);
        AssertGradientMatchesDifferences(scores, grad, s => Loss(s, new float[s.Length], new float[s.Length]));
    }

    /// <summary>NCE with a given noise distribution (zero weight: never drawn, floored log-probability).</summary>
    [Fact]
    public void Nce_with_given_noise_weights_matches_differences()
    {
        var objective = new Ranking.Objectives.NceObjective(new() { Negatives = 3 }) { Seed = 2 };
        var (labels, scores, offsets, weights) = RandomQueries(8, [1, 6, 9, 4]);
        var noise = Enumerable.Range(0, scores.Length).Select(i => (float)(i % 4)).ToArray();
        double Loss(float[] s, float[] g, float[] h) => objective.ComputeWithNoise(new(labels, s, offsets, weights, 1), noise, g, h);
        var grad = new float[scores.Length];
        var hess = new float[scores.Length];
        Loss(scores, grad, hess);
        AssertGradientMatchesDifferences(scores, grad, s => Loss(s, new float[s.Length], new float[s.Length]));
        for (int i = 0; i < scores.Length; i++)
            if (noise[i] == 0 && labels[i] <= 0) Assert.Equal(0f, grad[i]); // weight 0: never drawn as noise, not data either
    }
}
