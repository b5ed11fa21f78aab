namespace Ranking.Metrics;

/// <summary>What <see cref="RankingEvaluator.Evaluate(Ranking.Data.RankingDataset, float[], IReadOnlyList{MetricSpec}, NdcgContract, int, float[], SubtopicJudgements)"/> found.</summary>
public sealed class EvaluationReport
{
    internal EvaluationReport(MetricSpec[] metrics, NdcgContract contract, double[][] perQuery, double[] means, int[] counted,
        int queryCount, int rowCount, long[]? queryIds, float[]? queryWeights)
    {
        Metrics = metrics;
        Contract = contract;
        PerQuery = perQuery;
        MeanValues = means;
        CountedQueries = counted;
        QueryCount = queryCount;
        RowCount = rowCount;
        _queryIds = queryIds;
        QueryWeights = queryWeights;
        var dict = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int m = 0; m < metrics.Length; m++) dict[metrics[m].Name] = means[m];
        Means = dict;
    }

    /// <summary>The metrics, in the order asked.</summary>
    public IReadOnlyList<MetricSpec> Metrics { get; }
    /// <summary>The NDCG contract (gain, discount, ties, empty queries) every metric was computed under.</summary>
    public NdcgContract Contract { get; }
    /// <summary>Mean per metric name (weighted by query weight; left-out queries excluded).</summary>
    public IReadOnlyDictionary<string, double> Means { get; }
    /// <summary>Means in the order of <see cref="Metrics"/>.</summary>
    public IReadOnlyList<double> MeanValues { get; }
    /// <summary>[metric][query]; NaN where a query is left out.</summary>
    public double[][] PerQuery { get; }
    /// <summary>Queries that entered each metric's mean.</summary>
    public IReadOnlyList<int> CountedQueries { get; }
    /// <summary>Queries evaluated (including any left out of a mean).</summary>
    public int QueryCount { get; }
    /// <summary>Rows evaluated.</summary>
    public int RowCount { get; }
    private readonly long[]? _queryIds;
    /// <summary>Query ids (the dataset's, else 0..QueryCount-1).</summary>
    public IReadOnlyList<long> QueryIds => _queryIds ?? Enumerable.Range(0, QueryCount).Select(i => (long)i).ToArray();
    /// <summary>The query weights the means used, or null when every query weighed 1.</summary>
    public IReadOnlyList<float>? QueryWeights { get; }

    /// <summary>The mean of the metric named <paramref name="metricName"/> (as <see cref="MetricSpec.Name"/> spells it, e.g. "ndcg@10").</summary>
    public double this[string metricName] => Means[metricName];
}
