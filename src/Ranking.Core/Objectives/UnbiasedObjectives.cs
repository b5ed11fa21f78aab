using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>
/// An objective that reads the display position of each row (<see cref="ObjectiveBatch.Positions"/>; row i
/// of a query at position i + 1 when none are given) and turns it into one value per row before the
/// per-query loop runs (<see cref="QueryData.Auxiliary"/>).
/// </summary>
public abstract class PositionAwareObjective : QueryObjective, IRankingObjective
{
    /// <summary>The per-row values the loop reads, computed from labels and positions; then the loop; then <see cref="AfterCompute"/>.</summary>
    public new double Compute(in ObjectiveBatch batch, float[] gradients, float[] hessians)
    {
        batch.CheckOutputs(gradients, hessians);
        var values = new float[batch.RowCount];
        for (int q = 0; q < batch.QueryCount; q++)
            for (int r = batch.GroupOffsets[q]; r < batch.GroupOffsets[q + 1]; r++)
                values[r] = RowValue(batch.Labels[r], batch.PositionOf(r, batch.GroupOffsets[q]), r);
        BeforeCompute(batch);
        double loss = ComputeWithAuxiliary(batch, values, gradients, hessians);
        AfterCompute(batch);
        return loss;
    }

    /// <summary>The value row <paramref name="row"/> hands the loop, from its label and 1-based position.</summary>
    protected abstract float RowValue(float label, int position, int row);

    /// <summary>Runs once before the parallel loop (sizes per-query outputs).</summary>
    protected virtual void BeforeCompute(in ObjectiveBatch batch) { }

    /// <summary>Runs once after the loop, single-threaded (reduces per-query outputs in query order).</summary>
    protected virtual void AfterCompute(in ObjectiveBatch batch) { }
}

/// <summary>Settings shared by the IPW objectives.</summary>
public sealed class IpwOptions
{
    private PropensityTable? _propensities;

    /// <summary>The propensity knob as written (<see cref="PropensityTable.Parse"/>: <c>eta:X</c> or a list).</summary>
    [Knob("examination propensity per position: eta:X for (1/k)^eta, or a list 1,0.5,0.33,... (position 1 first)", Name = "propensities")]
    public string PropensityText { get; init; } = "eta:1";
    /// <summary>Weights divide by max(propensity, clip): clipped IPW.</summary>
    [Knob("weights divide by max(propensity, clip): clipped IPW", Min = 0)]
    public double Clip { get; init; } = 0.01;
    /// <summary>Examination propensities by position; by default parsed from <see cref="PropensityText"/> and <see cref="Clip"/>.</summary>
    public PropensityTable Propensities { get => _propensities ??= PropensityTable.Parse(PropensityText, Clip); init => _propensities = value; }
    /// <summary>RankNet's sigma (pairwise IPW objectives).</summary>
    [Knob(ObjectiveKnobText.Sigma, Aliases = "sigmoid", Min = 0, MinExclusive = true)]
    public double Sigma { get; init; } = 1.0;
    /// <summary>
    /// Pairwise IPW objectives: 0 = every pair (clicked i, any j); k &gt; 0 = only pairs in which i or j ranks in
    /// the top k by score, O(k n) per query instead of O(clicks n).
    /// </summary>
    [Knob("only pairs with a row in the top k by score, O(k n); 0 = every pair of a clicked row", Min = 0)]
    public int Truncation { get; init; }
}

/// <summary>
/// Counterfactual learning to rank with inverse propensity weighting (Joachims et al. WSDM 2017): a clicked
/// row (label &gt; 0: a click, or a dwell-weighted click) counts as relevant with weight w_i = label / max(theta_k,
/// clip) for its position k; unclicked rows weigh 0. Under the PBM, E[click / theta_k] = P(relevant), so in
/// expectation over clicks each loss below equals the same loss on the true relevance (full information).
/// </summary>
public abstract class IpwObjective : PositionAwareObjective
{
    /// <summary>The settings.</summary>
    protected IpwOptions Options { get; }

    /// <summary>Checks sigma.</summary>
    protected IpwObjective(IpwOptions? options)
    {
        Options = options ?? new IpwOptions();
        if (!(Options.Sigma > 0) || !double.IsFinite(Options.Sigma)) throw new ArgumentException($"sigma must be positive, got {Options.Sigma}.");
        if (Options.Truncation < 0) throw new ArgumentException($"truncation must be 0 (off) or positive, got {Options.Truncation}.");
    }

    /// <summary>The propensity table the weights come from.</summary>
    public PropensityTable Propensities => Options.Propensities;

    /// <inheritdoc/>
    protected override float RowValue(float label, int position, int row)
    {
        if (!(label >= 0) || float.IsInfinity(label)) throw new ArgumentException($"row {row}: label {label} is not a click count or weight (>= 0).");
        return label > 0 ? (float)(label * Options.Propensities.InverseWeight(position)) : 0f;
    }
}

/// <summary>
/// IPW RankNet (Propensity-weighted RankNet; Joachims et al. 2017's rank surrogate with the logistic loss):
/// loss = sum over clicked i of w_i sum over j != i of log(1 + exp(-sigma (s_i - s_j))), every other shown row j
/// counting as a row i must beat. Gradient and Hessian exact per pair (Hessian the diagonal).
/// </summary>
public sealed class IpwRankNetObjective(IpwOptions? options = null) : IpwObjective(options)
{
    /// <inheritdoc/>
    public override string Name => "ipw-ranknet";
    /// <inheritdoc/>
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;

    /// <inheritdoc/>
    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
        => IpwPairs.Compute(query, gradients, hessians, scratch, Options.Sigma, Options.Truncation, discountWeighted: false);
}

/// <summary>
/// IPW LambdaRank: IPW RankNet with each pair (i clicked, j) weighted by |D(r_i) - D(r_j)|, the change in
/// the discount when i and j swap ranks under the current scores (the lambda of DCG with w as gains: still
/// linear in w, so still unbiased). The rank weights are held constant within a step, as in LambdaRank.
/// </summary>
public sealed class IpwLambdaRankObjective(IpwOptions? options = null) : IpwObjective(options)
{
    /// <inheritdoc/>
    public override string Name => "ipw-lambdarank";
    /// <inheritdoc/>
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;

    /// <inheritdoc/>
    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
        => IpwPairs.Compute(query, gradients, hessians, scratch, Options.Sigma, Options.Truncation, discountWeighted: true);
}

/// <summary>
/// IPW softmax cross-entropy (the listwise IPW loss of Ai et al. SIGIR 2018; ListNet top-1 with clicks as the
/// target): loss = -sum_i w_i log softmax(s)_i, not normalised per query (a per-query normaliser would make the
/// estimate biased). Gradient W softmax(s) - w with W = sum w; Hessian W softmax (1 - softmax) (exact diagonal).
/// </summary>
public sealed class IpwSoftmaxObjective(IpwOptions? options = null) : IpwObjective(options)
{
    /// <inheritdoc/>
    public override string Name => "ipw-softmax";
    /// <inheritdoc/>
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;

    /// <inheritdoc/>
    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count;
        double total = 0, max = double.NegativeInfinity;
        for (int i = 0; i < n; i++) { total += query.Auxiliary[i]; max = Math.Max(max, query.Scores[i]); }
        if (!(total > 0)) { gradients.Clear(); hessians.Clear(); return 0; }
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.Exp(query.Scores[i] - max);
        double logSum = max + Math.Log(sum), loss = 0;
        for (int i = 0; i < n; i++)
        {
            double w = query.Auxiliary[i], logP = query.Scores[i] - logSum, p = Math.Exp(logP);
            if (w > 0) loss -= w * logP;
            gradients[i] = (float)(total * p - w);
            hessians[i] = (float)(total * p * (1.0 - p));
        }
        return loss;
    }
}

/// <summary>The pair loop of IPW RankNet and IPW LambdaRank.</summary>
internal static class IpwPairs
{
    public static double Compute(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch, double sigma, int truncation, bool discountWeighted)
    {
        int n = query.Count;
        var grad = scratch.Doubles(0, n);
        var hess = scratch.Doubles(1, n);
        var discount = scratch.Doubles(2, n);
        grad.Clear(); hess.Clear();
        var order = scratch.Ints(0, n);
        var rank = scratch.Ints(1, n);
        bool ranked = discountWeighted || truncation > 0;
        if (ranked)
        {
            QueryOrder.ByScoreDescending(query.Scores, order, scratch.Keys(n));
            for (int r = 0; r < n; r++) { rank[order[r]] = r; discount[order[r]] = RankingMath.Discount(r); }
        }
        int top = truncation > 0 ? Math.Min(truncation, n) : n;
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double w = query.Auxiliary[i];
            if (!(w > 0)) continue;
            // a clicked row in the top k meets every row; one below it meets the top k only
            bool all = !ranked || truncation <= 0 || rank[i] < top;
            int partners = all ? n : top;
            for (int t = 0; t < partners; t++)
            {
                int j = all ? t : order[t];
                if (j == i) continue;
                double weight = discountWeighted ? w * Math.Abs(discount[i] - discount[j]) : w;
                if (weight == 0) continue;
                double pairLoss = RankingMath.RankNetPairLossAndProbability(sigma, (double)query.Scores[i] - query.Scores[j], out double p);
                loss += weight * pairLoss;
                grad[i] -= weight * sigma * p;
                grad[j] += weight * sigma * p;
                double h = weight * sigma * sigma * p * (1.0 - p);
                hess[i] += h;
                hess[j] += h;
            }
        }
        for (int i = 0; i < n; i++) { gradients[i] = (float)grad[i]; hessians[i] = (float)hess[i]; }
        return loss;
    }
}

/// <summary>Settings of <see cref="UnbiasedLambdaRankObjective"/>.</summary>
public sealed class UnbiasedLambdaRankOptions
{
    /// <summary>RankNet's sigma.</summary>
    [Knob(ObjectiveKnobText.Sigma, Aliases = "sigmoid", Min = 0, MinExclusive = true)]
    public double Sigma { get; init; } = 1.0;
    /// <summary>Pairs whose better-ranked row is above this rank (as LambdaRank); maxDCG cut here.</summary>
    [Knob("only pairs whose better-ranked row is above this rank; maxDCG cut here", Min = 0)]
    public int Truncation { get; init; } = 30;
    /// <summary>LightGBM's normalisation (score-gap division and log2(1+S)/S per query).</summary>
    [Knob("LightGBM's lambdarank_norm (score-gap division and log2(1+S)/S rescaling)", Name = "norm")]
    public bool Normalize { get; init; } = true;
    /// <summary>p of the propensity update t = (L_k / L_1)^(1 / (1 + p)) (XGBoost's lambdarank_bias_norm).</summary>
    [Knob("p of the bias update t = (L_k / L_1)^(1/(1+p)) (XGBoost's lambdarank_bias_norm)", Min = 0)]
    public double BiasNorm { get; init; } = 1.0;
    /// <summary>
    /// Memory of the position-cost sums across calls: L = decay L + this call's sums. 0 = each call on its own
    /// (XGBoost, one call per boosting round); near 1 for mini-batches, whose sums are noisy.
    /// </summary>
    [Knob("memory of the position-cost sums across calls (0 = each call alone, as XGBoost per round)", Min = 0, Max = 1, MaxExclusive = true)]
    public double BiasDecay { get; init; } = 0.9;
    /// <summary>Positions 1..this are debiased and tracked (pairs with a row below it are left as they are, as XGBoost does).</summary>
    [Knob("positions 1..this are debiased and tracked", Min = 1)]
    public int MaxPosition { get; init; } = 32;
    /// <summary>Re-estimate t+ and t- after every call (off: they stay at <see cref="InitialPropensities"/>).</summary>
    [Knob("re-estimate the biases after every call; false keeps them at 'propensities'")]
    public bool LearnBias { get; init; } = true;
    private PropensityTable? _initial;
    /// <summary>The starting-bias knob as written (<c>eta:X</c> or a list; 1 = none).</summary>
    [Knob("starting biases t+ = t- per position: eta:X or a list (1 = none)", Name = "propensities")]
    public string InitialPropensityText { get; init; } = "1";
    /// <summary>Starting t+ = t- per position; by default parsed from <see cref="InitialPropensityText"/> (no clip).</summary>
    public PropensityTable? InitialPropensities { get => _initial ??= PropensityTable.Parse(InitialPropensityText, clip: 0); init => _initial = value; }
}

/// <summary>
/// Unbiased LambdaMART (Hu et al. WWW 2019; XGBoost's <c>lambdarank_unbiased</c>): LambdaRank on click labels
/// where each pair (clicked i, unclicked j) has its lambda and Hessian divided by t+_(k_i) t-_(k_j), the
/// position biases of a click at i's position and of a non-click at j's; after each call the biases are
/// re-estimated from the pairs' costs: L+_k += cost_ij / t-_(k_j) for the clicked row's position, L-_k +=
/// cost_ij / t+_(k_i) for the unclicked row's, and t+_k = (L+_k / L+_1)^(1/(1+p)), t-_k likewise (Hu et al.
/// eq. 30-31). The cost of a pair is its RankNet loss times its |delta NDCG| (after the score-gap division
/// when normalising), as in XGBoost. Positions come from <see cref="ObjectiveBatch.Positions"/>, not from row
/// order (XGBoost assumes rows sorted by position). A row is "clicked" when its label is above 0.
/// </summary>
public sealed class UnbiasedLambdaRankObjective : PositionAwareObjective
{
    private readonly UnbiasedLambdaRankOptions _o;
    private readonly double[] _tPlus, _tMinus, _sumPlus, _sumMinus;
    private double[] _queryPlus = [], _queryMinus = [];
    private bool _anySums;

    /// <summary>Checks the settings; the biases start at the initial propensities (or 1).</summary>
    public UnbiasedLambdaRankObjective(UnbiasedLambdaRankOptions? options = null)
    {
        _o = options ?? new UnbiasedLambdaRankOptions();
        if (!(_o.Sigma > 0) || !double.IsFinite(_o.Sigma)) throw new ArgumentException($"sigma must be positive, got {_o.Sigma}.");
        if (_o.Truncation < 1) throw new ArgumentException($"truncation must be at least 1, got {_o.Truncation}.");
        if (!(_o.BiasNorm >= 0) || !double.IsFinite(_o.BiasNorm)) throw new ArgumentException($"bias-norm must be finite and >= 0, got {_o.BiasNorm}.");
        if (!(_o.BiasDecay >= 0 && _o.BiasDecay < 1)) throw new ArgumentException($"bias-decay must lie in [0, 1), got {_o.BiasDecay}.");
        if (_o.MaxPosition < 1 || _o.MaxPosition > 1024) throw new ArgumentException($"max-position must lie in 1..1024, got {_o.MaxPosition}.");
        int k = _o.MaxPosition;
        _tPlus = new double[k];
        _tMinus = new double[k];
        for (int p = 0; p < k; p++) _tPlus[p] = _tMinus[p] = _o.InitialPropensities?.Propensity(p + 1) ?? 1.0;
        _sumPlus = new double[k];
        _sumMinus = new double[k];
    }

    /// <inheritdoc/>
    public override string Name => "unbiased-lambdarank";
    /// <inheritdoc/>
    public override ObjectiveFamily Family => ObjectiveFamily.Pairwise;

    /// <summary>The current click biases t+ of positions 1..max-position (relative to position 1 once learned).</summary>
    public IReadOnlyList<double> ClickPropensities => (double[])_tPlus.Clone();

    /// <summary>The current non-click biases t- of positions 1..max-position.</summary>
    public IReadOnlyList<double> NonClickPropensities => (double[])_tMinus.Clone();

    /// <inheritdoc/>
    protected override float RowValue(float label, int position, int row) => position;

    /// <inheritdoc/>
    protected override void BeforeCompute(in ObjectiveBatch batch)
    {
        int need = batch.QueryCount * _o.MaxPosition;
        if (_queryPlus.Length < need) { _queryPlus = new double[need]; _queryMinus = new double[need]; }
        Array.Clear(_queryPlus, 0, need);
        Array.Clear(_queryMinus, 0, need);
    }

    /// <inheritdoc/>
    protected override void AfterCompute(in ObjectiveBatch batch)
    {
        if (!_o.LearnBias) return;
        int k = _o.MaxPosition;
        double decay = _anySums ? _o.BiasDecay : 0.0;
        for (int p = 0; p < k; p++) { _sumPlus[p] *= decay; _sumMinus[p] *= decay; }
        for (int q = 0; q < batch.QueryCount; q++)   // query order: the same sums on any thread count
        {
            double weight = batch.QueryWeights?[q] ?? 1.0;
            for (int p = 0; p < k; p++)
            {
                _sumPlus[p] += weight * _queryPlus[q * k + p];
                _sumMinus[p] += weight * _queryMinus[q * k + p];
            }
        }
        _anySums = true;
        double exponent = 1.0 / (1.0 + _o.BiasNorm);
        for (int p = 0; p < k; p++)
        {
            if (_sumPlus[0] > 1e-16 && _sumPlus[p] > 0) _tPlus[p] = Math.Pow(_sumPlus[p] / _sumPlus[0], exponent);
            if (_sumMinus[0] > 1e-16 && _sumMinus[p] > 0) _tMinus[p] = Math.Pow(_sumMinus[p] / _sumMinus[0], exponent);
        }
    }

    /// <inheritdoc/>
    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count, k = _o.MaxPosition;
        var grad = scratch.Doubles(0, n);
        var hess = scratch.Doubles(1, n);
        var gain = scratch.Doubles(2, n);
        grad.Clear(); hess.Clear();
        var order = scratch.Ints(0, n);
        var labels = query.Labels;
        var scores = query.Scores;
        QueryOrder.ByScoreDescending(scores, order, scratch.Keys(n));
        // maxDCG at the truncation level from the gains sorted descending
        for (int i = 0; i < n; i++) gain[i] = RankingMath.ExponentialGain(Math.Max(0f, labels[i]));
        var sortedGain = scratch.Doubles(3, n);
        gain.CopyTo(sortedGain);
        sortedGain.Sort();
        double maxDcg = 0;
        for (int r = 0; r < Math.Min(n, _o.Truncation); r++) maxDcg += sortedGain[n - 1 - r] * RankingMath.Discount(r);
        if (!(maxDcg > 0) || n < 2) { gradients.Clear(); hessians.Clear(); return 0; }
        double inverseMaxDcg = 1.0 / maxDcg;
        bool spread = scores[order[0]] != scores[order[n - 1]];
        var plus = _queryPlus.AsSpan(query.Index * k, k);
        var minus = _queryMinus.AsSpan(query.Index * k, k);
        double loss = 0, sumLambdas = 0, sigma = _o.Sigma;
        int top = Math.Min(_o.Truncation, n - 1);
        for (int a = 0; a < top; a++)
            for (int b = a + 1; b < n; b++)
            {
                int i = order[a], j = order[b];
                if (labels[i] == labels[j]) continue;
                int high = i, low = j, rankHigh = a, rankLow = b;
                if (labels[j] > labels[i]) { high = j; low = i; rankHigh = b; rankLow = a; }
                double delta = RankingMath.PairDeltaNdcg(gain[high], gain[low], RankingMath.Discount(rankHigh), RankingMath.Discount(rankLow), inverseMaxDcg);
                double difference = (double)scores[high] - scores[low];
                if (_o.Normalize && spread) delta = RankingMath.NormalizedDeltaNdcg(delta, difference);
                double cost = RankingMath.RankNetPairLossAndProbability(sigma, difference, out double p) * delta;
                int ph = (int)query.Auxiliary[high], pl = (int)query.Auxiliary[low];
                double factor = 1.0;
                if (ph >= 1 && ph <= k && pl >= 1 && pl <= k)
                {
                    double tp = _tPlus[ph - 1], tm = _tMinus[pl - 1];
                    if (tp > 1e-16 && tm > 1e-16) factor = 1.0 / (tp * tm);
                    if (tm > 1e-16) plus[ph - 1] += cost / tm;
                    if (tp > 1e-16) minus[pl - 1] += cost / tp;
                }
                double lambda = -sigma * delta * p * factor;
                double h = sigma * sigma * delta * p * (1.0 - p) * factor;
                grad[high] += lambda;
                grad[low] -= lambda;
                hess[high] += h;
                hess[low] += h;
                sumLambdas += 2.0 * Math.Abs(lambda);
                loss += cost * factor;
            }
        double scale = _o.Normalize ? RankingMath.LambdaNormalizationFactor(sumLambdas) : 1.0;
        for (int i = 0; i < n; i++) { gradients[i] = (float)(grad[i] * scale); hessians[i] = (float)(hess[i] * scale); }
        return loss * scale;
    }
}
