using Ranking.Clicks;
using Ranking.Data;
using Ranking.Models;
using Ranking.Objectives;
using Ranking.Training;
using static Ranking.Core.Tests.Objectives.ObjectiveTestKit;

namespace Ranking.Core.Tests.Clicks;

public class UnbiasedObjectiveTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "ipw-ranknet", "" },
        { "ipw-ranknet", "sigma=2;propensities=eta:0.5;clip=0.3" },
        { "ipw-lambdarank", "" },
        { "ipw-lambdarank", "propensities=1,0.6,0.3,0.2" },
        { "ipw-ranknet", "truncation=3" },
        { "ipw-lambdarank", "truncation=2;propensities=eta:1" },
        { "ipw-softmax", "" },
        { "ipw-softmax", "propensities=eta:2;clip=0.05" },
        { "unbiased-lambdarank", "norm=false;learn-bias=false" },
        { "unbiased-lambdarank", "norm=false;learn-bias=false;propensities=eta:1;truncation=3" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Gradient_matches_central_differences(string name, string knobs)
    {
        // positions: none given, so row i of a query sits at position i + 1
        var (labels, scores, offsets, weights) = RandomQueries(5, [1, 2, 5, 9, 13]);
        var objective = Create(name, knobs);
        double worst = WorstGradientError(objective, labels, scores, offsets, weights);
        Assert.True(worst < 1e-4, $"{name} {knobs}: worst relative gradient error {worst:E2}");
    }

    [Theory]
    [InlineData("ipw-ranknet")]
    [InlineData("ipw-softmax")]
    public void Hessian_is_the_exact_diagonal(string name)
    {
        var (labels, scores, offsets, weights) = RandomQueries(6, [3, 7, 11]);
        double worst = WorstHessianError(Create(name, "propensities=eta:1"), labels, scores, offsets, weights);
        Assert.True(worst < 1e-3, $"{name}: worst Hessian error {worst:E2}");
    }

    /// <summary>
    /// A hand-sized PBM: 4 rows at positions 1..4 with relevance probabilities r, examination theta. Summed over
    /// all 16 click outcomes (probability prod theta_i r_i or 1 - theta_i r_i), the IPW loss and gradient equal the
    /// full-information ones (the same loss with the relevance r as weights and no propensities).
    /// </summary>
    /// <summary>
    /// Every click outcome of one session under the position-based model (row i clicked with probability
    /// theta_i * r_i, independently) with its probability.
    /// </summary>
    private static IEnumerable<(float[] Clicks, double Probability)> ClickOutcomes(double[] theta, float[] r)
    {
        for (int outcome = 0; outcome < 1 << r.Length; outcome++)
        {
            var clicks = new float[r.Length];
            double probability = 1;
            for (int i = 0; i < r.Length; i++)
            {
                bool click = ((outcome >> i) & 1) == 1;
                double pc = theta[i] * r[i];
                probability *= click ? pc : 1 - pc;
                clicks[i] = click ? 1 : 0;
            }
            yield return (clicks, probability);
        }
    }

    [Theory]
    [InlineData("ipw-ranknet")]
    [InlineData("ipw-lambdarank")]
    [InlineData("ipw-softmax")]
    public void Ipw_is_unbiased_in_expectation(string name)
    {
        float[] r = [0.9f, 0.2f, 0.6f, 0.05f];
        double[] theta = [1.0, 0.5, 0.25, 0.125];
        float[] scores = [0.3f, 1.2f, -0.4f, 0.8f];
        int[] offsets = [0, 4];
        var ipw = Create(name, "propensities=1,0.5,0.25,0.125;clip=0");
        double expectedLoss = 0;
        var expectedGradient = new double[4];
        foreach (var (clicks, probability) in ClickOutcomes(theta, r))
        {
            var (loss, grad, _) = Run(ipw, clicks, scores, offsets);
            expectedLoss += probability * loss;
            for (int i = 0; i < 4; i++) expectedGradient[i] += probability * grad[i];
        }
        var full = Create(name, "propensities=1;clip=0");
        var (fullLoss, fullGradient, _) = Run(full, r, scores, offsets);
        Assert.Equal(fullLoss, expectedLoss, 6);
        for (int i = 0; i < 4; i++) Assert.Equal(fullGradient[i], expectedGradient[i], 5);
        // and naive clicks (no weighting) are biased: their expected loss differs
        var naive = Create(name, "propensities=1;clip=0");
        double naiveLoss = 0;
        foreach (var (clicks, probability) in ClickOutcomes(theta, r))
            naiveLoss += probability * Run(naive, clicks, scores, offsets).Loss;
        Assert.True(Math.Abs(naiveLoss - fullLoss) > 0.05 * fullLoss);
    }

    [Fact]
    public void Positions_of_the_batch_decide_the_weights()
    {
        float[] labels = [1, 0, 1];
        float[] scores = [0.1f, 0.2f, 0.3f];
        int[] offsets = [0, 3];
        var objective = Create("ipw-softmax", "propensities=1,0.5,0.25;clip=0");
        var g1 = new float[3]; var h1 = new float[3];
        var g2 = new float[3]; var h2 = new float[3];
        double inOrder = objective.Compute(new ObjectiveBatch(labels, scores, offsets), g1, h1);
        double given = objective.Compute(new ObjectiveBatch(labels, scores, offsets) { Positions = [1, 2, 3] }, g2, h2);
        Assert.Equal(inOrder, given);
        double moved = objective.Compute(new ObjectiveBatch(labels, scores, offsets) { Positions = [3, 2, 1] }, g2, h2);
        // row 0 now weighs 4 (position 3) and row 2 weighs 1
        double logSum = Math.Log(Math.Exp(0.1) + Math.Exp(0.2) + Math.Exp(0.3));
        Assert.Equal(4 * (logSum - 0.1f) + 1 * (logSum - 0.3f), moved, 5);
        Assert.Throws<ArgumentException>(() => objective.Compute(new ObjectiveBatch(labels, scores, offsets) { Positions = [1, 2] }, g2, h2));
    }

    [Fact]
    public void Unbiased_lambdarank_learns_decreasing_click_biases_from_pbm_clicks()
    {
        var (data, scores) = ClickTestData.Judged(300, 20);
        var model = new ClickModel { Eta = 1, NoiseNegative = 0.1, NoisePositive = 1.0 };
        var log = ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { Sessions = 50_000, TopK = 10, Model = model, Seed = 2 });
        var clicks = ClickTrainingSet.Build(log);
        var objective = new UnbiasedLambdaRankObjective(new UnbiasedLambdaRankOptions { MaxPosition = 10, BiasDecay = 0 });
        // scores that know nothing (all equal): the biases come from where the clicks are
        var flat = new float[clicks.RowCount];
        var g = new float[clicks.RowCount];
        var h = new float[clicks.RowCount];
        var batch = new ObjectiveBatch(clicks.Labels, flat, clicks.GroupOffsets, clicks.QueryWeights) { Positions = clicks.Positions };
        for (int round = 0; round < 5; round++) objective.Compute(batch, g, h);
        var tPlus = objective.ClickPropensities;
        Assert.Equal(1.0, tPlus[0], 12);
        for (int k = 1; k < 10; k++) Assert.True(tPlus[k] < tPlus[k - 1] + 0.02, $"t+ not decreasing at {k + 1}: {string.Join(", ", tPlus.Take(10).Select(t => t.ToString("F3")))}");
        Assert.True(tPlus[9] < 0.6, $"t+_10 = {tPlus[9]:F3}");
        // the same biases on one thread
        var again = new UnbiasedLambdaRankObjective(new UnbiasedLambdaRankOptions { MaxPosition = 10, BiasDecay = 0 });
        var oneThread = new ObjectiveBatch(clicks.Labels, flat, clicks.GroupOffsets, clicks.QueryWeights, 0, 1) { Positions = clicks.Positions };
        for (int round = 0; round < 5; round++) again.Compute(oneThread, g, h);
        Assert.Equal(tPlus, again.ClickPropensities);
    }

    private sealed class PositionSpy : IRankingObjective
    {
        public List<(float[] Labels, int[]? Positions)> Batches { get; } = [];
        public string Name => "spy";
        public ObjectiveFamily Family => ObjectiveFamily.Pointwise;

        public double Compute(in ObjectiveBatch batch, float[] gradients, float[] hessians)
        {
            Batches.Add(((float[])batch.Labels.Clone(), batch.Positions is null ? null : (int[])batch.Positions.Clone()));
            Array.Clear(gradients); Array.Clear(hessians);
            return 0;
        }
    }

    [Fact]
    public void The_trainer_hands_each_batch_its_rows_positions()
    {
        var (data, scores) = ClickTestData.Judged(12, 6);
        var clicks = ClickTrainingSet.Build(ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { Sessions = 400, TopK = 4 }));
        var spy = new PositionSpy();
        var options = CoreRankers.LinearDefaults with { Epochs = 1, BatchQueries = 3 };
        new GradientTrainer(options, _ => spy).Train(new TrainingRequest { Train = clicks });
        Assert.NotEmpty(spy.Batches);
        int rows = 0;
        foreach (var (labels, positions) in spy.Batches)
        {
            Assert.NotNull(positions);
            Assert.All(positions!, p => Assert.InRange(p, 1, 4));
            rows += labels.Length;
        }
        Assert.Equal(clicks.RowCount, rows);
        Assert.Equal(clicks.Positions!.Sum(), spy.Batches.Sum(b => b.Positions!.Sum()));
    }
}
