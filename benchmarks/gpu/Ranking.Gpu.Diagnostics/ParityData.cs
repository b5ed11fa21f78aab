namespace Ranking.Gpu.Diagnostics;

/// <summary>
/// Small seeded query sets for CPU-vs-GPU parity: random lengths and grades, scores with ties (rounded
/// values, -0 and +0), and the edge cases every kernel must survive — one-row queries, queries with no
/// relevant row, all scores equal, all grades equal, huge finite scores, a query longer than a typical
/// truncation level.
/// </summary>
public sealed record ParityData(float[] Labels, float[] Scores, int[] Offsets, float[] QueryWeights)
{
    public int RowCount => Labels.Length;
    public int QueryCount => Offsets.Length - 1;

    /// <summary>
    /// Display positions for the click objectives: each query's rows shown in reverse order (the last row at
    /// position 1), so weights and biases differ from the default "row i at position i + 1".
    /// </summary>
    public int[] Positions
    {
        get
        {
            var positions = new int[RowCount];
            for (int q = 0; q < QueryCount; q++)
                for (int r = Offsets[q]; r < Offsets[q + 1]; r++) positions[r] = Offsets[q + 1] - r;
            return positions;
        }
    }

    public static ParityData Generate(int seed, int randomQueries = 40, int maxLength = 60)
    {
        var rng = new Random(seed);
        var labels = new List<float>();
        var scores = new List<float>();
        var offsets = new List<int> { 0 };

        void Add(IEnumerable<(float Label, float Score)> rows)
        {
            foreach (var (l, s) in rows) { labels.Add(l); scores.Add(s); }
            offsets.Add(labels.Count);
        }

        // Edge cases first.
        Add([(2f, 0.5f)]);                                                   // one row
        Add([(0f, 0.1f), (0f, -0.3f), (0f, 0.7f)]);                          // no relevant row
        Add(Enumerable.Range(0, 7).Select(i => ((float)(i % 3), 1.25f)));    // all scores tied
        Add(Enumerable.Range(0, 6).Select(i => (1f, (float)rng.NextDouble())));  // all grades equal
        Add([(3f, 0f), (1f, -0f), (0f, 0f), (2f, -0f), (4f, 1f)]);           // -0 and +0 tie
        Add([(4f, 3e30f), (0f, -3e30f), (2f, 1e30f), (1f, -1e-30f), (3f, 2e-38f)]);  // huge and tiny scores
        Add(Enumerable.Range(0, 80).Select(i => ((float)rng.Next(0, 5), (float)Math.Round(rng.NextDouble() * 8) / 4)));  // long, many ties

        for (int q = 0; q < randomQueries; q++)
        {
            int n = 1 + rng.Next(maxLength);
            bool coarse = rng.Next(3) == 0;   // a third of the queries get many tied scores
            Add(Enumerable.Range(0, n).Select(_ =>
            {
                float grade = rng.NextDouble() < 0.5 ? 0f : rng.Next(1, 5);
                double s = rng.NextDouble() * 6 - 3;
                float score = coarse ? (float)(Math.Round(s * 2) / 2) : (float)s;
                return (grade, score);
            }));
        }
        var weights = new float[offsets.Count - 1];
        for (int q = 0; q < weights.Length; q++) weights[q] = (float)(0.25 + rng.NextDouble() * 2);
        return new ParityData(labels.ToArray(), scores.ToArray(), offsets.ToArray(), weights);
    }
}
