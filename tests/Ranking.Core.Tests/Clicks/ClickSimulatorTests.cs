using Ranking.Clicks;
using Ranking.Core.Tests.Data;

namespace Ranking.Core.Tests.Clicks;

public class ClickSimulatorTests
{
    /// <summary>0.999 quantiles of chi-squared with 1..10 degrees of freedom (tables).</summary>
    private static readonly double[] ChiSquared999 = [10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588];

    [Theory]
    [InlineData(ClickModelKind.PositionBased)]
    [InlineData(ClickModelKind.Cascade)]
    [InlineData(ClickModelKind.Dbn)]
    public void ClickRatesPerPositionMatchTheModel(ClickModelKind kind)
    {
        var (data, scores) = ClickTestData.Judged(40, 12);
        var model = new ClickModel { Kind = kind, Eta = 1, NoiseNegative = 0.1, NoisePositive = 1.0, MaxGrade = 4 };
        var log = ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { Sessions = 200_000, TopK = 10, Model = model, Seed = 3 });

        // Expected clicks per position: the model's exact probability for each session's shown grades, summed.
        var expected = new double[10];
        var observed = new double[10];
        var grades = new float[10];
        for (int s = 0; s < log.SessionCount; s++)
        {
            int from = log.SessionOffsets[s], m = log.SessionOffsets[s + 1] - from, start = data.GroupOffsets[log.SessionQuery[s]];
            for (int j = 0; j < m; j++) grades[j] = data.Labels[start + log.ShownRow[from + j]];
            var p = model.ClickProbabilities(grades.AsSpan(0, m));
            for (int j = 0; j < m; j++) { expected[j] += p[j]; observed[j] += log.Clicked[from + j]; }
        }
        // Pearson's statistic over click / no-click of each position (1 df per position).
        double chi = 0;
        for (int k = 0; k < 10; k++)
        {
            double n = log.SessionCount;
            chi += Math.Pow(observed[k] - expected[k], 2) / expected[k] + Math.Pow(observed[k] - expected[k], 2) / (n - expected[k]);
        }
        Assert.True(chi < ChiSquared999[9], $"chi-squared {chi:F2} over 10 positions (0.999 quantile {ChiSquared999[9]})");
        // and the bias is there: position 1 is clicked far more than position 10 under every model
        Assert.True(observed[0] > 3 * observed[9]);
    }

    [Fact]
    public void SameSeedGivesTheSameBytesOnAnyThreadCount()
    {
        var (data, scores) = ClickTestData.Judged(30, 15);
        var options = new ClickSimulationOptions { Sessions = 20_000, Seed = 11, Intervention = ClickIntervention.SwapWithFirst };
        var (one, _) = ClickTestData.SimulateOnOneAndTwoThreads(data, scores, options);
        var other = ClickSimulator.Simulate(data, scores, options with { Seed = 12 });
        Assert.NotEqual(one.Clicked, other.Clicked);
    }

    [Fact]
    public void TopKFollowsTheProductionScoresAndSwapsMoveTheFirstRow()
    {
        var (data, scores) = ClickTestData.Judged(5, 12);
        var plain = ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { SessionsPerQuery = 1, TopK = 4 });
        for (int s = 0; s < plain.SessionCount; s++)
        {
            int q = plain.SessionQuery[s], start = data.GroupOffsets[q];
            var expectedTop = Enumerable.Range(0, 12).OrderByDescending(i => scores[start + i]).ThenBy(i => i).Take(4).ToArray();
            Assert.Equal(expectedTop, plain.ShownRow[plain.SessionOffsets[s]..plain.SessionOffsets[s + 1]]);
        }
        var swapped = ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { SessionsPerQuery = 400, TopK = 4, Intervention = ClickIntervention.SwapWithFirst });
        var seenAt = new HashSet<int>();
        for (int s = 0; s < swapped.SessionCount; s++)
        {
            if (swapped.SessionQuery[s] != 0) continue;
            int from = swapped.SessionOffsets[s];
            int first = plain.ShownRow[plain.SessionOffsets[0]];
            int at = Array.IndexOf(swapped.ShownRow, first, from, 4) - from;
            seenAt.Add(at + 1);
            // the rows other than position 1 and the swapped one stay in production order
        }
        Assert.Equal([1, 2, 3, 4], seenAt.Order());
    }

    [Fact]
    public void BadOptionsAreRefused()
    {
        var (data, scores) = ClickTestData.Judged(3, 5);
        Assert.Throws<ArgumentException>(() => ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { TopK = 0 }));
        Assert.Throws<ArgumentException>(() => ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { Model = new ClickModel { NoiseNegative = 0.8, NoisePositive = 0.2 } }));
        Assert.Throws<ArgumentException>(() => ClickSimulator.Simulate(data, scores.AsSpan(1), new ClickSimulationOptions()));
    }
}
