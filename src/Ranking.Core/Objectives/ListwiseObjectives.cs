using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

/// <summary>What ListNet's target distribution is a softmax of.</summary>
public enum ListNetTarget
{
    /// <summary>softmax(grade) (Cao et al. 2007).</summary>
    Grade,
    /// <summary>softmax(2^grade - 1).</summary>
    Gain,
}

public sealed class ListNetOptions
{
    /// <summary>Scores are divided by T before the softmax.</summary>
    [Knob("scores are divided by T before the softmax", Min = 0, MinExclusive = true)]
    public double Temperature { get; init; } = 1.0;
    /// <summary>What the target distribution is a softmax of.</summary>
    [Knob("grade | gain: softmax of the grades or of 2^grade - 1")]
    public ListNetTarget Target { get; init; } = ListNetTarget.Grade;
}

/// <summary>
/// ListNet top-1 (Cao et al. 2007): P = softmax(phi(y)), Q = softmax(s / T), loss = -sum P log Q (the
/// cross-entropy, so an already perfect query still pays the entropy of P: log n when all grades tie);
/// gradient (Q - P) / T; Hessian Q (1 - Q) / T^2 (the exact diagonal). Both softmaxes shift by the max.
/// </summary>
public sealed class ListNetObjective : QueryObjective
{
    private readonly ListNetOptions _options;

    public ListNetObjective(ListNetOptions? options = null)
    {
        _options = options ?? new ListNetOptions();
        if (!(_options.Temperature > 0) || !double.IsFinite(_options.Temperature)) throw new ArgumentException($"temperature must be positive, got {_options.Temperature}.");
    }

    /// <summary>The settings (read by the GPU backend to build the same kernel).</summary>
    public ListNetOptions Options => _options;
    public override string Name => "listnet";
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;

    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count;
        double t = _options.Temperature;
        var target = scratch.Doubles(0, n);
        var logQ = scratch.Doubles(1, n);
        double maxTarget = double.NegativeInfinity, maxLogit = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            target[i] = _options.Target == ListNetTarget.Gain ? RankingMath.ExponentialGain(query.Labels[i]) : query.Labels[i];
            logQ[i] = query.Scores[i] / t;
            maxTarget = Math.Max(maxTarget, target[i]);
            maxLogit = Math.Max(maxLogit, logQ[i]);
        }
        double sumP = 0, sumQ = 0;
        for (int i = 0; i < n; i++)
        {
            target[i] = Math.Exp(target[i] - maxTarget);
            sumP += target[i];
            sumQ += Math.Exp(logQ[i] - maxLogit);
        }
        double logSumQ = maxLogit + Math.Log(sumQ);
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double p = target[i] / sumP;
            double lq = logQ[i] - logSumQ;
            double q = Math.Exp(lq);
            loss -= p * lq;
            gradients[i] = (float)((q - p) / t);
            hessians[i] = (float)(q * (1.0 - q) / (t * t));
        }
        return loss;
    }
}

public sealed class SoftmaxOptions
{
    /// <summary>Rows with a grade above this are the positives.</summary>
    [Knob(ObjectiveKnobText.Threshold)]
    public double Threshold { get; init; } = 0.0;
}

/// <summary>
/// Softmax cross-entropy over the full list: each relevant row p contrasted with every row of its query,
/// loss = -sum_p w_p log softmax(s)_p with w_p = G(y_p) / sum of G over the relevant rows (exponential
/// gain), so each query's weights sum to 1. Gradient softmax(s) - w; Hessian softmax (1 - softmax) (the
/// exact diagonal). A query without relevant rows contributes nothing.
/// </summary>
public sealed class SoftmaxObjective(SoftmaxOptions? options = null) : QueryObjective
{
    public SoftmaxOptions Options { get; } = options ?? new SoftmaxOptions();
    public override string Name => "softmax";
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;

    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count;
        var w = scratch.Doubles(0, n);
        double totalGain = 0, max = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            w[i] = query.Labels[i] > Options.Threshold ? RankingMath.ExponentialGain(query.Labels[i]) : 0.0;
            totalGain += w[i];
            max = Math.Max(max, query.Scores[i]);
        }
        if (!(totalGain > 0))
        {
            gradients.Clear(); hessians.Clear();
            return 0;
        }
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.Exp(query.Scores[i] - max);
        double logSum = max + Math.Log(sum);
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double wi = w[i] / totalGain;
            double logP = query.Scores[i] - logSum;
            double p = Math.Exp(logP);
            if (wi > 0) loss -= wi * logP;
            gradients[i] = (float)(p - wi);
            hessians[i] = (float)(p * (1.0 - p));
        }
        return loss;
    }
}
