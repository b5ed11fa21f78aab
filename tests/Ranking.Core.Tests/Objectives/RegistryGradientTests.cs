using Ranking.Numerics;
using Ranking.Objectives;
using static Ranking.Core.Tests.Objectives.ObjectiveTestKit;

namespace Ranking.Core.Tests.Objectives;

/// <summary>
/// Checks that enumerate the objective registry (<see cref="ObjectiveFactory.Describe"/>), so a new loss is
/// checked the day it is registered, without being added to a list: central finite differences of every
/// objective's own loss at its defaults, and the LambdaRank AVX2 loop against the shared pair gradient.
/// </summary>
public class RegistryGradientTests
{
    public static TheoryData<string> RegisteredObjectives()
    {
        var names = new TheoryData<string>();
        foreach (var entry in ObjectiveFactory.Describe()) names.Add(entry.Name);
        return names;
    }

    /// <summary>
    /// Knobs under which an objective's gradient is the derivative of its reported loss, chosen by rule from
    /// the knobs it declares (not by name): LightGBM's lambda normalisation off (its lambdas are no derivative),
    /// hinge margins off the 2^-6 score grid of the test data (no pair sits on a kink), learned state frozen.
    /// </summary>
    private static Dictionary<string, string> GradientExactKnobs(string name)
    {
        var knobs = new Dictionary<string, string>();
        if (ObjectiveFactory.IsKnob(name, "norm")) knobs["norm"] = "false";
        if (ObjectiveFactory.IsKnob(name, "margin")) knobs["margin"] = "0.7";
        // An objective that re-estimates its state on every call (unbiased LambdaMART's position biases) has a
        // gradient of its loss only with that state held fixed.
        if (ObjectiveFactory.IsKnob(name, "learn-bias")) knobs["learn-bias"] = "false";
        return knobs;
    }

    [Theory]
    [MemberData(nameof(RegisteredObjectives))]
    public void Every_registered_objective_matches_central_differences_of_its_loss(string name)
    {
        var objective = ObjectiveFactory.Create(name, GradientExactKnobs(name), seed: 7);
        for (int seed = 1; seed <= 3; seed++)
        {
            var (labels, scores, offsets, weights) = RandomQueries(seed, [1, 6, 9, 4]);
            var (_, gradients, hessians) = Run(objective, labels, scores, offsets, weights, iteration: seed);
            Assert.Contains(gradients, g => g != 0);
            Assert.All(hessians, h => Assert.True(h >= 0 && float.IsFinite(h), $"{name}: Hessian {h}"));
            double error = WorstGradientError(objective, labels, scores, offsets, weights, iteration: seed);
            Assert.True(error < 1e-4, $"{name} seed {seed}: relative gradient error {error:E2}");
        }
    }

    [Theory]
    [InlineData(30, true)]
    [InlineData(3, false)]
    [InlineData(200, true)]
    public void LambdaRank_vector_loop_matches_the_shared_scalar_pair_gradient(int truncation, bool normalize)
    {
        var options = new LambdaRankOptions { Truncation = truncation, Normalize = normalize, Sigma = 1.5 };
        var vector = new LambdaRankObjective(options);
        var scalar = new LambdaRankObjective(options) { ScalarOnly = true };
        var (labels, scores, offsets, weights) = RandomQueries(5, [40, 3, 17, 120, 9], maxGrade: 4);
        var (vectorLoss, vectorGrad, vectorHess) = Run(vector, labels, scores, offsets, weights);
        var (scalarLoss, scalarGrad, scalarHess) = Run(scalar, labels, scores, offsets, weights);
        Assert.Equal(scalarLoss, vectorLoss, 1e-12 * Math.Abs(scalarLoss));
        double scale = scalarGrad.Max(Math.Abs), hessScale = scalarHess.Max(Math.Abs);
        Assert.True(scale > 0);
        for (int i = 0; i < labels.Length; i++)
        {
            Assert.True(Math.Abs(scalarGrad[i] - vectorGrad[i]) <= 1e-6 * scale, $"row {i}: scalar {scalarGrad[i]} vector {vectorGrad[i]}");
            Assert.True(Math.Abs(scalarHess[i] - vectorHess[i]) <= 1e-6 * hessScale, $"row {i}: scalar {scalarHess[i]} vector {vectorHess[i]}");
        }
    }

    /// <summary>NDCG-Loss2++ on a three-row query, worked by hand from the paper's weights.</summary>
    [Fact]
    public void NdcgLoss2PlusPlus_matches_a_hand_worked_query()
    {
        // Scores put the rows in order 0, 1, 2; grades 0, 2, 1: every pair is misordered or mixed.
        float[] labels = [0, 2, 1], scores = [0.5f, 0.25f, -1f];
        var objective = new NdcgLoss2PlusPlusObjective(new NdcgLoss2PlusPlusOptions { Mu = 10, Sigma = 1 });
        var (loss, gradients, _) = Run(objective, labels, scores, [0, 3], null);

        double D(int r) => 1 / Math.Log2(r + 2);
        double maxDcg = 3 * D(0) + 1 * D(1);
        double[] g = [0, 3 / maxDcg, 1 / maxDcg];
        int[] place = [0, 1, 2];
        double expected = 0;
        var grad = new double[3];
        foreach (var (hi, lo) in new[] { (1, 0), (2, 0), (1, 2) })
        {
            int gap = Math.Abs(place[hi] - place[lo]);
            double w = (Math.Abs(D(place[hi]) - D(place[lo])) + 10 * Math.Abs(D(gap - 1) - D(gap))) * Math.Abs(g[hi] - g[lo]);
            double d = scores[hi] - scores[lo];
            expected += w * Math.Log2(1 + Math.Exp(-d));
            double slope = -w / Math.Log(2) / (1 + Math.Exp(d));
            grad[hi] += slope; grad[lo] -= slope;
        }
        Assert.Equal(expected, loss, 1e-12);
        for (int i = 0; i < 3; i++) Assert.Equal(grad[i], gradients[i], 1e-6);
    }
}
