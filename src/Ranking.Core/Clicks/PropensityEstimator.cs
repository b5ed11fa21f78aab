using System.Globalization;
using System.Text;
using Ranking.Data;

namespace Ranking.Clicks;

/// <summary>
/// Examination propensities theta_k of positions 1..K, relative to position 1 (theta_1 = 1), as estimated
/// from a click log, with how many (query, row) entries supported each position.
/// </summary>
/// <param name="Method">How the estimate was made: "interventions" (randomised swaps), "em" or "regression-em".</param>
/// <param name="Propensities">theta_k for positions k = 1..K (index k - 1), theta_1 = 1.</param>
/// <param name="Support">For each position, the (query, row) entries of the log that informed it.</param>
public sealed record PropensityEstimate(string Method, double[] Propensities, long[] Support)
{
    /// <summary>Tab-separated <c>position propensity support</c> lines under a header.</summary>
    public string ToTsv()
    {
        var sb = new StringBuilder("position\tpropensity\tsupport\n");
        for (int k = 0; k < Propensities.Length; k++)
            sb.Append(CultureInfo.InvariantCulture, $"{k + 1}\t{Propensities[k]:R}\t{Support[k]}\n");
        return sb.ToString();
    }
}

/// <summary>
/// Position-bias (propensity) estimation without known propensities:
/// <list type="bullet">
/// <item><see cref="FromInterventions"/>: intervention harvesting (Joachims et al. 2017; Agarwal et al.
/// WSDM 2019): a row shown at positions 1 and k in different sessions (a randomised swap) was clicked at
/// rates theta_1 r and theta_k r, so the ratio of its click-through rates is theta_k / theta_1 whatever
/// its relevance. No relevance model, no bias from the ranker.</item>
/// <item><see cref="RegressionEm"/>: the PBM fitted by expectation-maximisation over the counts per
/// (query, row, position) (Wang et al. WSDM 2018); with <c>regression</c> the relevance of a row is a
/// logistic regression on its features, re-fitted each M-step, which identifies the propensities even
/// when every row is always shown at one position (no interventions).</item>
/// </list>
/// </summary>
public static class PropensityEstimator
{
    /// <summary>
    /// Harvested CTR ratios: for each position k, over the rows seen at both 1 and k,
    /// theta_k / theta_1 = sum w ctr_k / sum w ctr_1 with w = n_1 n_k / (n_1 + n_k) (more weight to rows seen
    /// often at both; the weights do not depend on clicks, so the ratio stays consistent).
    /// </summary>
    public static PropensityEstimate FromInterventions(ClickCounts counts, int maxPosition)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (maxPosition < 1) throw new ArgumentException("maxPosition must be at least 1.");
        var numerator = new double[maxPosition];
        var denominator = new double[maxPosition];
        var support = new long[maxPosition];
        int i = 0;
        while (i < counts.Count)
        {
            int j = i;
            while (j < counts.Count && counts.Query[j] == counts.Query[i] && counts.Row[j] == counts.Row[i]) j++;
            // entries i..j-1: one (query, row) at its positions, ascending
            if (counts.Position[i] == 1)
            {
                double n1 = counts.Impressions[i], ctr1 = counts.Clicks[i] / n1;
                for (int e = i + 1; e < j; e++)
                {
                    int k = counts.Position[e];
                    if (k > maxPosition) break;
                    double nk = counts.Impressions[e], w = n1 * nk / (n1 + nk);
                    numerator[k - 1] += w * counts.Clicks[e] / nk;
                    denominator[k - 1] += w * ctr1;
                    support[k - 1]++;
                }
                support[0]++;
            }
            i = j;
        }
        var theta = new double[maxPosition];
        theta[0] = 1.0;
        for (int k = 2; k <= maxPosition; k++)
        {
            if (support[k - 1] == 0 || !(denominator[k - 1] > 0))
                throw new ArgumentException($"no row was shown (and clicked) at both position 1 and position {k}: estimating propensities from interventions needs randomised swaps (simulate with --intervention swap) or use regression-EM.");
            theta[k - 1] = numerator[k - 1] / denominator[k - 1];
        }
        return new PropensityEstimate("interventions", theta, support);
    }

    /// <summary>
    /// Regression-EM (Wang et al. WSDM 2018) for the PBM P(click) = theta_k gamma_(q,d). E-step: for a shown,
    /// unclicked row, P(examined, not relevant) = theta (1 - gamma) / (1 - theta gamma) and P(not examined,
    /// relevant) = (1 - theta) gamma / (1 - theta gamma). M-step: theta_k = mean over impressions at k of
    /// P(examined); gamma per (query, row) the mean of P(relevant), or with <paramref name="regression"/> a
    /// logistic regression on the rows' (z-scored) features fitted to those soft labels (Adam, a few steps
    /// per M-step, warm-started from zero weights: no draws). Returns theta relative to position 1.
    /// </summary>
    public static PropensityEstimate RegressionEm(ClickCounts counts, int maxPosition, bool regression = true, int iterations = 100)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (maxPosition < 1) throw new ArgumentException("maxPosition must be at least 1.");
        if (iterations < 1) throw new ArgumentException("EM needs at least one iteration.");
        var data = counts.Data;
        // one relevance slot per distinct (query, row)
        var slot = new int[counts.Count];
        var slotRow = new List<int>();
        for (int e = 0; e < counts.Count; e++)
        {
            if (e == 0 || counts.Query[e] != counts.Query[e - 1] || counts.Row[e] != counts.Row[e - 1])
                slotRow.Add(data.GroupOffsets[counts.Query[e]] + counts.Row[e]);
            slot[e] = slotRow.Count - 1;
        }
        int slots = slotRow.Count;
        if (!regression)
        {
            bool varied = false;
            for (int e = 1; e < counts.Count && !varied; e++) varied = slot[e] == slot[e - 1];
            if (!varied)
                throw new ArgumentException("every row was shown at one position only: EM without regression cannot tell position from relevance; use regression-EM or a log with interventions.");
        }

        var theta = new double[maxPosition];
        Array.Fill(theta, 0.5);
        var gamma = new double[slots];
        Array.Fill(gamma, 0.5);
        var support = new long[maxPosition];
        for (int e = 0; e < counts.Count; e++) if (counts.Position[e] <= maxPosition) support[counts.Position[e] - 1]++;

        var logistic = regression ? new LogisticRelevance(data, slotRow) : null;
        var examinedSum = new double[maxPosition];
        var impressionSum = new double[maxPosition];
        var relevantSum = new double[slots];
        var slotImpressions = new double[slots];
        for (int it = 0; it < iterations; it++)
        {
            Array.Clear(examinedSum); Array.Clear(impressionSum); Array.Clear(relevantSum); Array.Clear(slotImpressions);
            for (int e = 0; e < counts.Count; e++)
            {
                int k = counts.Position[e];
                if (k > maxPosition) continue;
                double t = theta[k - 1], g = gamma[slot[e]], n = counts.Impressions[e], c = counts.Clicks[e];
                double noClick = Math.Max(1e-12, 1.0 - t * g);
                double examinedNotRelevant = t * (1.0 - g) / noClick;
                double relevantNotExamined = (1.0 - t) * g / noClick;
                examinedSum[k - 1] += c + (n - c) * examinedNotRelevant;
                impressionSum[k - 1] += n;
                relevantSum[slot[e]] += c + (n - c) * relevantNotExamined;
                slotImpressions[slot[e]] += n;
            }
            for (int k = 0; k < maxPosition; k++)
                if (impressionSum[k] > 0) theta[k] = Math.Clamp(examinedSum[k] / impressionSum[k], 1e-6, 1.0);
            if (logistic is null)
            {
                for (int s = 0; s < slots; s++) gamma[s] = Math.Clamp(relevantSum[s] / slotImpressions[s], 1e-6, 1.0 - 1e-6);
            }
            else
            {
                for (int s = 0; s < slots; s++) relevantSum[s] /= slotImpressions[s];
                logistic.Fit(relevantSum, slotImpressions, steps: 20);
                logistic.Predict(gamma);
            }
        }
        if (!(theta[0] > 0)) throw new ArgumentException("no impressions at position 1.");
        double top = theta[0];
        for (int k = 0; k < maxPosition; k++) theta[k] /= top;
        return new PropensityEstimate(regression ? "regression-em" : "em", theta, support);
    }

    /// <summary>Weighted logistic regression of soft relevance labels on z-scored features, trained by Adam.</summary>
    private sealed class LogisticRelevance
    {
        private readonly float[] _x;   // slots x features, z-scored
        private readonly int _features;
        private readonly double[] _w;
        private readonly double[] _m, _v;
        private int _t;

        public LogisticRelevance(RankingDataset data, List<int> rows)
        {
            _features = data.FeatureCount;
            _x = new float[rows.Count * _features];
            for (int s = 0; s < rows.Count; s++) Array.Copy(data.Features, (long)rows[s] * _features, _x, (long)s * _features, _features);
            for (int j = 0; j < _features; j++)
            {
                double mean = 0, sq = 0;
                for (int s = 0; s < rows.Count; s++) mean += _x[s * _features + j];
                mean /= Math.Max(1, rows.Count);
                for (int s = 0; s < rows.Count; s++) { double d = _x[s * _features + j] - mean; sq += d * d; }
                double sd = Math.Sqrt(sq / Math.Max(1, rows.Count));
                for (int s = 0; s < rows.Count; s++)
                    _x[s * _features + j] = sd > 0 && float.IsFinite(_x[s * _features + j]) ? (float)((_x[s * _features + j] - mean) / sd) : 0f;
            }
            _w = new double[_features + 1];
            _m = new double[_features + 1];
            _v = new double[_features + 1];
        }

        public void Fit(double[] target, double[] weight, int steps)
        {
            int n = target.Length;
            double total = 0;
            foreach (double w in weight) total += w;
            var grad = new double[_w.Length];
            for (int step = 0; step < steps; step++)
            {
                Array.Clear(grad);
                for (int s = 0; s < n; s++)
                {
                    double z = _w[_features];
                    int b = s * _features;
                    for (int j = 0; j < _features; j++) z += _w[j] * _x[b + j];
                    double r = (Ranking.Numerics.RankingMath.Sigmoid(z) - target[s]) * weight[s] / total;
                    for (int j = 0; j < _features; j++) grad[j] += r * _x[b + j];
                    grad[_features] += r;
                }
                _t++;
                const double lr = 0.05, b1 = 0.9, b2 = 0.999;
                for (int j = 0; j < _w.Length; j++)
                {
                    _m[j] = b1 * _m[j] + (1 - b1) * grad[j];
                    _v[j] = b2 * _v[j] + (1 - b2) * grad[j] * grad[j];
                    double mh = _m[j] / (1 - Math.Pow(b1, _t)), vh = _v[j] / (1 - Math.Pow(b2, _t));
                    _w[j] -= lr * mh / (Math.Sqrt(vh) + 1e-8);
                }
            }
        }

        public void Predict(double[] gamma)
        {
            for (int s = 0; s < gamma.Length; s++)
            {
                double z = _w[_features];
                int b = s * _features;
                for (int j = 0; j < _features; j++) z += _w[j] * _x[b + j];
                gamma[s] = Math.Clamp(Ranking.Numerics.RankingMath.Sigmoid(z), 1e-6, 1.0 - 1e-6);
            }
        }
    }
}
