using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>How sampled softmax draws its negatives.</summary>
public enum NegativeSampling
{
    /// <summary>Uniformly over the query's negatives.</summary>
    Uniform,
    /// <summary>In proportion to exp(score) of the negatives (the current model's softmax over them).</summary>
    Scores,
}

public sealed class SampledSoftmaxOptions
{
    /// <summary>k: negatives drawn per positive (with replacement).</summary>
    [Knob(ObjectiveKnobText.Negatives, Min = 1)]
    public int Negatives { get; init; } = 5;
    /// <summary>How negatives are drawn.</summary>
    [Knob("uniform | scores: draw negatives uniformly or in proportion to exp(score)")]
    public NegativeSampling Sampling { get; init; } = NegativeSampling.Uniform;
    /// <summary>Rows with a grade above this are positives; the rest are the negatives drawn from.</summary>
    [Knob(ObjectiveKnobText.Threshold)]
    public double Threshold { get; init; } = 0.0;
}

/// <summary>
/// Sampled softmax (negative sampling; Jean et al. 2015, Bengio and Senecal 2008): each positive p against
/// k negatives drawn from its query with probability q_j, with corrected logits s'_j = s_j - log(k q_j) so
/// the k terms estimate the sum over every negative; the positive is never drawn, so s'_p = s_p.
/// loss_p = logsumexp(s_p, s'_j1..s'_jk) - s_p, weighted by the positive's share of the query's gain (as
/// <see cref="SoftmaxObjective"/>, which this approaches as k grows). q is a stop-gradient: with score-
/// proportional sampling it is computed from the scores (or the proposal scores passed to
/// <see cref="ComputeWithProposal"/>) but not differentiated, as every
/// sampled-softmax implementation does. Gradient w (P - e_p) over the k + 1 logits; Hessian w P (1 - P)
/// per drawn logit (exact when no negative is drawn twice). Cost O(k) per positive plus O(n) per query.
/// </summary>
public sealed class SampledSoftmaxObjective : QueryObjective
{
    private readonly SampledSoftmaxOptions _options;

    /// <summary>The settings (read by the GPU backend).</summary>
    public SampledSoftmaxOptions Options => _options;

    public SampledSoftmaxObjective(SampledSoftmaxOptions? options = null)
    {
        _options = options ?? new SampledSoftmaxOptions();
        if (_options.Negatives < 1) throw new ArgumentException($"negatives must be at least 1, got {_options.Negatives}.");
    }

    public override string Name => "sampled-softmax";
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;

    /// <summary>As <see cref="IRankingObjective.Compute"/>, with score-proportional sampling built from
    /// <paramref name="proposalScores"/> (one per row) instead of the batch's scores.</summary>
    public double ComputeWithProposal(in ObjectiveBatch batch, float[] proposalScores, float[] gradients, float[] hessians)
    {
        ArgumentNullException.ThrowIfNull(proposalScores);
        return ComputeWithAuxiliary(batch, proposalScores, gradients, hessians);
    }

    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count, k = _options.Negatives;
        var labels = query.Labels;
        var scores = query.Scores;
        var proposal = query.Auxiliary.IsEmpty ? scores : query.Auxiliary;
        var negatives = scratch.Ints(0, n);
        var cumulative = scratch.Doubles(0, n);
        var grad = scratch.Doubles(1, n);
        var hess = scratch.Doubles(2, n);
        var logits = scratch.Doubles(3, k + 1);
        var drawn = scratch.Ints(1, k);
        grad.Clear(); hess.Clear();

        int negativeCount = 0;
        double totalGain = 0, maxProposal = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            if (labels[i] > _options.Threshold) totalGain += RankingMath.ExponentialGain(labels[i]);
            else
            {
                negatives[negativeCount++] = i;
                maxProposal = Math.Max(maxProposal, proposal[i]);
            }
        }
        if (negativeCount == 0 || !(totalGain > 0))
        {
            gradients.Clear(); hessians.Clear();
            return 0;
        }

        // Proposal: log(k q_j) per negative; for score sampling a cumulative table to draw from.
        bool byScore = _options.Sampling == NegativeSampling.Scores;
        double logK = Math.Log(k), logNormalizer = 0;
        if (byScore)
        {
            double sum = 0;
            for (int t = 0; t < negativeCount; t++) { sum += Math.Exp(proposal[negatives[t]] - maxProposal); cumulative[t] = sum; }
            for (int t = 0; t < negativeCount; t++) cumulative[t] /= sum;
            cumulative[negativeCount - 1] = 1.0;
            logNormalizer = maxProposal + Math.Log(sum);
        }
        double uniformCorrection = logK - Math.Log(negativeCount);

        ulong stream = StreamOf(query);
        double loss = 0;
        for (int p = 0; p < n; p++)
        {
            if (!(labels[p] > _options.Threshold)) continue;
            double w = RankingMath.ExponentialGain(labels[p]) / totalGain;
            logits[0] = scores[p];
            double max = logits[0];
            for (int t = 0; t < k; t++)
            {
                int j;
                double correction;
                if (byScore)
                {
                    int slot = Draw(cumulative[..negativeCount], RankingMath.RandomUnit(stream, (long)p * k + t));
                    j = negatives[slot];
                    correction = logK + (proposal[j] - logNormalizer); // log(k q_j)
                }
                else
                {
                    j = negatives[RankingMath.RandomIndex(stream, (long)p * k + t, negativeCount)];
                    correction = uniformCorrection;
                }
                drawn[t] = j;
                logits[t + 1] = scores[j] - correction;
                max = Math.Max(max, logits[t + 1]);
            }
            double sumExp = 0;
            for (int t = 0; t <= k; t++) sumExp += Math.Exp(logits[t] - max);
            double lse = max + Math.Log(sumExp);
            loss += w * (lse - logits[0]);
            double p0 = Math.Exp(logits[0] - lse);
            grad[p] += w * (p0 - 1.0);
            hess[p] += w * p0 * (1.0 - p0);
            for (int t = 0; t < k; t++)
            {
                double pt = Math.Exp(logits[t + 1] - lse);
                grad[drawn[t]] += w * pt;
                hess[drawn[t]] += w * pt * (1.0 - pt);
            }
        }
        for (int i = 0; i < n; i++) { gradients[i] = (float)grad[i]; hessians[i] = (float)hess[i]; }
        return loss;
    }

    /// <summary>Smallest slot whose cumulative probability exceeds u.</summary>
    private static int Draw(ReadOnlySpan<double> cumulative, double u)
    {
        int lo = 0, hi = cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] > u) hi = mid; else lo = mid + 1;
        }
        return lo;
    }
}

/// <summary>The noise distributions NCE's options can name.</summary>
public enum NceNoise
{
    /// <summary>Uniform over the query's rows.</summary>
    Uniform,
}

public sealed class NceOptions
{
    /// <summary>k: noise rows drawn per real row.</summary>
    [Knob(ObjectiveKnobText.Negatives, Min = 1)]
    public int Negatives { get; init; } = 5;
    /// <summary>The noise distribution the factory can build (others: <see cref="NceObjective.ComputeWithNoise"/>).</summary>
    [Knob("uniform over the query's rows (other noise distributions: NceObjective.ComputeWithNoise)")]
    public NceNoise Noise { get; init; } = NceNoise.Uniform;
    /// <summary>Rows with a grade above this are the real (data) rows.</summary>
    [Knob(ObjectiveKnobText.Threshold)]
    public double Threshold { get; init; } = 0.0;
}

/// <summary>
/// Noise-contrastive estimation (Gutmann and Hyvarinen 2010): the relevant rows of a query are the data,
/// k noise rows per data row are drawn from a noise distribution p_n over the query's rows (uniform, or
/// in proportion to weights given per row through <see cref="ComputeWithNoise"/>;
/// a row of weight 0 is never drawn and its log p_n is floored at -700), and logistic regression separates
/// them on h(u) = sigmoid(s_u - log(k p_n(u))): loss = -sum log h(x) - sum log(1 - h(y)). Gradient
/// h - 1 for data rows, h for each noise draw; Hessian h (1 - h) per term (exact). p_n does not depend on
/// the scores, so the gradient is the exact derivative of the loss for the drawn noise.
/// </summary>
public sealed class NceObjective : QueryObjective
{
    private readonly NceOptions _options;

    /// <summary>The settings (read by the GPU backend).</summary>
    public NceOptions Options => _options;

    public NceObjective(NceOptions? options = null)
    {
        _options = options ?? new NceOptions();
        if (_options.Negatives < 1) throw new ArgumentException($"negatives must be at least 1, got {_options.Negatives}.");
    }

    public override string Name => "nce";
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;

    /// <summary>As <see cref="IRankingObjective.Compute"/> with the noise distribution proportional to
    /// <paramref name="noiseWeights"/> (one non-negative finite weight per row) within each query.</summary>
    public double ComputeWithNoise(in ObjectiveBatch batch, float[] noiseWeights, float[] gradients, float[] hessians)
    {
        ArgumentNullException.ThrowIfNull(noiseWeights);
        for (int i = 0; i < noiseWeights.Length; i++)
            if (!(noiseWeights[i] >= 0) || !float.IsFinite(noiseWeights[i])) throw new ArgumentException($"noise weight {i} = {noiseWeights[i]} is not a finite non-negative number.", nameof(noiseWeights));
        return ComputeWithAuxiliary(batch, noiseWeights, gradients, hessians);
    }

    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count, k = _options.Negatives;
        var labels = query.Labels;
        var scores = query.Scores;
        var weights = query.Auxiliary;
        var logKNoise = scratch.Doubles(0, n); // log(k p_n(u))
        var cumulative = scratch.Doubles(1, n);
        var grad = scratch.Doubles(2, n);
        var hess = scratch.Doubles(3, n);
        grad.Clear(); hess.Clear();

        bool given = !weights.IsEmpty;
        double total = 0;
        if (given)
        {
            for (int i = 0; i < n; i++) { total += weights[i]; cumulative[i] = total; }
            if (!(total > 0)) { given = false; } // no mass to draw from: fall back to uniform
        }
        for (int i = 0; i < n; i++)
        {
            double logP = given ? Math.Max(-700.0, Math.Log(weights[i] / total)) : -Math.Log(n);
            logKNoise[i] = Math.Log(k) + logP;
            if (given) cumulative[i] /= total;
        }
        if (given) cumulative[n - 1] = 1.0;

        ulong stream = StreamOf(query);
        double loss = 0;
        for (int x = 0; x < n; x++)
        {
            if (!(labels[x] > _options.Threshold)) continue;
            double u = scores[x] - logKNoise[x];
            double h = RankingMath.Sigmoid(u);
            loss += RankingMath.Softplus(-u);
            grad[x] += h - 1.0;
            hess[x] += h * (1.0 - h);
            for (int t = 0; t < k; t++)
            {
                long counter = (long)x * k + t;
                int y = given ? Draw(cumulative[..n], RankingMath.RandomUnit(stream, counter)) : RankingMath.RandomIndex(stream, counter, n);
                double v = scores[y] - logKNoise[y];
                double hy = RankingMath.Sigmoid(v);
                loss += RankingMath.Softplus(v);
                grad[y] += hy;
                hess[y] += hy * (1.0 - hy);
            }
        }
        for (int i = 0; i < n; i++) { gradients[i] = (float)grad[i]; hessians[i] = (float)hess[i]; }
        return loss;
    }

    private static int Draw(ReadOnlySpan<double> cumulative, double u)
    {
        int lo = 0, hi = cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] > u) hi = mid; else lo = mid + 1;
        }
        return lo;
    }
}
