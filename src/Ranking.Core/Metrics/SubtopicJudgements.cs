using System.Globalization;
using Ranking.Data;

namespace Ranking.Metrics;

/// <summary>
/// Subtopic (intent, nugget) judgements for the diversity metrics (alpha-NDCG, alpha-DCG), in the layout the
/// walks read: per row, the subtopics it is relevant to (CSR: <see cref="RowOffsets"/> into
/// <see cref="RowSubtopics"/> and <see cref="RowGrades"/>); per query, the candidates the greedy ideal ranking
/// is chosen from, in the order that breaks its ties (CSR again). Subtopics are numbered 0 ..
/// <see cref="SubtopicCounts"/>[q] - 1 within each query.
/// <para>Two sources. <see cref="SubtopicJudgements(int[], int[], int[], int[])"/> takes per-row subtopic sets
/// (library use): the ideal is chosen among the query's rows, in row order. <see cref="Read(string, RankingDataset, bool)"/>
/// reads a TREC diversity qrels file (<c>topic subtopic docno judgment</c>) and joins it to the rows by query id
/// and document id, as ndeval does: the ideal is chosen among every document the file judges relevant for the
/// topic, whether or not it is a row, the largest docno first among equal gains; queries the file does not
/// name are left out of the mean.</para>
/// </summary>
public sealed class SubtopicJudgements
{
    /// <summary>
    /// Per-row subtopic sets: row r of the query owning it is relevant to the subtopics
    /// <paramref name="rowSubtopics"/>[<paramref name="rowOffsets"/>[r] .. <paramref name="rowOffsets"/>[r + 1]) (any
    /// non-negative ids; they are numbered within each query), each with its grade in <paramref name="rowGrades"/>
    /// (null = 1 for every entry: binary judgements; a grade counts as that many coverings, TF-Ranking's graded
    /// alpha-DCG). The ideal ranking is chosen among the query's rows, the earlier row first among equal gains.
    /// </summary>
    public SubtopicJudgements(int[] groupOffsets, int[] rowOffsets, int[] rowSubtopics, int[]? rowGrades = null)
    {
        ArgumentNullException.ThrowIfNull(groupOffsets);
        ArgumentNullException.ThrowIfNull(rowOffsets);
        ArgumentNullException.ThrowIfNull(rowSubtopics);
        if (groupOffsets.Length < 1 || groupOffsets[0] != 0) throw new ArgumentException("group offsets must start at 0.", nameof(groupOffsets));
        int rows = groupOffsets[^1], queries = groupOffsets.Length - 1;
        if (rowOffsets.Length != rows + 1 || rowOffsets[0] != 0 || rowOffsets[^1] != rowSubtopics.Length)
            throw new ArgumentException($"row offsets must have {rows + 1} entries (one per row, plus one), start at 0 and end at the number of subtopic entries ({rowSubtopics.Length}).", nameof(rowOffsets));
        if (rowGrades is not null && rowGrades.Length != rowSubtopics.Length)
            throw new ArgumentException("one grade per subtopic entry is required.", nameof(rowGrades));
        for (int r = 0; r < rows; r++)
            if (rowOffsets[r + 1] < rowOffsets[r]) throw new ArgumentException($"row offsets decrease at row {r + 1}.", nameof(rowOffsets));
        for (int e = 0; e < rowSubtopics.Length; e++)
        {
            if (rowSubtopics[e] < 0) throw new ArgumentException($"subtopic entry {e} is negative ({rowSubtopics[e]}).", nameof(rowSubtopics));
            if (rowGrades is not null && rowGrades[e] < 0) throw new ArgumentException($"the grade of subtopic entry {e} is negative ({rowGrades[e]}).", nameof(rowGrades));
        }
        RowOffsets = (int[])rowOffsets.Clone();
        RowSubtopics = new int[rowSubtopics.Length];
        RowGrades = rowGrades is null ? Enumerable.Repeat(1, rowSubtopics.Length).ToArray() : (int[])rowGrades.Clone();
        SubtopicCounts = new int[queries];
        var numbering = new Dictionary<int, int>();
        for (int q = 0; q < queries; q++)
        {
            numbering.Clear();
            for (int e = rowOffsets[groupOffsets[q]]; e < rowOffsets[groupOffsets[q + 1]]; e++)
            {
                if (!numbering.TryGetValue(rowSubtopics[e], out int id)) numbering.Add(rowSubtopics[e], id = numbering.Count);
                RowSubtopics[e] = id;
            }
            SubtopicCounts[q] = numbering.Count;
        }
        // The candidates are the rows themselves, query by query, in row order.
        CandidateOffsets = (int[])groupOffsets.Clone();
        CandidateEntryOffsets = RowOffsets;
        CandidateSubtopics = RowSubtopics;
        CandidateGrades = RowGrades;
        JudgedQueries = Enumerable.Repeat(true, queries).ToArray();
    }

    private SubtopicJudgements(int[] rowOffsets, int[] rowSubtopics, int[] rowGrades, int[] subtopicCounts, int[] candidateOffsets,
        int[] candidateEntryOffsets, int[] candidateSubtopics, int[] candidateGrades, bool[] judgedQueries)
    {
        RowOffsets = rowOffsets;
        RowSubtopics = rowSubtopics;
        RowGrades = rowGrades;
        SubtopicCounts = subtopicCounts;
        CandidateOffsets = candidateOffsets;
        CandidateEntryOffsets = candidateEntryOffsets;
        CandidateSubtopics = candidateSubtopics;
        CandidateGrades = candidateGrades;
        JudgedQueries = judgedQueries;
    }

    /// <summary>rows + 1 offsets into <see cref="RowSubtopics"/> / <see cref="RowGrades"/>.</summary>
    public int[] RowOffsets { get; }
    /// <summary>Each row's relevant subtopics, numbered within its query.</summary>
    public int[] RowSubtopics { get; }
    /// <summary>The grade of each entry of <see cref="RowSubtopics"/> (1 for binary judgements).</summary>
    public int[] RowGrades { get; }
    /// <summary>Per query, how many subtopics it has (the numbering's size).</summary>
    public int[] SubtopicCounts { get; }
    /// <summary>queries + 1 offsets into the candidates (<see cref="CandidateEntryOffsets"/>).</summary>
    public int[] CandidateOffsets { get; }
    /// <summary>candidates + 1 offsets into <see cref="CandidateSubtopics"/> / <see cref="CandidateGrades"/>.</summary>
    public int[] CandidateEntryOffsets { get; }
    /// <summary>Each candidate's relevant subtopics, numbered within its query.</summary>
    public int[] CandidateSubtopics { get; }
    /// <summary>The grade of each entry of <see cref="CandidateSubtopics"/>.</summary>
    public int[] CandidateGrades { get; }
    /// <summary>Per query: false when the judgements do not name it (ndeval leaves such a topic out of the mean).</summary>
    public bool[] JudgedQueries { get; }
    /// <summary>Documents the file judges relevant for a query of the data that are not rows of that query (read from a file; else 0).</summary>
    public int DocumentsNotInData { get; private init; }
    /// <summary>Topics of the file that no query of the data has (ignored, as ndeval ignores topics not in the run).</summary>
    public int TopicsNotInData { get; private init; }

    /// <summary>Rows covered.</summary>
    public int RowCount => RowOffsets.Length - 1;
    /// <summary>Queries covered.</summary>
    public int QueryCount => SubtopicCounts.Length;

    /// <summary>
    /// A TREC diversity qrels file joined to a dataset's rows by query id and document id (the row comments:
    /// LETOR's <c>docid = X</c> or a docno column; read the data with <see cref="DatasetReadOptions.KeepComments"/>).
    /// </summary>
    public static SubtopicJudgements Read(string path, RankingDataset data, bool binary = true)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.RowComments is null)
            throw new RankingDataException($"{data.Source ?? "<data>"}: subtopic judgements are joined by document id, and the rows have no comments " +
                "(a LETOR '# docid = X' comment or a docno column)");
        return Read(path, data.QueryIds, data.GroupOffsets, data.RowComments.Select(DocumentIds.FromComment).ToArray(), binary, data.Source);
    }

    /// <summary>
    /// A TREC diversity qrels file, one judgement per line: <c>topic subtopic docno judgment</c> (whitespace
    /// separated; the topic an integer query id, the subtopic any token, the judgment an integer: above 0 is
    /// relevant, 0 or below not), joined to rows by query id and document id (<paramref name="documentIds"/>, one
    /// per row). With <paramref name="binary"/> (ndeval's reading) every positive judgment counts 1, else its
    /// value is the grade. Blank lines are skipped. Bad lines are a <see cref="RankingDataException"/> naming
    /// file, line and column; so are a judgement repeated for the same topic, subtopic and document, a row
    /// without a document id and a document id repeated within a query.
    /// </summary>
    public static SubtopicJudgements Read(string path, long[] queryIds, int[] groupOffsets, IReadOnlyList<string?> documentIds, bool binary = true, string? dataSource = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(queryIds);
        ArgumentNullException.ThrowIfNull(groupOffsets);
        ArgumentNullException.ThrowIfNull(documentIds);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: subtopic judgements file not found", path);
        int queries = groupOffsets.Length - 1, rows = groupOffsets[^1];
        if (queryIds.Length != queries) throw new ArgumentException("one query id per query is required.", nameof(queryIds));
        if (documentIds.Count != rows) throw new ArgumentException("one document id per row is required.", nameof(documentIds));
        var topics = ParseFile(path, binary);

        string source = dataSource ?? "<data>";
        int[] subtopicCounts = new int[queries], candidateOffsets = new int[queries + 1];
        var rowOffsets = new int[rows + 1];
        var judged = new bool[queries];
        List<int> rowSubtopics = [], rowGrades = [], candidateEntryOffsets = [0], candidateSubtopics = [], candidateGrades = [];
        var rowOfDocument = new Dictionary<string, int>(StringComparer.Ordinal);
        var usedTopics = new HashSet<long>();
        int notInData = 0;
        for (int q = 0; q < queries; q++)
        {
            int start = groupOffsets[q], end = groupOffsets[q + 1];
            topics.TryGetValue(queryIds[q], out TopicJudgements? topic);
            rowOfDocument.Clear();
            for (int r = start; r < end; r++)
            {
                string? id = documentIds[r];
                if (id is null)
                    throw new RankingDataException($"{source}: row {r + 1} (query {queryIds[q]}): no document id (subtopic judgements are joined by document id)");
                if (!rowOfDocument.TryAdd(id, r))
                    throw new RankingDataException($"{source}: row {r + 1} (query {queryIds[q]}): document '{id}' appears twice in the query (first at row {rowOfDocument[id] + 1})");
                if (topic is not null && topic.Documents.TryGetValue(id, out var entries))
                    foreach (var (subtopic, grade) in entries)
                    {
                        rowSubtopics.Add(subtopic);
                        rowGrades.Add(grade);
                    }
                rowOffsets[r + 1] = rowSubtopics.Count;
            }
            if (topic is not null)
            {
                judged[q] = true;
                usedTopics.Add(queryIds[q]);
                subtopicCounts[q] = topic.SubtopicCount;
                // ndeval's greedy takes the largest docno among equal gains: candidates in descending docno order.
                foreach (var (id, entries) in topic.Documents.OrderByDescending(d => d.Key, StringComparer.Ordinal))
                {
                    if (!rowOfDocument.ContainsKey(id)) notInData++;
                    foreach (var (subtopic, grade) in entries)
                    {
                        candidateSubtopics.Add(subtopic);
                        candidateGrades.Add(grade);
                    }
                    candidateEntryOffsets.Add(candidateSubtopics.Count);
                }
            }
            candidateOffsets[q + 1] = candidateEntryOffsets.Count - 1;
        }
        return new SubtopicJudgements(rowOffsets, rowSubtopics.ToArray(), rowGrades.ToArray(), subtopicCounts, candidateOffsets,
            candidateEntryOffsets.ToArray(), candidateSubtopics.ToArray(), candidateGrades.ToArray(), judged)
        {
            DocumentsNotInData = notInData,
            TopicsNotInData = topics.Keys.Count(t => !usedTopics.Contains(t)),
        };
    }

    /// <summary>One topic of a qrels file: its subtopic numbering and each document's relevant (subtopic, grade) entries.</summary>
    private sealed class TopicJudgements
    {
        public Dictionary<string, int> Subtopics { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, List<(int Subtopic, int Grade)>> Documents { get; } = new(StringComparer.Ordinal);
        public Dictionary<(int Subtopic, string Document), long> Lines { get; } = [];
        public int SubtopicCount => Subtopics.Count;
    }

    private static Dictionary<long, TopicJudgements> ParseFile(string path, bool binary)
    {
        var topics = new Dictionary<long, TopicJudgements>();
        long lineNumber = 0;
        Span<Range> fields = stackalloc Range[5];
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            ReadOnlySpan<char> text = line.AsSpan();
            if (lineNumber == 1 && text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
            if (text.IsWhiteSpace()) continue;
            int count = SplitFields(text, fields);
            if (count != 4)
                throw new RankingDataException(path, lineNumber, 0, $"expected 4 fields 'topic subtopic docno judgment', found {count}{(count > 4 ? " or more" : "")}");
            var topicText = text[fields[0]];
            if (!long.TryParse(topicText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long topicId))
                throw new RankingDataException(path, lineNumber, fields[0].Start.Value + 1, $"topic '{topicText}' is not an integer query id");
            var judgmentText = text[fields[3]];
            if (!int.TryParse(judgmentText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int judgment))
                throw new RankingDataException(path, lineNumber, fields[3].Start.Value + 1, $"judgment '{judgmentText}' is not an integer");
            string subtopicText = text[fields[1]].ToString(), document = text[fields[2]].ToString();
            if (!topics.TryGetValue(topicId, out var topic)) topics.Add(topicId, topic = new TopicJudgements());
            if (!topic.Subtopics.TryGetValue(subtopicText, out int subtopic)) topic.Subtopics.Add(subtopicText, subtopic = topic.Subtopics.Count);
            if (!topic.Lines.TryAdd((subtopic, document), lineNumber))
                throw new RankingDataException(path, lineNumber, fields[2].Start.Value + 1,
                    $"topic {topicId} subtopic {subtopicText} document '{document}' is judged again (first at line {topic.Lines[(subtopic, document)]})");
            if (judgment <= 0) continue;
            if (!topic.Documents.TryGetValue(document, out var entries)) topic.Documents.Add(document, entries = []);
            entries.Add((subtopic, binary ? 1 : judgment));
        }
        if (lineNumber == 0 || topics.Count == 0) throw new RankingDataException(path, 0, 0, "the subtopic judgements file is empty");
        return topics;
    }

    /// <summary>Splits on runs of whitespace; returns how many fields there are (up to the span's length).</summary>
    private static int SplitFields(ReadOnlySpan<char> text, Span<Range> fields)
    {
        int count = 0, i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            if (i == text.Length) break;
            int start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
            if (count == fields.Length) return count;
            fields[count++] = new Range(start, i);
        }
        return count;
    }

    /// <summary>Checks that these judgements cover <paramref name="rows"/> rows in <paramref name="queries"/> queries.</summary>
    internal void CheckShape(int rows, int queries, string? source)
    {
        if (RowCount != rows || QueryCount != queries)
            throw new RankingDataException($"{source ?? "<data>"}: the subtopic judgements cover {RowCount} rows in {QueryCount} queries, the data has {rows} rows in {queries} queries");
    }

    /// <summary>The same judgements on the rows <paramref name="keep"/> only (ascending; judged=only removes unjudged rows); candidates unchanged.</summary>
    internal SubtopicJudgements KeepRows(int[] keep)
    {
        var offsets = new int[keep.Length + 1];
        var subtopics = new List<int>();
        var grades = new List<int>();
        for (int i = 0; i < keep.Length; i++)
        {
            for (int e = RowOffsets[keep[i]]; e < RowOffsets[keep[i] + 1]; e++)
            {
                subtopics.Add(RowSubtopics[e]);
                grades.Add(RowGrades[e]);
            }
            offsets[i + 1] = subtopics.Count;
        }
        return new SubtopicJudgements(offsets, subtopics.ToArray(), grades.ToArray(), SubtopicCounts, CandidateOffsets,
            CandidateEntryOffsets, CandidateSubtopics, CandidateGrades, JudgedQueries)
        {
            DocumentsNotInData = DocumentsNotInData,
            TopicsNotInData = TopicsNotInData,
        };
    }
}
