using CsCheck;
using Ranking.Objectives;
using static Ranking.Core.Tests.Objectives.ObjectiveTestKit;

namespace Ranking.Core.Tests.Objectives;

/// <summary>Properties that hold for any query: shift invariance of ranking losses, conservation of pair
/// gradients, non-negative Hessians.</summary>
public class ObjectivePropertyTests
{
    /// <summary>Losses that see only score differences: adding a constant to every score of a query changes
    /// nothing (mse, sigmoid-ce, contrastive and nce read absolute scores and are left out).</summary>
    [Theory]
    [InlineData("ranknet", "")]
    [InlineData("ranksvm", "margin=0.7")]
    [InlineData("lambdarank", "")]
    [InlineData("triplet", "mining=semi-hard;margin=0.7")]
    [InlineData("contrastive-pairs", "pairs-per-row=2")]
    [InlineData("listnet", "")]
    [InlineData("listmle", "")]
    [InlineData("approxndcg", "")]
    [InlineData("softmax", "")]
    [InlineData("sampled-softmax", "sampling=scores")]
    public void Shifting_all_scores_changes_nothing(string name, string knobs)
    {
        var objective = Create(name, knobs);
        Gen.Select(Gen.Int[1, 30], Gen.Int[-512, 512], Gen.Int[0, 100000]).Sample((n, shift, seed) =>
        {
            var (labels, scores, offsets, _) = RandomQueries(seed, [n]);
            var shifted = scores.Select(s => s + shift / 64f).ToArray(); // exact on the 2^-6 grid
            var a = Run(objective, labels, scores, offsets, iteration: seed);
            var b = Run(objective, labels, shifted, offsets, iteration: seed);
            if (Math.Abs(a.Loss - b.Loss) > 1e-9 * Math.Max(1, Math.Abs(a.Loss))) return false;
            for (int i = 0; i < n; i++)
                if (Math.Abs(a.Gradients[i] - b.Gradients[i]) > 1e-5 * Math.Max(1, Math.Abs(a.Gradients[i]))) return false;
            return true;
        }, iter: 60);
    }

    /// <summary>Pair and triplet losses move score mass between rows and never create it: per query the
    /// gradients sum to 0. Every Hessian of every objective is finite and non-negative.</summary>
    [Theory]
    [InlineData("ranknet", "pairs-per-row=3", true)]
    [InlineData("ranksvm", "truncation=4", true)]
    [InlineData("lambdarank", "sigma=2", true)]
    [InlineData("triplet", "mining=random;pairing=graded", true)]
    [InlineData("contrastive-pairs", "", true)]
    [InlineData("softmax", "", true)]
    [InlineData("listnet", "", true)]
    [InlineData("listmle", "truncation=0", true)]
    [InlineData("approxndcg", "exact-limit=5;samples=3", true)]
    [InlineData("sampled-softmax", "", true)]
    [InlineData("nce", "", false)]
    [InlineData("contrastive", "", false)]
    [InlineData("sigmoid-ce", "", false)]
    public void Gradients_conserve_mass_and_hessians_are_non_negative(string name, string knobs, bool conserves)
    {
        var objective = Create(name, knobs);
        Gen.Select(Gen.Int[1, 40], Gen.Int[0, 100000]).Sample((n, seed) =>
        {
            var (labels, scores, offsets, _) = RandomQueries(seed, [n]);
            var r = Run(objective, labels, scores, offsets, iteration: seed);
            if (r.Hessians.Any(h => !(h >= 0) || !float.IsFinite(h))) return false;
            double sum = 0, scale = 0;
            foreach (float g in r.Gradients) { sum += g; scale += Math.Abs(g); }
            return !conserves || Math.Abs(sum) <= 1e-5 * Math.Max(1, scale);
        }, iter: 60);
    }
}
