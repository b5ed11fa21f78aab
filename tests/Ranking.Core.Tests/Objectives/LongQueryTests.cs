using Ranking.Objectives;
using static Ranking.Core.Tests.Objectives.ObjectiveTestKit;

namespace Ranking.Core.Tests.Objectives;

/// <summary>The O(k n) paths for long queries: sampled estimates agree with the exact O(n^2) values, and a
/// 100k-row query runs through every bounded objective.</summary>
public class LongQueryTests
{
    private static (float[] Labels, float[] Scores) LongQuery(int n, int seed)
    {
        var rng = new Random(seed);
        var labels = new float[n];
        var scores = new float[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = rng.NextDouble() < 0.7 ? 0 : rng.Next(1, 5);
            scores[i] = (float)(0.4 * labels[i] + rng.NextDouble() * 2 - 1);
        }
        return (labels, scores);
    }

    [Theory]
    [InlineData("ranknet")]
    [InlineData("ranksvm")]
    [InlineData("contrastive-pairs")]
    public void Sampled_pairs_estimate_the_all_pairs_loss(string name)
    {
        var (labels, scores) = LongQuery(2000, 1);
        double exact = Run(Create(name, ""), labels, scores, [0, 2000]).Loss;
        // Average the estimate over iterations (fresh draws each): unbiased by the (n-1)/(2m) weight.
        double sum = 0;
        int iterations = 8;
        for (int it = 0; it < iterations; it++) sum += Run(Create(name, "pairs-per-row=32"), labels, scores, [0, 2000], iteration: it).Loss;
        double estimate = sum / iterations;
        Assert.True(Math.Abs(estimate - exact) < 0.03 * exact, $"{name}: sampled {estimate} vs exact {exact}");
    }

    [Fact]
    public void Sampled_smooth_ranks_estimate_the_exact_approxndcg()
    {
        var (labels, scores) = LongQuery(1500, 2);
        double exact = Run(Create("approxndcg", "temperature=0.5"), labels, scores, [0, 1500]).Loss;
        double sampled = Run(Create("approxndcg", "temperature=0.5;exact-limit=1000;samples=256"), labels, scores, [0, 1500]).Loss;
        Assert.InRange(exact, 0.05, 0.95);
        Assert.True(Math.Abs(sampled - exact) < 0.02, $"sampled {sampled} vs exact {exact}");
    }

    [Theory]
    [InlineData("lambdarank", "")]
    [InlineData("ranknet", "truncation=20")]
    [InlineData("ranknet", "pairs-per-row=4")]
    [InlineData("ranksvm", "pairs-per-row=4")]
    [InlineData("triplet", "mining=hard")]
    [InlineData("triplet", "mining=semi-hard")]
    [InlineData("triplet", "mining=random")]
    [InlineData("approxndcg", "samples=16")]
    [InlineData("listmle", "")]
    [InlineData("sampled-softmax", "sampling=scores")]
    [InlineData("nce", "")]
    public void A_100k_row_query_is_handled_in_bounded_work(string name, string knobs)
    {
        var (labels, scores) = LongQuery(100_000, 3);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (loss, g, h) = Run(Create(name, knobs), labels, scores, [0, 100_000]);
        watch.Stop();
        Assert.True(double.IsFinite(loss));
        Assert.All(g, x => Assert.True(float.IsFinite(x)));
        Assert.Contains(g, x => x != 0);
        // O(n^2) would be 5e9 pairs (minutes); the bounded paths take well under a second alone.
        Assert.True(watch.Elapsed.TotalSeconds < 30, $"{name} {knobs}: {watch.Elapsed.TotalSeconds:F1} s");
    }
}
