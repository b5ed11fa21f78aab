using Ranking.Training;

namespace Ranking.Core.Tests.Training;

public class OptimizerTests
{
    [Theory]
    [InlineData(OptimizerKind.Adam, 0.1)]
    [InlineData(OptimizerKind.Sgd, 0.05)]
    public void OptimizersMinimiseAQuadratic(OptimizerKind name, double lr)
    {
        // f(w) = sum (w_i - t_i)^2 / 2, gradient w - t.
        float[] target = [3f, -2f, 0.5f], w = new float[3], g = new float[3];
        var optimizer = Optimizer.Create(name, 3);
        for (int step = 0; step < 500; step++)
        {
            for (int i = 0; i < 3; i++) g[i] = w[i] - target[i];
            optimizer.Step(w, g, (float)lr);
        }
        for (int i = 0; i < 3; i++) Assert.Equal(target[i], w[i], 2);
    }

    [Fact]
    public void AdamFirstStepMovesEachParameterByTheLearningRate()
    {
        float[] w = [1f, 1f], g = [0.001f, -50f];
        new AdamOptimizer(2).Step(w, g, 0.01f);
        Assert.Equal(0.99f, w[0], 4);
        Assert.Equal(1.01f, w[1], 4);
    }

    /// <summary>The eight-lane Adam gives every element exactly what the scalar formula gives (length not a multiple of 8: the tail too).</summary>
    [Fact]
    public void Adam_vector_steps_equal_the_scalar_formula_bit_for_bit()
    {
        const int n = 1003;
        var random = new Random(5);
        float[] w = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] expected = (float[])w.Clone(), m = new float[n], v = new float[n];
        var adam = new AdamOptimizer(n);
        for (int t = 1; t <= 5; t++)
        {
            float[] g = Enumerable.Range(0, n).Select(i => (float)((random.NextDouble() - 0.5) * Math.Pow(10, i % 7 - 3))).ToArray();
            adam.Step(w, g, 0.01f);
            double c1 = 1 - Math.Pow(0.9f, t), c2 = 1 - Math.Pow(0.999f, t);
            float stepSize = (float)(0.01f * Math.Sqrt(c2) / c1), eps = (float)(1e-8f * Math.Sqrt(c2));
            for (int i = 0; i < n; i++)
            {
                m[i] = 0.9f * m[i] + (1 - 0.9f) * g[i];
                v[i] = 0.999f * v[i] + (1 - 0.999f) * g[i] * g[i];
                expected[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) + eps);
            }
            Assert.Equal(expected, w);
        }
    }

    [Fact]
    public void SchedulesFollowTheirFormulas()
    {
        var cosine = new LearningRateSchedule(LearningRateScheduleKind.Cosine, 0.1, 10);
        Assert.Equal(0.1, cosine.Rate(0), 12);
        Assert.Equal(0.05, cosine.Rate(5), 12);
        Assert.Equal(0.0, cosine.Rate(10), 12);
        var step = new LearningRateSchedule(LearningRateScheduleKind.Step, 0.1, 100, stepEpochs: 3, gamma: 0.5);
        Assert.Equal(0.1, step.Rate(2), 12);
        Assert.Equal(0.05, step.Rate(3), 12);
        Assert.Equal(0.025, step.Rate(7), 12);
        Assert.Equal(0.1, new LearningRateSchedule(LearningRateScheduleKind.Constant, 0.1, 5).Rate(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LearningRateSchedule((LearningRateScheduleKind)7, 0.1, 5));
    }

    [Fact]
    public void ClippingBoundsTheGlobalNormAndWeightDecaySkipsBiases()
    {
        float[] g = [3f, 4f];
        Assert.Equal(5.0, GradientTools.ClipByGlobalNorm(g, 1.0), 6);
        Assert.Equal(0.6f, g[0], 5);
        Assert.Equal(0.8f, g[1], 5);

        float[] w = [2f, 2f, 2f], grad = new float[3];
        GradientTools.AddWeightDecay(w, grad, [(0, 2)], 0.5f);
        Assert.Equal([1f, 1f, 0f], grad);
    }
}
