namespace Ranking.MLNet;

/// <summary>
/// Column names of the <see cref="Microsoft.ML.IDataView"/> that <see cref="DataViewConversion"/> builds;
/// they are ML.NET's own defaults for ranking, so <c>mlContext.Ranking.Trainers.FastTree()</c> and
/// <c>mlContext.Ranking.Evaluate(data)</c> find them without naming them.
/// </summary>
public static class RankingColumns
{
    /// <summary>Relevance grade, Single.</summary>
    public const string Label = "Label";
    /// <summary>Query, a key column (UInt32, 1-based as ML.NET keys are): query q of the set is key q + 1.</summary>
    public const string GroupId = "GroupId";
    /// <summary>Features, a fixed-size vector of Single.</summary>
    public const string Features = "Features";
    /// <summary>The dataset's own query id (Int64), so a round trip keeps it.</summary>
    public const string QueryId = "QueryId";
    /// <summary>Per-row copy of the query weight (Single); present only when the set has query weights.</summary>
    public const string Weight = "Weight";
    /// <summary>What a scorer adds (Single), ML.NET's default score column.</summary>
    public const string Score = "Score";
}
