using Ranking.Models;
using Ranking.Data;
using Ranking.Training;
using Xunit.Abstractions;

namespace Ranking.MLNet.Tests;

public class FastTreeRankerTests(ITestOutputHelper output)
{
    private static readonly RankingDataset Train = TestData.Synthetic(queries: 120, features: 6, seed: 21);
    private static readonly RankingDataset Valid = TestData.Synthetic(queries: 40, features: 6, seed: 22);

    private static RankerOptions Options(int trees, int seed = 7, int threads = 1, int? earlyStopping = null)
    {
        var o = new RankerOptions { Seed = seed, Threads = threads, EarlyStoppingRounds = earlyStopping };
        o.Parameters["trees"] = trees.ToString();
        o.Parameters["leaves"] = "8";
        o.Parameters["min-data"] = "5";
        return o;
    }

    private static FastTreeModel TrainModel(RankerOptions options, RankingDataset? valid = null, ValidationScorer? scorer = null)
        => (FastTreeModel)new FastTreeRankerTrainer(options).Train(new TrainingRequest
        { Train = Train, Valid = valid, ValidationScorer = scorer, Options = options }).Model;

    private static ValidationScorer Ndcg10(RankingDataset valid)
        => new(["ndcg@10"], s => new Dictionary<string, double> { ["ndcg@10"] = ReferenceNdcg.Mean(valid, s, 10) });

    [Fact]
    public void Our_tree_walk_equals_MLNet_scores_exactly()
    {
        var model = TrainModel(Options(trees: 30));
        Assert.Equal(30, model.TreeCount);
        var ours = TestData.Predict(model, Valid);
        var theirs = model.PredictWithMLNet(Valid.Features, Valid.RowCount);
        Assert.Equal(theirs, ours);
        Assert.True(ours.Distinct().Count() > 10, "the model should not be constant");
        // A set large enough for the parallel blocks, ragged last block included.
        var big = TestData.Synthetic(queries: 400, features: 6, seed: 23);
        Assert.True(big.RowCount > 3000 && big.RowCount % 512 != 0);
        Assert.Equal(model.PredictWithMLNet(big.Features, big.RowCount), TestData.Predict(model, big));
    }

    [Fact]
    public void Same_seed_and_threads_give_the_same_model()
    {
        var a = TestData.Predict(TrainModel(Options(trees: 15, threads: 2)), Valid);
        var b = TestData.Predict(TrainModel(Options(trees: 15, threads: 2)), Valid);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Fewer_trees_with_the_same_seed_are_a_prefix_of_more()
    {
        // What early stopping relies on when it retrains with the best round's count.
        var full = TrainModel(Options(trees: 20));
        var prefix = TrainModel(Options(trees: 8));
        var sums = new double[Valid.RowCount];
        full.Ensemble.InitSums(sums);
        for (int t = 0; t < 8; t++) full.Ensemble.AddTree(t, Valid.Features, sums);
        Assert.Equal(sums.Select(s => (float)s).ToArray(), TestData.Predict(prefix, Valid));
    }

    [Fact]
    public void Early_stopping_keeps_the_best_round_on_our_validation_metric()
    {
        var options = Options(trees: 60, earlyStopping: 5);
        options.Parameters["lr"] = "0.8"; // overfits quickly, so the best round comes early
        var scorer = Ndcg10(Valid);
        var result = new FastTreeRankerTrainer(options).Train(new TrainingRequest
        { Train = Train, Valid = Valid, ValidationScorer = scorer, Options = options });
        var model = (FastTreeModel)result.Model;

        var curve = result.History.Select(e => e.ValidMetrics["ndcg@10"]).ToList();
        int best = curve.IndexOf(curve.Max()) + 1;
        output.WriteLine($"best round {result.BestIteration} of {curve.Count} scored; curve max at {best}");
        Assert.Equal(best, result.BestIteration);
        Assert.Equal(best, model.TreeCount);
        Assert.True(curve.Count - best <= 5);
        // The kept model scores the validation set exactly as the curve said.
        Assert.Equal(curve[best - 1], scorer.Score(TestData.Predict(model, Valid))["ndcg@10"]);
        Assert.Equal(curve[best - 1], result.ValidMetrics["ndcg@10"]);
    }

    [Fact]
    public void Without_early_stopping_every_round_is_reported_and_kept()
    {
        var options = Options(trees: 12);
        var events = new List<TrainingEvent>();
        var result = new FastTreeRankerTrainer(options).Train(new TrainingRequest
        { Train = Train, Valid = Valid, ValidationScorer = Ndcg10(Valid), Options = options }, new SyncProgress(events));
        Assert.Equal(12, ((FastTreeModel)result.Model).TreeCount);
        Assert.Equal(Enumerable.Range(1, 12), events.Select(e => e.Iteration));
        Assert.Equal(12, result.BestIteration);
    }

    [Fact]
    public void Payload_round_trips_through_the_catalog_loader()
    {
        var catalog = new RankerCatalog();
        MLNetRankers.Register(catalog);
        var descriptor = catalog.Compose("lambdarank", "fasttree");
        Assert.Equal("lambdamart-fasttree", descriptor.Name);
        var options = Options(trees: 10);
        var model = descriptor.CreateTrainer(options).Train(new TrainingRequest { Train = Train, Options = options }).Model;

        var payload = model.SavePayload();
        Assert.Equal([FastTreeModel.PayloadEntry], payload.Keys);
        var loaded = catalog.GetLoader("fasttree")(payload.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray()));
        Assert.Equal("fasttree", loaded.ModelFamily);
        Assert.Equal(6, loaded.FeatureCount);
        Assert.Equal(TestData.Predict(model, Valid), TestData.Predict(loaded, Valid));
    }

    [Fact]
    public void Bad_knobs_and_grades_are_clear_errors()
    {
        var o = new RankerOptions();
        o.Parameters["hidden"] = "10";
        Assert.Contains("leaves", Assert.Throws<ArgumentException>(() => new FastTreeRankerTrainer(o)).Message);
        var bad = new RankerOptions();
        bad.Parameters["trees"] = "many";
        Assert.Contains("trees", Assert.Throws<ArgumentException>(() => new FastTreeRankerTrainer(bad)).Message);
        Assert.Throws<InvalidDataException>(() => FastTreeModel.Load(new Dictionary<string, byte[]> { [FastTreeModel.PayloadEntry] = [1, 2, 3] }));

        var labels = (float[])Train.Labels.Clone();
        labels[3] = 7;
        var graded = new RankingDataset(Train.Features, Train.FeatureCount, labels, Train.GroupOffsets);
        var error = Assert.Throws<ArgumentException>(() => new FastTreeRankerTrainer(Options(3)).Train(new TrainingRequest { Train = graded }));
        Assert.Contains("row 4", error.Message);
    }

    [SkippableFact]
    public void Trains_and_evaluates_on_MQ2008_fold1()
    {
        Skip.If(TestData.SharedRoot is null, TestData.Missing);
        RankingDataset Read(string part) => DatasetReader.Read(TestData.Shared("mq2008", "Fold1", part));
        var (train, valid, test) = (Read("train.txt"), Read("vali.txt"), Read("test.txt"));
        var specs = Ranking.Metrics.MetricSpec.ParseList("ndcg@10");
        var lightgbm = Ranking.Metrics.NdcgContract.FromPreset("lightgbm");
        var scorer = new ValidationScorer(["ndcg@10"], s => Ranking.Metrics.RankingEvaluator.Evaluate(valid, s, specs, lightgbm).Means);
        var options = new RankerOptions { Seed = 1, EarlyStoppingRounds = 0 };
        options.Parameters["trees"] = "100";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var result = new FastTreeRankerTrainer(options).Train(new TrainingRequest
        { Train = train, Valid = valid, ValidationScorer = scorer, Options = options });
        var scores = TestData.Predict(result.Model, test);
        double ndcg10 = Ranking.Metrics.RankingEvaluator.Evaluate(test, scores, specs, lightgbm).Means["ndcg@10"];
        double mlnet10 = Ranking.Metrics.RankingEvaluator.Evaluate(test, scores, specs, Ranking.Metrics.NdcgContract.FromPreset("mlnet")).Means["ndcg@10"];
        output.WriteLine($"MQ2008 Fold1 fasttree 100 trees: valid NDCG@10 {result.ValidMetrics["ndcg@10"]:F4}; test NDCG@10 {ndcg10:F4} (lightgbm contract), {mlnet10:F4} (mlnet contract); {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(ReferenceNdcg.Mean(test, scores, 10), ndcg10, 1e-9);
        Assert.InRange(ndcg10, 0.75, 1.0);
    }

    /// <summary>Progress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(List<TrainingEvent> events) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => events.Add(value);
    }
}
