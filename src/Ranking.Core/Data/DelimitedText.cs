using System.Globalization;
using System.Text;

namespace Ranking.Data;

/// <summary>
/// CSV (comma) and TSV (tab) with a header line naming the columns: the label column
/// (label/relevance/target, or <see cref="DatasetReadOptions.LabelColumn"/>), the query column
/// (qid/query_id/query/group, or <see cref="DatasetReadOptions.QueryColumn"/>), an optional
/// <c>comment</c> column, and every other column a feature, in header order. Fields may be quoted
/// ("..." with "" for a quote). An empty feature cell is a missing value (NaN, allowed with AllowNaN).
/// Column names of features are not kept: features are positional, like SVMlight's.
/// </summary>
internal static class DelimitedText
{
    private static readonly string[] LabelNames = ["label", "relevance", "target", "rel"];
    private static readonly string[] QueryNames = ["qid", "query_id", "queryid", "query", "group", "group_id"];

    public static RankingDataset? Read(string path, DatasetReadOptions options, int maxErrors, List<RankingDataException> errors)
    {
        char delimiter = Path.GetExtension(path).Equals(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16);
        string? headerLine = reader.ReadLine();
        long lineNo = 1;
        while (headerLine is not null && headerLine.Trim().Length == 0) { headerLine = reader.ReadLine(); lineNo++; }
        if (headerLine is null) { errors.Add(new RankingDataException(path, 1, 0, "empty file: expected a header line naming the label and qid columns")); return null; }
        var header = new List<string>();
        if (!Split(headerLine, delimiter, header, out int badColumn))
        {
            errors.Add(new RankingDataException(path, lineNo, badColumn, "unterminated quoted field in the header")); return null;
        }
        long headerLineNo = lineNo;
        var names = header.Select(h => h.Trim().ToLowerInvariant()).ToList();
        int labelColumn = Find(names, options.LabelColumn, LabelNames);
        int queryColumn = Find(names, options.QueryColumn, QueryNames);
        // A docno / docid column is the row's document id: kept like a comment (the trec tie policy reads it).
        int commentColumn = names.IndexOf("comment");
        if (commentColumn < 0) commentColumn = names.IndexOf("docno");
        if (commentColumn < 0) commentColumn = names.IndexOf("docid");
        if (labelColumn < 0)
        {
            errors.Add(new RankingDataException(path, lineNo, 1, $"no label column in the header (looked for {options.LabelColumn ?? string.Join("/", LabelNames)})")); return null;
        }
        if (queryColumn < 0)
        {
            errors.Add(new RankingDataException(path, lineNo, 1, $"no query column in the header (looked for {options.QueryColumn ?? string.Join("/", QueryNames)})")); return null;
        }
        var featureColumns = Enumerable.Range(0, names.Count).Where(c => c != labelColumn && c != queryColumn && c != commentColumn).ToArray();
        int width = featureColumns.Length;
        int outWidth = options.FeatureCount ?? width;
        if (outWidth < width && !options.DropExtraFeatures)
        {
            errors.Add(new RankingDataException(path, lineNo, 1, $"the header has {width} feature columns, more than the fixed feature count {outWidth} (drop the extra ones with DropExtraFeatures / --drop-extra-features)"));
            return null;
        }
        int kept = Math.Min(width, outWidth);

        var features = new List<float>();
        var labels = new List<float>();
        var qids = new List<long>();
        var lines = new List<long>();
        var comments = commentColumn >= 0 && options.KeepComments ? new List<string?>() : null;
        var fields = new List<string>();
        var columnStart = new List<int>();
        string? line;
        while ((line = reader.ReadLine()) is not null && errors.Count < maxErrors)
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            if (!Split(line, delimiter, fields, out badColumn, columnStart))
            {
                errors.Add(new RankingDataException(path, lineNo, badColumn, "unterminated quoted field")); continue;
            }
            if (fields.Count != names.Count)
            {
                errors.Add(new RankingDataException(path, lineNo, 1, $"{fields.Count} fields, but the header (line {headerLineNo}) names {names.Count}")); continue;
            }
            string labelText = fields[labelColumn].Trim();
            if (!Utf8Number.TryParseFloat(labelText, out float label) || !float.IsFinite(label))
            {
                errors.Add(new RankingDataException(path, lineNo, columnStart[labelColumn] + 1, $"bad label '{SvmLightReader.Clip(labelText)}': expected a finite number")); continue;
            }
            string qidText = fields[queryColumn].Trim();
            if (!long.TryParse(qidText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long qid))
            {
                errors.Add(new RankingDataException(path, lineNo, columnStart[queryColumn] + 1, $"bad query id '{SvmLightReader.Clip(qidText)}': expected an integer")); continue;
            }
            int rowStart = features.Count;
            bool ok = true;
            for (int k = 0; k < kept && ok; k++)
            {
                int c = featureColumns[k];
                string text = fields[c].Trim();
                float value;
                if (text.Length == 0) value = float.NaN;
                else if (!Utf8Number.TryParseFloat(text, out value))
                {
                    errors.Add(new RankingDataException(path, lineNo, columnStart[c] + 1, $"bad number '{SvmLightReader.Clip(text)}' in column '{header[c].Trim()}'"));
                    ok = false; break;
                }
                if (float.IsInfinity(value)) { errors.Add(new RankingDataException(path, lineNo, columnStart[c] + 1, $"infinite value in column '{header[c].Trim()}'")); ok = false; break; }
                if (float.IsNaN(value) && !options.AllowNaN)
                {
                    errors.Add(new RankingDataException(path, lineNo, columnStart[c] + 1, $"{(text.Length == 0 ? "empty (missing) value" : "NaN")} in column '{header[c].Trim()}' (allow missing values with AllowNaN / --allow-nan)"));
                    ok = false; break;
                }
                features.Add(value);
            }
            if (!ok) { features.RemoveRange(rowStart, features.Count - rowStart); continue; }
            for (int k = kept; k < outWidth; k++) features.Add(0f);
            labels.Add(label);
            qids.Add(qid);
            lines.Add(lineNo);
            comments?.Add(fields[commentColumn].Length == 0 ? null : fields[commentColumn]);
        }
        if (errors.Count > 0) return null;
        if (labels.Count == 0) { errors.Add(new RankingDataException(path, headerLineNo, 0, "no data rows after the header")); return null; }

        // Contiguity of queries, as in the SVMlight reader.
        int rows = labels.Count;
        var firstLine = new Dictionary<long, long>();
        bool regroup = false;
        for (int r = 0; r < rows; r++)
        {
            if (r > 0 && qids[r] == qids[r - 1]) continue;
            if (firstLine.TryGetValue(qids[r], out long first))
            {
                if (options.Regroup) { regroup = true; continue; }
                errors.Add(new RankingDataException(path, lines[r], 0,
                    $"qid {qids[r]} reappears after other qids (first seen at line {first}); rows of a query must be contiguous, or read with Regroup (--regroup)"));
                if (errors.Count >= maxErrors) return null;
            }
            else firstLine[qids[r]] = lines[r];
        }
        if (errors.Count > 0) return null;
        int[] order = regroup ? Enumerable.Range(0, rows).OrderBy(r => qids[r]).ToArray() : Enumerable.Range(0, rows).ToArray();
        MemoryBudget.Check(path, rows, outWidth, options.MaxMemoryBytes);
        var outFeatures = new float[(long)rows * outWidth];
        var outLabels = new float[rows];
        var outComments = comments is null ? null : new string?[rows];
        var offsets = new List<int> { 0 };
        var ids = new List<long>();
        for (int k = 0; k < rows; k++)
        {
            int r = order[k];
            if (k > 0 && qids[r] != qids[order[k - 1]]) offsets.Add(k);
            if (k == 0 || qids[r] != qids[order[k - 1]]) ids.Add(qids[r]);
            outLabels[k] = labels[r];
            if (outComments is not null) outComments[k] = comments![r];
            for (int j = 0; j < outWidth; j++) outFeatures[(long)k * outWidth + j] = features[r * outWidth + j];
        }
        offsets.Add(rows);
        return new RankingDataset(outFeatures, outWidth, outLabels, offsets.ToArray(), ids.ToArray(), null, outComments, path);
    }

    private static int Find(List<string> names, string? wanted, string[] defaults)
    {
        if (wanted is not null) return names.IndexOf(wanted.Trim().ToLowerInvariant());
        foreach (string name in defaults)
        {
            int i = names.IndexOf(name);
            if (i >= 0) return i;
        }
        return -1;
    }

    /// <summary>Splits one line into fields (RFC 4180 quoting within the line); false on an unterminated quote.</summary>
    private static bool Split(string line, char delimiter, List<string> fields, out int badColumn, List<int>? starts = null)
    {
        fields.Clear();
        starts?.Clear();
        badColumn = 0;
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            starts?.Add(i);
            field.Clear();
            int j = i;
            while (j < line.Length && line[j] == ' ') j++;
            if (j < line.Length && line[j] == '"')
            {
                int open = j;
                j++;
                while (true)
                {
                    if (j >= line.Length) { badColumn = open + 1; return false; }
                    if (line[j] == '"')
                    {
                        if (j + 1 < line.Length && line[j + 1] == '"') { field.Append('"'); j += 2; continue; }
                        j++;
                        break;
                    }
                    field.Append(line[j++]);
                }
                while (j < line.Length && line[j] != delimiter) j++;
            }
            else
            {
                j = line.IndexOf(delimiter, i);
                if (j < 0) j = line.Length;
                field.Append(line, i, j - i);
            }
            fields.Add(field.ToString());
            if (j >= line.Length) return true;
            i = j + 1;
        }
    }

    public static void Write(RankingDataset data, string path, char delimiter)
    {
        AtomicFile.Write(path, stream =>
        {
            using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            var sb = new StringBuilder();
            sb.Append("label").Append(delimiter).Append("qid");
            for (int j = 1; j <= data.FeatureCount; j++) sb.Append(delimiter).Append('f').Append(j);
            if (data.RowComments is not null) sb.Append(delimiter).Append("comment");
            w.WriteLine(sb.ToString());
            Span<char> number = stackalloc char[32];
            for (int q = 0; q < data.QueryCount; q++)
            {
                string qid = data.QueryIds[q].ToString(CultureInfo.InvariantCulture);
                for (int r = data.GroupOffsets[q]; r < data.GroupOffsets[q + 1]; r++)
                {
                    WriteFloat(w, data.Labels[r], number);
                    w.Write(delimiter);
                    w.Write(qid);
                    foreach (float v in data.Row(r)) { w.Write(delimiter); WriteFloat(w, v, number); }
                    if (data.RowComments is not null)
                    {
                        w.Write(delimiter);
                        string? c = data.RowComments[r];
                        if (c is not null) w.Write(Quote(c, delimiter));
                    }
                    w.Write('\n');
                }
            }
        });
    }

    private static void WriteFloat(StreamWriter w, float v, Span<char> buffer)
    {
        v.TryFormat(buffer, out int written, "R", CultureInfo.InvariantCulture);
        w.Write(buffer[..written]);
    }

    private static string Quote(string s, char delimiter)
    {
        s = s.Replace('\n', ' ').Replace('\r', ' ');
        return s.IndexOfAny([delimiter, '"']) >= 0 || s.Length == 0 || s[0] == ' ' || s[^1] == ' '
            ? "\"" + s.Replace("\"", "\"\"") + "\""
            : s;
    }
}
