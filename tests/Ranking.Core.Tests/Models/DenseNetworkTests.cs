using Ranking.Models;

namespace Ranking.Core.Tests.Models;

public class DenseNetworkTests
{
    private static float[] RandomArray(int n, ulong seed, double scale = 1.0)
    {
        var r = new ModelRandom(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(scale * r.NextGaussian());
        return a;
    }

    [Theory]
    [InlineData(13, 7, 37, true)]
    [InlineData(300, 136, 256, false)]
    [InlineData(97, 20, 1, true)]
    [InlineData(6, 1, 16, false)]
    public void MultiplyMatchesTheNaiveProduct(int m, int k, int n, bool withBias)
    {
        float[] a = RandomArray(m * k, 1), b = RandomArray(k * n, 2), bias = RandomArray(n, 3), c = new float[m * n];
        DenseKernels.Multiply(a, m, k, b, n, c, withBias ? bias : null, threads: 2);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double expected = withBias ? bias[j] : 0;
                for (int p = 0; p < k; p++) expected += (double)a[i * k + p] * b[p * n + j];
                Assert.True(Math.Abs(c[i * n + j] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"C[{i},{j}] = {c[i * n + j]}, expected {expected}");
            }
    }

    [Theory]
    [InlineData(13, 7, 37)]
    [InlineData(600, 136, 256)]
    [InlineData(97, 20, 1)]
    [InlineData(300, 9, 3)]
    public void TransposedProductMatchesTheNaiveProduct(int m, int k, int n)
    {
        float[] a = RandomArray(m * k, 4), b = RandomArray(m * n, 5), c = RandomArray(k * n, 6);
        DenseKernels.MultiplyTransposedA(a, m, k, b, n, c, threads: 2);
        for (int p = 0; p < k; p++)
            for (int j = 0; j < n; j++)
            {
                double expected = 0;
                for (int i = 0; i < m; i++) expected += (double)a[i * k + p] * b[i * n + j];
                Assert.True(Math.Abs(c[p * n + j] - expected) <= 1e-4 * (1 + Math.Sqrt(m) + Math.Abs(expected)), $"C[{p},{j}] = {c[p * n + j]}, expected {expected}");
            }
    }

    /// <summary>Loss = sum_i w_i s_i, so d loss / d s = w; compares back-propagation to central differences.</summary>
    [Theory]
    [InlineData(new int[0], 0f)]
    [InlineData(new[] { 7, 4 }, 0f)]
    [InlineData(new[] { 9 }, 0.3f)]
    public void BackwardMatchesFiniteDifferences(int[] hidden, float dropout)
    {
        const int rows = 11, features = 5;
        IDifferentiableModel model = hidden.Length == 0 ? new LinearModel(features) : new MlpModel(features, hidden, dropout, seed: 7);
        var parameters = model.Parameters;
        if (hidden.Length == 0) RandomArray(parameters.Length, 8, 0.5).CopyTo(parameters, 0); // move off the zero start
        float[] x = RandomArray(rows * features, 9), weights = RandomArray(rows, 10), scores = new float[rows];
        float[] gradients = new float[parameters.Length];
        var pass = model.CreateTrainingPass(rows, threads: 1);
        const ulong key = 12345;
        pass.Forward(x, rows, scores, training: true, key);
        pass.Backward(weights, rows, gradients);

        double Loss()
        {
            var s = new float[rows];
            pass.Forward(x, rows, s, training: true, key);
            double sum = 0;
            for (int i = 0; i < rows; i++) sum += (double)weights[i] * s[i];
            return sum;
        }

        const float h = 1e-3f;
        int checkedCount = 0;
        for (int p = 0; p < parameters.Length; p++)
        {
            float saved = parameters[p];
            parameters[p] = saved + h;
            double up = Loss();
            parameters[p] = saved - h;
            double down = Loss();
            parameters[p] = saved;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - gradients[p]) <= 2e-2 * (1 + Math.Abs(numeric)),
                $"parameter {p}: analytic {gradients[p]}, numeric {numeric}");
            checkedCount++;
        }
        Assert.Equal(parameters.Length, checkedCount);
    }

    [Fact]
    public void SameSeedGivesTheSameWeightsAndThreadCountDoesNotChangeResults()
    {
        var a = new MlpModel(20, [64, 32], 0.1f, seed: 3);
        var b = new MlpModel(20, [64, 32], 0.1f, seed: 3);
        var c = new MlpModel(20, [64, 32], 0.1f, seed: 4);
        Assert.Equal(a.Parameters, b.Parameters);
        Assert.NotEqual(a.Parameters, c.Parameters);

        const int rows = 700;
        float[] x = RandomArray(rows * 20, 11), w = RandomArray(rows, 12);
        float[] s1 = new float[rows], s2 = new float[rows], g1 = new float[a.Parameters.Length], g2 = new float[a.Parameters.Length];
        var one = a.CreateTrainingPass(rows, threads: 1);
        var two = a.CreateTrainingPass(rows, threads: 2);
        one.Forward(x, rows, s1, true, 99);
        one.Backward(w, rows, g1);
        two.Forward(x, rows, s2, true, 99);
        two.Backward(w, rows, g2);
        Assert.Equal(s1, s2);
        Assert.Equal(g1, g2);

        float[] p1 = new float[rows], p2 = new float[rows];
        a.Threads = 1;
        a.Predict(x, rows, p1);
        a.Threads = 2;
        a.Predict(x, rows, p2);
        Assert.Equal(p1, p2);
    }

    [Fact]
    public void PredictEqualsTheTrainingForwardWithoutDropout()
    {
        var model = new MlpModel(6, [8, 5], 0.5f, seed: 1);
        const int rows = 5000; // more than one prediction chunk
        float[] x = RandomArray(rows * 6, 13), predicted = new float[rows], forward = new float[rows];
        model.Predict(x, rows, predicted);
        var pass = model.CreateTrainingPass(rows, threads: 2);
        pass.Forward(x, rows, forward, training: false, 0);
        Assert.Equal(forward, predicted);
    }

    [Fact]
    public void PayloadRoundTripsAndRejectsTruncation()
    {
        var model = new MlpModel(4, [3], 0.2f, seed: 5);
        var payload = model.SavePayload();
        var loaded = MlpModel.Load(payload);
        Assert.Equal(model.Parameters, loaded.Parameters);
        Assert.Equal(model.Hidden, loaded.Hidden);
        Assert.Equal(model.Dropout, loaded.Dropout);

        byte[] bytes = payload[MlpModel.PayloadEntry];
        var cut = new Dictionary<string, byte[]> { [MlpModel.PayloadEntry] = bytes[..^3] };
        Assert.Throws<InvalidDataException>(() => MlpModel.Load(cut));
        Assert.Throws<InvalidDataException>(() => LinearModel.Load(payload)); // has a hidden layer
    }
}
