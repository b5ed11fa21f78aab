using Ranking.Data;
using Ranking.Metrics;

namespace Ranking.Core.Tests.Metrics;

/// <summary>
/// One small query worked by hand under each preset. Rows (grade, score): r0 (3, 0.5), r1 (2, 0.5),
/// r2 (0, 0.9), r3 (1, 0.1). Rows r0 and r1 tie. log2(3) = 1.584962500721156.
/// </summary>
public class PresetGoldenTests
{
    private static readonly float[] Labels = [3, 2, 0, 1];
    private static readonly float[] Scores = [0.5f, 0.5f, 0.9f, 0.1f];
    private static readonly double Log2Of3 = 1.584962500721156;

    private static double Ndcg3(string contract) =>
        RankingEvaluator.Evaluate(Labels, [0, 4], null, Scores, [MetricSpec.Parse("ndcg@3")], NdcgContract.Parse(contract)).MeanValues[0];

    [Theory]
    // Input order (r2, r0, r1, r3), exponential gains 0, 7, 3: DCG@3 = 7/log2(3) + 3/2;
    // ideal (7, 3, 1) = 7 + 3/log2(3) + 1/2.  = 5.916508 / 9.392789 = 0.629899
    [InlineData("lightgbm")]
    [InlineData("xgboost")]
    [InlineData("xgboost-")]
    [InlineData("ranklib")]
    public void InputOrderExponentialPresets(string preset)
    {
        double expected = (7 / Log2Of3 + 1.5) / (7 + 3 / Log2Of3 + 0.5);
        Assert.Equal(0.629899, expected, 6); // the hand value, to the digits worked out
        Assert.Equal(expected, Ndcg3(preset), 12);
    }

    [Fact]
    public void DefaultAveragesTheTie()
    {
        // r0, r1 share ranks 1 and 2: mean gain (7 + 3)/2 = 5 times (1/log2(3) + 1/2).
        double expected = (5 / Log2Of3 + 2.5) / (7 + 3 / Log2Of3 + 0.5);
        Assert.Equal(0.602020, expected, 6);
        Assert.Equal(expected, Ndcg3("default"), 12);
    }

    [Fact]
    public void SklearnUsesLinearGainAndAveragedTies()
    {
        // Linear gains: tie mean (3 + 2)/2 = 2.5; ideal (3, 2, 1) = 3 + 2/log2(3) + 1/2.
        // sklearn.metrics.ndcg_score([[3,2,0,1]], [[.5,.5,.9,.1]], k=3) = 0.593744 (checked with Debian python3-sklearn)
        double expected = (2.5 / Log2Of3 + 1.25) / (3 + 2 / Log2Of3 + 0.5);
        Assert.Equal(0.593744, expected, 6);
        Assert.Equal(expected, Ndcg3("sklearn"), 12);
    }

    [Fact]
    public void SklearnWholeListWithAThreeWayTie()
    {
        // sklearn.metrics.ndcg_score([[3,2,0,1,2]], [[.5,.5,.9,.1,.5]]) = 0.7080501241560491 (Debian python3-sklearn 1.2.1)
        var r = RankingEvaluator.Evaluate([3, 2, 0, 1, 2], [0, 5], null, [0.5f, 0.5f, 0.9f, 0.1f, 0.5f], [MetricSpec.Parse("ndcg")], NdcgContract.FromPreset("sklearn"));
        Assert.Equal(0.7080501241560491, r.MeanValues[0], 12);
    }

    [Fact]
    public void MlnetUsesItsGainTablePessimisticTiesAndNaturalLogDcg()
    {
        // Gains 0,3,7,15,31 by grade; pessimistic order r2, r1 (grade 2), r0 (grade 3):
        // DCG@3 = 7/log2(3) + 15/2; ideal (15, 7, 3) = 15 + 7/log2(3) + 3/2.
        double expected = (7 / Log2Of3 + 7.5) / (15 + 7 / Log2Of3 + 1.5);
        Assert.Equal(expected, Ndcg3("mlnet"), 12);
        // ML.NET reports DCG with 1/ln(rank+2): 7/ln(3) + 15/ln(4).
        var dcg = RankingEvaluator.Evaluate(Labels, [0, 4], null, Scores, [MetricSpec.Parse("dcg@3")], NdcgContract.FromPreset("mlnet"));
        Assert.Equal(7 / Math.Log(3) + 15 / Math.Log(4), dcg.MeanValues[0], 12);
    }

    [Fact]
    public void OptimisticPutsTheHigherGradeFirst()
    {
        // r2, r0 (grade 3), r1 (grade 2): same as input order here.
        Assert.Equal((7 / Log2Of3 + 1.5) / (7 + 3 / Log2Of3 + 0.5), Ndcg3("default,ties=optimistic"), 12);
        Assert.Equal((3 / Log2Of3 + 3.5) / (7 + 3 / Log2Of3 + 0.5), Ndcg3("default,ties=pessimistic"), 12);
    }

    [Theory]
    [InlineData("default", 1.0)]
    [InlineData("lightgbm", 1.0)]
    [InlineData("xgboost", 1.0)]
    [InlineData("xgboost-", 0.0)]
    [InlineData("sklearn", 0.0)]
    [InlineData("mlnet", 0.0)]
    [InlineData("ranklib", 0.0)]
    public void EmptyQueryPolicyOfEachPreset(string preset, double expected)
    {
        var r = RankingEvaluator.Evaluate([0f, 0f, 0f], [0, 3], null, [1f, 2f, 3f], [MetricSpec.Parse("ndcg@10")], NdcgContract.FromPreset(preset));
        Assert.Equal(expected, r.PerQuery[0][0]);
    }

    [Fact]
    public void LeftOutQueriesAreExcludedFromTheWeightedMean()
    {
        // q0: perfect (1), q1: empty (left out), q2: worst order of (1, 0) -> (0 + 1/log2 3) / 1.
        float[] labels = [1, 0, 0, 0, 0, 1];
        float[] scores = [2, 1, 5, 4, 2, 1];
        float[] weights = [1, 5, 3];
        var r = RankingEvaluator.Evaluate(labels, [0, 2, 4, 6], weights, scores, [MetricSpec.Parse("ndcg")],
            NdcgContract.FromPreset("default").WithEmptyQuery(EmptyQueryPolicy.LeaveOut));
        Assert.True(double.IsNaN(r.PerQuery[0][1]));
        Assert.Equal((1 * 1.0 + 3 * (1 / Log2Of3)) / 4, r.MeanValues[0], 12);
        Assert.Equal(2, r.CountedQueries[0]);
    }

    [Fact]
    public void DescribeAndJsonNameEveryKnob()
    {
        var c = NdcgContract.FromPreset("mlnet");
        Assert.Contains("pessimistic", c.Describe());
        Assert.Contains("0,3,7,15,31", c.Describe());
        var json = c.ToJsonObject().ToJsonString();
        Assert.Contains("\"ties\":\"pessimistic\"", json);
        Assert.Contains("\"emptyQuery\":\"0\"", json);
        Assert.Throws<ArgumentException>(() => NdcgContract.FromPreset("nope"));
        foreach (string name in NdcgContract.PresetNames) Assert.Equal(name, NdcgContract.FromPreset(name).Name);
    }
}
