using Ranking.Knobs;
using Ranking.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ranking.Objectives;

/// <summary>The knobs of <see cref="LambdaRankObjective"/>, each declared once here (CLI flag, catalog help, model-file option, README table).</summary>
public sealed class LambdaRankOptions
{
    /// <summary>RankNet's sigma (LightGBM's "sigmoid").</summary>
    [Knob(ObjectiveKnobText.Sigma, Aliases = "sigmoid", Min = 0, MinExclusive = true)]
    public double Sigma { get; init; } = 1.0;
    /// <summary>Only pairs whose better-ranked row sits above this rank (LightGBM's lambdarank_truncation_level).</summary>
    [Knob("only pairs whose better-ranked row is above this rank; maxDCG cut here", Min = 1, Flag = true)]
    public int Truncation { get; init; } = 30;
    /// <summary>LightGBM's lambdarank_norm: divide delta NDCG by the score gap and rescale each query by log2(1+S)/S.</summary>
    [Knob("LightGBM's lambdarank_norm (score-gap division and log2(1+S)/S rescaling)", Name = "norm")]
    public bool Normalize { get; init; } = true;
    /// <summary>Grade to gain; LightGBM's default label_gain is 2^i - 1.</summary>
    [Knob("comma-separated gain per integer grade, e.g. 0,1,3,7,15", DefaultText = "2^i-1", Flag = true)]
    public LabelGain LabelGain { get; init; } = LabelGain.Exponential;
}

/// <summary>
/// LambdaRank exactly as LightGBM 4.x computes it (rank_objective.hpp, LambdarankNDCG): rows sorted by
/// score (stable); every pair of ranks (a, b), a &lt; b, a below the truncation level, with different
/// grades; lambda = -sigma |delta NDCG| p with p = 1 / (1 + exp(sigma (s_high - s_low))); Hessian
/// sigma^2 |delta NDCG| p (1 - p) on both rows; with normalisation, delta NDCG is divided by
/// 0.01 + |s_high - s_low| (unless all scores are equal) and the query rescaled by log2(1 + S) / S, S the
/// sum of 2|lambda|. maxDCG is cut at the truncation level. Cost O(k n) per query.
/// Differences from LightGBM: p is computed exactly instead of read from a 1M-entry table (agreement to
/// ~1e-6 relative); grades need not be integers when no explicit gain table is given; sums run in float64.
/// Speed: the inner pair loop runs four pairs at a time with vectorised exp (Vector256) where the CPU
/// has it, scalar elsewhere; no sigmoid table.
/// The reported loss is the lambda-weighted RankNet loss with the weights (|delta NDCG|, the score-gap
/// division and the query factor) taken at the current scores: sum factor * w * log(1 + exp(-sigma
/// (s_h - s_l))). Without normalisation the gradients are its exact derivative while no rank changes;
/// with normalisation they are LightGBM's lambdas, which are not the derivative of any loss.
/// </summary>
public sealed class LambdaRankObjective : QueryObjective
{
    private readonly LambdaRankOptions _options;

    /// <summary>The objective with <paramref name="options"/> (null = every knob at its default); a setting out of range is an <see cref="ArgumentException"/>.</summary>
    public LambdaRankObjective(LambdaRankOptions? options = null)
    {
        _options = KnobSet.Checked(options ?? new LambdaRankOptions(), "objective 'lambdarank'");
    }

    /// <summary>The settings: sigma, truncation, normalisation and label gain.</summary>
    public LambdaRankOptions Options => _options;

    /// <summary>Tests only: every pair through the scalar loop, to hold the AVX2 loop to it.</summary>
    internal bool ScalarOnly { get; init; }
    /// <summary>"lambdarank": the name the catalog, the CLI and model files use.</summary>
    public override string Name => "lambdarank";
    /// <summary>Pairwise: the loss sums over pairs of rows of a query with different grades.</summary>
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;

    /// <summary>Refuses grades outside the label-gain table (as LightGBM does) before any query is computed.</summary>
    protected override void Validate(in ObjectiveBatch batch) => _options.LabelGain.Validate(batch.Labels);

    /// <inheritdoc/>
    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count;
        var labels = query.Labels;
        var scores = query.Scores;
        var order = scratch.Ints(0, n);
        QueryOrder.ByScoreDescending(scores, order, scratch.Keys(n));

        // Everything the pair loop reads, gathered by sorted position so it streams through memory;
        // lambdas and Hessians accumulate by position and are scattered back to rows at the end.
        var gain = scratch.Doubles(0, n);
        var lambda = scratch.Doubles(1, n);
        var hess = scratch.Doubles(2, n);
        var sorted = scratch.Doubles(3, n);
        var grade = scratch.Doubles(4, n);
        var discount = scratch.Doubles(5, n);
        for (int r = 0; r < n; r++)
        {
            int row = order[r];
            gain[r] = _options.LabelGain.Gain(labels[row]);
            sorted[r] = scores[row];
            grade[r] = labels[row];
            discount[r] = QueryOrder.Discount(r);
        }

        int k = _options.Truncation;
        // maxDCG@k from the gains, sorted in a copy kept in the lambda buffer (cleared again below).
        gain.CopyTo(lambda);
        double maxDcg = QueryOrder.MaxDcg(lambda, k);
        lambda.Clear();
        hess.Clear();
        double inverseMaxDcg = maxDcg > 0 ? 1.0 / maxDcg : 0.0;

        bool normalizeByGap = _options.Normalize && sorted[0] != sorted[n - 1];
        var sums = new PairSums();
        int top = Math.Min(k, n - 1);
        if (inverseMaxDcg > 0)
        {
            for (int a = 0; a < top; a++)
            {
                int b = a + 1;
                if (Vector256.IsHardwareAccelerated && !ScalarOnly)
                    b = AccumulateVector(a, b, n, gain, sorted, grade, discount, lambda, hess, inverseMaxDcg, normalizeByGap, ref sums);
                AccumulateScalar(a, b, n, gain, sorted, grade, discount, lambda, hess, inverseMaxDcg, normalizeByGap, ref sums);
            }
        }

        double factor = _options.Normalize ? RankingMath.LambdaNormalizationFactor(sums.AbsLambdas) : 1.0;
        for (int r = 0; r < n; r++)
        {
            int row = order[r];
            gradients[row] = (float)(lambda[r] * factor);
            hessians[row] = (float)(hess[r] * factor);
        }
        return sums.Loss * factor;
    }

    private struct PairSums
    {
        public double AbsLambdas; // S = sum of 2 |lambda|
        public double Loss;
    }

    /// <summary>
    /// Pairs (a, b..n-1), one at a time through the shared pair gradient (<see cref="LambdaMath.PairLambda"/>,
    /// which the device's pair kernel calls too): the reference form, and the tail of the vector loop.
    /// </summary>
    private void AccumulateScalar(int a, int from, int n, Span<double> gain, Span<double> sorted, Span<double> grade, Span<double> discount,
        Span<double> lambda, Span<double> hess, double inverseMaxDcg, bool normalizeByGap, ref PairSums sums)
    {
        double sigma = _options.Sigma;
        double gainA = gain[a], scoreA = sorted[a], gradeA = grade[a], discountA = discount[a];
        for (int b = from; b < n; b++)
        {
            if (gradeA == grade[b]) continue;
            double sign = gradeA > grade[b] ? 1.0 : -1.0; // +1 when a is the higher-graded row
            double delta = sign * (scoreA - sorted[b]);     // s_high - s_low
            double w = RankingMath.PairDeltaNdcg(gainA, gain[b], discountA, discount[b], inverseMaxDcg);
            if (normalizeByGap) w = RankingMath.NormalizedDeltaNdcg(w, delta);
            double pairLambda = LambdaMath.PairLambda(sigma, w, delta, out double pairHess, out double pairLoss);
            lambda[a] += sign * pairLambda; lambda[b] -= sign * pairLambda;
            hess[a] += pairHess; hess[b] += pairHess;
            sums.AbsLambdas -= 2 * pairLambda;
            sums.Loss += pairLoss;
        }
    }

    /// <summary>
    /// The same pairs four at a time (AVX2), with vectorised exp/log; returns the first b it did not take.
    /// The one vectorised copy of <see cref="LambdaMath.PairLambda"/>; a test holds it to the scalar form.
    /// Per-lane sums are folded in a fixed order, so results repeat run after run on one machine (they may
    /// differ from the scalar form in the last bits).
    /// </summary>
    private int AccumulateVector(int a, int b, int n, Span<double> gain, Span<double> sorted, Span<double> grade, Span<double> discount,
        Span<double> lambda, Span<double> hess, double inverseMaxDcg, bool normalizeByGap, ref PairSums sums)
    {
        if (n - b < Vector256<double>.Count) return b;
        double sigma = _options.Sigma;
        var one = Vector256.Create(1.0);
        var vGradeA = Vector256.Create(grade[a]);
        var vScoreA = Vector256.Create(sorted[a]);
        var vGainA = Vector256.Create(gain[a]);
        var vDiscountA = Vector256.Create(discount[a]);
        var vInverse = Vector256.Create(inverseMaxDcg);
        var vGapFloor = Vector256.Create((double)0.01f);
        var vSigma = Vector256.Create(sigma);
        var vSigma2 = Vector256.Create(sigma * sigma);
        Vector256<double> accLambdaA = default, accHessA = default, accLambda = default, accLoss = default;
        ref double gainRef = ref MemoryMarshal.GetReference(gain);
        ref double sortedRef = ref MemoryMarshal.GetReference(sorted);
        ref double gradeRef = ref MemoryMarshal.GetReference(grade);
        ref double discountRef = ref MemoryMarshal.GetReference(discount);
        ref double lambdaRef = ref MemoryMarshal.GetReference(lambda);
        ref double hessRef = ref MemoryMarshal.GetReference(hess);
        for (; b + Vector256<double>.Count <= n; b += Vector256<double>.Count)
        {
            nuint at = (nuint)b;
            var gradeB = Vector256.LoadUnsafe(ref gradeRef, at);
            var differ = ~Vector256.Equals(gradeB, vGradeA);
            if (differ == Vector256<double>.Zero) continue;
            var sign = Vector256.ConditionalSelect(Vector256.GreaterThan(vGradeA, gradeB), one, -one);
            var delta = sign * (vScoreA - Vector256.LoadUnsafe(ref sortedRef, at));
            var w = Vector256.Abs(vGainA - Vector256.LoadUnsafe(ref gainRef, at))
                  * Vector256.Abs(vDiscountA - Vector256.LoadUnsafe(ref discountRef, at)) * vInverse;
            if (normalizeByGap) w /= vGapFloor + Vector256.Abs(delta);
            w &= differ;
            var x = vSigma * delta;
            var e = Vector256.Exp(-Vector256.Abs(x));
            var onePlusE = one + e;
            var p = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<double>.Zero), e, one) / onePlusE;
            var pairLambda = -vSigma * w * p;
            var pairHess = vSigma2 * w * p * (one - p);
            var signed = sign * pairLambda;
            accLambdaA += signed;
            (Vector256.LoadUnsafe(ref lambdaRef, at) - signed).StoreUnsafe(ref lambdaRef, at);
            (Vector256.LoadUnsafe(ref hessRef, at) + pairHess).StoreUnsafe(ref hessRef, at);
            accHessA += pairHess;
            accLambda += pairLambda;
            accLoss += w * (Vector256.Max(-x, Vector256<double>.Zero) + Vector256.Log(onePlusE));
        }
        lambda[a] += Vector256.Sum(accLambdaA);
        hess[a] += Vector256.Sum(accHessA);
        sums.AbsLambdas -= 2 * Vector256.Sum(accLambda);
        sums.Loss += Vector256.Sum(accLoss);
        return b;
    }
}
