using Ranking.Data;

namespace Ranking.MLNet.Tests;

/// <summary>Small seeded sets for tests, and where ../shared/datasets is (tests needing it skip without it).</summary>
public static class TestData
{
    public const string Missing = SharedData.Missing;

    public static string? SharedRoot => SharedData.Root;

    /// <summary>The model's scores for every row of <paramref name="data"/>.</summary>
    public static float[] Predict(Ranking.Models.IScoringModel model, RankingDataset data)
    {
        var scores = new float[data.RowCount];
        model.Predict(data.Features, data.RowCount, scores);
        return scores;
    }

    /// <summary>
    /// A set whose grades follow a noisy linear function of the features, so a ranker can learn something.
    /// Query sizes vary from 1 to <paramref name="maxQueryLength"/>; grades 0..4.
    /// </summary>
    public static RankingDataset Synthetic(int queries, int features, int seed, int maxQueryLength = 20, bool weights = false)
    {
        var rng = new Random(seed);
        var w = Enumerable.Range(0, features).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var offsets = new int[queries + 1];
        for (int q = 0; q < queries; q++) offsets[q + 1] = offsets[q] + 1 + rng.Next(maxQueryLength);
        int rows = offsets[^1];
        var x = new float[rows * features];
        var y = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int f = 0; f < features; f++)
            {
                float v = (float)(rng.NextDouble() * 2 - 1);
                x[r * features + f] = v;
                s += w[f] * v;
            }
            s += 0.3 * (rng.NextDouble() - 0.5);
            y[r] = (float)Math.Clamp(Math.Floor((s + 1.5) * 1.5), 0, 4);
        }
        var ids = Enumerable.Range(0, queries).Select(q => 1000L + 7 * q).ToArray();
        float[]? qw = weights ? Enumerable.Range(0, queries).Select(q => 0.5f + q % 3).ToArray() : null;
        return new RankingDataset(x, features, y, offsets, ids, qw, source: "synthetic");
    }

    /// <summary>
    /// A minimal LETOR reader (label qid:N i:v ... # comment) for tests only, so these tests do not wait on
    /// the data capability's reader; dense features 1..<paramref name="featureCount"/>.
    /// </summary>
    public static RankingDataset ReadLetor(string path, int featureCount)
    {
        var labels = new List<float>();
        var features = new List<float>();
        var offsets = new List<int> { 0 };
        var ids = new List<long>();
        long? current = null;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw;
            int hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            long qid = long.Parse(parts[1].AsSpan(4), System.Globalization.CultureInfo.InvariantCulture);
            if (current != qid)
            {
                if (current is not null) offsets.Add(labels.Count);
                ids.Add(qid);
                current = qid;
            }
            labels.Add(float.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture));
            var row = new float[featureCount];
            for (int i = 2; i < parts.Length; i++)
            {
                int colon = parts[i].IndexOf(':');
                int index = int.Parse(parts[i].AsSpan(0, colon), System.Globalization.CultureInfo.InvariantCulture);
                row[index - 1] = float.Parse(parts[i].AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture);
            }
            features.AddRange(row);
        }
        offsets.Add(labels.Count);
        return new RankingDataset(features.ToArray(), featureCount, labels.ToArray(), offsets.ToArray(), ids.ToArray(), source: path);
    }

    public static string Shared(params string[] parts) =>
        Path.Combine([SharedRoot ?? throw new InvalidOperationException(Missing), .. parts]);
}
