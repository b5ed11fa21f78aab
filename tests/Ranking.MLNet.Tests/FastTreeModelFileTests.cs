using Microsoft.ML;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.MLNet.Tests;

public class FastTreeModelFileTests
{
    [Fact]
    public void Trains_through_RankerTraining_saves_in_our_model_file_and_loads_back()
    {
        var catalog = new RankerCatalog();
        MLNetRankers.Register(catalog);
        var train = TestData.Synthetic(queries: 80, features: 5, seed: 50);
        var valid = TestData.Synthetic(queries: 30, features: 5, seed: 51);
        var test = TestData.Synthetic(queries: 40, features: 5, seed: 52);
        var options = new RankerOptions { Seed = 4, Threads = 1, EarlyStoppingRounds = 3 };
        options.Parameters["trees"] = "25";
        var (model, result) = RankerTraining.Train(catalog.Get("lambdamart-fasttree"), train, valid, options, "query-zscore",
            MetricSpec.ParseList("ndcg@10"), NdcgContract.Default);
        Assert.Equal("fasttree", model.Manifest.ModelFamily);
        Assert.Equal(result.BestIteration, ((FastTreeModel)model.Model).TreeCount);

        string dir = Path.Combine(Path.GetTempPath(), "ranking-mlnet-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "fasttree.model");
            ModelFile.Save(model, path);
            var loaded = ModelFile.Load(path, catalog);
            Assert.Equal(model.Predict(test), loaded.Predict(test));

            // The payload is ML.NET's own zip: it loads in ML.NET as is.
            var zip = loaded.Model.SavePayload()[FastTreeModel.PayloadEntry];
            var transformer = new MLContext().Model.Load(new MemoryStream(zip), out var schema);
            Assert.NotNull(schema.GetColumnOrNull(RankingColumns.Features));

            // And the loaded ranker scores raw rows inside ML.NET, query by query through its pipeline.
            var ml = new MLContext(1);
            var view = ml.ToDataView(test);
            var scored = ml.Ranking.ScoreWith(loaded).Fit(view).Transform(view);
            var col = scored.Schema[RankingColumns.Score];
            using var cursor = scored.GetRowCursor([col]);
            var get = cursor.GetGetter<float>(col);
            var scores = new List<float>();
            float v = 0;
            while (cursor.MoveNext()) { get(ref v); scores.Add(v); }
            Assert.Equal(model.Predict(test), scores);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
