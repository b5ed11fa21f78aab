using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.LightGbm.Tests;

public class ModelFileTests
{
    [Fact]
    public void A_gbdt_model_file_predicts_like_the_trained_model()
    {
        var catalog = new RankerCatalog();
        CoreRankers.Register(catalog);
        LightGbmRankers.Register(catalog);
        var train = TinyData.Make(30, 10, 5, seed: 61);
        var valid = TinyData.Make(10, 10, 5, seed: 62);
        var options = new RankerOptions { Threads = 1, EarlyStoppingRounds = 5 };
        options.Parameters["trees"] = "40";
        options.Parameters["min-data"] = "5";
        foreach (var ranker in new[] { catalog.Get("lambdamart"), catalog.Compose("listnet", "gbdt") })
        {
            var (model, result) = RankerTraining.Train(ranker, train, valid, options, "zscore", [MetricSpec.Parse("ndcg@10")], NdcgContract.FromPreset("lightgbm"));
            string path = Path.Combine(Path.GetTempPath(), $"gbdt-{Guid.NewGuid():N}.rkm");
            try
            {
                model.Save(path);
                var loaded = RankingModel.Load(path, catalog);
                Assert.Equal("gbdt", loaded.Model.ModelFamily);
                Assert.Equal(model.Predict(valid), loaded.Predict(valid));
                Assert.Equal(result.BestIteration, ((LightGbmModel)loaded.Model).Iterations);
            }
            finally
            {
                File.Delete(path);
            }
        }
    }
}
