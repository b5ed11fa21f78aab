using Ranking.Objectives;
using static Ranking.Core.Tests.Objectives.ObjectiveTestKit;

namespace Ranking.Core.Tests.Objectives;

/// <summary>
/// LambdaRank against LightGBM's formula (rank_objective.hpp, LambdarankNDCG::GetGradientsForOneQuery).
/// Worked example: grades [0, 2, 1, 0, 1], scores [0.5, 0.25, 0.75, -0.125, 0.5]. Stable sort by score
/// gives ranks: row 2 (0.75) at 0, row 0 (0.5) at 1, row 4 (0.5, tied, later in input) at 2, row 1 at 3,
/// row 3 at 4. With truncation k = 2 only pairs whose better-ranked side is rank 0 or 1 count, and
/// maxDCG@2 = 3/log2(2) + 1/log2(3) = 3.6309. E.g. the pair (rank 0: row 2, grade 1) vs (rank 3: row 1,
/// grade 2): high = row 1, dNDCG = |3 - 1| * |1/log2(5) - 1/log2(2)| / 3.6309 = 0.3140; normalised by
/// 0.01 + |0.25 - 0.75| = 0.51 -> 0.6157; p = 1/(1+e^(-0.5)) = 0.6225; lambda = -0.3833 to row 1, +0.3833
/// to row 2, Hessian 0.6157 * p (1-p) = 0.1447 to both; after all pairs S = sum 2|lambda| and every entry
/// is scaled by log2(1+S)/S. The expected vectors below were computed with exactly these steps
/// (double precision, exact sigmoid instead of LightGBM's table).
/// </summary>
public class LambdaRankTests
{
    private static readonly float[] Grades = [0, 2, 1, 0, 1];
    private static readonly float[] Scores = [0.5f, 0.25f, 0.75f, -0.125f, 0.5f];

    [Theory]
    [InlineData(2, true, new[] { 1.1402174447147568, -0.3620788142701697, 0.07600579344330453, 0.02745028472828866, -0.8815947086161805 },
                         new[] { 0.5644360906414215, 0.1472446649255841, 0.1370817541364711, 0.019373999971089097, 0.44079735430809025 })]
    [InlineData(2, false, new[] { 0.15554843085283707, -0.2882166197178281, 0.10101453118887493, 0.049683441017789376, -0.018029783341673343 },
                          new[] { 0.07475788108097262, 0.11442073588760604, 0.1337807683596582, 0.03506582880177898, 0.009014891670836672 })]
    [InlineData(30, true, new[] { 1.0469815816078651, -0.38674158397892, 0.06979078087209852, 0.050087658158155975, -0.7801184366591997 },
                          new[] { 0.5182820115895984, 0.1616284563006375, 0.12587254511904733, 0.03298734186969141, 0.4259869273242845 })]
    public void Worked_example_matches_LightGBM_formula(int truncation, bool norm, double[] expectedGradients, double[] expectedHessians)
    {
        var objective = new LambdaRankObjective(new LambdaRankOptions { Truncation = truncation, Normalize = norm });
        var (_, g, h) = Run(objective, Grades, Scores, [0, 5]);
        for (int i = 0; i < 5; i++)
        {
            Close(expectedGradients[i], g[i]);
            Close(expectedHessians[i], h[i]);
        }
        Assert.Equal(0.0, g.Sum(x => (double)x), 6); // lambdas move score mass, never create it
    }

    /// <summary>An independent brute-force transcription of LightGBM's loop, on random queries with ties.</summary>
    [Theory]
    [InlineData(1.0, 30, true)]
    [InlineData(2.0, 5, true)]
    [InlineData(0.5, 3, false)]
    public void Random_queries_match_a_brute_force_transcription(double sigma, int truncation, bool norm)
    {
        var rng = new Random(9);
        for (int trial = 0; trial < 20; trial++)
        {
            int n = rng.Next(1, 40);
            var grades = Enumerable.Range(0, n).Select(_ => (float)rng.Next(0, 5)).ToArray();
            var scores = Enumerable.Range(0, n).Select(_ => (float)rng.Next(-6, 7) / 4).ToArray(); // many ties
            var (_, g, h) = Run(new LambdaRankObjective(new LambdaRankOptions { Sigma = sigma, Truncation = truncation, Normalize = norm }), grades, scores, [0, n]);
            var (eg, eh) = Reference(grades, scores, sigma, truncation, norm);
            for (int i = 0; i < n; i++)
            {
                Close(eg[i], g[i]);
                Close(eh[i], h[i]);
            }
        }
    }

    /// <summary>Float32 output against a float64 reference: relative 1e-6 (plus 1e-9 absolute near zero).</summary>
    private static void Close(double expected, float actual)
        => Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Abs(expected) + 1e-9, $"expected {expected:R}, got {actual:R}");

    private static (double[] G, double[] H) Reference(float[] y, float[] s, double sigma, int k, bool norm)
    {
        int n = y.Length;
        var order = Enumerable.Range(0, n).OrderByDescending(i => s[i]).ToArray(); // LINQ's sort is stable
        double Gain(float g) => Math.Pow(2, g) - 1;
        double Disc(int r) => 1 / Math.Log2(r + 2);
        var ideal = y.Select(Gain).OrderByDescending(x => x).Take(k).ToArray();
        double max = ideal.Select((x, r) => x * Disc(r)).Sum();
        var g = new double[n];
        var h = new double[n];
        if (max <= 0) return (g, h);
        double sum = 0;
        for (int a = 0; a < Math.Min(k, n - 1); a++)
            for (int b = a + 1; b < n; b++)
            {
                int i = order[a], j = order[b];
                if (y[i] == y[j]) continue;
                var (hi, lo, hr, lr) = y[i] > y[j] ? (i, j, a, b) : (j, i, b, a);
                double ds = s[hi] - s[lo];
                double d = (Gain(y[hi]) - Gain(y[lo])) * Math.Abs(Disc(hr) - Disc(lr)) / max;
                if (norm && s[order[0]] != s[order[n - 1]]) d /= 0.01f + Math.Abs(ds);
                double p = 1 / (1 + Math.Exp(sigma * ds));
                double lambda = -sigma * d * p;
                g[hi] += lambda; g[lo] -= lambda;
                h[hi] += sigma * sigma * d * p * (1 - p); h[lo] += sigma * sigma * d * p * (1 - p);
                sum -= 2 * lambda;
            }
        if (norm && sum > 0)
        {
            double f = Math.Log2(1 + sum) / sum;
            for (int i = 0; i < n; i++) { g[i] *= f; h[i] *= f; }
        }
        return (g, h);
    }

    [Fact]
    public void Explicit_gain_table_rejects_grades_outside_it()
    {
        var objective = ObjectiveFactory.Create("lambdarank", new Dictionary<string, string> { ["label-gain"] = "0,1,3" });
        var ex = Assert.Throws<ArgumentException>(() => Run(objective, [0, 3], [0f, 1f], [0, 2]));
        Assert.Contains("label-gain", ex.Message);
    }
}
