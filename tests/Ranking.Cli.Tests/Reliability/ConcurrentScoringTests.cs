using Ranking.Data;
using Ranking.Models;

namespace Ranking.Cli.Tests.Reliability;

/// <summary>
/// One loaded model of each family (linear, MLP, LightGBM trees, FastTree) scoring from 16 threads at once gives
/// the same scores, bit for bit, as one thread: loaded models are immutable and keep no per-call state.
/// </summary>
public class ConcurrentScoringTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ranking-concurrent-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("linear-ranknet")]
    [InlineData("ranknet")]
    [InlineData("lambdamart")]
    [InlineData("lambdamart-fasttree")]
    public void Sixteen_threads_score_one_model_as_one_thread_does(string ranker)
    {
        var (manifest, pipeline, payload) = ModelFuzzTests.Seeds.Value[ranker];
        string path = Path.Combine(_dir, ranker + ".rkm");
        ModelFile.WriteContainer(path, manifest, pipeline, payload);
        var model = ModelFile.Load(path, CatalogFactory.CreateDefault());
        // Queries of different lengths per thread, so calls overlap with different shapes.
        var sets = Enumerable.Range(0, 16).Select(t => SyntheticGenerator.GenerateSplits("small", 10 + t, (ulong)(100 + t)).Test.Data).ToArray();
        var expected = sets.Select(s => model.Predict(s)).ToArray();
        var results = new float[16][][];
        using var start = new Barrier(16);
        var threads = Enumerable.Range(0, 16).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            results[t] = Enumerable.Range(0, 5).Select(_ => model.Predict(sets[t])).ToArray();
        })).ToArray();
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();
        for (int t = 0; t < 16; t++)
            foreach (var scores in results[t])
                Assert.Equal(expected[t], scores);
    }
}
