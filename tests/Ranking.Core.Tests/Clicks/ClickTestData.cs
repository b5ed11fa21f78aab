using System.Security.Cryptography;
using Ranking.Clicks;
using Ranking.Core.Tests.Data;
using Ranking.Data;

namespace Ranking.Core.Tests.Clicks;

/// <summary>Small judged sets with production scores for the click tests.</summary>
internal static class ClickTestData
{
    /// <summary>A set of <paramref name="queries"/> x <paramref name="rows"/> rows, grades 0..4 and 3 features drawn from the seed, and random production scores.</summary>
    public static (RankingDataset Data, float[] Scores) Judged(int queries, int rows, ulong seed = 7)
    {
        var random = new SeededRandom(seed);
        int n = queries * rows;
        var features = new float[n * 3];
        var labels = new float[n];
        var scores = new float[n];
        var offsets = new int[queries + 1];
        for (int q = 0; q < queries; q++) offsets[q + 1] = offsets[q] + rows;
        for (int r = 0; r < n; r++)
        {
            labels[r] = random.NextInt(5);
            for (int j = 0; j < 3; j++) features[r * 3 + j] = (float)(labels[r] * (j + 1) * 0.3 + random.NextNormal());
            scores[r] = (float)random.NextDouble();
        }
        var ids = Enumerable.Range(0, queries).Select(q => 100L + q).ToArray();
        return (new RankingDataset(features, 3, labels, offsets, ids, source: "judged"), scores);
    }

    /// <summary>Simulates <paramref name="options"/> on one thread and on two, asserts that the written logs are the same bytes, and returns both logs.</summary>
    public static (ClickLog One, ClickLog Two) SimulateOnOneAndTwoThreads(RankingDataset data, float[] scores, ClickSimulationOptions options)
    {
        var one = ClickSimulator.Simulate(data, scores, options with { Threads = 1 });
        var two = ClickSimulator.Simulate(data, scores, options with { Threads = 2 });
        using var dir = new TempFolder();
        ClickLogFile.Write(one, dir.File("a.tsv"));
        ClickLogFile.Write(two, dir.File("b.tsv"));
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(dir.File("a.tsv"))), SHA256.HashData(File.ReadAllBytes(dir.File("b.tsv"))));
        return (one, two);
    }
}
