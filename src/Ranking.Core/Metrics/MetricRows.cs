using System.Text.RegularExpressions;

namespace Ranking.Metrics;

/// <summary>
/// The rows one evaluation reads (validated by <see cref="RankingEvaluator"/>): grades, query offsets, scores,
/// and what some contracts and options need per row.
/// </summary>
public sealed class MetricRows
{
    /// <summary>Rows grouped by query through <paramref name="groupOffsets"/>.</summary>
    public MetricRows(float[] labels, int[] groupOffsets, float[] scores)
    {
        Labels = labels ?? throw new ArgumentNullException(nameof(labels));
        GroupOffsets = groupOffsets ?? throw new ArgumentNullException(nameof(groupOffsets));
        Scores = scores ?? throw new ArgumentNullException(nameof(scores));
    }

    /// <summary>Grade per row.</summary>
    public float[] Labels { get; }
    /// <summary>queryCount + 1 offsets.</summary>
    public int[] GroupOffsets { get; }
    /// <summary>Score per row.</summary>
    public float[] Scores { get; }

    /// <summary>
    /// For <see cref="TiePolicy.DocIdDescending"/>: per row, the place of its document id among its query's ids
    /// in ascending ordinal order; among tied scores the larger key ranks first. Null otherwise.
    /// </summary>
    public float[]? TieKeys { get; init; }

    /// <summary>Per-row weights multiplying each row's gain in DCG and NDCG (TF-Ranking's per-item weights); null = 1.</summary>
    public float[]? DocumentWeights { get; init; }

    /// <summary>Subtopic judgements of the rows, for the diversity metrics (alpha-NDCG); null when none are given.</summary>
    public SubtopicJudgements? Subtopics { get; init; }
}

/// <summary>Document ids of rows: from LETOR comments ("# docid = GX000-00-0000000 ...") or a docno column.</summary>
public static partial class DocumentIds
{
    [GeneratedRegex(@"(?:^|\s)docid\s*=\s*(\S+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LetorDocId();

    /// <summary>
    /// The id in a row comment: the value of "docid = X" when the comment has one (LETOR), else the whole
    /// trimmed comment (a docno column); null when there is nothing.
    /// </summary>
    public static string? FromComment(string? comment)
    {
        if (string.IsNullOrWhiteSpace(comment)) return null;
        var match = LetorDocId().Match(comment);
        return match.Success ? match.Groups[1].Value : comment.Trim();
    }

    /// <summary>
    /// Tie keys for <see cref="MetricRows.TieKeys"/>: each row's place among its query's document ids in
    /// ascending ordinal order (equal ids share a key and keep input order).
    /// </summary>
    public static float[] TieKeys(IReadOnlyList<string> ids, int[] groupOffsets)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(groupOffsets);
        var keys = new float[ids.Count];
        for (int q = 0; q + 1 < groupOffsets.Length; q++)
        {
            int start = groupOffsets[q], n = groupOffsets[q + 1] - start;
            var rows = Enumerable.Range(start, n).OrderBy(r => ids[r], StringComparer.Ordinal).ToArray();
            int place = 0;
            for (int i = 0; i < n; i++)
            {
                if (i > 0 && !string.Equals(ids[rows[i]], ids[rows[i - 1]], StringComparison.Ordinal)) place = i;
                keys[rows[i]] = place;
            }
        }
        return keys;
    }
}
