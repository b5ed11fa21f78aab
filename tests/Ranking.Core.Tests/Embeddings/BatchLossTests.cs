using Ranking.Embeddings;
using Ranking.Numerics;

namespace Ranking.Core.Tests.Embeddings;

public class BatchLossTests
{
    internal static BatchReferences Self(float[] e, int[] labels) =>
        new(e, labels, labels.Length, Enumerable.Range(0, labels.Length).ToArray(), AreTheBatch: true);

    private static (double Loss, float[] Grad) Run(BatchLossOptions options, float[] e, int[] labels, int dim)
    {
        var loss = new BatchLoss(options, threads: 1);
        var grad = new float[e.Length];
        double value = loss.Compute(e, labels, labels.Length, dim, Self(e, labels), grad, 0);
        return (value, grad);
    }

    [Fact]
    public void Triplet_on_squared_l2_matches_the_hand_computed_value_and_gradient()
    {
        // e = 0, 2, 1 (1-D), classes 0, 0, 1; margin 0.5. Rows 0 and 1: f_ap = 4, f_an = 1, each 3.5; row 2 has no positive.
        var (loss, grad) = Run(new BatchLossOptions { Loss = "triplet", Distance = EmbeddingDistance.SquaredL2, Margin = 0.5f }, [0, 2, 1], [0, 0, 1], 1);
        Assert.Equal(3.5, loss, 5);
        // L = ((e0-e1)^2 - (e0-e2)^2 + (e1-e0)^2 - (e1-e2)^2 + 1) / 2: dL/de = -3, 3, 0.
        Assert.Equal([-3f, 3f, 0f], grad);
    }

    [Fact]
    public void Contrastive_with_margins_and_both_reducers()
    {
        float[] e = [0, 0.5f, 0.25f, 3];
        int[] labels = [0, 0, 1, 1];
        // Twelve ordered pairs; the non-zero terms 0.5, 0.75, 0.5, 0.75, 2.75, 0.75, 0.75, 2.75 sum to 9.5.
        var options = new BatchLossOptions { Loss = "contrastive", Distance = EmbeddingDistance.L2, PositiveMargin = 0, NegativeMargin = 1 };
        Assert.Equal(9.5 / 8, Run(options, e, labels, 1).Loss, 5);
        Assert.Equal(9.5 / 12, Run(options with { Reducer = LossReducer.Mean }, e, labels, 1).Loss, 5);
        // Per anchor: row sums 1.25, 1.25, 4.25, 2.75 over 3 terms each, averaged over 4 anchors.
        Assert.Equal((1.25 + 1.25 + 4.25 + 2.75) / 3 / 4, Run(options with { Reducer = LossReducer.PerAnchor }, e, labels, 1).Loss, 5);
    }

    [Fact]
    public void SupCon_and_ntxent_on_dot_products()
    {
        float[] e = [1, 0, 1, 0, 0, 1];
        int[] labels = [0, 0, 1];
        // Rows 0 and 1: logits 1 (positive) and 0: log(e + 1) - 1; row 2 has no positive and no term.
        double expected = Math.Log(Math.E + 1) - 1;
        Assert.Equal(expected, Run(new BatchLossOptions { Loss = "supcon", Distance = EmbeddingDistance.Dot, Temperature = 1 }, e, labels, 2).Loss, 5);
        // With one positive per anchor NT-Xent is the same softmax.
        Assert.Equal(expected, Run(new BatchLossOptions { Loss = "ntxent", Distance = EmbeddingDistance.Dot, Temperature = 1 }, e, labels, 2).Loss, 5);
        // Two positives: SupCon's denominator holds the other positive, NT-Xent's does not.
        float[] e3 = [1, 0, 1, 0, 0.5f, 0, 0, 1];
        int[] l3 = [0, 0, 0, 1];
        // Anchor 0: logits 1, 0.5 (positives), 0 (negative).
        double sup0 = Math.Log(Math.Exp(1) + Math.Exp(0.5) + 1) - 0.75;
        double nt0 = (Math.Log(Math.Exp(1) + 1) - 1) + (Math.Log(Math.Exp(0.5) + 1) - 0.5);
        var supRow = RowOf(new BatchLossOptions { Loss = "supcon", Distance = EmbeddingDistance.Dot, Temperature = 1 }, e3, l3, 2, 0);
        var ntRow = RowOf(new BatchLossOptions { Loss = "ntxent", Distance = EmbeddingDistance.Dot, Temperature = 1 }, e3, l3, 2, 0);
        Assert.Equal(sup0, supRow.Loss, 5);
        Assert.Equal(nt0, ntRow.Loss, 5);
        Assert.Equal(2, ntRow.Terms);
    }

    [Fact]
    public void Multi_similarity_matches_its_formula_written_out()
    {
        float[] e = [1, 0, 0.8f, 0.6f, 0.6f, 0.8f, 0, 1];
        int[] labels = [0, 0, 1, 1];
        var row = RowOf(new BatchLossOptions { Loss = "multisim", Distance = EmbeddingDistance.Dot, Alpha = 2, Beta = 50, Base = 0.5f }, e, labels, 2, 0);
        // Anchor 0: positive similarity 0.8, negatives 0.6 and 0.
        double pos = Math.Log(1 + Math.Exp(-2 * (0.8 - 0.5))) / 2;
        double neg = Math.Log(1 + Math.Exp(50 * (0.6 - 0.5)) + Math.Exp(50 * (0 - 0.5))) / 50;
        Assert.Equal(pos + neg, row.Loss, 5);
    }

    private static RowLoss RowOf(BatchLossOptions options, float[] e, int[] labels, int dim, int anchor)
    {
        int n = labels.Length;
        var settings = options.Settings();
        var farness = new float[n];
        for (int j = 0; j < n; j++)
            farness[j] = (float)(settings.Sign * options.Distance.Value(e.AsSpan(anchor * dim, dim), e.AsSpan(j * dim, dim)));
        var row = new ArrayBatchRow(farness, new int[n], new float[n], new int[BatchLosses.SemiHardScratchCells(n)], 0, 0, n, labels[anchor], labels, anchor, null);
        return BatchLosses.Row(ref row, settings, 0, anchor);
    }

    private static int[] MaskOf(string miner, float[] farness, int[] labels, int label, int self, float margin = 0.1f, float epsilon = 0.1f, int negatives = 1)
    {
        var settings = new BatchLossOptions { Miner = miner, Distance = EmbeddingDistance.L2, Margin = margin, MinerEpsilon = epsilon, RandomNegatives = negatives }.Settings();
        var mask = new int[farness.Length];
        var row = new ArrayBatchRow(farness, mask, new float[farness.Length], new int[BatchLosses.SemiHardScratchCells(farness.Length)], 0, 0, farness.Length, label, labels, self, null);
        BatchLosses.Mine(ref row, settings, 3, 5);
        return mask;
    }

    [Fact]
    public void Miners_keep_the_pairs_their_definitions_name()
    {
        // Row of anchor 0 (class 0): references 1, 2 positives at 0.3 and 0.9; 3, 4, 5 negatives at 0.35, 0.95, 2.
        float[] f = [0, 0.3f, 0.9f, 0.35f, 0.95f, 2f];
        int[] labels = [0, 0, 0, 1, 1, 1];
        const int P = BatchLosses.Positive, N = BatchLosses.Negative;
        Assert.Equal([0, P, P, N, N, N], MaskOf("all", f, labels, 0, 0));
        // Batch-hard: the farthest positive (2) and the nearest negative (3).
        Assert.Equal([0, 0, P, N, 0, 0], MaskOf("batchhard", f, labels, 0, 0));
        // Semi-hard with m = 0.1: (1, 3) since 0.3 < 0.35 < 0.4, and (2, 4) since 0.9 < 0.95 < 1.0.
        Assert.Equal([0, P, P, N, N, 0], MaskOf("semihard", f, labels, 0, 0));
        // Multi-similarity, eps 0.1: negatives with f - 0.1 < 0.9 (3, 4), positives with f + 0.1 > 0.35 (1, 2).
        Assert.Equal([0, P, P, N, N, 0], MaskOf("multisim", f, labels, 0, 0));
        // Random: positives always, negatives at random; three kept per anchor of three is all of them.
        Assert.Equal([0, P, P, N, N, N], MaskOf("random", f, labels, 0, 0, negatives: 3));
        var one = MaskOf("random", f, labels, 0, 0, negatives: 1);
        Assert.Equal([0, P, P], one[..3]);
        Assert.Equal(one, MaskOf("random", f, labels, 0, 0, negatives: 1));
    }

    [Fact]
    public void Semi_hard_triplets_are_only_those_inside_the_window()
    {
        // Anchor 0 with positives at 0.3 and 0.9, negatives 0.35 and 0.95: triplets (1,3) and (2,4) only, each 0.05.
        float[] e1d = [0, 0.3f, 0.9f, 0.35f, 0.95f];
        int[] labels = [0, 0, 0, 1, 1];
        var row = RowOf(new BatchLossOptions { Loss = "triplet", Miner = "semihard", Distance = EmbeddingDistance.L2, Margin = 0.1f }, e1d, labels, 1, 0);
        Assert.Equal(2, row.Terms);
        Assert.Equal(0.1, row.Loss, 5);
    }

    public static TheoryData<string, string, EmbeddingDistance> Combinations()
    {
        var data = new TheoryData<string, string, EmbeddingDistance>();
        foreach (string loss in BatchLossOptions.LossNames.Where(l => !new BatchLossOptions { Loss = l }.IsProxyLoss)) // proxies: ProxyLossTests
            foreach (var distance in Enum.GetValues<EmbeddingDistance>())
                data.Add(loss, "all", distance);
        foreach (string miner in BatchLossOptions.MinerNames.Where(m => m != "all"))
        {
            data.Add("triplet", miner, EmbeddingDistance.Cosine);
            data.Add("multisim", miner, EmbeddingDistance.Cosine);
        }
        return data;
    }

    /// <summary>
    /// d loss / d raw embeddings (through the normalisation cosine applies) against central differences, with
    /// the batch as references and with separate memory references (no gradient into the memory).
    /// </summary>
    [Theory]
    [MemberData(nameof(Combinations))]
    public void Gradient_matches_finite_differences(string lossName, string miner, EmbeddingDistance distance)
    {
        const int n = 9, dim = 4;
        var random = new Random(17);
        float[] raw = Enumerable.Range(0, n * dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        int[] labels = [0, 0, 0, 1, 1, 1, 2, 2, 0];
        float[] memory = Enumerable.Range(0, 5 * dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        int[] memoryLabels = [0, 1, 2, 1, 0];
        float[] logQ = [0.1f, -0.2f, 0.3f, 0f, 0.5f, -0.1f, 0.2f, 0f, 0.05f];
        // Margins where the random points put active and inactive terms on both sides, away from kinks.
        var options = new BatchLossOptions
        {
            Loss = lossName, Miner = miner, Distance = distance, Margin = 0.3f, Temperature = 0.5f, Alpha = 2, Beta = 5,
            Base = distance.IsSimilarity() ? 0.2f : 1f, RandomNegatives = 2, MinerEpsilon = 0.3f,
        };
        foreach (bool withMemory in new[] { false, true })
        {
            double Loss(float[] x, float[]? gradient)
            {
                float[] e = (float[])x.Clone();
                var norms = new float[n];
                if (distance.NeedsNormalisedInput()) EmbeddingDistances.NormaliseRows(e, n, dim, norms);
                float[] mem = (float[])memory.Clone();
                if (distance.NeedsNormalisedInput()) EmbeddingDistances.NormaliseRows(mem, 5, dim, new float[5]);
                var refs = withMemory
                    ? new BatchReferences(mem, memoryLabels, 5, Enumerable.Repeat(-1, n).ToArray(), AreTheBatch: false, LogQ: options.LogQCorrection ? logQ[..5] : null)
                    : new BatchReferences(e, labels, n, Enumerable.Range(0, n).ToArray(), AreTheBatch: true, LogQ: options.LogQCorrection ? logQ : null);
                var g = new float[n * dim];
                double value = new BatchLoss(options, threads: 1).Compute(e, labels, n, dim, refs, g, 0);
                if (gradient is not null)
                {
                    if (distance.NeedsNormalisedInput()) EmbeddingDistances.NormaliseRowsBackward(e, norms, g, n, dim);
                    g.CopyTo(gradient, 0);
                }
                return value;
            }
            var analytic = new float[n * dim];
            double at = Loss(raw, analytic);
            Assert.True(double.IsFinite(at));
            Assert.True(at > 0, $"{lossName}/{miner}/{distance}: the test point should have an active loss");
            const float h = 1e-3f;
            for (int k = 0; k < raw.Length; k++)
            {
                float[] plus = (float[])raw.Clone(), minus = (float[])raw.Clone();
                plus[k] += h;
                minus[k] -= h;
                double numeric = (Loss(plus, null) - Loss(minus, null)) / (2 * h);
                Assert.True(Math.Abs(numeric - analytic[k]) <= 2e-3 + 2e-2 * Math.Abs(numeric),
                    $"{lossName}/{miner}/{distance} memory={withMemory}: d/de[{k}] analytic {analytic[k]}, numeric {numeric}");
            }
        }
    }
    /// <summary>
    /// The semi-hard window scanned pair by pair, O(P N) per anchor, as the miner was first written: the reference the
    /// sorted-window miner must reproduce. Returns the mask of the pairs that form a semi-hard triplet, and the triplet
    /// loss over those triplets (terms, non-zero terms, summed loss, d loss / d f).
    /// </summary>
    private static (int[] Mask, RowLoss Row, double[] Gradient) SemiHardByScanning(float[] f, int[] labels, int label, int self, float margin, bool soft)
    {
        int n = f.Length;
        var mask = new int[n];
        var gradient = new double[n];
        var row = new RowLoss();
        bool IsPositive(int j) => j != self && labels[j] == label;
        bool IsNegative(int j) => j != self && labels[j] != label;
        for (int p = 0; p < n; p++)
        {
            if (!IsPositive(p)) continue;
            for (int q = 0; q < n; q++)
            {
                if (!IsNegative(q) || !(f[q] > f[p] && f[q] < f[p] + margin)) continue;
                mask[p] = BatchLosses.Positive;
                mask[q] = BatchLosses.Negative;
                row.Terms++;
                double x = (double)f[p] - f[q];
                double term = soft ? Math.Log(1 + Math.Exp(x)) : x + margin;
                double slope = soft ? 1 / (1 + Math.Exp(-x)) : 1;
                if (term <= 0) continue;
                row.Loss += term;
                row.NonZero++;
                gradient[p] += slope;
                gradient[q] -= slope;
            }
        }
        return (mask, row, gradient);
    }

    public static TheoryData<int, int, float, bool> SemiHardCases() => new()
    {
        // seed, classes, margin, farness on a coarse grid (ties between positives, negatives and f_ap + m)
        { 1, 10, 0.1f, false }, { 2, 10, 0.1f, true }, { 3, 3, 0.25f, true }, { 4, 40, 0.05f, false },
        { 5, 2, 0f, true }, { 6, 10, 1.5f, false }, { 7, 5, 0.1f, true }, { 8, 128, 0.2f, true },
    };

    /// <summary>
    /// The sorted-window semi-hard miner and triplet loss give what scanning every (positive, negative) pair gives, on
    /// random rows with ties: the same masks, terms and non-zero terms, the same hinge gradient bit for bit (it counts
    /// triplets), the loss to rounding, and the soft margin's gradient to float rounding. Two classes give rows of
    /// ~150 positives (the heapsort past 32), 128 classes rows of one or two.
    /// </summary>
    [Theory]
    [MemberData(nameof(SemiHardCases))]
    public void Sorted_semi_hard_window_equals_the_pair_by_pair_scan(int seed, int classes, float margin, bool grid)
    {
        var random = new Random(seed);
        for (int trial = 0; trial < 40; trial++)
        {
            int n = 2 + random.Next(300);
            int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(classes)).ToArray();
            // Grid values in steps of 0.05 make f_an = f_ap + m and f_an = f_ap exact ties; some rows are all one value.
            float[] f = Enumerable.Range(0, n).Select(_ => grid ? (float)(random.Next(-20, 21) * 0.05) : (float)(random.NextDouble() * 2 - 1)).ToArray();
            if (trial % 10 == 9) Array.Fill(f, 0.3f);
            int self = random.Next(-1, n);
            int label = self >= 0 ? labels[self] : random.Next(classes);
            AssertSemiHardEqualsTheScan(f, labels, label, self, margin, $"seed {seed} trial {trial} n {n}");
        }
    }

    /// <summary>
    /// Rows whose farness keeps away from 0 (cosine-like distances of a trained encoder: [-3, -1] or [1, 3]), where the
    /// row skips the per-window hinge check (its hinges are exact): still the scan's terms, loss and gradient.
    /// </summary>
    [Theory]
    [InlineData(11, false)]
    [InlineData(12, true)]
    public void Sorted_semi_hard_window_equals_the_scan_away_from_zero(int seed, bool grid)
    {
        var random = new Random(seed);
        long terms = 0;
        for (int trial = 0; trial < 40; trial++)
        {
            int n = 2 + random.Next(300);
            int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(10)).ToArray();
            float sign = trial % 2 == 0 ? 1f : -1f;
            float[] f = Enumerable.Range(0, n).Select(_ => sign * (grid ? 1f + random.Next(0, 41) * 0.05f : 1f + 2f * (float)random.NextDouble())).ToArray();
            int self = random.Next(-1, n);
            int label = self >= 0 ? labels[self] : random.Next(10);
            terms += SemiHardByScanning(f, labels, label, self, 0.1f, soft: false).Row.Terms;
            AssertSemiHardEqualsTheScan(f, labels, label, self, 0.1f, $"seed {seed} trial {trial} n {n}");
        }
        Assert.True(terms > 1000, $"only {terms} semi-hard triplets in the trials");
    }

    /// <summary>Hand-made rows at the edges of the rank table: (farness, labels, the anchor's label, self, margin).</summary>
    public static TheoryData<string, float[], int[], int, int, float> SemiHardEdgeCases() => new()
    {
        // One positive (at 0.5): negatives below it, inside its window (0.5, 0.6), on its ends and beyond.
        { "one positive", [0.5f, 0.2f, 0.5f, 0.55f, 0.6f, 0.59f, 0.7f, 0f], [0, 1, 1, 1, 1, 1, 1, 0], 0, 7, 0.1f },
        // Every negative outside [s_1, s_P + m): below the nearest positive or at/after the farthest + m.
        { "all negatives outside", [0.1f, 0.2f, 0.3f, -1f, 0.1f, 0.4f, 2f, 0.35f], [0, 0, 0, 1, 1, 1, 1, 0], 0, -1, 0.05f },
        // Negatives strictly between the nearest positive and the farthest + m, but in gaps no window covers.
        { "empty windows in range", [0f, 1f, 2f, 0.5f, 1.5f, 0.9999f, 1.99f, 0.05f], [0, 0, 0, 1, 1, 1, 1, 1], 0, -1, 0.1f },
        // Exact ties: f_an = f_ap and f_an = f_ap + m (0.25 + 0.25 = 0.5 exactly), several positives at one farness.
        { "ties", [0.25f, 0.25f, 0.25f, 0.5f, 0.25f, 0.5f, 0.4999f, 0.2501f, 0.75f], [0, 0, 0, 0, 1, 1, 1, 1, 1], 0, 3, 0.25f },
        // -0 and +0: f_ap = -0 with f_an = +0 is a tie, not a semi-hard triplet; -0.1f + 0.1f is +0 exactly.
        { "signed zeros", [-0f, 0f, -0.1f, 0f, -0f, -0.05f, 1e-30f], [0, 1, 0, 1, 1, 1, 1], 0, -1, 0.1f },
        // f_an in the window of f_ap = -0.1f (below f_ap + m = 0) while the double hinge -0.1f + 1e-20 + 0.1f rounds to 0:
        // a term of the window that is not non-zero (the hinge's first positive term is found by search).
        { "hinge rounds to zero", [-0.1f, -1e-20f, -0.05f, -0.2f, -1e-20f], [0, 1, 0, 1, 1], 0, -1, 0.1f },
        // A margin below the farness' resolution: s_P + m = s_P, no room for any window.
        { "margin below resolution", [1000f, 1000f, 1000f, 1000.00006f], [0, 0, 1, 1], 0, -1, 1e-6f },
        // Every reference a positive (a memory row without the anchor): no negative, and the least scratch room.
        { "no negatives", [0.3f, 0.1f, 0.2f], [4, 4, 4], 4, -1, 0.2f },
        // One negative among 40 positives (heapsort, and the rank table in the least room the scratch leaves).
        { "one negative", [.. Enumerable.Range(0, 40).Select(i => i * 0.01f), 0.205f], [.. Enumerable.Repeat(0, 40), 1], 0, -1, 0.05f },
    };

    [Theory]
    [MemberData(nameof(SemiHardEdgeCases))]
    public void Sorted_semi_hard_window_equals_the_scan_at_the_edges(string name, float[] f, int[] labels, int label, int self, float margin) =>
        AssertSemiHardEqualsTheScan(f, labels, label, self, margin, name);

    [Fact]
    public void The_edge_cases_hold_what_they_name()
    {
        // The scan's own view of three of the cases, so that a change to them cannot quietly drop what they test.
        var outside = SemiHardByScanning([0.1f, 0.2f, 0.3f, -1f, 0.1f, 0.4f, 2f, 0.35f], [0, 0, 0, 1, 1, 1, 1, 0], 0, -1, 0.05f, soft: false);
        Assert.Equal(0, outside.Row.Terms);
        var ties = SemiHardByScanning([0.25f, 0.25f, 0.25f, 0.5f, 0.25f, 0.5f, 0.4999f, 0.2501f, 0.75f], [0, 0, 0, 0, 1, 1, 1, 1, 1], 0, 3, 0.25f, soft: false);
        Assert.True(ties.Row.Terms > 0);
        var hinge = SemiHardByScanning([-0.1f, -1e-20f, -0.05f, -0.2f, -1e-20f], [0, 1, 0, 1, 1], 0, -1, 0.1f, soft: false);
        Assert.True(hinge.Row.Terms > hinge.Row.NonZero, $"terms {hinge.Row.Terms}, non-zero {hinge.Row.NonZero}");
    }

    /// <summary>
    /// One row through the semi-hard miner and the triplet loss (hinge and soft margin), each in a scratch of exactly
    /// <see cref="BatchLosses.SemiHardScratchCells"/> cells, against <see cref="SemiHardByScanning"/>.
    /// </summary>
    private static void AssertSemiHardEqualsTheScan(float[] f, int[] labels, int label, int self, float margin, string where)
    {
        int n = f.Length;
        var mineSettings = new BatchLossOptions { Miner = "semihard", Distance = EmbeddingDistance.L2, Margin = margin }.Settings();
        var mask = new int[n];
        var mined = new ArrayBatchRow(f, mask, new float[n], new int[BatchLosses.SemiHardScratchCells(n)], 0, 0, n, label, labels, self, null);
        BatchLosses.Mine(ref mined, mineSettings, 0, 0);
        foreach (bool soft in new[] { false, true })
        {
            var expected = SemiHardByScanning(f, labels, label, self, margin, soft);
            Assert.Equal(expected.Mask, mask);
            var settings = new BatchLossOptions { Loss = "triplet", Miner = "semihard", Distance = EmbeddingDistance.L2, Margin = margin, SoftMargin = soft }.Settings();
            var gradient = new float[n];
            Array.Fill(gradient, float.NaN);   // the row body clears what it does not write
            var row = new ArrayBatchRow(f, new int[n], gradient, new int[BatchLosses.SemiHardScratchCells(n)], 0, 0, n, label, labels, self, null);
            var result = BatchLosses.Row(ref row, settings, 0, 0);
            string at = $"{where}, soft {soft}";
            Assert.True(expected.Row.Terms == result.Terms, $"{at}: terms {result.Terms}, expected {expected.Row.Terms}");
            Assert.True(expected.Row.NonZero == result.NonZero, $"{at}: non-zero {result.NonZero}, expected {expected.Row.NonZero}");
            Assert.True(Math.Abs(expected.Row.Loss - result.Loss) <= 1e-9 * (1 + Math.Abs(expected.Row.Loss)), $"{at}: loss {result.Loss}, expected {expected.Row.Loss}");
            for (int j = 0; j < n; j++)
            {
                if (soft) Assert.True(Math.Abs(expected.Gradient[j] - gradient[j]) <= 1e-5 * (1 + Math.Abs(expected.Gradient[j])), $"{at}: d/df[{j}] {gradient[j]}, expected {expected.Gradient[j]}");
                else Assert.True((float)expected.Gradient[j] == gradient[j], $"{at}: d/df[{j}] {gradient[j]}, expected {expected.Gradient[j]}");
            }
        }
    }
}
