namespace Ranking.Data;

/// <summary>
/// Summary statistics of a dataset: rows, queries, features, how many rows carry each grade, documents per
/// query, and queries with no relevant row (no grade above 0). <c>ranking data stats</c> prints it.
/// </summary>
/// <param name="Rows">Rows in the set.</param>
/// <param name="Queries">Queries in the set.</param>
/// <param name="Features">Features per row.</param>
/// <param name="LabelCounts">Rows per grade, by ascending grade.</param>
/// <param name="MinDocs">Fewest rows of a query (0 without queries).</param>
/// <param name="MeanDocs">Mean rows per query, rounded to 2 decimals (0 without queries).</param>
/// <param name="MaxDocs">Most rows of a query.</param>
/// <param name="EmptyQueries">Queries whose rows all have grade 0 or less.</param>
public sealed record DatasetStats(int Rows, int Queries, int Features, IReadOnlyList<(float Label, int Count)> LabelCounts,
    int MinDocs, double MeanDocs, int MaxDocs, int EmptyQueries)
{
    /// <summary>The statistics of <paramref name="data"/>.</summary>
    public static DatasetStats Of(RankingDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var counts = new SortedDictionary<float, int>();
        foreach (float l in data.Labels) counts[l] = counts.GetValueOrDefault(l) + 1;
        int min = int.MaxValue, max = 0, empty = 0;
        for (int q = 0; q < data.QueryCount; q++)
        {
            int n = data.QueryLength(q);
            min = Math.Min(min, n);
            max = Math.Max(max, n);
            bool relevant = false;
            foreach (float l in data.Query(q).Labels) if (l > 0) { relevant = true; break; }
            if (!relevant) empty++;
        }
        return new DatasetStats(data.RowCount, data.QueryCount, data.FeatureCount, counts.Select(kv => (kv.Key, kv.Value)).ToArray(),
            data.QueryCount == 0 ? 0 : min, data.QueryCount == 0 ? 0 : Math.Round((double)data.RowCount / data.QueryCount, 2), max, empty);
    }
}
