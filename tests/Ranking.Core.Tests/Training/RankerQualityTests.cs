using Ranking.Data;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.Core.Tests.Training;

/// <summary>
/// The acceptance bar of the linear and MLP rankers with their DEFAULT options: MQ2008 Fold1 (train, vali
/// for early stopping, test) and recovery of a synthetic oracle. Kept few and quick (seconds each).
/// </summary>
public class RankerQualityTests
{
    private static readonly Lazy<(RankingDataset Train, RankingDataset Valid, RankingDataset Test)> Mq2008 = new(() =>
    {
        string dir = SharedData.Path("mq2008", "Fold1");
        var train = DatasetReader.Read(Path.Combine(dir, "train.txt"));
        var read = new DatasetReadOptions { FeatureCount = train.FeatureCount };
        return (train, DatasetReader.Read(Path.Combine(dir, "vali.txt"), read), DatasetReader.Read(Path.Combine(dir, "test.txt"), read));
    });

    private static RankerCatalog Catalog()
    {
        var catalog = new RankerCatalog();
        CoreRankers.Register(catalog);
        return catalog;
    }

    /// <summary>Objectives held to 0.77 on MQ2008 (issue 5); every other ranker to 0.70.</summary>
    private static readonly HashSet<string> Strong = ["ranknet", "lambdarank", "listnet", "listmle", "softmax", "ranksvm"];

    public static TheoryData<string> CoreRankerNames() => [.. Catalog().Rankers.Select(r => r.Name)];

    [SkippableTheory]
    [MemberData(nameof(CoreRankerNames))]
    public void EveryCoreRankerReachesTheBarOnMq2008WithDefaults(string name)
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        var (train, valid, test) = Mq2008.Value;
        var ranker = Catalog().Get(name);
        var ndcg10 = MetricSpec.ParseList("ndcg@10");
        var (model, result) = RankerTraining.Train(ranker, train, valid, new RankerOptions { Threads = 2 }, null, ndcg10, NdcgContract.Default);
        double testNdcg = RankingEvaluator.Evaluate(test, model.Predict(test), ndcg10, NdcgContract.Default).Means["ndcg@10"];
        double bar = Strong.Contains(ranker.Objective) ? 0.77 : 0.70;
        Assert.True(testNdcg >= bar, $"{name}: test NDCG@10 {testNdcg:F4} < {bar} (best epoch {result.BestIteration})");
    }

    [Fact]
    public void MlpListNetRecoversMostOfTheSyntheticOracle()
    {
        var (train, valid, test) = SyntheticGenerator.GenerateSplits("mslr-like", 1000, 7);
        var ndcg10 = MetricSpec.ParseList("ndcg@10");
        double oracle = RankingEvaluator.Evaluate(test.Data, test.OracleScores, ndcg10, NdcgContract.Default).Means["ndcg@10"];
        // Raw web-like features (counts, heavy tails): log1p then z-score, as for MSLR.
        var (model, _) = RankerTraining.Train(Catalog().Get("listnet"), train.Data, valid.Data, new RankerOptions { Threads = 2 },
            "log1p,zscore", ndcg10, NdcgContract.Default);
        double learned = RankingEvaluator.Evaluate(test.Data, model.Predict(test.Data), ndcg10, NdcgContract.Default).Means["ndcg@10"];
        Assert.True(learned >= 0.9 * oracle, $"MLP ListNet test NDCG@10 {learned:F4} < 90% of the oracle's {oracle:F4}");
    }

    [Fact]
    public void SameSeedGivesTheSameModelFileOnAnyThreadCountAndLoadingPredictsTheSame()
    {
        var (train, valid, test) = SyntheticGenerator.GenerateSplits("small", 90, 3);
        var metrics = MetricSpec.ParseList("ndcg@10,map");
        string dir = Directory.CreateTempSubdirectory("ranking-determinism-").FullName;
        try
        {
            var files = new List<byte[]>();
            var scores = new List<float[]>();
            foreach (int threads in new[] { 2, 2, 1 })
            {
                var options = new RankerOptions { Threads = threads, Iterations = 5, Seed = 11 };
                options.Parameters["dropout"] = "0.1";
                var (model, _) = RankerTraining.Train(Catalog().Get("lambdarank"), train.Data, valid.Data, options, "zscore", metrics, NdcgContract.Default);
                string path = Path.Combine(dir, $"m{files.Count}.model");
                model.Save(path);
                files.Add(File.ReadAllBytes(path));
                float[] inMemory = model.Predict(test.Data);
                var loaded = RankingModel.Load(path, Catalog());
                Assert.Equal(inMemory, loaded.Predict(test.Data));
                Assert.Equal("lambdarank", loaded.Manifest.Ranker);
                Assert.Equal("zscore", loaded.Manifest.PipelineSpec);
                Assert.Equal(model.Manifest.ValidMetrics["map"], loaded.Manifest.ValidMetrics["map"]);
                Assert.Equal("default", loaded.Manifest.NdcgContract!["name"]!.GetValue<string>());
                scores.Add(inMemory);
            }
            Assert.Equal(files[0], files[1]);
            Assert.Equal(files[0], files[2]);
            Assert.Equal(scores[0], scores[2]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void PredictRejectsDataWithAnotherFeatureCount()
    {
        var (train, _, _) = SyntheticGenerator.GenerateSplits("small", 20, 1);
        var (model, _) = RankerTraining.Train(Catalog().Get("ranksvm"), train.Data, null, new RankerOptions { Iterations = 1 }, "none", [], NdcgContract.Default);
        var narrow = new RankingDataset(new float[3], 1, new float[3], [0, 3]);
        var ex = Assert.Throws<RankingDataException>(() => model.Predict(narrow));
        Assert.Contains("features", ex.Message);
    }
}
