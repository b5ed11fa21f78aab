using Ranking.Clicks;

namespace Ranking.Core.Tests.Clicks;

public class PropensityEstimatorTests
{
    [Fact]
    public void SwapInterventionsRecoverThePbmPropensitiesWithin10Percent()
    {
        var (data, scores) = ClickTestData.Judged(200, 20);
        var model = new ClickModel { Eta = 1, NoiseNegative = 0.1, NoisePositive = 1.0 };
        var log = ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { Sessions = 100_000, TopK = 10, Model = model, Intervention = ClickIntervention.SwapWithFirst, Seed = 5 });
        var estimate = PropensityEstimator.FromInterventions(log.Aggregate(), 10);
        var truth = model.Propensities(10);
        for (int k = 0; k < 10; k++)
            Assert.True(Math.Abs(estimate.Propensities[k] / truth[k] - 1) < 0.10, $"position {k + 1}: {estimate.Propensities[k]:F4} vs {truth[k]:F4}");
    }

    [Fact]
    public void InterventionsAreRequiredForHarvesting()
    {
        var (data, scores) = ClickTestData.Judged(20, 12);
        var log = ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { Sessions = 2_000, TopK = 5 });
        Assert.Contains("randomised swaps", Assert.Throws<ArgumentException>(() => PropensityEstimator.FromInterventions(log.Aggregate(), 5)).Message);
        Assert.Contains("cannot tell position from relevance", Assert.Throws<ArgumentException>(() => PropensityEstimator.RegressionEm(log.Aggregate(), 5, regression: false)).Message);
    }

    [Fact]
    public void EmOnSwapLogsRecoversThePropensities()
    {
        var (data, scores) = ClickTestData.Judged(200, 20);
        var model = new ClickModel { Eta = 1, NoiseNegative = 0.1, NoisePositive = 1.0 };
        var log = ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { Sessions = 100_000, TopK = 10, Model = model, Intervention = ClickIntervention.SwapWithFirst, Seed = 6 });
        var estimate = PropensityEstimator.RegressionEm(log.Aggregate(), 10, regression: false, iterations: 200);
        var truth = model.Propensities(10);
        for (int k = 0; k < 10; k++)
            Assert.True(Math.Abs(estimate.Propensities[k] / truth[k] - 1) < 0.15, $"position {k + 1}: {estimate.Propensities[k]:F4} vs {truth[k]:F4}");
    }

    [Fact]
    public void RegressionEmWithoutInterventionsFindsDecreasingPropensities()
    {
        var (data, scores) = ClickTestData.Judged(300, 20);
        var model = new ClickModel { Eta = 1, NoiseNegative = 0.1, NoisePositive = 1.0 };
        var log = ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { Sessions = 100_000, TopK = 10, Model = model, Seed = 8 });
        var estimate = PropensityEstimator.RegressionEm(log.Aggregate(), 10, regression: true, iterations: 100);
        var truth = model.Propensities(10);
        double worst = Enumerable.Range(0, 10).Max(k => Math.Abs(estimate.Propensities[k] / truth[k] - 1));
        Assert.True(worst < 0.35, $"worst relative error {worst:F3}: [{string.Join(", ", estimate.Propensities.Select(p => p.ToString("F3")))}]");
    }
}
