using Ranking.Data;
using Ranking.Metrics;
using Ranking.Objectives;
using Ranking.Training;

namespace Ranking.Core.Tests.Reliability;

/// <summary>
/// One query of 100k rows through every pairwise and listwise objective (gradients for a few iterations)
/// and one MLP epoch, and one of 1M rows with sampled pairs: allocation stays far below O(n^2) (which
/// would be 10^10 pairs = 40 GB of floats at 100k rows).
/// </summary>
[Collection(AllocationMeasuringCollection.Name)]
public class HugeQueryTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>Knobs that keep long queries O(k n): all pairs are O(n^2) in time (not memory) by design.</summary>
    private static string LongQueryKnobs(string name) => name switch
    {
        "ranknet" or "ranksvm" or "contrastive-pairs" => "pairs-per-row=8",
        "approxndcg" => "samples=16",
        "ipw-ranknet" or "ipw-lambdarank" or "ndcg-loss2pp" => "truncation=10",
        _ => "",
    };

    private static (float[] Labels, float[] Scores) Query(int n, int seed)
    {
        var rng = new Random(seed);
        var labels = new float[n];
        var scores = new float[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = rng.NextDouble() < 0.8 ? 0 : rng.Next(1, 5);
            scores[i] = (float)(0.3 * labels[i] + rng.NextDouble() - 0.5);
        }
        return (labels, scores);
    }

    private static long Allocated() => GC.GetTotalAllocatedBytes(precise: true);

    [Fact]
    public void A100kRowQueryThroughEveryPairwiseAndListwiseObjectiveInBoundedMemory()
    {
        const int n = 100_000;
        var (labels, scores) = Query(n, 5);
        var g = new float[n];
        var h = new float[n];
        var report = new List<string>();
        foreach (var d in ObjectiveFactory.Describe().Where(d => d.Family is ObjectiveFamily.Pairwise or ObjectiveFamily.Listwise))
        {
            var knobs = LongQueryKnobs(d.Name).Split(';', StringSplitOptions.RemoveEmptyEntries).ToDictionary(k => k.Split('=')[0], k => k.Split('=')[1]);
            var objective = ObjectiveFactory.Create(d.Name, knobs, seed: 1);
            long before = Allocated();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (int it = 0; it < 2; it++)
            {
                double loss = objective.Compute(new ObjectiveBatch(labels, scores, [0, n], null, it, 2), g, h);
                Assert.True(double.IsFinite(loss), $"{d.Name}: loss {loss}");
            }
            long bytes = Allocated() - before;
            report.Add($"{d.Name}: {bytes / 1e6:F1} MB, {watch.Elapsed.TotalSeconds:F2} s");
            Assert.True(ReliabilityKit.AllFinite(g), d.Name);
            Assert.True(bytes < 200_000_000, $"{d.Name} allocated {bytes / 1e6:F0} MB on a {n}-row query");
            Assert.True(watch.Elapsed.TotalSeconds < 20, $"{d.Name}: {watch.Elapsed.TotalSeconds:F1} s");
        }
        output.WriteLine(string.Join("\n", report));
        Assert.True(report.Count >= 8, string.Join("; ", report));
    }

    [Theory]
    [InlineData("ranknet", "pairs-per-row=2")]
    [InlineData("ranksvm", "pairs-per-row=2")]
    [InlineData("lambdarank", "truncation=10")]
    public void A1MRowQueryWithSamplingInBoundedMemory(string name, string knobs)
    {
        const int n = 1_000_000;
        var (labels, scores) = Query(n, 6);
        var g = new float[n];
        var h = new float[n];
        var objective = ObjectiveFactory.Create(name, new Dictionary<string, string> { [knobs.Split('=')[0]] = knobs.Split('=')[1] }, seed: 2);
        long before = Allocated();
        double loss = objective.Compute(new ObjectiveBatch(labels, scores, [0, n], null, 0, 2), g, h);
        long bytes = Allocated() - before;
        Assert.True(double.IsFinite(loss));
        Assert.True(ReliabilityKit.AllFinite(g));
        output.WriteLine($"{name} {knobs}: {bytes / 1e6:F1} MB on 1M rows");
        // linear scratch (indices, sort keys, gains per row) is fine; O(n^2) would be 4 TB
        Assert.True(bytes < 400L * n, $"{name} allocated {bytes / 1e6:F0} MB on a 1M-row query");
    }

    [Fact]
    public void OneMlpEpochOnA100kRowQueryInBoundedMemory()
    {
        const int n = 100_000, f = 8;
        var rng = new Random(9);
        var features = new float[n * f];
        for (int i = 0; i < features.Length; i++) features[i] = (float)rng.NextDouble();
        var (labels, _) = Query(n, 7);
        var set = new RankingDataset(features, f, labels, [0, n]);
        var catalog = ReliabilityKit.CoreCatalog();
        foreach (string ranker in new[] { "listnet", "ranknet" })
        {
            var options = new RankerOptions { Iterations = 1, Threads = 2, Seed = 1 };
            if (ranker == "ranknet") options.Parameters["pairs-per-row"] = "4";
            long before = Allocated();
            var (model, result) = RankerTraining.Train(catalog.Get(ranker), set, null, options, "none", [], NdcgContract.Default);
            long bytes = Allocated() - before;
            Assert.True(double.IsFinite(result.History[^1].TrainLoss), ranker);
            output.WriteLine($"{ranker} one epoch on 100k rows: {bytes / 1e6:F1} MB");
            // features (3.2 MB) are copied a few times by the pipeline and batches; O(n^2) would be 40 GB.
            Assert.True(bytes < 200_000_000, $"{ranker} epoch allocated {bytes / 1e6:F0} MB");
        }
    }
}
