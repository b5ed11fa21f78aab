using Ranking.Data;

namespace Ranking.Metrics;

public static partial class RankingEvaluator
{
    /// <summary>Bootstrap resamples of the queries used for the confidence interval.</summary>
    public const int DefaultResamples = 2000;

    /// <summary>
    /// Compares two score vectors on the same queries, per metric: the difference of the means
    /// (<paramref name="scores"/> minus <paramref name="baselineScores"/>, query-weighted like the means), a
    /// two-sided paired t-test p-value over the per-query differences (unweighted: the classic test), and a
    /// bootstrap 95% confidence interval of the weighted mean difference (percentile method, queries resampled
    /// with replacement, <paramref name="resamples"/> times, seeded: the same seed gives the same interval).
    /// Queries left out by the empty-query policy are left out of the comparison. <paramref name="subtopics"/> are
    /// the subtopic judgements the diversity metrics (alpha-NDCG) read.
    /// </summary>
    public static ComparisonReport Compare(RankingDataset data, float[] scores, float[] baselineScores,
        IReadOnlyList<MetricSpec> metrics, NdcgContract contract, int seed = 42, int resamples = DefaultResamples, int threads = -1,
        SubtopicJudgements? subtopics = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var a = Evaluate(data, scores, metrics, contract, threads, subtopics: subtopics);
        var b = Evaluate(data, baselineScores, metrics, contract, threads, subtopics: subtopics);
        return Compare(a, b, seed, resamples);
    }

    /// <summary>Compares two reports of the same metrics over the same queries.</summary>
    public static ComparisonReport Compare(EvaluationReport scores, EvaluationReport baseline, int seed = 42, int resamples = DefaultResamples)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(baseline);
        if (scores.QueryCount != baseline.QueryCount || scores.Metrics.Count != baseline.Metrics.Count)
            throw new ArgumentException("the two reports must cover the same queries and metrics.");
        if (resamples < 1) throw new ArgumentOutOfRangeException(nameof(resamples));
        int queries = scores.QueryCount;
        IReadOnlyList<float>? weights = scores.QueryWeights;

        // One list of resampled query indices shared by every metric (the comparison is paired across metrics too).
        var rng = new Random(seed);
        var draws = new int[resamples][];
        for (int r = 0; r < resamples; r++)
        {
            draws[r] = new int[queries];
            for (int i = 0; i < queries; i++) draws[r][i] = rng.Next(queries);
        }

        var results = new MetricComparison[scores.Metrics.Count];
        Parallel.For(0, results.Length, m =>
        {
            double[] x = scores.PerQuery[m], y = baseline.PerQuery[m];
            var diff = new double[queries];
            var used = new List<double>(queries);
            double sum = 0, weightSum = 0;
            for (int q = 0; q < queries; q++)
            {
                diff[q] = x[q] - y[q]; // NaN when either is left out
                if (double.IsNaN(diff[q])) continue;
                double w = weights is null ? 1 : weights[q];
                sum += w * diff[q];
                weightSum += w;
                used.Add(diff[q]);
            }
            double meanDiff = weightSum > 0 ? sum / weightSum : double.NaN;
            double p = Statistics.PairedTTestPValue(used.ToArray());

            var boot = new double[resamples];
            int valid = 0;
            foreach (int[] draw in draws)
            {
                double s = 0, ws = 0;
                foreach (int q in draw)
                {
                    double d = diff[q];
                    if (double.IsNaN(d)) continue;
                    double w = weights is null ? 1 : weights[q];
                    s += w * d;
                    ws += w;
                }
                if (ws > 0) boot[valid++] = s / ws;
            }
            Array.Sort(boot, 0, valid);
            double low = valid > 0 ? Percentile(boot.AsSpan(0, valid), 0.025) : double.NaN;
            double high = valid > 0 ? Percentile(boot.AsSpan(0, valid), 0.975) : double.NaN;
            results[m] = new MetricComparison(scores.Metrics[m], scores.MeanValues[m], baseline.MeanValues[m], meanDiff, p, low, high, used.Count);
        });
        return new ComparisonReport(scores, baseline, results, seed, resamples);
    }

    /// <summary>Linear interpolation between closest ranks of a sorted sample.</summary>
    internal static double Percentile(ReadOnlySpan<double> sorted, double fraction)
    {
        double position = fraction * (sorted.Length - 1);
        int lo = (int)Math.Floor(position);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (position - lo) * (sorted[hi] - sorted[lo]);
    }
}

/// <summary>One metric of a comparison: scores vs baseline.</summary>
/// <param name="Metric">The metric compared.</param>
/// <param name="Mean">Its query-weighted mean under the scores being tested.</param>
/// <param name="BaselineMean">Its query-weighted mean under the baseline's scores.</param>
/// <param name="MeanDifference"><paramref name="Mean"/> minus <paramref name="BaselineMean"/> (positive: the scores do better).</param>
/// <param name="PValue">Two-sided paired t-test p-value over the per-query differences (1 when every difference is 0, NaN for fewer than 2 queries).</param>
/// <param name="CiLow">Lower end of the bootstrap 95% confidence interval of the mean difference.</param>
/// <param name="CiHigh">Upper end of the bootstrap 95% confidence interval of the mean difference.</param>
/// <param name="Queries">Queries in the comparison (those neither report left out).</param>
public sealed record MetricComparison(
    MetricSpec Metric,
    double Mean,
    double BaselineMean,
    double MeanDifference,
    double PValue,
    double CiLow,
    double CiHigh,
    int Queries);

/// <summary>What <see cref="RankingEvaluator.Compare(EvaluationReport, EvaluationReport, int, int)"/> found.</summary>
public sealed class ComparisonReport
{
    internal ComparisonReport(EvaluationReport scores, EvaluationReport baseline, MetricComparison[] metrics, int seed, int resamples)
    {
        Scores = scores;
        Baseline = baseline;
        Metrics = metrics;
        Seed = seed;
        Resamples = resamples;
    }

    /// <summary>The report of the scores under test.</summary>
    public EvaluationReport Scores { get; }
    /// <summary>The report of the baseline's scores.</summary>
    public EvaluationReport Baseline { get; }
    /// <summary>Per metric, in the order asked.</summary>
    public IReadOnlyList<MetricComparison> Metrics { get; }
    /// <summary>Seed of the bootstrap resampling.</summary>
    public int Seed { get; }
    /// <summary>Bootstrap resamples behind each confidence interval.</summary>
    public int Resamples { get; }

    /// <summary>The comparison of the metric named <paramref name="metricName"/>; an unknown name is an <see cref="InvalidOperationException"/>.</summary>
    public MetricComparison this[string metricName] => Metrics.First(m => m.Metric.Name == metricName);
}
