using Ranking.Knobs;
using Ranking.Numerics;

namespace Ranking.Objectives;

public sealed class ListMleOptions
{
    /// <summary>0 = the full list; k &gt; 0 = top-k ListMLE (Xia et al. 2009): only the first k factors of the likelihood.</summary>
    [Knob("top-k ListMLE: only the first k factors; 0 = the full list", Min = 0, Flag = true)]
    public int Truncation { get; init; }
}

/// <summary>
/// ListMLE (Xia et al. 2008): the negative log Plackett-Luce likelihood of the order by grade, descending,
/// rows with equal grades in a seeded random order (a fresh order per iteration, the same on every thread
/// count and on the GPU). loss = sum over positions i of [logsumexp(s of positions i..n-1) - s at i];
/// the row at position i gets -1 + sum over m &lt;= i of P_m(i), P_m(i) = exp(s_i - lse_m); Hessian
/// sum P_m(i) (1 - P_m(i)) (the exact diagonal). Suffix log-sum-exps once, prefix sums in log space: O(n log n).
/// </summary>
public sealed class ListMleObjective : QueryObjective
{
    private readonly int _truncation;

    public ListMleObjective(ListMleOptions? options = null)
    {
        _truncation = (options ?? new ListMleOptions()).Truncation;
        if (_truncation < 0) throw new ArgumentException($"truncation must be 0 (full list) or positive, got {_truncation}.");
    }

    /// <summary>Top-k factors of the likelihood; 0 = the full list (read by the GPU backend).</summary>
    public int Truncation => _truncation;
    public override string Name => "listmle";
    public override ObjectiveFamily Family => ObjectiveFamily.Listwise;

    protected override double ComputeQuery(in QueryData query, Span<float> gradients, Span<float> hessians, ObjectiveScratch scratch)
    {
        int n = query.Count;
        var keys = scratch.Keys(n);
        var order = scratch.Ints(0, n);
        ulong stream = StreamOf(query);
        for (int i = 0; i < n; i++)
        {
            // High half: grade, descending; low half: a random tie-breaker drawn for this row.
            ulong gradeKey = RankingMath.DescendingScoreKey(query.Labels[i], 0) & 0xFFFFFFFF00000000UL;
            keys[i] = gradeKey | (RankingMath.RandomBits(stream, i) >> 32);
            order[i] = i;
        }
        keys.Sort(order);

        var lse = scratch.Doubles(0, n);
        lse[n - 1] = query.Scores[order[n - 1]];
        for (int i = n - 2; i >= 0; i--) lse[i] = RankingMath.LogAddExp(query.Scores[order[i]], lse[i + 1]);

        int factors = _truncation > 0 ? Math.Min(_truncation, n) : n;
        double loss = 0;
        double logSumInv = double.NegativeInfinity, logSumInv2 = double.NegativeInfinity; // log sum exp(-lse_m), log sum exp(-2 lse_m), m <= i
        for (int i = 0; i < n; i++)
        {
            int row = order[i];
            double s = query.Scores[row];
            if (i < factors)
            {
                loss += lse[i] - s;
                logSumInv = RankingMath.LogAddExp(logSumInv, -lse[i]);
                logSumInv2 = RankingMath.LogAddExp(logSumInv2, -2 * lse[i]);
            }
            double sumP = Math.Exp(s + logSumInv);        // sum over m of P_m(i)
            double sumP2 = Math.Exp(2 * s + logSumInv2);  // sum over m of P_m(i)^2
            gradients[row] = (float)((i < factors ? -1.0 : 0.0) + sumP);
            hessians[row] = (float)Math.Max(0.0, sumP - sumP2);
        }
        return loss;
    }
}
