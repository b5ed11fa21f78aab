using Ranking.Core.Tests.Objectives;
using Ranking.Numerics;
using Ranking.Objectives;
using Xunit.Abstractions;

namespace Ranking.Core.Tests.Clicks;

/// <summary>
/// The click objectives now run the shared bodies (the pair loop with click weights, the softmax body with
/// click weights, unbiased LambdaMART's body over <see cref="LambdaMath.PairLambda"/>). These tests hold them to
/// the loops they had before the move (<see cref="PreviousClickLoops"/>, transcribed from the previous
/// UnbiasedObjectives.cs): the same losses, gradients, Hessians and learned biases on click data with display
/// positions, query weights and tied scores, to 1e-6 relative (most values agree bit for bit; the output says how many).
/// </summary>
public class ClickSeamEquivalenceTests(ITestOutputHelper output)
{
    /// <summary>Sessions of 1..14 shown rows, clicks (some dwell-weighted 2 or 0.5), shuffled display positions, scores with ties.</summary>
    private static (float[] Labels, float[] Scores, int[] Offsets, float[] Weights, int[] Positions) ClickBatch(int seed)
    {
        var rng = new Random(seed);
        var labels = new List<float>();
        var scores = new List<float>();
        var positions = new List<int>();
        var offsets = new List<int> { 0 };
        var weights = new List<float>();
        for (int q = 0; q < 30; q++)
        {
            int n = 1 + rng.Next(14);
            var shown = Enumerable.Range(1, n).OrderBy(_ => rng.Next()).ToArray();
            for (int i = 0; i < n; i++)
            {
                double u = rng.NextDouble();
                labels.Add(u < 0.6 ? 0f : u < 0.9 ? 1f : u < 0.95 ? 2f : 0.5f);
                scores.Add(rng.Next(3) == 0 ? (float)Math.Round(rng.NextDouble() * 4) / 2 : (float)(rng.NextDouble() * 6 - 3));
                positions.Add(shown[i]);
            }
            offsets.Add(labels.Count);
            weights.Add((float)(0.5 + rng.NextDouble()));
        }
        return (labels.ToArray(), scores.ToArray(), offsets.ToArray(), weights.ToArray(), positions.ToArray());
    }

    public static TheoryData<string, string> Cases => new()
    {
        { "ipw-ranknet", "" },
        { "ipw-ranknet", "sigma=2;propensities=eta:0.5;clip=0.3" },
        { "ipw-ranknet", "truncation=3" },
        { "ipw-lambdarank", "" },
        { "ipw-lambdarank", "propensities=1,0.6,0.3,0.2" },
        { "ipw-lambdarank", "truncation=2;propensities=eta:1" },
        { "ipw-softmax", "" },
        { "ipw-softmax", "propensities=eta:2;clip=0.05" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ipw_objectives_compute_what_their_previous_loops_computed(string name, string knobs)
    {
        var objective = ObjectiveTestKit.Create(name, knobs);
        var table = objective switch { IpwPairwiseObjective p => p.Propensities, IpwSoftmaxObjective s => s.Propensities, _ => throw new InvalidOperationException() };
        double sigma = (objective as IpwPairwiseObjective)?.Options.Sigma ?? 1;
        int truncation = (objective as IpwPairwiseObjective)?.Options.Truncation ?? 0;
        int identical = 0, values = 0;
        foreach (int seed in new[] { 1, 2, 3 })
        {
            var (labels, scores, offsets, weights, positions) = ClickBatch(seed);
            var batch = new ObjectiveBatch(labels, scores, offsets, weights) { Positions = positions };
            var g = new float[labels.Length];
            var h = new float[labels.Length];
            double loss = objective.Compute(batch, g, h);
            var (oldLoss, oldG, oldH) = PreviousClickLoops.Ipw(name, batch, table, sigma, truncation);
            Assert.Equal(oldLoss, loss, 1e-9 * Math.Max(1, Math.Abs(oldLoss)));
            (identical, values) = Tally(identical, values, Close(oldG, g, offsets, $"{name} seed {seed} gradient"), Close(oldH, h, offsets, $"{name} seed {seed} Hessian"), g.Length * 2);
        }
        output.WriteLine($"{name} {knobs}: {identical} of {values} gradient and Hessian values bit-identical to the previous loop, the rest within 1e-6 relative");
    }

    [Theory]
    [InlineData("")]
    [InlineData("norm=false;truncation=3")]
    [InlineData("bias-decay=0;max-position=6;propensities=eta:1")]
    [InlineData("learn-bias=false;sigma=2")]
    public void Unbiased_lambdarank_computes_and_learns_what_its_previous_loop_did(string knobs)
    {
        var parsed = ObjectiveTestKit.Knobs(knobs);
        var options = Ranking.Knobs.KnobSet.Of<UnbiasedLambdaRankOptions>().Bind(new UnbiasedLambdaRankOptions(), parsed, "test");
        var objective = new UnbiasedLambdaRankObjective(options);
        var previous = new PreviousClickLoops.UnbiasedLambdaRank(options);
        int identical = 0, values = 0;
        for (int call = 1; call <= 4; call++)
        {
            var (labels, scores, offsets, weights, positions) = ClickBatch(10 + call);
            var batch = new ObjectiveBatch(labels, scores, offsets, call % 2 == 0 ? weights : null) { Positions = positions };
            var g = new float[labels.Length];
            var h = new float[labels.Length];
            double loss = objective.Compute(batch, g, h);
            var (oldLoss, oldG, oldH) = previous.Compute(batch);
            Assert.Equal(oldLoss, loss, 1e-9 * Math.Max(1, Math.Abs(oldLoss)));
            (identical, values) = Tally(identical, values, Close(oldG, g, offsets, $"call {call} gradient"), Close(oldH, h, offsets, $"call {call} Hessian"), g.Length * 2);
            for (int p = 0; p < options.MaxPosition; p++)
            {
                Assert.Equal(previous.TPlus[p], objective.ClickPropensities[p], 1e-12);
                Assert.Equal(previous.TMinus[p], objective.NonClickPropensities[p], 1e-12);
            }
        }
        output.WriteLine($"unbiased-lambdarank {knobs}: {identical} of {values} gradient and Hessian values bit-identical to the previous loop; learned biases equal to 1e-12");
    }

    private static (int, int) Tally(int identical, int values, int a, int b, int count) => (identical + a + b, values + count);

    /// <summary>Every value within 1e-6 of the previous one relative to its query's largest magnitude; returns how many are bit-identical.</summary>
    private static int Close(float[] expected, float[] actual, int[] offsets, string what)
    {
        int same = 0;
        for (int q = 0; q + 1 < offsets.Length; q++)
        {
            double scale = 0;
            for (int i = offsets[q]; i < offsets[q + 1]; i++) scale = Math.Max(scale, Math.Abs(expected[i]));
            for (int i = offsets[q]; i < offsets[q + 1]; i++)
            {
                if (BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i])) { same++; continue; }
                Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-6 * Math.Max(scale, 1e-12), $"{what} row {i}: previous {expected[i]:R}, now {actual[i]:R}");
            }
        }
        return same;
    }
}

/// <summary>
/// The click objectives' per-query loops as they were before they moved onto the shared bodies (transcribed from
/// the previous src/Ranking.Core/Objectives/UnbiasedObjectives.cs, single-threaded): the reference the tests
/// above hold the new bodies to. Not a second implementation in the product: it lives here only.
/// </summary>
internal static class PreviousClickLoops
{
    public static (double Loss, float[] Gradients, float[] Hessians) Ipw(string name, in ObjectiveBatch batch, PropensityTable table, double sigma, int truncation)
    {
        var g = new float[batch.RowCount];
        var h = new float[batch.RowCount];
        double total = 0;
        for (int q = 0; q < batch.QueryCount; q++)
        {
            int start = batch.GroupOffsets[q], n = batch.GroupOffsets[q + 1] - start;
            var scores = batch.Scores.AsSpan(start, n);
            var w = new double[n];
            for (int i = 0; i < n; i++)
            {
                float label = batch.Labels[start + i];
                w[i] = label > 0 ? (float)(label * table.InverseWeight(batch.PositionOf(start + i, start))) : 0f;
            }
            var grad = new double[n];
            var hess = new double[n];
            double loss = name == "ipw-softmax" ? Softmax(scores, w, grad, hess) : Pairs(scores, w, grad, hess, sigma, truncation, name == "ipw-lambdarank");
            total += WriteQuery(batch, q, start, grad, hess, loss, g, h);
        }
        return (total, g, h);
    }

    private static double Softmax(ReadOnlySpan<float> scores, double[] w, double[] grad, double[] hess)
    {
        int n = scores.Length;
        double total = 0, max = double.NegativeInfinity;
        for (int i = 0; i < n; i++) { total += (float)w[i]; max = Math.Max(max, scores[i]); }
        if (!(total > 0)) return 0;
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.Exp(scores[i] - max);
        double logSum = max + Math.Log(sum), loss = 0;
        for (int i = 0; i < n; i++)
        {
            double wi = (float)w[i], logP = scores[i] - logSum, p = Math.Exp(logP);
            if (wi > 0) loss -= wi * logP;
            grad[i] = total * p - wi;
            hess[i] = total * p * (1.0 - p);
        }
        return loss;
    }

    /// <summary>Writes one query's gradients and Hessians into the batch's arrays, scaled by its query weight as the objectives do, and returns its weighted loss.</summary>
    private static double WriteQuery(in ObjectiveBatch batch, int q, int start, double[] grad, double[] hess, double loss, float[] g, float[] h)
    {
        float wq = batch.QueryWeights?[q] ?? 1f;
        for (int i = 0; i < grad.Length; i++)
        {
            g[start + i] = (float)grad[i];
            h[start + i] = (float)hess[i];
            if (wq != 1f) { g[start + i] *= wq; h[start + i] *= wq; }
        }
        return wq != 1f ? loss * wq : loss;
    }

    private static double Pairs(ReadOnlySpan<float> scores, double[] w, double[] grad, double[] hess, double sigma, int truncation, bool discountWeighted)
    {
        int n = scores.Length;
        var order = new int[n];
        var rank = new int[n];
        var discount = new double[n];
        bool ranked = discountWeighted || truncation > 0;
        if (ranked)
        {
            var keys = new ulong[n];
            for (int i = 0; i < n; i++) keys[i] = RankingMath.DescendingScoreKey(scores[i], i);
            Array.Sort(keys);
            for (int r = 0; r < n; r++) order[r] = RankingMath.KeyIndex(keys[r]);
            for (int r = 0; r < n; r++) { rank[order[r]] = r; discount[order[r]] = RankingMath.Discount(r); }
        }
        int top = truncation > 0 ? Math.Min(truncation, n) : n;
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double wi = w[i];
            if (!(wi > 0)) continue;
            bool all = !ranked || truncation <= 0 || rank[i] < top;
            int partners = all ? n : top;
            for (int t = 0; t < partners; t++)
            {
                int j = all ? t : order[t];
                if (j == i) continue;
                double weight = discountWeighted ? wi * Math.Abs(discount[i] - discount[j]) : wi;
                if (weight == 0) continue;
                double pairLoss = RankingMath.RankNetPairLossAndProbability(sigma, (double)scores[i] - scores[j], out double p);
                loss += weight * pairLoss;
                grad[i] -= weight * sigma * p;
                grad[j] += weight * sigma * p;
                double hh = weight * sigma * sigma * p * (1.0 - p);
                hess[i] += hh;
                hess[j] += hh;
            }
        }
        return loss;
    }

    /// <summary>The previous unbiased LambdaMART: its loop, its per-query position costs and its bias update.</summary>
    public sealed class UnbiasedLambdaRank(UnbiasedLambdaRankOptions o)
    {
        public double[] TPlus { get; } = Initial(o);
        public double[] TMinus { get; } = Initial(o);
        private readonly double[] _sumPlus = new double[o.MaxPosition], _sumMinus = new double[o.MaxPosition];
        private bool _anySums;

        private static double[] Initial(UnbiasedLambdaRankOptions o) =>
            Enumerable.Range(1, o.MaxPosition).Select(p => o.InitialPropensities?.Propensity(p) ?? 1.0).ToArray();

        public (double Loss, float[] Gradients, float[] Hessians) Compute(in ObjectiveBatch batch)
        {
            int k = o.MaxPosition;
            var g = new float[batch.RowCount];
            var h = new float[batch.RowCount];
            var queryPlus = new double[batch.QueryCount * k];
            var queryMinus = new double[batch.QueryCount * k];
            double total = 0;
            for (int q = 0; q < batch.QueryCount; q++)
            {
                int start = batch.GroupOffsets[q], n = batch.GroupOffsets[q + 1] - start;
                var labels = batch.Labels.AsSpan(start, n);
                var scores = batch.Scores.AsSpan(start, n);
                var grad = new double[n];
                var hess = new double[n];
                var keys = new ulong[n];
                var order = new int[n];
                for (int i = 0; i < n; i++) keys[i] = RankingMath.DescendingScoreKey(scores[i], i);
                Array.Sort(keys);
                for (int r = 0; r < n; r++) order[r] = RankingMath.KeyIndex(keys[r]);
                var gain = new double[n];
                for (int i = 0; i < n; i++) gain[i] = RankingMath.ExponentialGain(Math.Max(0f, labels[i]));
                var sortedGain = (double[])gain.Clone();
                Array.Sort(sortedGain);
                double maxDcg = 0;
                for (int r = 0; r < Math.Min(n, o.Truncation); r++) maxDcg += sortedGain[n - 1 - r] * RankingMath.Discount(r);
                double loss = 0;
                if (maxDcg > 0 && n >= 2)
                {
                    double inverseMaxDcg = 1.0 / maxDcg;
                    bool spread = scores[order[0]] != scores[order[n - 1]];
                    double sumLambdas = 0;
                    int top = Math.Min(o.Truncation, n - 1);
                    for (int a = 0; a < top; a++)
                        for (int b = a + 1; b < n; b++)
                        {
                            int i = order[a], j = order[b];
                            if (labels[i] == labels[j]) continue;
                            int high = i, low = j, rankHigh = a, rankLow = b;
                            if (labels[j] > labels[i]) { high = j; low = i; rankHigh = b; rankLow = a; }
                            double delta = RankingMath.PairDeltaNdcg(gain[high], gain[low], RankingMath.Discount(rankHigh), RankingMath.Discount(rankLow), inverseMaxDcg);
                            double difference = (double)scores[high] - scores[low];
                            if (o.Normalize && spread) delta = RankingMath.NormalizedDeltaNdcg(delta, difference);
                            double cost = RankingMath.RankNetPairLossAndProbability(o.Sigma, difference, out double p) * delta;
                            int ph = batch.PositionOf(start + high, start), pl = batch.PositionOf(start + low, start);
                            double factor = 1.0;
                            if (ph >= 1 && ph <= k && pl >= 1 && pl <= k)
                            {
                                double tp = TPlus[ph - 1], tm = TMinus[pl - 1];
                                if (tp > 1e-16 && tm > 1e-16) factor = 1.0 / (tp * tm);
                                if (tm > 1e-16) queryPlus[q * k + ph - 1] += cost / tm;
                                if (tp > 1e-16) queryMinus[q * k + pl - 1] += cost / tp;
                            }
                            double lambda = -o.Sigma * delta * p * factor;
                            double hh = o.Sigma * o.Sigma * delta * p * (1.0 - p) * factor;
                            grad[high] += lambda; grad[low] -= lambda;
                            hess[high] += hh; hess[low] += hh;
                            sumLambdas += 2.0 * Math.Abs(lambda);
                            loss += cost * factor;
                        }
                    double scale = o.Normalize ? RankingMath.LambdaNormalizationFactor(sumLambdas) : 1.0;
                    for (int i = 0; i < n; i++) { grad[i] *= scale; hess[i] *= scale; }
                    loss *= scale;
                }
                total += WriteQuery(batch, q, start, grad, hess, loss, g, h);
            }
            if (o.LearnBias)
            {
                double decay = _anySums ? o.BiasDecay : 0.0;
                for (int p = 0; p < k; p++) { _sumPlus[p] *= decay; _sumMinus[p] *= decay; }
                for (int q = 0; q < batch.QueryCount; q++)
                {
                    double weight = batch.QueryWeights?[q] ?? 1.0;
                    for (int p = 0; p < k; p++) { _sumPlus[p] += weight * queryPlus[q * k + p]; _sumMinus[p] += weight * queryMinus[q * k + p]; }
                }
                _anySums = true;
                double exponent = 1.0 / (1.0 + o.BiasNorm);
                for (int p = 0; p < k; p++)
                {
                    if (_sumPlus[0] > 1e-16 && _sumPlus[p] > 0) TPlus[p] = Math.Pow(_sumPlus[p] / _sumPlus[0], exponent);
                    if (_sumMinus[0] > 1e-16 && _sumMinus[p] > 0) TMinus[p] = Math.Pow(_sumMinus[p] / _sumMinus[0], exponent);
                }
            }
            return (total, g, h);
        }
    }
}
