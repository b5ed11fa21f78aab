using Ranking.Data;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.Core.Tests.Reliability;

/// <summary>
/// Numeric edges: huge and infinite scores are ranked, NaN scores are an error; NaN features are filled
/// by the pipeline or refused clearly; degenerate sets (constant features, one query, one row, all-zero or
/// all-equal grades) train every Core ranker and evaluate to finite numbers.
/// </summary>
public class NumericEdgeTests
{
    private static readonly IReadOnlyList<MetricSpec> Metrics = MetricSpec.ParseList("ndcg@1,ndcg@10,map,mrr@10,err@10");

    [Fact]
    public void HugeAndInfiniteScoresAreRankedAndNaNIsAnError()
    {
        var set = ReliabilityKit.Set((1, 3, [0]), (1, 0, [0]), (1, 1, [0]), (1, 2, [0]), (2, 1, [0]), (2, 0, [0]));
        float[] scores = [float.PositiveInfinity, -1e30f, 1e30f, float.MaxValue, float.NegativeInfinity, -float.MaxValue];
        var report = RankingEvaluator.Evaluate(set, scores, Metrics, NdcgContract.Default);
        Assert.All(report.Means.Values, v => Assert.True(double.IsFinite(v) && v >= 0 && v <= 1, $"{v}"));
        // query 1 is ranked perfectly (inf > max > 1e30 > -1e30): NDCG 1; query 2: -inf below -max: the relevant row is last.
        Assert.Equal(1.0, report.PerQuery[1][0], 12);
        Assert.True(report.PerQuery[1][1] < 1.0);
        scores[2] = float.NaN;
        Assert.ThrowsAny<RankingDataException>(() => RankingEvaluator.Evaluate(set, scores, Metrics, NdcgContract.Default));
    }

    public static TheoryData<string> CoreRankers() => [.. ReliabilityKit.CoreCatalog().Rankers.Select(r => r.Name)];

    private static readonly (string Name, RankingDataset Set)[] Degenerate =
    [
        ("constant features", ReliabilityKit.Set((1, 2, [1, 5]), (1, 0, [1, 5]), (1, 1, [1, 5]), (2, 1, [1, 5]), (2, 0, [1, 5]))),
        ("single query", ReliabilityKit.Set((1, 2, [0.1f, 3]), (1, 0, [0.7f, -1]), (1, 1, [0.2f, 0]))),
        ("single row", ReliabilityKit.Set((1, 1, [0.5f, 2]))),
        ("all-zero grades", ReliabilityKit.Set((1, 0, [0.1f, 3]), (1, 0, [0.7f, -1]), (2, 0, [0.2f, 0]), (2, 0, [0.9f, 1]))),
        ("all-equal grades", ReliabilityKit.Set((1, 2, [0.1f, 3]), (1, 2, [0.7f, -1]), (2, 2, [0.2f, 0]), (2, 2, [0.9f, 1]))),
        ("huge feature values", ReliabilityKit.Set((1, 2, [1e30f, -3e38f]), (1, 0, [-1e30f, 3e38f]), (2, 1, [0, 1e-38f]), (2, 0, [1e20f, 0]))),
    ];

    [Theory]
    [MemberData(nameof(CoreRankers))]
    public void DegenerateSetsTrainAndEvaluateToFiniteNumbers(string rankerName)
    {
        var ranker = ReliabilityKit.CoreCatalog().Get(rankerName);
        foreach (var (name, set) in Degenerate)
        foreach (string pipeline in new[] { "none", "zscore", "query-minmax" })
        {
            RankingModel model;
            TrainingResult result;
            try
            {
                (model, result) = RankerTraining.Train(ranker, set, set, new RankerOptions { Iterations = 2, Threads = 2, Seed = 3 },
                    pipeline, Metrics, NdcgContract.Default);
            }
            catch (InvalidOperationException ex) when (name == "huge feature values" && pipeline == "none" && ex.Message.Contains("diverged"))
            {
                // raw features near float.MaxValue overflow any weight: refused clearly (normalising pipelines train)
                continue;
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"{rankerName} on {name} ({pipeline}): {ex.GetType().Name}: {ex.Message}");
            }
            float[] scores = model.Predict(set);
            Assert.True(ReliabilityKit.AllFinite(scores), $"{rankerName} on {name} ({pipeline}): scores {string.Join(",", scores)}");
            Assert.All(result.History, e => Assert.True(double.IsFinite(e.TrainLoss), $"{rankerName} on {name} ({pipeline}): loss {e.TrainLoss}"));
            var report = RankingEvaluator.Evaluate(set, scores, Metrics, NdcgContract.Default);
            Assert.All(report.Means.Values, v => Assert.True(double.IsFinite(v), $"{rankerName} on {name} ({pipeline}): metric {v}"));
        }
    }

    [Fact]
    public void NaNFeaturesAreFilledByThePipelineOrRefusedClearly()
    {
        string dir = ReliabilityKit.TempDir();
        try
        {
            string path = Path.Combine(dir, "nan.txt");
            File.WriteAllText(path, "2 qid:1 1:nan 2:1\n0 qid:1 1:0.1 2:0\n1 qid:2 1:0.3 2:nan\n0 qid:2 1:0.9 2:0.4\n");
            // by default the reader refuses NaN with the line
            var ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(path));
            Assert.Equal(1, ex.Line);
            var set = DatasetReader.Read(path, new DatasetReadOptions { AllowNaN = true });
            var catalog = ReliabilityKit.CoreCatalog();
            foreach (var ranker in catalog.Rankers)
            {
                var (model, _) = RankerTraining.Train(ranker, set, set, new RankerOptions { Iterations = 2, Threads = 1 }, "fillnan,zscore", Metrics, NdcgContract.Default);
                Assert.True(ReliabilityKit.AllFinite(model.Predict(set)), ranker.Name);
                // without fillnan: a clear error naming the file and the fix, not a NaN model
                var refused = Assert.Throws<RankingDataException>(() =>
                    RankerTraining.Train(ranker, set, null, new RankerOptions { Iterations = 1, Threads = 1 }, "zscore", [], NdcgContract.Default));
                Assert.Contains("fillnan", refused.Message);
                Assert.Contains("nan.txt", refused.Message);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
