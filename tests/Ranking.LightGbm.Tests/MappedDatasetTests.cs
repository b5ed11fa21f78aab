using Ranking.Data;
using Ranking.Metrics;
using Ranking.Training;

namespace Ranking.LightGbm.Tests;

/// <summary>
/// LightGBM bins a memory-mapped <c>.rkds</c> set straight from its mapped pages (a pointer, no copy on our
/// side) and grows the very trees it grows from the same set in managed arrays.
/// </summary>
public sealed class MappedDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ranking-mapped-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RankerOptions Options()
    {
        var o = new RankerOptions { Seed = 5, Threads = 1, Iterations = 12 };
        o.Parameters["leaves"] = "7";
        o.Parameters["min-data"] = "5";
        return o;
    }

    [Theory]
    [InlineData("lambdamart")]
    [InlineData("lambdarank+gbdt")]
    public void A_mapped_set_trains_the_same_model_as_the_array_set_without_copying(string rankerName)
    {
        string trainPath = Path.Combine(_dir, "train.rkds"), validPath = Path.Combine(_dir, "valid.rkds");
        RkdsFile.Write(TinyData.Make(50, 12, 6, 1), trainPath);
        RkdsFile.Write(TinyData.Make(20, 12, 6, 2), validPath);
        var catalog = new RankerCatalog();
        LightGbmRankers.Register(catalog);
        var ranker = rankerName.Contains('+') ? catalog.Compose(rankerName.Split('+')[0], rankerName.Split('+')[1]) : catalog.Get(rankerName);
        var metrics = MetricSpec.ParseList("ndcg@10");

        var (a, ra) = RankerTraining.Train(ranker, RkdsFile.Read(trainPath), RkdsFile.Read(validPath), Options(), "none", metrics, NdcgContract.Default);
        using var train = RkdsFile.Map(trainPath);
        using var valid = RkdsFile.Map(validPath);
        var (b, rb) = RankerTraining.Train(ranker, train, valid, Options(), "none", metrics, NdcgContract.Default);

        Assert.Equal(((LightGbmModel)a.Model).ModelText, ((LightGbmModel)b.Model).ModelText);
        Assert.Equal(ra.ValidMetrics["ndcg@10"], rb.ValidMetrics["ndcg@10"]);
        Assert.Equal(a.Predict(RkdsFile.Read(validPath)), b.Predict(valid));
        Assert.False(train.HasFeatureCopy);
        Assert.False(valid.HasFeatureCopy);
    }
}
