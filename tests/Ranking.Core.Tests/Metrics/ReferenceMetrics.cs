using Ranking.Numerics;
using Ranking.Metrics;

namespace Ranking.Core.Tests.Metrics;

/// <summary>
/// A deliberately plain reference written from the definitions (sort, sum, divide), sharing no code
/// with the evaluator: LINQ stable sorts, Math.Log2 per position, no selection, no tables.
/// Averaged ties use the block formula of MATH.md for DCG-like metrics; the brute-force test checks it
/// against the mean over every order.
/// </summary>
internal static class ReferenceMetrics
{
    public static double Gain(NdcgContract c, double y) => c.Gain switch
    {
        GainKind.Exponential => Math.Pow(2, y) - 1,
        GainKind.Linear => y,
        _ => c.GainTable![(int)y],
    };

    /// <summary>Row indices best first, ties ordered by the contract (averaged: input order).</summary>
    public static int[] Order(double[] labels, double[] scores, TiePolicy ties)
    {
        var rows = Enumerable.Range(0, labels.Length);
        var sorted = rows.OrderByDescending(i => scores[i]);
        return ties switch
        {
            TiePolicy.Pessimistic => sorted.ThenBy(i => labels[i]).ThenBy(i => i).ToArray(),
            TiePolicy.Optimistic => sorted.ThenByDescending(i => labels[i]).ThenBy(i => i).ToArray(),
            _ => sorted.ThenBy(i => i).ToArray(),
        };
    }

    public static double Empty(NdcgContract c) => c.EmptyQuery switch
    {
        EmptyQueryPolicy.CountAsOne => 1,
        EmptyQueryPolicy.CountAsZero => 0,
        _ => double.NaN,
    };

    public static double Metric(MetricSpec spec, NdcgContract c, double[] labels, double[] scores, double errMax)
    {
        int n = labels.Length;
        int cut = spec.K == 0 ? n : Math.Min(spec.K, n);
        bool averaged = c.Ties == TiePolicy.Averaged;
        int[] order = Order(labels, scores, c.Ties);
        double[] ranked = order.Select(i => labels[i]).ToArray();
        int relevant = labels.Count(y => y > spec.RelevanceThreshold);
        switch (spec.Kind)
        {
            case MetricKind.Dcg:
                return Dcg(c, labels, scores, order, cut, averaged) * c.Discount.Scale;
            case MetricKind.Ndcg:
            {
                double[] ideal = labels.Select(y => Gain(c, y)).OrderByDescending(g => g).ToArray();
                double idcg = 0;
                for (int r = 0; r < cut; r++) idcg += ideal[r] / Math.Log2(r + 2);
                if (idcg <= 0) return Empty(c);
                return Dcg(c, labels, scores, order, cut, averaged) / idcg;
            }
            case MetricKind.Precision:
            case MetricKind.Recall:
            {
                double hits = 0;
                if (averaged)
                {
                    // a tie block contributes its relevant share times the positions it has inside the cut
                    int p = 0;
                    foreach (var block in Blocks(order, scores))
                    {
                        int inside = Math.Max(0, Math.Min(p + block.Length, cut) - p);
                        hits += block.Count(i => labels[i] > spec.RelevanceThreshold) * (double)inside / block.Length;
                        p += block.Length;
                    }
                }
                else hits = ranked.Take(cut).Count(y => y > spec.RelevanceThreshold);
                if (spec.Kind == MetricKind.Precision) return hits / (spec.K == 0 ? n : spec.K);
                return relevant == 0 ? Empty(c) : hits / relevant;
            }
            case MetricKind.Map:
            {
                if (relevant == 0) return Empty(c);
                double sum = 0; int seen = 0;
                for (int r = 0; r < cut; r++)
                    if (ranked[r] > spec.RelevanceThreshold) { seen++; sum += seen / (r + 1.0); }
                return sum / (spec.K == 0 ? relevant : Math.Min(spec.K, relevant));
            }
            case MetricKind.Mrr:
            {
                if (relevant == 0) return Empty(c);
                for (int r = 0; r < cut; r++) if (ranked[r] > spec.RelevanceThreshold) return 1.0 / (r + 1);
                return 0;
            }
            default:
            {
                double err = 0, looking = 1;
                for (int r = 0; r < cut; r++)
                {
                    double sat = Math.Clamp((Math.Pow(2, ranked[r]) - 1) / Math.Pow(2, errMax), 0, 1);
                    err += looking * sat / (r + 1);
                    looking *= 1 - sat;
                }
                return err;
            }
        }
    }

    private static double Dcg(NdcgContract c, double[] labels, double[] scores, int[] order, int cut, bool averaged)
    {
        double dcg = 0;
        if (!averaged)
        {
            for (int r = 0; r < cut; r++) dcg += Gain(c, labels[order[r]]) / Math.Log2(r + 2);
            return dcg;
        }
        int p = 0;
        foreach (var block in Blocks(order, scores))
        {
            double mean = block.Average(i => Gain(c, labels[i]));
            for (int r = p; r < Math.Min(p + block.Length, cut); r++) dcg += mean / Math.Log2(r + 2);
            p += block.Length;
        }
        return dcg;
    }

    private static IEnumerable<int[]> Blocks(int[] order, double[] scores) =>
        order.GroupBy(i => scores[i]).Select(g => g.ToArray());
}
