using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

public sealed class ApproxNdcgOptions
{
    /// <summary>T in sigmoid((s_j - s_i) / T): smaller is closer to the true rank (TF-Ranking's default 0.1).</summary>
    [Knob("T in sigmoid((s_j - s_i) / T)", Min = 0, MinExclusive = true)]
    public double Temperature { get; init; } = 0.1;
    /// <summary>Queries up to this many rows use every pair (O(n^2)).</summary>
    [Knob("queries up to this length use every pair, O(n^2)", Min = 1)]
    public int ExactLimit { get; init; } = 1024;
    /// <summary>Longer queries estimate each smooth rank from this many partners drawn per row (seeded): O(samples n).</summary>
    [Knob("longer queries estimate each smooth rank from this many drawn partners, O(samples n)", Min = 1)]
    public int Samples { get; init; } = 256;
}

/// <summary>
/// ApproxNDCG (Qin, Liu, Li 2010): smooth ranks rhat_i = 1 + sum over j != i of sigmoid((s_j - s_i) / T);
/// loss = 1 - sum_i G(y_i) / log2(1 + rhat_i) / maxDCG (exponential gain, maxDCG of the full list; a query
/// with maxDCG = 0 contributes nothing). The gradient is exact for the loss as computed:
/// dL/ds_k = (1/T) sum over i != k of sigmoid'_ik (a_k - a_i), a_i = d(term i)/d rhat_i. Queries longer
/// than <see cref="ApproxNdcgOptions.ExactLimit"/> estimate rhat_i = 1 + (n-1)/m sum over m drawn partners
/// (the loss is then that estimate's, differentiated exactly). Hessian: a positive approximation, for each
/// pair sigmoid'_ik |a_k - a_i| / T^2 (the scale of the curvature, not the exact diagonal).
/// </summary>
public sealed class ApproxNdcgObjective : QueryObjective
{
    private readonly ApproxNdcgOptions _options;

    /// <summary>The settings (read by the GPU backend).</summary>
    public ApproxNdcgOptions Options => _options;

    public ApproxNdcgObjective(ApproxNdcgOptions? options = null)
    {
        _options = options ?? new ApproxNdcgOptions();
        if (!(_options.Temperature > 0) || !double.IsFinite(_options.Temperature)) throw new ArgumentException($"temperature must be positive, got {_options.Temperature}.");
        if (_options.ExactLimit < 1) throw new ArgumentException($"exact-limit must be at least 1, got {_options.ExactLimit}.");
        if (_options.Samples < 1) throw new ArgumentException($"samples must be at least 1, got {_options.Samples}.");
    }

    public override string Name => "approxndcg";
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;

    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count;
        var scores = query.Scores;
        var gain = scratch.Doubles(0, n);
        var rank = scratch.Doubles(1, n);
        var grad = scratch.Doubles(2, n);
        var hess = scratch.Doubles(3, n);
        for (int i = 0; i < n; i++) gain[i] = RankingMath.ExponentialGain(query.Labels[i]);
        gain.CopyTo(grad);
        double maxDcg = QueryOrder.MaxDcg(grad, n);
        grad.Clear(); hess.Clear();
        if (!(maxDcg > 0) || n < 2)
        {
            gradients.Clear(); hessians.Clear();
            return 0;
        }
        double t = _options.Temperature, inverseT = 1.0 / t;
        bool sampled = n > _options.ExactLimit;
        int m = _options.Samples;
        double scale = sampled ? (n - 1) / (double)m : 1.0;
        ulong stream = StreamOf(query);

        // Pass 1: smooth ranks.
        for (int i = 0; i < n; i++) rank[i] = 1.0;
        if (!sampled)
        {
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                {
                    double sij = RankingMath.Sigmoid((scores[j] - (double)scores[i]) * inverseT); // j above i
                    rank[i] += sij;
                    rank[j] += 1.0 - sij;
                }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                double sum = 0;
                for (int d = 0; d < m; d++) sum += RankingMath.Sigmoid((scores[Partner(stream, i, d, m, n)] - (double)scores[i]) * inverseT);
                rank[i] += scale * sum;
            }
        }

        // a_i = d(G_i / log2(1 + rhat_i) / maxDCG) / d rhat_i; kept in the gain buffer after the loss term is taken.
        double approx = 0;
        for (int i = 0; i < n; i++)
        {
            double log2r = RankingMath.Log2(1.0 + rank[i]);
            approx += gain[i] / log2r;
            gain[i] = -gain[i] / (maxDcg * Math.Log(2.0) * (1.0 + rank[i]) * log2r * log2r);
        }
        var a = gain;

        // Pass 2: gradient (1/T) sigmoid' (a_k - a_i) per pair; d rhat_i / d s_j = sigmoid'/T.
        if (!sampled)
        {
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                {
                    if (a[i] == a[j]) continue;
                    double sij = RankingMath.Sigmoid((scores[j] - (double)scores[i]) * inverseT);
                    double c = sij * (1.0 - sij) * inverseT;
                    double diff = a[i] - a[j];
                    grad[i] += c * diff; grad[j] -= c * diff;
                    double h = c * Math.Abs(diff) * inverseT;
                    hess[i] += h; hess[j] += h;
                }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                if (a[i] == 0) continue;
                for (int d = 0; d < m; d++)
                {
                    int j = Partner(stream, i, d, m, n);
                    double sij = RankingMath.Sigmoid((scores[j] - (double)scores[i]) * inverseT);
                    double c = scale * sij * (1.0 - sij) * inverseT * a[i]; // d(-term_i)/d s_i
                    grad[i] += c; grad[j] -= c;
                    double h = Math.Abs(c) * inverseT;
                    hess[i] += h; hess[j] += h;
                }
            }
        }

        for (int i = 0; i < n; i++) { gradients[i] = (float)grad[i]; hessians[i] = (float)hess[i]; }
        return 1.0 - approx / maxDcg;
    }

    /// <summary>Draw number d of row i: a partner uniform over the other n - 1 rows.</summary>
    private static int Partner(ulong stream, int i, int d, int m, int n)
    {
        int j = RankingMath.RandomIndex(stream, (long)i * m + d, n - 1);
        return j >= i ? j + 1 : j;
    }
}
