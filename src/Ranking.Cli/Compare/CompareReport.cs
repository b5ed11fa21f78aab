using System.Text.Json.Nodes;

namespace Ranking.Cli.Compare;

/// <summary>
/// Everything `ranking compare` measured: one entry per ranker with its test metrics per fold, the mean and
/// spread, its learning curve and its significance against the best ranker. report.md, results.json, the
/// console table and the plots are all written from this one object, so they cannot disagree.
/// </summary>
internal sealed class CompareReport
{
    public const string SchemaId = "ranking-compare/1";

    public string Title { get; init; } = "Ranker comparison";
    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>Canonical metric names in report order (e.g. ndcg@1, ndcg@3, ndcg@5, ndcg@10, map).</summary>
    public required IReadOnlyList<string> Metrics { get; init; }
    /// <summary>The metric that picks the best ranker and that significance is computed on.</summary>
    public string PrimaryMetric { get; init; } = "ndcg@10";
    /// <summary>One line naming gain, discount, ties and the empty-query rule.</summary>
    public required string ContractText { get; init; }
    public JsonObject? Contract { get; init; }
    public required IReadOnlyList<FoldInfo> Folds { get; init; }
    public required IReadOnlyList<RankerReport> Rankers { get; init; }
    /// <summary>Reference scores that know the truth (the synthetic generator's), when there are any.</summary>
    public IReadOnlyDictionary<string, double>? Oracle { get; init; }
    /// <summary>Seed of the bootstrap and of every ranker.</summary>
    public int Seed { get; init; }
    public string? Notes { get; init; }

    /// <summary>The ranker with the highest mean primary metric (first registered wins a tie).</summary>
    public RankerReport? Best =>
        Rankers.Where(r => !double.IsNaN(r.Mean(PrimaryMetric)))
               .Aggregate((RankerReport?)null, (best, r) => best is null || r.Mean(PrimaryMetric) > best.Mean(PrimaryMetric) ? r : best);
}

/// <summary>One train/valid/test split that every ranker ran on.</summary>
internal sealed record FoldInfo(string Name, string Train, string? Valid, string Test, int TestQueries, int TestRows);

/// <summary>Difference of a ranker's primary metric against the best ranker's, query by query, over all test queries.</summary>
internal sealed record Significance(string Against, string Metric, double MeanDifference, double PValue, double CiLow, double CiHigh, int Queries);

internal sealed class RankerReport
{
    public required string Name { get; init; }
    public string Objective { get; init; } = "";
    public string ModelFamily { get; init; } = "";
    public required IReadOnlyList<FoldResult> Folds { get; init; }
    /// <summary>Against the best ranker; null for the best itself.</summary>
    public Significance? VersusBest { get; set; }

    public double TrainingSeconds => Folds.Sum(f => f.TrainingSeconds);

    /// <summary>Mean over folds of the fold means.</summary>
    public double Mean(string metric) => Folds.Count == 0 ? double.NaN : Folds.Average(f => f.Metrics.GetValueOrDefault(metric, double.NaN));

    /// <summary>Sample standard deviation over folds; NaN for a single fold.</summary>
    public double StdOverFolds(string metric)
    {
        if (Folds.Count < 2) return double.NaN;
        double mean = Mean(metric);
        double ss = Folds.Sum(f => Math.Pow(f.Metrics.GetValueOrDefault(metric, double.NaN) - mean, 2));
        return Math.Sqrt(ss / (Folds.Count - 1));
    }

    /// <summary>
    /// The error bar for plots: standard deviation over folds when there are several, else the standard error
    /// over queries (std / sqrt(n)) of the single fold.
    /// </summary>
    public double ErrorBar(string metric) =>
        Folds.Count >= 2 ? StdOverFolds(metric) : Folds.Count == 1 ? Folds[0].StdError.GetValueOrDefault(metric, double.NaN) : double.NaN;
}

/// <summary>One ranker on one fold.</summary>
internal sealed class FoldResult
{
    public required string Fold { get; init; }
    /// <summary>Test metric means (weighted by query weight, left-out queries excluded), by metric name.</summary>
    public required IReadOnlyDictionary<string, double> Metrics { get; init; }
    /// <summary>Standard error over test queries, by metric name.</summary>
    public required IReadOnlyDictionary<string, double> StdError { get; init; }
    public double TrainingSeconds { get; init; }
    public int BestIteration { get; init; }
    /// <summary>Validation primary metric after each iteration.</summary>
    public IReadOnlyList<CurvePoint> LearningCurve { get; init; } = [];
    /// <summary>Saved test predictions, relative to the report folder.</summary>
    public string? Predictions { get; init; }
    /// <summary>Primary metric per test query (NaN where the contract leaves the query out); for the scatter plot.</summary>
    public double[] PerQueryPrimary { get; init; } = [];
}

internal sealed record CurvePoint(int Iteration, double Value);
