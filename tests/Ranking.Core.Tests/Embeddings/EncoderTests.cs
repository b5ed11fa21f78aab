using Ranking.Embeddings;
using Ranking.Models;

namespace Ranking.Core.Tests.Embeddings;

public class EncoderTests
{
    [Theory]
    [InlineData(new int[0], false)]
    [InlineData(new int[0], true)]
    [InlineData(new[] { 7 }, true)]
    [InlineData(new[] { 6, 5 }, false)]
    public void Parameter_gradient_of_a_multi_output_encoder_matches_finite_differences(int[] hidden, bool normalise)
    {
        const int inputs = 4, dim = 3, rows = 5;
        var encoder = EmbeddingEncoder.Create(inputs, hidden, dim, normalise, seed: 3);
        var random = new Random(5);
        float[] x = Enumerable.Range(0, rows * inputs).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] weights = Enumerable.Range(0, rows * dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        // Loss = sum of weights * embeddings, so d loss / d embeddings = weights.
        double Loss()
        {
            float[] e = encoder.Encode(x, rows, threads: 1);
            double s = 0;
            for (int i = 0; i < e.Length; i++) s += (double)weights[i] * e[i];
            return s;
        }
        var pass = encoder.CreateTrainingPass(rows, 1);
        pass.Forward(x, rows);
        Assert.Equal(encoder.Encode(x, rows, 1), pass.Embeddings[..(rows * dim)]);
        var grads = new float[encoder.Network.Parameters.Length];
        pass.Backward((float[])weights.Clone(), grads);
        float[] p = encoder.Network.Parameters;
        const float h = 1e-3f;
        for (int k = 0; k < p.Length; k++)
        {
            float keep = p[k];
            p[k] = keep + h; double up = Loss();
            p[k] = keep - h; double down = Loss();
            p[k] = keep;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - grads[k]) <= 2e-2 * (1 + Math.Abs(numeric)), $"parameter {k}: analytic {grads[k]}, numeric {numeric}");
        }
    }

    [Fact]
    public void Multi_output_payload_round_trips_and_a_scorer_keeps_its_version_1_bytes()
    {
        var encoder = EmbeddingEncoder.Create(5, [4], 3, true, 9);
        var back = DenseNetwork.FromBytes(encoder.Network.ToBytes(), "encoder.bin");
        Assert.Equal(3, back.OutputWidth);
        Assert.Equal(encoder.Network.Parameters, back.Parameters);
        byte[] scorer = DenseNetwork.Create(5, [4], 0f, 9).ToBytes();
        Assert.Equal(1, BitConverter.ToInt32(scorer, 4));
        Assert.Equal(1, DenseNetwork.FromBytes(scorer, "w").OutputWidth);
        // A linear projection to several outputs starts random, not at zero (at zero every item maps to one point).
        Assert.Contains(EmbeddingEncoder.Create(5, [], 3, false, 1).Network.Parameters, v => v != 0);
    }
}
