using Ranking.Data;
using Ranking.Training;

namespace Ranking.LightGbm.Tests;

public class TrainerTests
{
    private static ValidationScorer Scorer(RankingDataset valid) =>
        new(["ndcg@10"], s => new Dictionary<string, double> { ["ndcg@10"] = TinyData.MeanNdcg(valid, s, 10) });

    private static RankerOptions Options(int trees, int early = 0, int seed = 7)
    {
        var o = new RankerOptions { Seed = seed, Threads = 1, EarlyStoppingRounds = early };
        o.Parameters["trees"] = trees.ToString();
        o.Parameters["leaves"] = "7";
        o.Parameters["min-data"] = "5";
        return o;
    }

    private static RankerCatalog Catalog()
    {
        var catalog = new RankerCatalog();
        LightGbmRankers.Register(catalog);
        return catalog;
    }

    [Fact]
    public void Catalog_holds_the_gbdt_family_and_native_rankers()
    {
        var catalog = Catalog();
        Assert.Contains("gbdt", catalog.ModelFamilies);
        Assert.Equal("gbdt", catalog.Get("lambdamart").ModelFamily);
        Assert.Equal("gbdt-xendcg", catalog.Compose("rank_xendcg", "gbdt").Name);
        Assert.Equal("gbdt-regression", catalog.Get("gbdt-regression").Name);
        Assert.Contains("truncation", catalog.Get("lambdamart").Knobs.Keys);
    }

    [Fact]
    public void Early_stopping_on_our_metric_keeps_the_best_round()
    {
        var train = TinyData.Make(40, 10, 5, seed: 11);
        var valid = TinyData.Make(15, 10, 5, seed: 12);
        var trainer = Catalog().Get("lambdamart").CreateTrainer(Options(trees: 300, early: 5));
        var result = trainer.Train(new TrainingRequest { Train = train, Valid = valid, ValidationScorer = Scorer(valid) });

        Assert.True(result.History.Count < 300, "tiny data must stop early");
        double best = result.History.Max(e => e.ValidMetrics["ndcg@10"]);
        var bestEvent = result.History.First(e => e.ValidMetrics["ndcg@10"] == best);
        Assert.Equal(bestEvent.Iteration, result.BestIteration);
        Assert.Equal(result.History.Count, result.BestIteration + 5);
        Assert.Equal(best, result.ValidMetrics["ndcg@10"]);

        // The model is cut at the best round: predicting the validation set gives the best round's metric.
        var model = Assert.IsType<LightGbmModel>(result.Model);
        Assert.Equal(result.BestIteration, model.Iterations);
        var scores = new float[valid.RowCount];
        model.Predict(valid.Features, valid.RowCount, scores);
        Assert.Equal(best, TinyData.MeanNdcg(valid, scores, 10), 12);
    }

    [Fact]
    public void Same_seed_gives_the_same_model_and_payload_round_trips()
    {
        var train = TinyData.Make(30, 10, 5, seed: 21, weights: true);
        var o = Options(trees: 20);
        o.Parameters["bagging-fraction"] = "0.7";
        o.Parameters["feature-fraction"] = "0.8";
        var a = (LightGbmModel)new LightGbmTrainer("lambdarank", o).Train(new TrainingRequest { Train = train }).Model;
        var b = (LightGbmModel)new LightGbmTrainer("lambdarank", o).Train(new TrainingRequest { Train = train }).Model;
        Assert.Equal(a.ModelText, b.ModelText);
        Assert.Equal(20, a.Iterations);

        var loaded = Catalog().GetLoader("gbdt")(a.SavePayload());
        var s1 = new float[train.RowCount];
        var s2 = new float[train.RowCount];
        a.Predict(train.Features, train.RowCount, s1);
        loaded.Predict(train.Features, train.RowCount, s2);
        Assert.Equal(s1, s2);
        Assert.Throws<InvalidDataException>(() => Catalog().GetLoader("gbdt")(new Dictionary<string, byte[]> { ["lightgbm-model.txt"] = [1, 2, 3] }));
    }

    [Fact]
    public void Every_native_objective_learns()
    {
        var train = TinyData.Make(40, 10, 5, seed: 31);
        var test = TinyData.Make(20, 10, 5, seed: 32);
        double baseline = TinyData.MeanNdcg(test, new float[test.RowCount], 10);
        foreach (var name in new[] { "lambdamart", "gbdt-xendcg", "gbdt-regression" })
        {
            var model = Catalog().Get(name).CreateTrainer(Options(trees: 30)).Train(new TrainingRequest { Train = train }).Model;
            var scores = new float[test.RowCount];
            model.Predict(test.Features, test.RowCount, scores);
            Assert.True(TinyData.MeanNdcg(test, scores, 10) > baseline + 0.1, name);
        }
    }

    [Fact]
    public void Bad_knobs_are_usage_errors_and_native_refusals_are_clear()
    {
        var o = Options(10);
        o.Parameters["hidden"] = "64";
        var e = Assert.Throws<ArgumentException>(() => Catalog().Get("lambdamart").CreateTrainer(o));
        Assert.Contains("hidden", e.Message);
        // A knob LightGBM would ignore for this objective is refused, not dropped.
        var ignored = Options(10);
        ignored.Parameters["truncation"] = "10";
        Assert.Throws<ArgumentException>(() => Catalog().Get("gbdt-xendcg").CreateTrainer(ignored));
        Assert.Throws<ArgumentException>(() => Catalog().Get("gbdt-regression").CreateTrainer(ignored));
        var bad = Options(10);
        bad.Parameters["leaves"] = "many";
        Assert.Throws<ArgumentException>(() => Catalog().Get("lambdamart").CreateTrainer(bad));

        // Grade 40 has no gain in LightGBM's default table: LightGBM's own message comes through.
        var data = TinyData.Make(5, 6, 3, seed: 5);
        data.Labels[0] = 40;
        var ex = Assert.Throws<LightGbmException>(() => new LightGbmTrainer("lambdarank", Options(5)).Train(new TrainingRequest { Train = data }));
        Assert.Contains("label", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.IsAssignableFrom<RankingDataException>(ex);
    }

    [Fact]
    public void Shards_hold_whole_disjoint_queries()
    {
        var data = TinyData.Make(7, 3, 2, seed: 1);
        var s0 = LightGbmTrainer.SelectShard(data, 0, 2);
        var s1 = LightGbmTrainer.SelectShard(data, 1, 2);
        Assert.Equal(4, s0.QueryCount);
        Assert.Equal(3, s1.QueryCount);
        Assert.Equal(data.RowCount, s0.RowCount + s1.RowCount);
        Assert.Equal(data.QueryIds[1], s1.QueryIds[0]);
        Assert.Throws<ArgumentException>(() => LightGbmTrainer.SelectShard(data, 9, 10));
    }
}
