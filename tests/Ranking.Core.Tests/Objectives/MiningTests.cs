using Ranking.Objectives;
using static Ranking.Core.Tests.Objectives.ObjectiveTestKit;

namespace Ranking.Core.Tests.Objectives;

/// <summary>Online negative mining of the triplet loss, read through the gradients: a negative's gradient
/// is the number of active triplets it is in, a positive's minus the number of its active triplets.</summary>
public class MiningTests
{
    private static float[] Gradients(TripletOptions options, float[] labels, float[] scores, int seed = 1, int iteration = 0)
        => Run(new TripletObjective(options) { Seed = seed }, labels, scores, [0, labels.Length], iteration: iteration).Gradients;

    [Fact]
    public void Hard_mining_picks_the_highest_scoring_negatives()
    {
        // Positives: rows 0 and 4. Negatives by score: row 1 (3), row 3 (2), row 5 (0.5), row 2 (-1).
        float[] labels = [1, 0, 0, 0, 1, 0];
        float[] scores = [0f, 3f, -1f, 2f, 5f, 0.5f];
        var g = Gradients(new TripletOptions { Mining = NegativeMining.Hard, Negatives = 2, Margin = 100 }, labels, scores);
        Assert.Equal([-2f, 2f, 0f, 2f, -2f, 0f], g);
    }

    [Fact]
    public void Semi_hard_mining_takes_only_negatives_below_the_positive_inside_the_margin()
    {
        // Positive row 0 at 2.0, margin 1. Row 1 (2.5) is above it (hard, not semi-hard); rows 2 (1.5) and
        // 3 (1.25) are inside the band; row 4 (1.0) sits exactly at the margin and row 5 (0.5) beyond it.
        float[] labels = [2, 0, 0, 0, 0, 0];
        float[] scores = [2f, 2.5f, 1.5f, 1.25f, 1f, 0.5f];
        var objective = new TripletObjective(new TripletOptions { Mining = NegativeMining.SemiHard, Negatives = 5, Margin = 1 });
        var (loss, g, _) = Run(objective, labels, scores, [0, 6]);
        Assert.Equal([-2f, 0f, 1f, 1f, 0f, 0f], g);
        Assert.Equal(0.5 + 0.25, loss, 12);

        // k caps the band from the top: with k = 1 only the highest-scoring semi-hard negative.
        g = Gradients(new TripletOptions { Mining = NegativeMining.SemiHard, Negatives = 1, Margin = 1 }, labels, scores);
        Assert.Equal([-1f, 0f, 1f, 0f, 0f, 0f], g);
    }

    [Fact]
    public void Semi_hard_mining_falls_back_to_hard_when_no_negative_is_inside_the_band()
    {
        float[] labels = [2, 0, 0, 0, 0, 0];
        float[] scores = [-5f, 2.5f, 1.5f, 1.25f, 1f, 0.5f]; // every negative scores above the positive
        var g = Gradients(new TripletOptions { Mining = NegativeMining.SemiHard, Negatives = 2, Margin = 1 }, labels, scores);
        Assert.Equal([-2f, 1f, 1f, 0f, 0f, 0f], g);
    }

    [Fact]
    public void Random_mining_is_reproducible_for_a_seed_and_iteration_and_draws_only_negatives()
    {
        var rng = new Random(4);
        var labels = Enumerable.Range(0, 40).Select(i => i % 5 == 0 ? 1f : 0f).ToArray();
        var scores = Enumerable.Range(0, 40).Select(_ => (float)rng.NextDouble()).ToArray();
        var options = new TripletOptions { Mining = NegativeMining.Random, Negatives = 3, Margin = 100 };
        var a = Gradients(options, labels, scores, seed: 9, iteration: 2);
        var b = Gradients(options, labels, scores, seed: 9, iteration: 2);
        Assert.Equal(a, b);
        Assert.NotEqual(a, Gradients(options, labels, scores, seed: 9, iteration: 3));
        Assert.NotEqual(a, Gradients(options, labels, scores, seed: 10, iteration: 2));
        for (int i = 0; i < 40; i++)
        {
            if (labels[i] > 0) Assert.Equal(-3f, a[i]); // exactly k draws, all active, never another positive
            else Assert.True(a[i] >= 0);
        }
        Assert.Equal(0f, a.Sum());
    }

    [Fact]
    public void Graded_pairing_makes_every_lower_grade_a_negative()
    {
        float[] labels = [2, 0, 1, 1, 0];
        float[] scores = [0.1f, 0.2f, 0.3f, 0.4f, 0.5f];
        var g = Gradients(new TripletOptions { Pairing = TripletPairing.Graded, Margin = 100 }, labels, scores);
        // grade 2 beats 4 rows; each grade-1 row beats 2 and loses to 1; each grade-0 row loses to 3.
        Assert.Equal([-4f, 3f, -1f, -1f, 3f], g);
    }
}
