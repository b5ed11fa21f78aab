using System.Globalization;
using Ranking.Data;

namespace Ranking.Embeddings;

/// <summary>
/// Reads class-labelled items, choosing the format by the file: IDX images (MNIST naming, labels found
/// beside them), CSV/TSV with a header and a class column, else SVMlight (<c>class idx:val ...</c>, the
/// label is the class, qid ignored). Bad input is a <see cref="RankingDataException"/> naming file, line
/// and column (IDX: the byte); nothing is returned half read.
/// </summary>
public static class LabelledItemsReader
{
    /// <summary>Header names taken as the class column when none is given.</summary>
    public static IReadOnlyList<string> ClassColumnNames { get; } = ["class", "label", "target", "y", "identity"];

    /// <summary>
    /// Reads a file of labelled items. <paramref name="classColumn"/> names the CSV/TSV class column. With
    /// <paramref name="classOptional"/> a CSV/TSV header without a class column is a file of unlabelled items (the query
    /// and item sets of a pair file): every column is a feature and each item is its own class, named by its row.
    /// </summary>
    public static LabelledItems Read(string path, string? classColumn = null, int? limit = null, bool classOptional = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            if (Directory.Exists(path)) throw new RankingDataException(path, 0, 0, "is a folder, not a data file");
            throw new FileNotFoundException($"{path}: no such file", path);
        }
        if (IdxFile.LooksLikeIdx(path)) return IdxFile.ReadItems(path, null, limit);
        string ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is ".csv" or ".tsv") return ReadDelimited(path, ext == ".tsv" ? '\t' : ',', classColumn, limit, classOptional);
        return ReadSvmLight(path, limit);
    }

    private static LabelledItems ReadDelimited(string path, char separator, string? classColumn, int? limit, bool classOptional)
    {
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine();
        if (header is null) throw new RankingDataException(path, 1, 0, "empty file: expected a header line naming the class column");
        string[] names = header.Split(separator).Select(n => n.Trim()).ToArray();
        int classAt = classColumn is not null
            ? Array.FindIndex(names, n => n.Equals(classColumn, StringComparison.OrdinalIgnoreCase))
            : Array.FindIndex(names, n => ClassColumnNames.Contains(n, StringComparer.OrdinalIgnoreCase));
        bool unlabelled = classAt < 0 && classOptional && classColumn is null;
        if (classAt < 0 && !unlabelled)
            throw new RankingDataException(path, 1, 1, $"no class column in the header (looked for {classColumn ?? string.Join("/", ClassColumnNames)})");
        int dim = unlabelled ? names.Length : names.Length - 1;
        if (dim < 1) throw new RankingDataException(path, 1, 1, "the header names no feature column besides the class column");
        var features = new List<float>();
        var labels = new List<string>();
        long lineNo = 1;
        string? line;
        while ((line = reader.ReadLine()) is not null && labels.Count < (limit ?? int.MaxValue))
        {
            lineNo++;
            if (line.Length == 0) continue;
            string[] fields = line.Split(separator);
            if (fields.Length != names.Length)
                throw new RankingDataException(path, lineNo, 1, $"{fields.Length} fields, the header names {names.Length}");
            int column = 1;
            if (unlabelled) labels.Add((labels.Count).ToString(CultureInfo.InvariantCulture));
            for (int f = 0; f < fields.Length; f++)
            {
                string text = fields[f].Trim();
                if (f == classAt)
                {
                    if (text.Length == 0) throw new RankingDataException(path, lineNo, column, "empty class label");
                    labels.Add(text);
                }
                else if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
                    throw new RankingDataException(path, lineNo, column, $"bad feature value '{Clip(text)}' in column '{names[f]}': expected a finite number");
                else features.Add(v);
                column += fields[f].Length + 1;
            }
        }
        if (labels.Count == 0) throw new RankingDataException(path, lineNo, 0, "no items after the header");
        var (ids, classNames) = LabelledItems.DenseClassIds(labels);
        return new LabelledItems(features.ToArray(), dim, ids, classNames, path);
    }

    /// <summary>SVMlight lines <c>class [qid:N] idx:val ... [# comment]</c>, 1-based ascending indices, sparse.</summary>
    private static LabelledItems ReadSvmLight(string path, int? limit)
    {
        var rows = new List<(int Index, float Value)[]>();
        var labels = new List<string>();
        int dim = 0;
        long lineNo = 0;
        foreach (string raw in File.ReadLines(path))
        {
            lineNo++;
            if (labels.Count >= (limit ?? int.MaxValue)) break;
            int hash = raw.IndexOf('#');
            string line = hash >= 0 ? raw[..hash] : raw;
            string[] tokens = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (tokens.Length == 0) continue;
            int Column(string token) => raw.IndexOf(token, StringComparison.Ordinal) + 1;
            if (!long.TryParse(tokens[0], NumberStyles.None, CultureInfo.InvariantCulture, out long c))
                throw new RankingDataException(path, lineNo, Column(tokens[0]), $"class label '{Clip(tokens[0])}' is not a non-negative integer");
            var values = new List<(int, float)>(tokens.Length - 1);
            int previous = 0;
            foreach (string token in tokens.Skip(1))
            {
                if (token.StartsWith("qid:", StringComparison.Ordinal)) continue;
                int colon = token.IndexOf(':');
                if (colon <= 0 || !int.TryParse(token.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out int index) || index < 1)
                    throw new RankingDataException(path, lineNo, Column(token), $"bad feature '{Clip(token)}': expected index:value with a 1-based index");
                if (index <= previous) throw new RankingDataException(path, lineNo, Column(token), $"feature index {index} after {previous}: indices must ascend");
                if (!float.TryParse(token.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out float v) || !float.IsFinite(v))
                    throw new RankingDataException(path, lineNo, Column(token), $"bad value in '{Clip(token)}': expected a finite number");
                values.Add((index - 1, v));
                previous = index;
            }
            dim = Math.Max(dim, previous);
            rows.Add(values.ToArray());
            labels.Add(c.ToString(CultureInfo.InvariantCulture));
        }
        if (rows.Count == 0) throw new RankingDataException(path, lineNo, 0, "no items in the file");
        if (dim == 0) throw new RankingDataException(path, 1, 0, "no feature values in the file");
        var features = new float[(long)rows.Count * dim];
        for (int r = 0; r < rows.Count; r++)
            foreach (var (index, value) in rows[r]) features[(long)r * dim + index] = value;
        var (ids, names) = LabelledItems.DenseClassIds(labels);
        return new LabelledItems(features, dim, ids, names, path);
    }

    private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "...";
}

/// <summary>
/// Anchor-positive pairs for weak supervision (a query and the item a person chose): a text file of lines
/// <c>anchor_row positive_row</c> (0-based rows of an anchor set and a candidate set, separated by a tab,
/// comma or spaces; '#' starts a comment). Each pair becomes its own class of two items, so every batch
/// loss reads it as in-batch contrast (InfoNCE with the other pairs' items as negatives).
/// </summary>
public static class PairFile
{
    /// <summary>Reads the pairs and checks each row index against the sizes of the two sets.</summary>
    public static IReadOnlyList<(int Anchor, int Positive)> Read(string path, int anchorCount, int candidateCount)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        var pairs = new List<(int, int)>();
        long lineNo = 0;
        foreach (string raw in File.ReadLines(path))
        {
            lineNo++;
            string line = raw;
            int hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            if (line.Trim().Length == 0) continue;
            string[] fields = line.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 2) throw new RankingDataException(path, lineNo, 1, $"{fields.Length} fields: a pair line is 'anchor_row positive_row'");
            int a = ParseRow(path, lineNo, raw, fields[0], anchorCount, "anchor");
            int p = ParseRow(path, lineNo, raw, fields[1], candidateCount, "positive");
            pairs.Add((a, p));
        }
        if (pairs.Count == 0) throw new RankingDataException(path, lineNo, 0, "no pairs in the file");
        return pairs;
    }

    private static int ParseRow(string path, long lineNo, string line, string field, int count, string what)
    {
        int column = line.IndexOf(field, StringComparison.Ordinal) + 1;
        if (!int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out int row))
            throw new RankingDataException(path, lineNo, column, $"bad {what} row '{field}': expected a non-negative integer");
        if (row >= count) throw new RankingDataException(path, lineNo, column, $"{what} row {row} is past the {count} items of its set");
        return row;
    }

    /// <summary>
    /// The pairs as labelled items for one shared encoder: pair k contributes its anchor and its positive as
    /// the two items of class k. Both sets must have the same feature count.
    /// </summary>
    public static LabelledItems ToItems(IReadOnlyList<(int Anchor, int Positive)> pairs, LabelledItems anchors, LabelledItems candidates)
    {
        if (anchors.Dimension != candidates.Dimension)
            throw new RankingDataException($"anchors have {anchors.Dimension} features, candidates {candidates.Dimension}: one shared encoder needs one feature count");
        int d = anchors.Dimension;
        var features = new float[(long)pairs.Count * 2 * d];
        var classes = new int[pairs.Count * 2];
        for (int k = 0; k < pairs.Count; k++)
        {
            anchors.Item(pairs[k].Anchor).CopyTo(features.AsSpan(2 * k * d, d));
            candidates.Item(pairs[k].Positive).CopyTo(features.AsSpan((2 * k + 1) * d, d));
            classes[2 * k] = classes[2 * k + 1] = k;
        }
        return new LabelledItems(features, d, classes, null, anchors.Source);
    }
}
