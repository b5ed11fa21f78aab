using CsCheck;
using Ranking.Data;
using Ranking.Metrics;

namespace Ranking.Core.Tests.Metrics;

public class MetricEdgeCaseTests
{
    private static readonly IReadOnlyList<MetricSpec> Some = MetricSpec.ParseList("ndcg@10,dcg@10,map,mrr@10,p@5,r@5,err@10");

    private static EvaluationReport Eval(float[] labels, float[] scores, string contract = "default", IReadOnlyList<MetricSpec>? metrics = null) =>
        RankingEvaluator.Evaluate(labels, [0, labels.Length], null, scores, metrics ?? Some, NdcgContract.Parse(contract));

    [Fact]
    public void OneRowQueries()
    {
        var r = Eval([2], [0.3f]);
        Assert.Equal(1.0, r["ndcg@10"]);
        Assert.Equal(3.0, r["dcg@10"]);
        Assert.Equal(1.0, r["map"]);
        Assert.Equal(1.0, r["mrr@10"]);
        Assert.Equal(1.0 / 5, r["p@5"]); // P@k divides by k
        Assert.Equal(1.0, r["r@5"]);
        Assert.Equal(0.75, r["err@10"]); // (2^2-1)/2^2 with the data's max grade 2
    }

    [Fact]
    public void AllZeroGradesFollowTheEmptyPolicy()
    {
        var one = Eval([0, 0, 0], [3, 2, 1]);
        Assert.Equal(1.0, one["ndcg@10"]);
        Assert.Equal(1.0, one["map"]);
        Assert.Equal(0.0, one["dcg@10"]);
        Assert.Equal(0.0, one["p@5"]);
        Assert.Equal(0.0, one["err@10"]);
        var zero = Eval([0, 0, 0], [3, 2, 1], "default,empty=0");
        Assert.Equal(0.0, zero["ndcg@10"]);
        var omit = Eval([0, 0, 0], [3, 2, 1], "default,empty=omit");
        Assert.True(double.IsNaN(omit["ndcg@10"]));
        Assert.Equal(0, omit.CountedQueries[0]);
    }

    [Fact]
    public void AllEqualScoresAverageEverything()
    {
        // Averaged: every rank gets the mean gain (3+1+0)/3 = 4/3.
        var r = Eval([2, 1, 0], [1, 1, 1], metrics: MetricSpec.ParseList("dcg@2,p@1,mrr"));
        Assert.Equal(4.0 / 3 * (1 + 1 / Math.Log2(3)), r["dcg@2"], 12);
        Assert.Equal(2.0 / 3, r["p@1"], 12);
        // first relevant at rank 1 with prob 2/3, rank 2 with 1/3: 2/3 + 1/6
        Assert.Equal(2.0 / 3 + 1.0 / 6, r["mrr"], 12);
        // input order keeps 2, 1, 0: ideal
        Assert.Equal(1.0, Eval([2, 1, 0], [1, 1, 1], "default,ties=input")["ndcg@10"], 12);
        // pessimistic: 0, 1, 2
        Assert.Equal((1 / Math.Log2(3) + 3 / 2.0) / (3 + 1 / Math.Log2(3)), Eval([2, 1, 0], [1, 1, 1], "default,ties=pessimistic")["ndcg@10"], 12);
    }

    [Fact]
    public void KBeyondTheListUsesTheWholeList()
    {
        var a = Eval([1, 0, 2], [0.1f, 0.2f, 0.3f], metrics: MetricSpec.ParseList("ndcg@100,ndcg,map@100,map"));
        Assert.Equal(a["ndcg"], a["ndcg@100"], 15);
        Assert.Equal(a["map"], a["map@100"], 15);
    }

    [Fact]
    public void GradesBeyondTheGainTableAreAClearError()
    {
        var ex = Assert.Throws<RankingDataException>(() =>
            RankingEvaluator.Evaluate([1, 5], [0, 2], null, [1, 2], [MetricSpec.Parse("ndcg@10")], NdcgContract.FromPreset("mlnet"), source: "q.txt"));
        Assert.Contains("q.txt: row 2 (query 0)", ex.Message);
        Assert.Contains("grade 5", ex.Message);
        Assert.Contains("0,3,7,15,31", ex.Message);
        Assert.Throws<RankingDataException>(() => Eval([31, 0], [1, 2], "lightgbm"));
        Assert.Equal(1.0, Eval([30, 0], [2, 1], "lightgbm")["ndcg@10"]);
        Assert.Throws<RankingDataException>(() => Eval([32, 0], [1, 2], "xgboost"));
        Assert.Equal(1.0, Eval([31, 0], [2, 1], "xgboost-")["ndcg@10"]);
        Assert.Throws<RankingDataException>(() => Eval([1.5f, 0], [1, 2], "lightgbm"));
        Assert.Throws<RankingDataException>(() => Eval([-1, 0], [1, 2]));
        // the same grades are fine for metrics that do not use gains
        Assert.Equal(1.0, Eval([5, 0], [2, 1], "mlnet", MetricSpec.ParseList("map"))["map"]);
    }

    [Fact]
    public void NaNScoresAreAClearErrorAndInfinitiesRank()
    {
        var ex = Assert.Throws<RankingDataException>(() => Eval([1, 0, 2], [1, float.NaN, 2]));
        Assert.Contains("row 2", ex.Message);
        Assert.Contains("NaN", ex.Message);
        var r = Eval([0, 2, 1], [float.NegativeInfinity, float.PositiveInfinity, 0f], metrics: MetricSpec.ParseList("ndcg"));
        Assert.Equal(1.0, r["ndcg"], 15);
        // -0 and +0 are the same score (a tie)
        var tie = Eval([1, 0], [-0f, 0f], "default,ties=pessimistic", MetricSpec.ParseList("mrr"));
        Assert.Equal(0.5, tie["mrr"]);
    }

    [Fact]
    public void TheFirstBadRowIsReportedWhateverTheThreads()
    {
        int queries = 400;
        var offsets = Enumerable.Range(0, queries + 1).Select(q => q * 3).ToArray();
        float[] labels = new float[queries * 3];
        float[] scores = Enumerable.Range(0, queries * 3).Select(i => (float)i).ToArray();
        scores[1000] = float.NaN;
        scores[700] = float.NaN;
        labels[900] = -2;
        var ex = Assert.Throws<RankingDataException>(() =>
            RankingEvaluator.Evaluate(labels, offsets, null, scores, Some, NdcgContract.Default, threads: 4, source: "x"));
        Assert.Equal("x: row 701 (query 233): score is NaN", ex.Message);
    }

    [Fact]
    public void WrongScoreCountIsAnError() =>
        Assert.Throws<RankingDataException>(() => RankingEvaluator.Evaluate([1, 0], [0, 2], null, [1f], Some, NdcgContract.Default));

    [Fact]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        var rng = new Random(3);
        int queries = 500;
        var offsets = new int[queries + 1];
        for (int q = 0; q < queries; q++) offsets[q + 1] = offsets[q] + rng.Next(1, 60);
        float[] labels = Enumerable.Range(0, offsets[^1]).Select(_ => (float)rng.Next(0, 5)).ToArray();
        float[] scores = Enumerable.Range(0, offsets[^1]).Select(_ => (float)rng.Next(0, 20)).ToArray();
        float[] weights = Enumerable.Range(0, queries).Select(_ => (float)rng.NextDouble()).ToArray();
        var one = RankingEvaluator.Evaluate(labels, offsets, weights, scores, Some, NdcgContract.Default, threads: 1);
        var many = RankingEvaluator.Evaluate(labels, offsets, weights, scores, Some, NdcgContract.Default, threads: 4);
        for (int m = 0; m < Some.Count; m++)
        {
            Assert.Equal(one.MeanValues[m], many.MeanValues[m]); // bit-identical
            Assert.Equal(one.PerQuery[m], many.PerQuery[m]);
        }
    }

    [Theory]
    [InlineData("ndcg@1,ndcg@5,dcg@3,map@4,mrr@5,p@3,r@5,err@5")]   // short cut-offs: the insertion buffer
    [InlineData("ndcg@40,dcg@33,map@35,mrr@40,p@38,r@36,err@34")]  // long cut-offs: quickselect
    public void TopKSelectionGivesTheSameValuesAsAFullSort(string metrics)
    {
        // Metrics with a cut-off alone take a selection path on long lists; adding "ndcg" (no k) forces a full sort.
        var cutOnly = MetricSpec.ParseList(metrics).ToArray();
        var withFull = cutOnly.Append(MetricSpec.Parse("ndcg")).ToArray();
        Gen.Select(Gen.Int[2, 400], Gen.Int[1, 40], Gen.Int[0, 3], Gen.UInt)
            .Sample((n, distinctScores, tieIndex, seed) =>
            {
                var rng = new Random((int)seed);
                float[] labels = Enumerable.Range(0, n).Select(_ => (float)rng.Next(0, 5)).ToArray();
                float[] scores = Enumerable.Range(0, n).Select(_ => (float)rng.Next(0, distinctScores)).ToArray();
                var contract = NdcgContract.Default.WithTies((TiePolicy)tieIndex);
                var a = RankingEvaluator.Evaluate(labels, [0, n], null, scores, cutOnly, contract, threads: 1);
                var b = RankingEvaluator.Evaluate(labels, [0, n], null, scores, withFull, contract, threads: 1);
                for (int m = 0; m < cutOnly.Length; m++)
                    if (Math.Abs(a.PerQuery[m][0] - b.PerQuery[m][0]) > 1e-12) return false;
                return true;
            }, iter: 300);
    }

    [Fact]
    public void NdcgStaysBetweenZeroAndOne() =>
        Gen.Select(Gen.Int[1, 50], Gen.UInt, Gen.Int[0, 3]).Sample((n, seed, tieIndex) =>
        {
            var rng = new Random((int)seed);
            float[] labels = Enumerable.Range(0, n).Select(_ => (float)rng.Next(0, 5)).ToArray();
            float[] scores = Enumerable.Range(0, n).Select(_ => (float)rng.Next(0, 6)).ToArray();
            var r = RankingEvaluator.Evaluate(labels, [0, n], null, scores, MetricSpec.ParseList("ndcg@3,ndcg,map,mrr,r@3,err"),
                NdcgContract.Default.WithTies((TiePolicy)tieIndex), threads: 1);
            return r.MeanValues.All(v => v >= -1e-12 && v <= 1 + 1e-12);
        }, iter: 300);
}

public class MetricSpecTests
{
    [Theory]
    [InlineData("ndcg@10", "ndcg@10")]
    [InlineData(" NDCG@3 ", "ndcg@3")]
    [InlineData("map", "map")]
    [InlineData("precision@5", "p@5")]
    [InlineData("recall@20", "r@20")]
    [InlineData("map@10:rel=1", "map@10:rel=1")]
    [InlineData("err@10:max=4", "err@10:max=4")]
    [InlineData("mrr@10", "mrr@10")]
    public void ParsesToCanonicalNames(string text, string name) => Assert.Equal(name, MetricSpec.Parse(text).Name);

    [Theory]
    [InlineData("ndcg@0")]
    [InlineData("ndcg@x")]
    [InlineData("bleu")]
    [InlineData("err@10:rel=1")]
    [InlineData("")]
    public void RejectsBadNames(string text) => Assert.Throws<FormatException>(() => MetricSpec.Parse(text));

    [Fact]
    public void ListsKeepOrderAndDropDuplicates()
    {
        var list = MetricSpec.ParseList("ndcg@1, map,ndcg@1,err@10");
        Assert.Equal(["ndcg@1", "map", "err@10"], list.Select(m => m.Name));
    }

    [Fact]
    public void ErrMaxGradeAndRelevanceThresholdApply()
    {
        var r = RankingEvaluator.Evaluate([2, 1], [0, 2], null, [2, 1], MetricSpec.ParseList("err@1:max=4,map:rel=1,p@2:rel=1"), NdcgContract.Default);
        Assert.Equal(3.0 / 16, r["err@1:max=4"], 15);
        Assert.Equal(1.0, r["map:rel=1"]);
        Assert.Equal(0.5, r["p@2:rel=1"]);
    }
}
