using Microsoft.ML;
using Microsoft.ML.Data;
using Ranking.Models;
using Ranking.Data;
using Ranking.Training;
using Xunit.Abstractions;

namespace Ranking.MLNet.Tests;

public class RankerScoringTests(ITestOutputHelper output)
{
    /// <summary>A linear scorer for tests; with <paramref name="step"/> scores are rounded so ties happen.</summary>
    private sealed class LinearScorer(float[] weights, float step = 0) : IScoringModel
    {
        public string ModelFamily => "test-linear";
        public int FeatureCount => weights.Length;
        public void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores)
        {
            for (int r = 0; r < rowCount; r++)
            {
                float s = 0;
                for (int f = 0; f < weights.Length; f++) s += weights[f] * features[r * weights.Length + f];
                scores[r] = step > 0 ? MathF.Round(s / step) * step : s;
            }
        }
        public IReadOnlyDictionary<string, byte[]> SavePayload() => new Dictionary<string, byte[]>();
    }

    private static float[] ScoresFrom(IDataView scored, string column = RankingColumns.Score)
    {
        var col = scored.Schema[column];
        using var cursor = scored.GetRowCursor([col]);
        var get = cursor.GetGetter<float>(col);
        var scores = new List<float>();
        float v = 0;
        while (cursor.MoveNext()) { get(ref v); scores.Add(v); }
        return scores.ToArray();
    }

    [Fact]
    public void Estimator_adds_a_score_column_equal_to_the_models_scores()
    {
        var data = TestData.Synthetic(queries: 300, features: 4, seed: 8); // > 1024 rows: several chunks
        Assert.True(data.RowCount > 2500);
        var model = new LinearScorer([0.5f, -1, 2, 0.25f]);
        var ml = new MLContext(1);
        var view = ml.ToDataView(data);
        var estimator = ml.Ranking.ScoreWith(model);
        // SchemaShape.Create is internal to ML.NET; a test may reach it to build the input shape.
        var inputShape = (SchemaShape)typeof(SchemaShape).GetMethod("Create", System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)!
            .Invoke(null, [view.Schema])!;
        var outputShape = estimator.GetOutputSchema(inputShape);
        Assert.Equal(inputShape.Select(c => c.Name).Append(RankingColumns.Score), outputShape.Select(c => c.Name));
        var scoreShape = outputShape.Single(c => c.Name == RankingColumns.Score);
        Assert.Equal((SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single), (scoreShape.Kind, scoreShape.ItemType));
        var scored = estimator.Fit(view).Transform(view);
        Assert.Equal(TestData.Predict(model, data), ScoresFrom(scored));
        // Input columns pass through untouched, read by the same cursor as the score.
        Assert.Equal(data, scored.ToRankingDataset(), DatasetComparer.Instance);
    }

    [Fact]
    public void With_a_group_column_each_block_is_one_query()
    {
        var data = TestData.Synthetic(queries: 50, features: 3, seed: 9);
        var blocks = new List<int>();
        var transformer = new RankerScoringTransformer(3, (features, rows, offsets, scores) =>
        {
            Assert.Equal([0, rows], offsets);
            blocks.Add(rows);
            // a per-query scorer: the rank of each row's first feature within its query
            for (int i = 0; i < rows; i++)
            {
                int rank = 0;
                for (int j = 0; j < rows; j++) if (features[j * 3] < features[i * 3]) rank++;
                scores[i] = rank;
            }
        }, groupColumnName: RankingColumns.GroupId);
        var scored = transformer.Transform(new MLContext(1).ToDataView(data));
        var scores = ScoresFrom(scored);
        Assert.Equal(Enumerable.Range(0, data.QueryCount).Select(data.QueryLength), blocks);
        Assert.Equal(data.RowCount, scores.Length);
    }

    [Fact]
    public void A_fitted_pipeline_with_per_query_steps_scores_as_applying_it_to_the_set()
    {
        var train = TestData.Synthetic(queries: 60, features: 4, seed: 30);
        var test = TestData.Synthetic(queries: 90, features: 4, seed: 31);
        var pipeline = Ranking.Features.FeaturePipeline.Parse("query-zscore,clip").Fit(train);
        var model = new LinearScorer([1, -0.5f, 0.75f, 0.1f]);
        var ml = new MLContext(1);
        var view = ml.ToDataView(test);
        var scored = new RankerScoringEstimator(new RankerScoringTransformer(pipeline, model)).Fit(view).Transform(view);
        Assert.Equal(TestData.Predict(model, pipeline.Apply(test)), ScoresFrom(scored));
    }

    [Fact]
    public void A_wrong_features_column_is_refused()
    {
        var view = new MLContext(1).ToDataView(TestData.Synthetic(5, 3, 1));
        Assert.Contains("vector of 4", Assert.Throws<ArgumentException>(() => new RankerScoringTransformer(new LinearScorer(new float[4])).Transform(view)).Message);
        Assert.Throws<ArgumentException>(() => new RankerScoringTransformer(new LinearScorer(new float[3]), featureColumnName: "X").Transform(view));
    }

    [Theory]
    [InlineData(0f)]    // distinct scores
    [InlineData(0.5f)]  // many ties: ML.NET breaks them pessimistically
    public void MLNet_evaluate_matches_its_documented_ndcg_definition(float step)
    {
        var data = WithEmptyQueries(TestData.Synthetic(queries: 80, features: 4, seed: 12));
        var model = new LinearScorer([1, -0.5f, 0.75f, 0.1f], step);
        var ml = new MLContext(1);
        var scored = ml.Ranking.ScoreWith(model).Fit(ml.ToDataView(data)).Transform(ml.ToDataView(data));
        var metrics = ml.Ranking.Evaluate(scored);
        Assert.Equal(10, metrics.NormalizedDiscountedCumulativeGains.Count);
        var scores = TestData.Predict(model, data);
        for (int k = 1; k <= 10; k++)
        {
            double reference = MLNetNdcg(data, scores, k);
            output.WriteLine($"NDCG@{k}: ML.NET {metrics.NormalizedDiscountedCumulativeGains[k - 1]:R}, reference {reference:R}");
            Assert.Equal(reference, metrics.NormalizedDiscountedCumulativeGains[k - 1], 1e-9);
        }
        if (step > 0) // the ties are real: breaking them optimistically would give another NDCG@10
            Assert.NotEqual(MLNetNdcg(data, scores, 10, optimisticTies: true), metrics.NormalizedDiscountedCumulativeGains[9], 1e-6);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.5f)]
    [InlineData(2f)]    // coarse: most rows of a query tie
    public void Our_evaluator_under_the_mlnet_preset_equals_MLNet_evaluate(float step)
    {
        var data = WithEmptyQueries(TestData.Synthetic(queries: 120, features: 4, seed: 13));
        var model = new LinearScorer([1, -0.5f, 0.75f, 0.1f], step);
        var ml = new MLContext(1);
        var view = ml.ToDataView(data);
        var theirs = ml.Ranking.Evaluate(ml.Ranking.ScoreWith(model).Fit(view).Transform(view)).NormalizedDiscountedCumulativeGains;
        var specs = Ranking.Metrics.MetricSpec.ParseList(string.Join(",", Enumerable.Range(1, 10).Select(k => $"ndcg@{k}")));
        var ours = Ranking.Metrics.RankingEvaluator.Evaluate(data, TestData.Predict(model, data), specs, Ranking.Metrics.NdcgContract.FromPreset("mlnet"));
        for (int k = 1; k <= 10; k++)
        {
            output.WriteLine($"NDCG@{k}: ours {ours.Means[$"ndcg@{k}"]:R}, ML.NET {theirs[k - 1]:R}");
            Assert.Equal(theirs[k - 1], ours.Means[$"ndcg@{k}"], 1e-9);
        }
    }

    /// <summary>Two queries of all-zero grades, to check ML.NET's empty-query convention.</summary>
    private static RankingDataset WithEmptyQueries(RankingDataset data)
    {
        var labels = (float[])data.Labels.Clone();
        foreach (int q in new[] { 3, 17 })
            for (int r = data.GroupOffsets[q]; r < data.GroupOffsets[q + 1]; r++) labels[r] = 0;
        return new RankingDataset(data.Features, data.FeatureCount, labels, data.GroupOffsets, data.QueryIds);
    }

    /// <summary>
    /// NDCG@k as ML.NET's RankingEvaluator computes it (brute force): gains 0,3,7,15,31 by grade, discount
    /// 1/log(rank + 2), ties broken pessimistically (lower grade first), a query without gain scores 0,
    /// unweighted mean over queries.
    /// </summary>
    public static double MLNetNdcg(RankingDataset data, float[] scores, int k, bool optimisticTies = false)
    {
        double[] gains = [0, 3, 7, 15, 31];
        double total = 0;
        for (int q = 0; q < data.QueryCount; q++)
        {
            var rows = Enumerable.Range(data.GroupOffsets[q], data.QueryLength(q)).ToArray();
            var ranked = rows.OrderByDescending(r => scores[r]).ThenBy(r => optimisticTies ? -data.Labels[r] : data.Labels[r]).ToArray();
            var ideal = rows.Select(r => data.Labels[r]).OrderByDescending(y => y).ToArray();
            double dcg = 0, max = 0;
            for (int i = 0; i < Math.Min(k, rows.Length); i++)
            {
                dcg += gains[(int)data.Labels[ranked[i]]] / Math.Log(i + 2);
                max += gains[(int)ideal[i]] / Math.Log(i + 2);
            }
            total += max > 0 ? dcg / max : 0;
        }
        return total / data.QueryCount;
    }

    private sealed class DatasetComparer : IEqualityComparer<RankingDataset>
    {
        public static readonly DatasetComparer Instance = new();
        public bool Equals(RankingDataset? a, RankingDataset? b)
            => a!.Features.SequenceEqual(b!.Features) && a.Labels.SequenceEqual(b.Labels)
               && a.GroupOffsets.SequenceEqual(b.GroupOffsets) && a.QueryIds.SequenceEqual(b.QueryIds);
        public int GetHashCode(RankingDataset obj) => obj.RowCount;
    }
}
