using Ranking.Objectives;
using static Ranking.Core.Tests.Objectives.ObjectiveTestKit;

namespace Ranking.Core.Tests.Objectives;

/// <summary>Finite output for hostile but finite input; zero loss and gradient where that is the math.</summary>
public class EdgeCaseTests
{
    public static TheoryData<string, string> AllConfigurations()
    {
        var data = new TheoryData<string, string>();
        foreach (var (name, _, _, _) in ObjectiveFactory.Describe()) data.Add(name, "");
        data.Add("lambdarank", "norm=false");
        data.Add("ranknet", "pairs-per-row=1");
        data.Add("ranksvm", "truncation=2");
        data.Add("triplet", "mining=hard;negatives=2");
        data.Add("triplet", "mining=semi-hard;negatives=2");
        data.Add("triplet", "mining=random;pairing=graded");
        data.Add("listnet", "target=gain;temperature=0.01");
        data.Add("listmle", "truncation=2");
        data.Add("approxndcg", "exact-limit=2;samples=3");
        data.Add("sampled-softmax", "sampling=scores");
        return data;
    }

    private static void AssertFinite(string what, double loss, float[] g, float[] h)
    {
        Assert.True(double.IsFinite(loss), $"{what}: loss {loss}");
        for (int i = 0; i < g.Length; i++)
        {
            Assert.True(float.IsFinite(g[i]), $"{what}: gradient[{i}] = {g[i]}");
            Assert.True(float.IsFinite(h[i]) && h[i] >= 0, $"{what}: hessian[{i}] = {h[i]}");
        }
    }

    [Theory]
    [MemberData(nameof(AllConfigurations))]
    public void Output_is_finite_for_extreme_scores_ties_single_rows_and_flat_grades(string name, string knobs)
    {
        var objective = Create(name, knobs);
        float[] labels = [3, 0, 1, 2, 0, 1, 4, 0, 2, 0, 0, 0, 2, 2, 2];
        int[] offsets = [0, 4, 5, 9, 12, 15]; // query 1 has one row; query 3 all-zero grades; query 4 all-equal grades
        var huge = new float[labels.Length];
        for (int i = 0; i < huge.Length; i++) huge[i] = i % 2 == 0 ? 1e30f : -1e30f;
        var (loss, g, h) = Run(objective, labels, huge, offsets);
        AssertFinite($"{name} +-1e30", loss, g, h);

        var equal = Enumerable.Repeat(0.25f, labels.Length).ToArray();
        (loss, g, h) = Run(objective, labels, equal, offsets);
        AssertFinite($"{name} equal scores", loss, g, h);

        var mixed = Enumerable.Range(0, labels.Length).Select(i => (float)Math.Sin(i) * 3).ToArray();
        (loss, g, h) = Run(objective, labels, mixed, offsets);
        AssertFinite($"{name} mixed", loss, g, h);
    }

    /// <summary>
    /// With all grades equal there is no pair to order and no relevant row to contrast, so these losses
    /// are exactly 0 with a zero gradient: pairwise and margin losses visit no pair, softmax-family losses
    /// have no positive (all-zero grades). Losses that still pay something here, by their math: mse
    /// (distance to the grade), sigmoid-ce (every row is a negative), listnet (cross-entropy includes the
    /// entropy of the uniform target), listmle (the Plackett-Luce likelihood of a tie-broken order), the
    /// contrastive query-document loss (irrelevant rows inside the margin), approxndcg on non-zero grades
    /// (smooth ranks are never exactly 1), contrastive-pairs (equal grades are pulled together: 0 only when
    /// the scores are equal too).
    /// </summary>
    [Theory]
    [InlineData("ranknet", "")]
    [InlineData("ranknet", "truncation=2")]
    [InlineData("ranksvm", "")]
    [InlineData("lambdarank", "")]
    [InlineData("softmax", "")]
    [InlineData("triplet", "")]
    [InlineData("triplet", "pairing=graded;mining=hard")]
    [InlineData("sampled-softmax", "")]
    [InlineData("nce", "")]
    public void Flat_grades_give_zero_loss_and_zero_gradient(string name, string knobs)
    {
        var objective = Create(name, knobs);
        float[] scores = [0.5f, -1f, 2f, 0f, 1f, 3f, -2f];
        int[] offsets = [0, 4, 7];
        foreach (float grade in new[] { 0f, 2f })
        {
            // All rows relevant: softmax still contrasts positives with each other, NCE still fits every row against noise.
            if ((name == "softmax" || name == "nce") && grade > 0) continue;
            var labels = Enumerable.Repeat(grade, scores.Length).ToArray();
            var (loss, g, _) = Run(objective, labels, scores, offsets);
            Assert.Equal(0.0, loss);
            Assert.All(g, x => Assert.Equal(0f, x));
        }
    }

    [Fact]
    public void Contrastive_pairs_with_flat_grades_and_equal_scores_is_zero()
    {
        var objective = Create("contrastive-pairs", "");
        var (loss, g, _) = Run(objective, [1, 1, 1], [0.5f, 0.5f, 0.5f], [0, 3]);
        Assert.Equal(0.0, loss);
        Assert.All(g, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void Zero_query_weight_silences_a_query_and_weights_scale_linearly()
    {
        var objective = Create("ranknet", "");
        var (labels, scores, offsets, _) = RandomQueries(3, [5, 6]);
        var (l1, g1, h1) = Run(objective, labels, scores, offsets, [1f, 1f]);
        var (l2, g2, h2) = Run(objective, labels, scores, offsets, [0f, 2f]);
        for (int i = 0; i < 5; i++) { Assert.Equal(0f, g2[i]); Assert.Equal(0f, h2[i]); }
        for (int i = 5; i < 11; i++) { Assert.Equal(2 * g1[i], g2[i]); Assert.Equal(2 * h1[i], h2[i]); }
        var (lq2, _, _) = Run(objective, labels[5..], scores[5..], [0, 6]);
        Assert.Equal(2 * lq2, l2, 12);
        Assert.True(l1 > lq2);
    }
}
