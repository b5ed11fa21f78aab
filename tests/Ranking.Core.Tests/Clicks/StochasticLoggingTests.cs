using Ranking.Clicks;
using Ranking.Core.Tests.Data;
using Ranking.Data;

namespace Ranking.Core.Tests.Clicks;

/// <summary>The Plackett-Luce production ranker and the per-query click labels (naive, IPW, policy-aware IPW).</summary>
public class StochasticLoggingTests
{
    [Fact]
    public void PlackettLuceFirstRowFollowsTheSoftmaxOfTheScores()
    {
        // One query of 5 rows; with temperature T each session's first row is drawn from softmax(score / (T sd)).
        var scores = new float[] { 2.0f, 1.0f, 0.5f, 0.0f, -1.0f };
        var data = OneQuery(scores.Length, [0, 1, 2, 3, 4]);
        const double T = 0.8;
        var log = ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { Sessions = 100_000, TopK = 3, ProductionTemperature = T, Seed = 5 });
        double mean = scores.Average(), sd = Math.Sqrt(scores.Average(v => (v - mean) * (v - mean)));
        var expected = scores.Select(v => Math.Exp(v / (T * sd))).ToArray();
        double z = expected.Sum();
        var first = new double[scores.Length];
        for (int s = 0; s < log.SessionCount; s++) first[log.ShownRow[log.SessionOffsets[s]]]++;
        double chi = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            double e = log.SessionCount * expected[i] / z;
            chi += (first[i] - e) * (first[i] - e) / e;
        }
        Assert.True(chi < 18.467, $"chi-squared {chi:F2} with 4 df (0.999 quantile 18.467)");
        // each session shows 3 distinct rows
        for (int s = 0; s < 100; s++) Assert.Equal(3, log.ShownRow[log.SessionOffsets[s]..log.SessionOffsets[s + 1]].Distinct().Count());
    }

    [Fact]
    public void StochasticLogIsTheSameOnAnyThreadCountAndTemperatureZeroIsTheDeterministicTopK()
    {
        var (data, scores) = ClickTestData.Judged(30, 15);
        var options = new ClickSimulationOptions { Sessions = 20_000, Seed = 11, ProductionTemperature = 1.0 };
        var (one, _) = ClickTestData.SimulateOnOneAndTwoThreads(data, scores, options);
        // rows outside the deterministic top 10 get shown
        var plain = ClickSimulator.Simulate(data, scores, options with { ProductionTemperature = 0 });
        Assert.True(one.ShownRow.Contains(14) || one.ShownRow.Contains(13));
        Assert.NotEqual(plain.ShownRow, one.ShownRow);
        Assert.Throws<ArgumentException>(() => ClickSimulator.Simulate(data, scores, options with { ProductionTemperature = -1 }));
        Assert.Throws<ArgumentException>(() => ClickSimulator.Simulate(data, scores, options with { ProductionTemperature = double.NaN }));
    }

    [Fact]
    public void PerQueryLabelsByHand()
    {
        // One query of 4 rows (grades irrelevant here), three sessions logged by hand.
        var data = OneQuery(4, [0, 0, 0, 0]);
        int[] shown = [0, 1, 2, /**/ 1, 0, 2, /**/ 0, 1, 2];
        byte[] clicked = [1, 0, 1, /**/ 1, 0, 0, /**/ 0, 0, 1];
        var log = new ClickLog(data, [0, 0, 0], [0, 3, 6, 9], shown, clicked);
        double[] theta = [1.0, 0.5, 0.25];

        var naive = ClickTrainingSet.BuildPerQuery(log, ClickLabelCorrection.None);
        Assert.Equal(3, naive.RowCount);   // row 3 was never shown: not in the group
        Assert.Equal(new float[] { 1f / 3, 1f / 3, 2f / 3 }, naive.Labels);
        Assert.Null(naive.QueryWeights);

        var ipw = ClickTrainingSet.BuildPerQuery(log, ClickLabelCorrection.PositionIpw, theta);
        // row 0: a click at position 1 (1/1); row 1: a click at position 1 (1/1); row 2: clicks at position 3 twice (4 + 4); over 3 sessions
        Assert.Equal(new float[] { 1f / 3, 1f / 3, 8f / 3 }, ipw.Labels);

        var clipped = ClickTrainingSet.BuildPerQuery(log, ClickLabelCorrection.PositionIpw, theta, clip: 0.5);
        Assert.Equal(new float[] { 1f / 3, 1f / 3, 4f / 3 }, clipped.Labels);

        var aware = ClickTrainingSet.BuildPerQuery(log, ClickLabelCorrection.PolicyAware, theta);
        // row 0 examined 1 + 0.5 + 1 = 2.5 times, clicked once; row 1: 0.5 + 1 + 0.5 = 2, once; row 2: 0.75, twice
        Assert.Equal(new float[] { (float)(1 / 2.5), 0.5f, (float)(2 / 0.75) }, aware.Labels);

        Assert.Throws<ArgumentException>(() => ClickTrainingSet.BuildPerQuery(log, ClickLabelCorrection.PositionIpw));
        Assert.Throws<ArgumentException>(() => ClickTrainingSet.BuildPerQuery(log, ClickLabelCorrection.PositionIpw, [0.0, 1.0]));
    }

    [Fact]
    public void PerQueryIpwLabelsAreUnbiasedInExpectation()
    {
        // One session of a 3-row query under a stochastic logging policy that shows every row (two rankings, each
        // with probability 1/2) and the PBM with theta = 1, 1/2, 1/3: enumerating every ranking and click outcome,
        // the expected position-IPW label and the expected policy-aware label are each row's P(click | examined),
        // and the naive label is not.
        double[] theta = [1.0, 0.5, 1.0 / 3];
        double[] relevance = [0.2, 0.9, 0.5];
        int[][] rankings = [[0, 1, 2], [2, 0, 1]];
        var data = OneQuery(3, [0, 0, 0]);
        var expectedIpw = new double[3];
        var expectedAware = new double[3];
        var expectedNaive = new double[3];
        foreach (var ranking in rankings)
            for (int outcome = 0; outcome < 8; outcome++)
            {
                double p = 0.5;
                var clicks = new byte[3];
                for (int j = 0; j < 3; j++)
                {
                    bool c = (outcome >> j & 1) == 1;
                    double click = theta[j] * relevance[ranking[j]];
                    p *= c ? click : 1 - click;
                    clicks[j] = c ? (byte)1 : (byte)0;
                }
                if (!clicks.Any(c => c == 1)) continue;   // a query with no click is left out: its labels are all 0
                var log = new ClickLog(data, [0], [0, 3], ranking.ToArray(), clicks);
                var ipw = ClickTrainingSet.BuildPerQuery(log, ClickLabelCorrection.PositionIpw, theta).Labels;
                var aware = ClickTrainingSet.BuildPerQuery(log, ClickLabelCorrection.PolicyAware, theta).Labels;
                var naive = ClickTrainingSet.BuildPerQuery(log, ClickLabelCorrection.None).Labels;
                for (int r = 0; r < 3; r++) { expectedIpw[r] += p * ipw[r]; expectedAware[r] += p * aware[r]; expectedNaive[r] += p * naive[r]; }
            }
        for (int r = 0; r < 3; r++)
        {
            Assert.Equal(relevance[r], expectedIpw[r], 1e-6);
            Assert.Equal(relevance[r], expectedAware[r], 1e-6);
        }
        Assert.True(Math.Abs(expectedNaive[1] - relevance[1]) > 0.1);
    }

    [Fact]
    public void ShownNdcgByHand()
    {
        // grades 2, 0, 1, 0; session 1 shows rows 1, 0, 2 (gains 0, 3, 1); session 2 shows the ideal 0, 2, 1.
        var data = OneQuery(4, [2, 0, 1, 0]);
        var log = new ClickLog(data, [0, 0], [0, 3, 6], [1, 0, 2, 0, 2, 1], new byte[6]);
        double ideal = 3 + 1 / Math.Log2(3);
        double first = (3 / Math.Log2(3) + 1 / Math.Log2(4)) / ideal;
        Assert.Equal((first + 1) / 2, log.ShownNdcg(), 12);
    }

    private static RankingDataset OneQuery(int rows, float[] grades)
        => new(new float[rows], 1, grades, [0, rows], [1L], source: "one-query");
}
