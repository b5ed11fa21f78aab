using Ranking.Data;
using Ranking.Metrics;
using Ranking.Training;

namespace Ranking.Cli.Tests.Reliability;

/// <summary>
/// Every ranker of the CLI's catalog, on a small generated set with few iterations: the same seed and
/// thread count give bit-identical model files and scores; 1 vs 2 threads give bit-identical scores, and
/// bit-identical model files except for the tree rankers in <see cref="RecordsThreadCount"/>, whose
/// payload records the thread count it was trained with (documented in README "Guarantees").
/// </summary>
public class DeterminismTests
{
    /// <summary>
    /// LightGBM's model text keeps "[num_threads: N]" among its parameters and ML.NET FastTree's settings
    /// string keeps "t=N": the trees are the same, the bytes are not.
    /// </summary>
    internal static readonly HashSet<string> RecordsThreadCount = new(StringComparer.Ordinal)
    {
        "lambdamart", "gbdt-xendcg", "gbdt-regression", "lambdamart-fasttree",
    };

    public static TheoryData<string> CatalogRankers() => [.. CatalogFactory.CreateDefault().Rankers.Select(r => r.Name)];

    private static readonly Lazy<(RankingDataset Train, RankingDataset Valid)> Data = new(() =>
    {
        var (train, valid, _) = SyntheticGenerator.GenerateSplits("small", 30, 17);
        return (train.Data, valid.Data);
    });

    private static (byte[] Model, float[] Scores) TrainOnce(string rankerName, int threads)
    {
        var catalog = CatalogFactory.CreateDefault();
        var (train, valid) = Data.Value;
        var options = new RankerOptions { Seed = 7, Threads = threads, Iterations = 3 };
        var (model, _) = RankerTraining.Train(catalog.Get(rankerName), train, valid, options, "zscore", MetricSpec.ParseList("ndcg@10"), NdcgContract.Default);
        string path = Path.Combine(Path.GetTempPath(), $"ranking-det-{Guid.NewGuid():N}.rkm");
        try
        {
            model.Save(path);
            var loaded = Ranking.Models.RankingModel.Load(path, catalog);
            return (File.ReadAllBytes(path), loaded.Predict(valid));
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [MemberData(nameof(CatalogRankers))]
    public void SameSeedAndThreadsGiveBitIdenticalModelsAndScores(string ranker)
    {
        var first = TrainOnce(ranker, 2);
        var second = TrainOnce(ranker, 2);
        Assert.True(first.Model.AsSpan().SequenceEqual(second.Model), $"{ranker}: same seed and threads, different model files");
        Assert.Equal(Bits(first.Scores), Bits(second.Scores));

        var single = TrainOnce(ranker, 1);
        Assert.True(Bits(single.Scores).SequenceEqual(Bits(first.Scores)), $"{ranker}: 1 vs 2 threads changed the scores");
        if (!RecordsThreadCount.Contains(ranker))
            Assert.True(first.Model.AsSpan().SequenceEqual(single.Model), $"{ranker}: 1 vs 2 threads changed the model file");
    }

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
