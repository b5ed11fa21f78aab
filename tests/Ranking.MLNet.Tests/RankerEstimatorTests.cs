using Microsoft.ML;
using Ranking.Data;
using Ranking.Metrics;
using Ranking.Training;

namespace Ranking.MLNet.Tests;

public class RankerEstimatorTests
{
    private static readonly RankingDataset Train = TestData.Synthetic(queries: 100, features: 5, seed: 40);
    private static readonly RankingDataset Valid = TestData.Synthetic(queries: 40, features: 5, seed: 41);
    private static readonly RankingDataset Test = TestData.Synthetic(queries: 50, features: 5, seed: 42);

    private static RankerDescriptor FastTree()
    {
        var catalog = new RankerCatalog();
        MLNetRankers.Register(catalog);
        return catalog.Get(MLNetRankers.LambdaMartFastTree);
    }

    private static RankerOptions Options(int trees, int? earlyStopping = null)
    {
        var o = new RankerOptions { Seed = 3, Threads = 1, EarlyStoppingRounds = earlyStopping };
        o.Parameters["trees"] = trees.ToString();
        o.Parameters["leaves"] = "6";
        o.Parameters["min-data"] = "5";
        return o;
    }

    private static float[] Scores(IDataView scored)
    {
        var col = scored.Schema[RankingColumns.Score];
        using var cursor = scored.GetRowCursor([col]);
        var get = cursor.GetGetter<float>(col);
        var list = new List<float>();
        float v = 0;
        while (cursor.MoveNext()) { get(ref v); list.Add(v); }
        return list.ToArray();
    }

    [Fact]
    public void Fit_trains_through_our_pipeline_and_scores_like_the_ranker_itself()
    {
        var ml = new MLContext(1);
        var estimator = ml.Ranking.Trainers.Ranker(FastTree(), Options(15), pipelineSpec: "zscore");
        var transformer = estimator.Fit(ml.ToDataView(Train));
        var scores = Scores(transformer.Transform(ml.ToDataView(Test)));

        // The same by hand: fit the pipeline, train on the transformed set, predict the transformed test set.
        var pipeline = Ranking.Features.FeaturePipeline.Parse("zscore").Fit(Train);
        var options = Options(15);
        var model = FastTree().CreateTrainer(options).Train(new TrainingRequest { Train = pipeline.Apply(Train), Options = options }).Model;
        var expected = new float[Test.RowCount];
        model.Predict(pipeline.Apply(Test).Features, Test.RowCount, expected);
        Assert.Equal(expected, scores);
        Assert.Equal("zscore", estimator.LastModel!.Pipeline.Spec);
        Assert.Equal("fasttree", estimator.LastModel.Manifest.ModelFamily);
    }

    [Fact]
    public void Validation_view_drives_early_stopping_and_MLNet_evaluates_the_result()
    {
        var ml = new MLContext(1);
        var options = Options(80, earlyStopping: 5);
        options.Parameters["lr"] = "0.8";
        var estimator = new RankerEstimator(FastTree(), options, validMetrics: "ndcg@5", contract: NdcgContract.FromPreset("mlnet"));
        var transformer = estimator.Fit(ml.ToDataView(Train), ml.ToDataView(Valid));
        var training = estimator.LastTraining!;
        Assert.True(training.BestIteration < 80, $"best round {training.BestIteration}");
        Assert.Equal(training.History.Max(e => e.ValidMetrics["ndcg@5"]), training.ValidMetrics["ndcg@5"]);

        // In an ML.NET chain after one of ML.NET's own transforms, then scored by ML.NET's evaluator.
        var chain = ml.Transforms.NormalizeMinMax(RankingColumns.Features).Append(new RankerEstimator(FastTree(), Options(10)));
        var scored = chain.Fit(ml.ToDataView(Train)).Transform(ml.ToDataView(Test));
        var theirs = ml.Ranking.Evaluate(scored).NormalizedDiscountedCumulativeGains[9];
        var ours = RankingEvaluator.Evaluate(Test, Scores(scored), MetricSpec.ParseList("ndcg@10"), NdcgContract.FromPreset("mlnet")).Means["ndcg@10"];
        Assert.Equal(theirs, ours, 1e-9);
        Assert.InRange(theirs, 0.5, 1.0);
    }
}
