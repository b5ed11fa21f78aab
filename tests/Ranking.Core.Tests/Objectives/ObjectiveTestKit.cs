using Ranking.Objectives;

namespace Ranking.Core.Tests.Objectives;

/// <summary>Small random queries, knob parsing for test cases, and the central finite-difference check.</summary>
internal static class ObjectiveTestKit
{
    /// <summary>Score grid step 2^-6 and difference step 2^-12: scores and s +- h are exact in float32, and
    /// distinct scores never come closer than 64 h, so ranks and mined sets cannot change under the probe.</summary>
    public const double GridStep = 1.0 / 64;
    public const float Probe = 1f / 4096;

    public static IReadOnlyDictionary<string, string> Knobs(string spec)
    {
        var d = new Dictionary<string, string>();
        foreach (var part in spec.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            d[part[..eq]] = part[(eq + 1)..];
        }
        return d;
    }

    public static IRankingObjective Create(string name, string spec, int seed = 7) => ObjectiveFactory.Create(name, Knobs(spec), seed);

    /// <summary>Queries of the given sizes, grades 0..maxGrade, distinct grid scores in [-3, 3], random query weights.</summary>
    public static (float[] Labels, float[] Scores, int[] Offsets, float[] Weights) RandomQueries(int seed, int[] sizes, int maxGrade = 3)
    {
        var rng = new Random(seed);
        int rows = sizes.Sum();
        var labels = new float[rows];
        var scores = new float[rows];
        var offsets = new int[sizes.Length + 1];
        var weights = new float[sizes.Length];
        int row = 0;
        for (int q = 0; q < sizes.Length; q++)
        {
            offsets[q] = row;
            weights[q] = 0.5f + (float)rng.Next(0, 4) / 4;
            var used = new HashSet<int>();
            for (int i = 0; i < sizes[q]; i++, row++)
            {
                labels[row] = rng.Next(0, maxGrade + 1);
                int cell;
                do cell = rng.Next(-192, 193); while (!used.Add(cell));
                scores[row] = (float)(cell * GridStep);
            }
        }
        offsets[^1] = rows;
        return (labels, scores, offsets, weights);
    }

    public static double Loss(IRankingObjective objective, float[] labels, float[] scores, int[] offsets, float[]? weights, int iteration = 0, int threads = -1)
    {
        var g = new float[labels.Length];
        var h = new float[labels.Length];
        return objective.Compute(new ObjectiveBatch(labels, scores, offsets, weights, iteration, threads), g, h);
    }

    public static (double Loss, float[] Gradients, float[] Hessians) Run(IRankingObjective objective, float[] labels, float[] scores, int[] offsets, float[]? weights = null, int iteration = 0, int threads = -1)
    {
        var g = new float[labels.Length];
        var h = new float[labels.Length];
        double loss = objective.Compute(new ObjectiveBatch(labels, scores, offsets, weights, iteration, threads), g, h);
        return (loss, g, h);
    }

    /// <summary>Largest relative error between each analytic gradient and the central difference of the loss (float64).</summary>
    public static double WorstGradientError(IRankingObjective objective, float[] labels, float[] scores, int[] offsets, float[]? weights, int iteration = 0)
    {
        var (_, grad, _) = Run(objective, labels, scores, offsets, weights, iteration);
        double worst = 0;
        var probe = (float[])scores.Clone();
        for (int i = 0; i < scores.Length; i++)
        {
            probe[i] = scores[i] + Probe;
            double up = Loss(objective, labels, probe, offsets, weights, iteration);
            probe[i] = scores[i] - Probe;
            double down = Loss(objective, labels, probe, offsets, weights, iteration);
            probe[i] = scores[i];
            double numeric = (up - down) / (2.0 * Probe);
            double error = Math.Abs(numeric - grad[i]) / Math.Max(1e-3, Math.Max(Math.Abs(numeric), Math.Abs(grad[i])));
            worst = Math.Max(worst, error);
        }
        return worst;
    }

    /// <summary>
    /// Asserts, row by row, that <paramref name="gradients"/> match central differences of
    /// <paramref name="loss"/> (scores in, loss out) to 1e-4 relative (floor 1e-3), for objectives whose loss
    /// takes extra inputs (a proposal, noise weights) that <see cref="WorstGradientError"/> cannot pass.
    /// </summary>
    public static void AssertGradientMatchesDifferences(float[] scores, float[] gradients, Func<float[], double> loss)
    {
        var probe = (float[])scores.Clone();
        for (int i = 0; i < scores.Length; i++)
        {
            probe[i] = scores[i] + Probe;
            double up = loss(probe);
            probe[i] = scores[i] - Probe;
            double down = loss(probe);
            probe[i] = scores[i];
            double numeric = (up - down) / (2.0 * Probe);
            Assert.True(Math.Abs(numeric - gradients[i]) <= 1e-4 * Math.Max(1e-3, Math.Abs(numeric)), $"row {i}: {gradients[i]} vs {numeric}");
        }
    }

    /// <summary>Largest relative error between each Hessian entry and the central difference of its own gradient.</summary>
    public static double WorstHessianError(IRankingObjective objective, float[] labels, float[] scores, int[] offsets, float[]? weights)
    {
        var (_, _, hess) = Run(objective, labels, scores, offsets, weights);
        double worst = 0;
        var probe = (float[])scores.Clone();
        float step = 1f / 256;
        for (int i = 0; i < scores.Length; i++)
        {
            probe[i] = scores[i] + step;
            float up = Run(objective, labels, probe, offsets, weights).Gradients[i];
            probe[i] = scores[i] - step;
            float down = Run(objective, labels, probe, offsets, weights).Gradients[i];
            probe[i] = scores[i];
            double numeric = ((double)up - down) / (2.0 * step);
            double error = Math.Abs(numeric - hess[i]) / Math.Max(1e-2, Math.Max(Math.Abs(numeric), Math.Abs(hess[i])));
            worst = Math.Max(worst, error);
        }
        return worst;
    }
}
