using Ranking.Embeddings;
using Ranking.Numerics;
using Ranking.Training;

namespace Ranking.Core.Tests.Embeddings;

public class ProxyLossTests
{
    private static ProxyLoss Loss(string name, EmbeddingDistance distance, float[] proxies, int classes, int dim, int negatives = 0,
        bool normalise = false, float temperature = 1f, float alpha = 2f, float margin = 0.1f) =>
        new(new BatchLossOptions { Loss = name, Distance = distance, Temperature = temperature, ProxyAlpha = alpha, Margin = margin, ProxyNegatives = negatives, Seed = 5 },
            new ClassProxies((float[])proxies.Clone(), classes, dim), normalise, threads: 1);

    private static double Run(ProxyLoss loss, float[] e, int[] labels, int dim, out float[] grad, int iteration = 0)
    {
        grad = new float[e.Length];
        return loss.Compute((float[])e.Clone(), labels, labels.Length, dim, grad, iteration);
    }

    [Fact]
    public void Proxy_nca_is_the_softmax_over_proxies_worked_by_hand()
    {
        // Proxies (1, 0), (0, 1), (-1, 0); item (1, 0) of class 0 and item (0.6, 0.8) of class 1; dot, t = 0.5.
        float[] proxies = [1, 0, 0, 1, -1, 0];
        float[] e = [1, 0, 0.6f, 0.8f];
        double item0 = Math.Log(Math.Exp(2) + Math.Exp(0) + Math.Exp(-2)) - 2;
        double item1 = Math.Log(Math.Exp(1.2) + Math.Exp(1.6) + Math.Exp(-1.2)) - 1.6;
        var loss = Loss("proxy-nca", EmbeddingDistance.Dot, proxies, 3, 2, temperature: 0.5f);
        Assert.Equal((item0 + item1) / 2, Run(loss, e, [0, 1], 2, out var grad), 5);
        // d/de of item 0: (softmax - onehot) . P / t = (p0 - 1) * (1, 0) / t + p1 (0, 1) / t + p2 (-1, 0) / t, halved by the mean.
        double z = Math.Exp(2) + 1 + Math.Exp(-2);
        double p0 = Math.Exp(2) / z, p1 = 1 / z, p2 = Math.Exp(-2) / z;
        Assert.Equal((p0 - 1 - p2) / 0.5 / 2, grad[0], 4);
        Assert.Equal(p1 / 0.5 / 2, grad[1], 4);
        // The batch's classes come first among the proxies seen, then the rest (all of them: no sampling).
        Assert.Equal([0, 1, 2], loss.Selected.ToArray());
        Assert.Equal(2, loss.BatchClasses);
    }

    [Fact]
    public void Proxy_nce_is_the_logistic_sum_worked_by_hand()
    {
        float[] proxies = [1, 0, 0, 1, -1, 0];
        // Every class in the sample (one expected draw each), normaliser Z = 3: u = l - log 3; the positive's
        // softplus(-u) and each other proxy's softplus(u).
        double z = Math.Log(3);
        double expected = RankingMath.Softplus(-(1 - z)) + RankingMath.Softplus(0 - z) + RankingMath.Softplus(-1 - z);
        var loss = Loss("proxy-nce", EmbeddingDistance.Dot, proxies, 3, 2);
        Assert.Equal(expected, Run(loss, [1, 0], [0], 2, out var grad), 5);
        // dL/de = (sigmoid(u0) - 1) p0 + sigmoid(u1) p1 + sigmoid(u2) p2.
        Assert.Equal(RankingMath.Sigmoid(1 - z) - 1 - RankingMath.Sigmoid(-1 - z), grad[0], 4);
        Assert.Equal(RankingMath.Sigmoid(-z), grad[1], 4);
    }

    [Fact]
    public void Proxy_anchor_matches_kim_et_al_written_out()
    {
        // Proxies (1, 0), (0, 1), (0, -1); items (1, 0) class 0, (0.6, 0.8) class 1; dot similarity, alpha 2, delta 0.1.
        float[] proxies = [1, 0, 0, 1, 0, -1];
        float[] e = [1, 0, 0.6f, 0.8f];
        const double a = 2, d = 0.1;
        // Positive term over the 2 proxies with items in the batch: log(1 + sum_pos exp(-a (s - d))).
        double pos = (Math.Log(1 + Math.Exp(-a * (1 - d))) + Math.Log(1 + Math.Exp(-a * (0.8 - d)))) / 2;
        // Negative term over all 3 proxies: log(1 + sum_neg exp(a (s + d))).
        double neg0 = Math.Log(1 + Math.Exp(a * (0.6 + d)));
        double neg1 = Math.Log(1 + Math.Exp(a * (0 + d)));
        double neg2 = Math.Log(1 + Math.Exp(a * (0 + d)) + Math.Exp(a * (-0.8 + d)));
        double expected = pos + (neg0 + neg1 + neg2) / 3;
        var loss = Loss("proxy-anchor", EmbeddingDistance.Dot, proxies, 3, 2, alpha: 2f, margin: 0.1f);
        Assert.Equal(expected, Run(loss, e, [0, 1], 2, out _), 5);
    }

    public static TheoryData<string, EmbeddingDistance, int> Combinations()
    {
        var data = new TheoryData<string, EmbeddingDistance, int>();
        foreach (string loss in new[] { "proxy-nca", "proxy-nce", "proxy-anchor" })
            foreach (var distance in Enum.GetValues<EmbeddingDistance>())
                foreach (int negatives in new[] { 0, 2 })
                    data.Add(loss, distance, negatives);
        return data;
    }

    /// <summary>
    /// d loss / d raw embeddings and d loss / d raw proxies (through the normalisation where it applies) against
    /// central differences, with every proxy and with 2 sampled negatives (the draw depends on the iteration only).
    /// </summary>
    [Theory]
    [MemberData(nameof(Combinations))]
    public void Gradients_of_embeddings_and_proxies_match_finite_differences(string lossName, EmbeddingDistance distance, int negatives)
    {
        const int n = 6, dim = 3, classes = 7;
        var random = new Random(23);
        float[] rawE = Enumerable.Range(0, n * dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] rawP = Enumerable.Range(0, classes * dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        int[] labels = [0, 0, 3, 3, 5, 1];
        bool normalise = distance.NeedsNormalisedInput() || distance == EmbeddingDistance.SquaredL2;
        float alpha = distance.IsSimilarity() ? 4f : 2f;

        double Value(float[] e0, float[] p0, float[]? gradE, float[]? gradP)
        {
            float[] e = (float[])e0.Clone();
            var norms = new float[n];
            if (normalise) EmbeddingDistances.NormaliseRows(e, n, dim, norms);
            var loss = Loss(lossName, distance, p0, classes, dim, negatives, normalise, temperature: 0.5f, alpha: alpha, margin: 0.1f);
            var g = new float[n * dim];
            double value = loss.Compute(e, labels, n, dim, g, 3);
            if (gradE is not null)
            {
                if (normalise) EmbeddingDistances.NormaliseRowsBackward(e, norms, g, n, dim);
                g.CopyTo(gradE, 0);
                Array.Clear(gradP!);
                for (int s = 0; s < loss.SelectedCount; s++)
                    for (int k = 0; k < dim; k++) gradP![loss.Selected[s] * dim + k] = loss.SelectedGradient[s * dim + k];
                if (negatives > 0) Assert.Equal(4 + negatives, loss.SelectedCount);
            }
            return value;
        }

        var analyticE = new float[n * dim];
        var analyticP = new float[classes * dim];
        double at = Value(rawE, rawP, analyticE, analyticP);
        Assert.True(double.IsFinite(at) && at > 0, $"{lossName}/{distance}: the test point should have an active loss, got {at}");
        const float h = 1e-3f;
        void Check(float[] x, float[] analytic, bool isProxy)
        {
            for (int k = 0; k < x.Length; k++)
            {
                float keep = x[k];
                x[k] = keep + h;
                double plus = isProxy ? Value(rawE, x, null, null) : Value(x, rawP, null, null);
                x[k] = keep - h;
                double minus = isProxy ? Value(rawE, x, null, null) : Value(x, rawP, null, null);
                x[k] = keep;
                double numeric = (plus - minus) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[k]) <= 2e-3 + 2e-2 * Math.Abs(numeric),
                    $"{lossName}/{distance}/negatives {negatives}: d/d{(isProxy ? "proxy" : "e")}[{k}] analytic {analytic[k]}, numeric {numeric}");
            }
        }
        Check(rawE, analyticE, isProxy: false);
        Check(rawP, analyticP, isProxy: true);
        Assert.Contains(analyticP, g => g != 0);
    }

    [Fact]
    public void The_sampled_softmax_with_every_class_drawn_is_the_full_softmax_written_out()
    {
        const int classes = 40, dim = 4;
        var random = new Random(3);
        float[] p = Enumerable.Range(0, classes * dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] e = Enumerable.Range(0, 3 * dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        int[] labels = [4, 17, 4];
        // The full softmax over all 40 proxies, computed here from its definition.
        double full = 0;
        for (int i = 0; i < 3; i++)
        {
            var logits = Enumerable.Range(0, classes).Select(c => Dot(e.AsSpan(i * dim, dim), p.AsSpan(c * dim, dim)) / 0.5).ToArray();
            double max = logits.Max();
            full += max + Math.Log(logits.Sum(l => Math.Exp(l - max))) - logits[labels[i]];
        }
        full /= 3;
        // N = 0 (all), N = every other class, and N past the class count all draw every proxy: no correction, the full softmax.
        foreach (int negatives in new[] { 0, classes - 2, 1000 })
        {
            var loss = Loss("proxy-nca", EmbeddingDistance.Dot, p, classes, dim, negatives, temperature: 0.5f);
            Assert.Equal(full, Run(loss, e, labels, dim, out _), 4);
            Assert.Equal(classes, loss.SelectedCount);
        }
        // Fewer negatives: a different (estimated) value, over fewer proxies.
        var sampled = Loss("proxy-nca", EmbeddingDistance.Dot, p, classes, dim, 5, temperature: 0.5f);
        Run(sampled, e, labels, dim, out _);
        Assert.Equal(2 + 5, sampled.SelectedCount);
    }

    [Fact]
    public void The_log_q_correction_makes_the_sampled_denominator_unbiased()
    {
        // One item of class 0 against 200 proxies, 10 drawn per batch: exp(loss + l_y) - exp(l_y) is the row's
        // estimate of sum_{j != y} exp(l_j); with the log-Q correction its mean over draws is the full sum.
        const int classes = 200, dim = 3, negatives = 10;
        var random = new Random(11);
        float[] p = Enumerable.Range(0, classes * dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        float[] e = [0.5f, -0.3f, 0.8f];
        double ly = Dot(e, p.AsSpan(0, dim));
        double fullSum = Enumerable.Range(1, classes - 1).Sum(c => Math.Exp(Dot(e, p.AsSpan(c * dim, dim))));
        var loss = Loss("proxy-nca", EmbeddingDistance.Dot, p, classes, dim, negatives);
        double mean = 0;
        const int draws = 4000;
        var seen = new HashSet<int>();
        for (int t = 0; t < draws; t++)
        {
            double value = Run(loss, e, [0], dim, out _, iteration: t);
            mean += (Math.Exp(value + ly) - Math.Exp(ly)) / draws;
            var selected = loss.Selected.ToArray();
            Assert.Equal(0, selected[0]);
            Assert.Equal(negatives + 1, selected.Distinct().Count());
            foreach (int c in selected) seen.Add(c);
        }
        Assert.Equal(classes, seen.Count);
        Assert.True(Math.Abs(mean / fullSum - 1) < 0.02, $"mean sampled sum {mean}, full {fullSum}");
        // Without the correction the same draws would estimate negatives / (classes - 1) of it.
        Assert.True(negatives / (double)(classes - 1) < 0.06);
    }

    [Fact]
    public void Row_wise_adam_moves_only_the_named_rows_and_matches_the_dense_step_on_them()
    {
        float[] table = [1, 2, 3, 4, 5, 6];
        var sparse = new AdamOptimizer(6);
        sparse.StepRows(table, [2, 0], 2, [0.5f, -1f, 2f, 0f], 0.1f);
        var dense = new AdamOptimizer(6);
        float[] expected = [1, 2, 3, 4, 5, 6];
        dense.Step(expected, [2f, 0f, 0f, 0f, 0.5f, -1f], 0.1f);
        Assert.Equal(expected, table);
        Assert.Equal(3f, table[2]);
        Assert.Equal(4f, table[3]);
    }

    [Fact]
    public void A_proxy_model_saves_its_proxies_and_loads_them_back()
    {
        var set = SyntheticClasses.Generate(new SyntheticClassOptions { Classes = 30, ItemsPerClass = 4, Dimension = 8, LatentDimension = 4, Seed = 2 });
        var options = new EmbeddingTrainerOptions
        {
            Loss = new BatchLossOptions { Loss = "proxy-nca", ProxyNegatives = 5 }, Hidden = [16], Dimension = 6, Epochs = 1, BatchSize = 16, Threads = 1,
        };
        var model = EmbeddingTrainer.Train(set.Items, options);
        Assert.NotNull(model.Proxies);
        Assert.Equal(30, model.Proxies!.Count);
        string path = Path.Combine(Path.GetTempPath(), $"proxy-{Guid.NewGuid():N}.rkm");
        try
        {
            model.Save(path);
            var loaded = EmbeddingModel.Load(path);
            Assert.Equal(model.Proxies.Vectors, loaded.Proxies!.Vectors);
            Assert.Equal(model.Encode(set.Items), loaded.Encode(set.Items));
            Assert.Equal(5, loaded.Manifest!.Options["proxy_negatives"]!.GetValue<int>());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Proxy_losses_refuse_one_class_a_memory_and_a_miner()
    {
        var one = new LabelledItems(new float[8], 2, [0, 0, 0, 0], source: "one.csv");
        var options = new EmbeddingTrainerOptions { Loss = new BatchLossOptions { Loss = "proxy-nca" }, Hidden = [], Dimension = 2, BatchSize = 4 };
        Assert.Contains("one.csv: only 1 class", Assert.Throws<Ranking.Data.RankingDataException>(() => EmbeddingTrainer.Train(one, options)).Message);
        Assert.Throws<ArgumentException>(() => new ProxyLoss(new BatchLossOptions { Loss = "proxy-nca" }, new ClassProxies(new float[2], 1, 2), false));
        Assert.Contains("memory", Assert.Throws<ArgumentException>(() => (options with { Memory = 8 }).Validate()).Message);
        Assert.Contains("no miner", Assert.Throws<ArgumentException>(() => new BatchLossOptions { Loss = "proxy-anchor", Miner = "semihard" }.Settings()).Message);
        Assert.Contains("sum reducer", Assert.Throws<ArgumentException>(() => new BatchLossOptions { Loss = "proxy-anchor", Reducer = LossReducer.Mean }.Settings()).Message);
    }

    /// <summary>
    /// On a many-class synthetic set (400 training classes, unseen test classes), proxy-NCA with 20 sampled
    /// negatives per batch learns a metric far better than raw features (leave-one-out MAP@R on the test classes).
    /// </summary>
    [Theory]
    [InlineData("proxy-nca")]
    [InlineData("proxy-nce")]
    [InlineData("proxy-anchor")]
    public void Sampled_proxy_losses_learn_a_metric_for_unseen_classes(string lossName)
    {
        var set = SyntheticClasses.Generate(new SyntheticClassOptions { Classes = 600, ItemsPerClass = 6, Dimension = 16, LatentDimension = 6, Seed = 9 });
        var (train, test) = SyntheticClasses.SplitByClass(set.Items, 400);
        var options = new EmbeddingTrainerOptions
        {
            Loss = new BatchLossOptions { Loss = lossName, ProxyNegatives = 20, Temperature = 0.5f }, Hidden = [32], Dimension = 16, Epochs = 6, BatchSize = 32,
            PerClass = 2, Threads = 1, LearningRate = 3e-3, ProxyLearningRateScale = lossName == "proxy-anchor" ? 100 : 10,
        };
        var model = EmbeddingTrainer.Train(train, options);
        double learned = RetrievalEvaluator.Evaluate(model.Encode(test), test.Classes, 16, EmbeddingDistance.Cosine).MapAtR;
        double raw = RetrievalEvaluator.Evaluate(test.Features, test.Classes, test.Dimension, EmbeddingDistance.Cosine).MapAtR;
        Assert.True(learned > 2 * raw, $"{lossName}: MAP@R learned {learned:F4}, raw {raw:F4}");
        Assert.All(model.Events, e => Assert.True(double.IsFinite(e.Loss)));
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int k = 0; k < a.Length; k++) s += (double)a[k] * b[k];
        return s;
    }
}
