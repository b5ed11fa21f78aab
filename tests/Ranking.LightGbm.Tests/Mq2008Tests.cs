using Ranking.Data;
using Ranking.Metrics;
using Ranking.Training;
using Xunit.Abstractions;

namespace Ranking.LightGbm.Tests;

/// <summary>
/// Acceptance on LETOR MQ2008 Fold1 (train; vali for early stopping; test), NDCG@10 under the lightgbm
/// contract (gain 2^g - 1, log2 discount, a query without relevant documents counts 1). One thread:
/// LightGBM's OpenMP threads spin, which on a shared 2-core machine costs ten times the work.
/// </summary>
public class Mq2008Tests(ITestOutputHelper output)
{
    private static readonly Lazy<(RankingDataset Train, RankingDataset Valid, RankingDataset Test)> Fold1 = new(() =>
    (
        DatasetReader.Read(SharedData.Path("mq2008", "Fold1", "train.txt")),
        DatasetReader.Read(SharedData.Path("mq2008", "Fold1", "vali.txt")),
        DatasetReader.Read(SharedData.Path("mq2008", "Fold1", "test.txt"))
    ));

    internal static (double Test, TrainingResult Result) TrainAndTest(RankerDescriptor ranker, int early, ITestOutputHelper? output = null, Action<RankerOptions>? configure = null)
    {
        var (train, valid, test) = Fold1.Value;
        var options = new RankerOptions { Seed = 42, Threads = 1, EarlyStoppingRounds = early };
        configure?.Invoke(options);
        var scorer = new ValidationScorer(["ndcg@10"], s => Ndcg10(valid, s));
        var result = ranker.CreateTrainer(options).Train(new TrainingRequest { Train = train, Valid = valid, ValidationScorer = scorer });
        var scores = new float[test.RowCount];
        result.Model.Predict(test.Features, test.RowCount, scores);
        double ndcg = Ndcg10(test, scores)["ndcg@10"];
        output?.WriteLine($"{ranker.Name} early={early}: best iteration {result.BestIteration}, valid {result.ValidMetrics["ndcg@10"]:F4}, test ndcg@10 {ndcg:F4}, {result.Elapsed.TotalSeconds:F2}s");
        return (ndcg, result);
    }

    private static readonly NdcgContract LightGbmContract = NdcgContract.FromPreset("lightgbm");
    private static readonly IReadOnlyList<MetricSpec> Ndcg10Spec = [MetricSpec.Parse("ndcg@10")];

    private static IReadOnlyDictionary<string, double> Ndcg10(RankingDataset data, float[] scores) =>
        RankingEvaluator.Evaluate(data, scores, Ndcg10Spec, LightGbmContract).Means;

    private static RankerCatalog Catalog()
    {
        var catalog = new RankerCatalog();
        LightGbmRankers.Register(catalog);
        return catalog;
    }

    [SkippableFact]
    public void Native_lambdamart_reaches_0_785()
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        var (ndcg, _) = TrainAndTest(Catalog().Get("lambdamart"), early: 20, output);
        Assert.True(ndcg >= 0.785, $"test NDCG@10 {ndcg:F4}");
    }

    [SkippableFact]
    public void Native_rank_xendcg_reaches_0_80()
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        var (ndcg, _) = TrainAndTest(Catalog().Get("gbdt-xendcg"), early: 20, output);
        Assert.True(ndcg >= 0.80, $"test NDCG@10 {ndcg:F4}");
    }

    [SkippableFact]
    public void Our_lambdarank_through_the_custom_path_is_within_0_01_of_native()
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        var (native, _) = TrainAndTest(Catalog().Get("lambdamart"), early: 0, output);
        var (ours, _) = TrainAndTest(Catalog().Compose("lambdarank", "gbdt"), early: 0, output);
        Assert.InRange(ours - native, -0.01, 0.01);
    }
}
