using Ranking.Embeddings;

namespace Ranking.Core.Tests.Embeddings;

public class RetrievalTests
{
    [Fact]
    public void Leave_one_out_metrics_equal_the_values_worked_out_by_hand()
    {
        // 1-D points 0, 1, 2, 10, 11 of classes 0, 0, 1, 1, 0 (the walk-through is in the comments of each value).
        var report = RetrievalEvaluator.Evaluate([0, 1, 2, 10, 11], [0, 0, 1, 1, 0], 1, EmbeddingDistance.L2);
        Assert.Equal(4, report.K);
        // Correct first neighbour for queries 0 and 1 only.
        Assert.Equal(0.4, report.PrecisionAt1, 12);
        // R-precision and MAP@R: 1/2 for queries 0 and 1, 0 for the others.
        Assert.Equal(0.2, report.RPrecision, 12);
        Assert.Equal(0.2, report.MapAtR, 12);
        // First correct neighbour at ranks 1, 1, 3, 2, 3.
        Assert.Equal((1 + 1 + 1 / 3.0 + 1 / 2.0 + 1 / 3.0) / 5, report.Mrr, 12);
        Assert.Equal(0.4, report.RecallAt[1], 12);
        Assert.Equal(0.6, report.RecallAt[2], 12);
        Assert.Equal(1.0, report.RecallAt[4], 12);
        // Majority of the 4 neighbours, ties to the class met first: right for queries 0 and 1.
        Assert.Equal(0.4, report.KnnAccuracy, 12);
    }

    [Fact]
    public void Queries_with_no_reference_of_their_class_are_left_out_and_query_reference_mode_keeps_self()
    {
        // Query->reference: a query identical to a reference finds it at distance 0.
        var report = RetrievalEvaluator.Evaluate([0, 5, 9], [0, 1, 2], 1, EmbeddingDistance.SquaredL2, [0.5f, 5, 100], [0, 1, 1]);
        Assert.Equal(2, report.Queries);
        Assert.Equal(1, report.LeftOut);
        Assert.Equal(1.0, report.PrecisionAt1, 12);
        // Query 1 (class 1, R = 2): neighbours 5 (class 1), 0.5 (class 0), 100 (class 1): MAP@R = 1/2, R-precision 1/2.
        Assert.Equal((1 + 0.5) / 2, report.MapAtR, 12);
        Assert.Equal((1 + 0.5) / 2, report.RPrecision, 12);
    }

    /// <summary>Every metric against a brute-force reference written here: full sort by (distance, index), definitions applied literally.</summary>
    [Theory]
    [InlineData(EmbeddingDistance.SquaredL2, true)]
    [InlineData(EmbeddingDistance.L2, false)]
    [InlineData(EmbeddingDistance.Dot, true)]
    public void Metrics_match_a_brute_force_reference(EmbeddingDistance distance, bool leaveOneOut)
    {
        var random = new Random(3);
        const int dim = 3, nq = 200, nr = 300;
        // Small integer coordinates: products are exact in float, so ties are exact and ordered by index on both sides.
        float[] q = Enumerable.Range(0, nq * dim).Select(_ => (float)random.Next(-3, 4)).ToArray();
        int[] ql = Enumerable.Range(0, nq).Select(_ => random.Next(7)).ToArray();
        float[] r = leaveOneOut ? q : Enumerable.Range(0, nr * dim).Select(_ => (float)random.Next(-3, 4)).ToArray();
        int[] rl = leaveOneOut ? ql : Enumerable.Range(0, nr).Select(_ => random.Next(7)).ToArray();
        var report = leaveOneOut
            ? RetrievalEvaluator.Evaluate(q, ql, dim, distance, options: new RetrievalOptions { Threads = 2 })
            : RetrievalEvaluator.Evaluate(q, ql, dim, distance, r, rl, new RetrievalOptions { Threads = 2 });

        double p1 = 0, rp = 0, map = 0, mrr = 0; int kept = 0;
        var recall = new Dictionary<int, double> { [1] = 0, [2] = 0, [4] = 0, [8] = 0 };
        for (int i = 0; i < nq; i++)
        {
            var order = Enumerable.Range(0, rl.Length).Where(j => !(leaveOneOut && j == i))
                .Select(j => (j, d: Farness(distance, q.AsSpan(i * dim, dim), r.AsSpan(j * dim, dim))))
                .OrderBy(t => t.d).ThenBy(t => t.j).Select(t => rl[t.j] == ql[i]).Take(report.K).ToArray();
            int rel = rl.Count(c => c == ql[i]) - (leaveOneOut ? 1 : 0);
            if (rel == 0) continue;
            kept++;
            p1 += order[0] ? 1 : 0;
            rp += order.Take(rel).Count(x => x) / (double)rel;
            double ap = 0; int hits = 0;
            for (int t = 0; t < Math.Min(rel, order.Length); t++) if (order[t]) { hits++; ap += hits / (t + 1.0); }
            map += ap / rel;
            int first = Array.IndexOf(order, true);
            mrr += first < 0 ? 0 : 1.0 / (first + 1);
            foreach (int at in recall.Keys.ToArray()) if (order.Take(at).Any(x => x)) recall[at]++;
        }
        Assert.Equal(kept, report.Queries);
        Assert.Equal(p1 / kept, report.PrecisionAt1, 12);
        Assert.Equal(rp / kept, report.RPrecision, 12);
        Assert.Equal(map / kept, report.MapAtR, 12);
        Assert.Equal(mrr / kept, report.Mrr, 12);
        foreach (var (at, hits) in recall) Assert.Equal(hits / kept, report.RecallAt[at], 12);
    }

    private static double Farness(EmbeddingDistance distance, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, sq = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; sq += (a[i] - b[i]) * (a[i] - b[i]); }
        return distance switch { EmbeddingDistance.Dot or EmbeddingDistance.Cosine => -dot, _ => sq };
    }

    [Fact]
    public void Exact_search_returns_the_k_nearest_in_order_with_their_distances()
    {
        float[] refs = [0, 0, 3, 4, 1, 0, 0, 2];
        var search = new ExactNearestNeighbourSearch(refs, 4, 2, EmbeddingDistance.L2, threads: 1);
        var result = search.Search([0.9f, 0.1f], 1, 3, leaveOneOut: false);
        Assert.Equal([2, 0, 3], result.Indices);
        Assert.Equal(MathF.Sqrt(0.01f + 0.01f), result.Values[0], 5);
        Assert.Equal(MathF.Sqrt(0.81f + 0.01f), result.Values[1], 5);
        // More neighbours asked than exist: the rest are -1.
        Assert.Equal([2, 0, 3, 1, -1], search.Search([0.9f, 0.1f], 1, 5, false).Indices);
    }

    [Fact]
    public void Nmi_of_known_assignments()
    {
        Assert.Equal(1.0, Clustering.NormalisedMutualInformation([0, 0, 1, 1], [1, 1, 0, 0]), 12);
        Assert.Equal(0.0, Clustering.NormalisedMutualInformation([0, 0, 1, 1], [0, 1, 0, 1]), 12);
        // I = (2/3) ln 2, H(a) = ln 2, H(b) = ln 3 (scikit-learn gives 0.5158 too).
        Assert.Equal(2.0 / 3 * Math.Log(2) / ((Math.Log(2) + Math.Log(3)) / 2), Clustering.NormalisedMutualInformation([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]), 12);
    }

    [Fact]
    public void Kmeans_recovers_well_separated_clusters()
    {
        var random = new Random(1);
        int[] truth = Enumerable.Range(0, 90).Select(i => i / 30).ToArray();
        float[] points = truth.SelectMany(c => new[] { c * 10 + (float)random.NextDouble(), (float)random.NextDouble() }).ToArray();
        int[] clusters = Clustering.KMeans(points, 90, 2, 3, seed: 5);
        Assert.Equal(1.0, Clustering.NormalisedMutualInformation(truth, clusters), 9);
    }
}
