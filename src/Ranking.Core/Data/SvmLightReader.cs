using System.Text;

namespace Ranking.Data;

/// <summary>
/// SVMlight / LETOR text (<c>label qid:N idx:val ... # comment</c>, 1-based ascending indices, sparse
/// or dense) and the LightGBM variant without qid whose group sizes sit in <c>FILE.query</c>.
/// The file is streamed in blocks of lines parsed in parallel; every block keeps its rows as sparse
/// entries until the whole file is known good (and the feature count known), then the dense matrix is
/// filled in one parallel pass. Nothing is returned unless the whole file parsed.
/// </summary>
internal static class SvmLightReader
{
    private const long NoQid = long.MinValue;

    /// <summary>Parses the file; bad input is collected (up to <paramref name="maxErrors"/>), in file order.</summary>
    public static RankingDataset? Read(string path, DatasetReadOptions options, int maxErrors, List<RankingDataException> errors)
    {
        string queryPath = path + ".query";
        bool hasQueryFile = File.Exists(queryPath);
        var blocks = new List<Block>();
        int threads = options.EffectiveThreads;
        using (var text = new TextBlocks(path, options.BlockSize))
        {
            while (true)
            {
                var batch = text.ReadBatch(Math.Max(2, threads * 2));
                if (batch.Count == 0) break;
                var parsed = new Block[batch.Count];
                Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
                {
                    var block = new Block(batch[i].Length);
                    block.Parse(batch[i].Buffer.AsSpan(0, batch[i].Length), path, options, maxErrors);
                    parsed[i] = block;
                });
                TextBlocks.Return(batch);
                blocks.AddRange(parsed);
                // Stop early once enough errors are known: a broken 10 GB file fails fast.
                if (blocks.Sum(b => b.Errors.Count) >= maxErrors) break;
            }
        }

        long lineBase = 0;
        int rows = 0, maxIndex = 0;
        foreach (var b in blocks)
        {
            b.LineBase = lineBase;
            b.RowBase = rows;
            lineBase += b.Lines;
            if ((long)rows + b.Labels.Count > int.MaxValue) throw new RankingDataException(path, lineBase, 0, "more than 2^31 rows");
            rows += b.Labels.Count;
            maxIndex = Math.Max(maxIndex, b.MaxIndex);
            foreach (var e in b.Errors) errors.Add(new RankingDataException(path, lineBase - b.Lines + e.Line, e.Column, e.What));
        }

        // Structure: qid presence, contiguity, the .query file. Checked over the rows that parsed.
        var rowQids = new long[rows];
        var structural = new List<RankingDataException>();
        bool? fileHasQid = null;
        long firstRowLine = 0;
        var firstLineOfQid = new Dictionary<long, long>();
        bool needRegroup = false;
        long previous = NoQid;
        foreach (var b in blocks)
        {
            for (int r = 0; r < b.Labels.Count; r++)
            {
                long qid = b.Qids.Items[r];
                long line = b.LineBase + b.RowLine.Items[r];
                int column = b.QidColumn.Items[r];
                rowQids[b.RowBase + r] = qid;
                if (fileHasQid is null) { fileHasQid = qid != NoQid; firstRowLine = line; }
                if (hasQueryFile)
                {
                    if (qid != NoQid && structural.Count < maxErrors)
                        structural.Add(new RankingDataException(path, line, column, $"qid: given here but {Path.GetFileName(queryPath)} also defines the queries: use one of them"));
                    continue;
                }
                if ((qid != NoQid) != fileHasQid)
                {
                    if (structural.Count < maxErrors)
                        structural.Add(new RankingDataException(path, line, column, fileHasQid.Value
                            ? $"qid: missing here but present from line {firstRowLine} on"
                            : $"qid: present here but missing in earlier lines (from line {firstRowLine})"));
                    continue;
                }
                if (qid == NoQid || qid == previous) continue;
                if (firstLineOfQid.TryGetValue(qid, out long firstLine))
                {
                    if (options.Regroup) needRegroup = true;
                    else if (structural.Count < maxErrors)
                        structural.Add(new RankingDataException(path, line, column,
                            $"qid {qid} reappears after other qids (first seen at line {firstLine}); rows of a query must be contiguous, or read with Regroup (--regroup)"));
                }
                else firstLineOfQid[qid] = line;
                previous = qid;
            }
        }
        if (rows == 0 && errors.Count == 0)
            structural.Add(new RankingDataException(path, 1, 0, "no data rows (the file is empty or holds only blank and comment lines)"));
        else if (rows > 0 && fileHasQid == false && !hasQueryFile && structural.Count == 0)
            structural.Add(new RankingDataException(path, firstRowLine, 0,
                $"no qid: on the rows and no {Path.GetFileName(queryPath)} file beside it: cannot tell the queries apart"));

        int[]? querySizes = null;
        if (hasQueryFile && rows > 0 && errors.Count == 0)
            querySizes = ReadQueryFile(queryPath, rows, structural);
        string positionPath = path + ".position";
        int[]? positions = null;
        if (File.Exists(positionPath) && rows > 0 && errors.Count == 0)
            positions = ReadPositionFile(positionPath, rows, structural);

        if (structural.Count > 0)
        {
            errors.AddRange(structural);
            errors.Sort((a, b) => a.Line.CompareTo(b.Line) != 0 ? a.Line.CompareTo(b.Line) : string.CompareOrdinal(a.File, b.File));
        }
        if (errors.Count > maxErrors) errors.RemoveRange(maxErrors, errors.Count - maxErrors);
        if (errors.Count > 0) return null;

        int featureCount = options.FeatureCount ?? maxIndex;
        MemoryBudget.Check(path, rows, featureCount, options.MaxMemoryBytes);
        if (positions is not null && needRegroup)
            throw new RankingDataException(positionPath, 0, 0, "positions cannot follow rows that --regroup reorders: write the data grouped, or drop the .position file");
        return Assemble(blocks, rows, featureCount, rowQids, querySizes, needRegroup, path, options, threads, positions);
    }

    private static RankingDataset Assemble(List<Block> blocks, int rows, int featureCount, long[] rowQids, int[]? querySizes,
        bool regroup, string path, DatasetReadOptions options, int threads, int[]? positions)
    {
        // destination row of each source row: identity, or a stable sort by qid when regrouping
        int[]? destination = null;
        if (regroup)
        {
            int[] order = Enumerable.Range(0, rows).OrderBy(r => rowQids[r]).ToArray();
            destination = new int[rows];
            for (int k = 0; k < rows; k++) destination[order[k]] = k;
            var sortedQids = new long[rows];
            for (int k = 0; k < rows; k++) sortedQids[k] = rowQids[order[k]];
            rowQids = sortedQids;
        }

        var features = new float[(long)rows * featureCount];
        var labels = new float[rows];
        bool anyComment = options.KeepComments && blocks.Any(b => b.AnyComment);
        string?[]? comments = anyComment ? new string?[rows] : null;
        Parallel.For(0, blocks.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, bi =>
        {
            var b = blocks[bi];
            for (int r = 0; r < b.Labels.Count; r++)
            {
                int source = b.RowBase + r;
                int dest = destination is null ? source : destination[source];
                labels[dest] = b.Labels.Items[r];
                if (comments is not null) comments[dest] = b.Comments.Items[r];
                long rowStart = (long)dest * featureCount;
                for (int e = b.EntryStart.Items[r], end = b.EntryStart.Items[r + 1]; e < end; e++)
                    features[rowStart + b.Index.Items[e] - 1] = b.Value.Items[e];
            }
        });

        int[] offsets;
        long[] queryIds;
        if (querySizes is not null)
        {
            offsets = new int[querySizes.Length + 1];
            for (int q = 0; q < querySizes.Length; q++) offsets[q + 1] = offsets[q] + querySizes[q];
            queryIds = Enumerable.Range(0, querySizes.Length).Select(q => (long)q).ToArray();
        }
        else
        {
            var offsetList = new List<int> { 0 };
            var idList = new List<long>();
            for (int r = 0; r < rows; r++)
            {
                if (r > 0 && rowQids[r] != rowQids[r - 1]) offsetList.Add(r);
                if (r == 0 || rowQids[r] != rowQids[r - 1]) idList.Add(rowQids[r]);
            }
            offsetList.Add(rows);
            offsets = offsetList.ToArray();
            queryIds = idList.ToArray();
        }
        return new RankingDataset(features, featureCount, labels, offsets, queryIds, null, comments, path, positions);
    }

    /// <summary>LightGBM group sizes: one positive integer per line, summing to the data file's rows.</summary>
    private static int[]? ReadQueryFile(string queryPath, int rows, List<RankingDataException> errors)
    {
        var sizes = new List<int>();
        long sum = 0, line = 0, lastLine = 0;
        foreach (string raw in File.ReadLines(queryPath))
        {
            line++;
            string text = raw.Trim();
            if (line == 1 && text.Length > 0 && text[0] == '\uFEFF') text = text[1..].Trim();
            if (text.Length == 0) continue;
            lastLine = line;
            int column = raw.IndexOf(text[0]) + 1;
            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size))
            {
                errors.Add(new RankingDataException(queryPath, line, column, $"bad group size '{Clip(text)}': expected a positive integer"));
                return null;
            }
            if (size <= 0)
            {
                errors.Add(new RankingDataException(queryPath, line, column, "group size 0: every query needs at least one row"));
                return null;
            }
            sum += size;
            if (sum > rows)
            {
                errors.Add(new RankingDataException(queryPath, line, column, $"group sizes reach {sum} here but the data file has only {rows} rows"));
                return null;
            }
            sizes.Add(size);
        }
        if (sum != rows)
        {
            errors.Add(new RankingDataException(queryPath, Math.Max(lastLine, 1), 0, $"group sizes sum to {sum} but the data file has {rows} rows"));
            return null;
        }
        return sizes.ToArray();
    }

    /// <summary>
    /// LightGBM's positions file (<c>FILE.position</c>): one display position per line, one line per data row.
    /// LightGBM treats each distinct line as an opaque position id; we read them as 1-based display ranks
    /// (what click models and propensities are indexed by), so a position must be a whole number &gt;= 1.
    /// </summary>
    internal static int[]? ReadPositionFile(string positionPath, int rows, List<RankingDataException> errors)
    {
        var positions = new List<int>(rows);
        long line = 0, lastLine = 0;
        foreach (string raw in File.ReadLines(positionPath))
        {
            line++;
            string text = raw.Trim();
            if (line == 1 && text.Length > 0 && text[0] == '\uFEFF') text = text[1..].Trim();
            if (text.Length == 0) continue;
            lastLine = line;
            int column = raw.IndexOf(text[0]) + 1;
            if (!int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int position))
            {
                errors.Add(new RankingDataException(positionPath, line, column, $"bad position '{Clip(text)}': expected a whole number >= 1 (the display rank, 1 = top)"));
                return null;
            }
            if (position < 1)
            {
                errors.Add(new RankingDataException(positionPath, line, column, $"position {position}: positions are display ranks counted from 1 (1 = top)"));
                return null;
            }
            if (positions.Count == rows)
            {
                errors.Add(new RankingDataException(positionPath, line, column, $"more positions than the data file's {rows} rows"));
                return null;
            }
            positions.Add(position);
        }
        if (positions.Count != rows)
        {
            errors.Add(new RankingDataException(positionPath, Math.Max(lastLine, 1), 0, $"{positions.Count} positions but the data file has {rows} rows (one position per row)"));
            return null;
        }
        return positions.ToArray();
    }

    /// <summary>Bad text quoted in a message: at most 40 characters, control characters escaped (\r, \t, \xNN).</summary>
    internal static string Clip(string s)
    {
        if (s.Length > 40) s = s[..37] + "...";
        if (!s.Any(char.IsControl)) return s;
        var sb = new StringBuilder();
        foreach (char c in s)
            sb.Append(c switch { '\r' => "\\r", '\t' => "\\t", '\n' => "\\n", _ when char.IsControl(c) => $"\\x{(int)c:x2}", _ => c.ToString() });
        return sb.ToString();
    }

    private static string Clip(ReadOnlySpan<byte> s) => Clip(Encoding.UTF8.GetString(s.Length <= 60 ? s : s[..60]));

    private readonly record struct LineError(int Line, int Column, string What);

    /// <summary>The parsed rows of one block of lines, as sparse entries.</summary>
    private sealed class Block
    {
        public GrowArray<float> Labels;
        public GrowArray<long> Qids;
        public GrowArray<int> RowLine;
        public GrowArray<int> QidColumn;
        public GrowArray<int> EntryStart;
        public GrowArray<int> Index;
        public GrowArray<float> Value;
        public GrowArray<string?> Comments;
        public bool AnyComment;
        public int MaxIndex;
        public int Lines;
        public long LineBase;
        public int RowBase;
        public readonly List<LineError> Errors = [];

        public Block(int bytes)
        {
            int rowGuess = Math.Max(16, bytes / 256);
            Labels = new(rowGuess);
            Qids = new(rowGuess);
            RowLine = new(rowGuess);
            QidColumn = new(rowGuess);
            EntryStart = new(rowGuess + 1);
            EntryStart.Add(0);
            // Grown on demand: a guess of one entry per 8 bytes would hold the whole block's size again
            // in parse buffers for LETOR files whose lines are mostly comments.
            Index = new(Math.Max(16, bytes / 64));
            Value = new(Math.Max(16, bytes / 64));
            Comments = new(rowGuess);
        }

        public void Parse(ReadOnlySpan<byte> text, string path, DatasetReadOptions options, int maxErrors)
        {
            int pos = 0, line = 0;
            while (pos < text.Length)
            {
                int newline = text[pos..].IndexOf((byte)'\n');
                int end = newline < 0 ? text.Length : pos + newline;
                line++;
                var lineSpan = text[pos..end];
                if (lineSpan.Length > 0 && lineSpan[^1] == (byte)'\r') lineSpan = lineSpan[..^1];
                if (Errors.Count < maxErrors) ParseLine(lineSpan, line, options);
                pos = newline < 0 ? text.Length : end + 1;
            }
            Lines = line;
        }

        private static bool IsSpace(byte b) => b == (byte)' ' || b == (byte)'\t';

        private static int SkipSpaces(ReadOnlySpan<byte> s, int p)
        {
            while (p < s.Length && IsSpace(s[p])) p++;
            return p;
        }

        private static int TokenEnd(ReadOnlySpan<byte> s, int p)
        {
            while (p < s.Length && !IsSpace(s[p])) p++;
            return p;
        }

        private void Fail(int line, int index0, string what) => Errors.Add(new LineError(line, index0 + 1, what));

        private void ParseLine(ReadOnlySpan<byte> line, int lineNo, DatasetReadOptions options)
        {
            int p = SkipSpaces(line, 0);
            if (p == line.Length || line[p] == (byte)'#') return;
            int hash = line.IndexOf((byte)'#');
            var data = hash < 0 ? line : line[..hash];

            int end = TokenEnd(data, p);
            var token = data[p..end];
            if (!Utf8Number.TryParseFloat(token, out float label)) { Fail(lineNo, p, $"bad label '{Clip(token)}': expected a number"); return; }
            if (!float.IsFinite(label)) { Fail(lineNo, p, $"label {Clip(token)} is not a finite number"); return; }
            p = SkipSpaces(data, end);

            long qid = NoQid;
            int qidColumn = p + 1;
            if (data.Length - p >= 4 && data.Slice(p, 4).SequenceEqual("qid:"u8))
            {
                end = TokenEnd(data, p);
                token = data[(p + 4)..end];
                if (token.Length == 0) { Fail(lineNo, p + 4, "missing query id after 'qid:'"); return; }
                if (!Utf8Number.TryParseLong(token, out qid) || qid == NoQid) { Fail(lineNo, p + 4, $"bad query id '{Clip(token)}': expected an integer"); return; }
                p = SkipSpaces(data, end);
            }

            int rowEntries = Index.Count;
            int previousIndex = 0;
            int? fixedCount = options.FeatureCount;
            while (p < data.Length)
            {
                // Fast path for the common well-formed "index:value" token, in one pass; anything
                // unusual falls through to the careful path below, which re-reads the token and
                // names exactly what is wrong.
                int q = p;
                uint fastIndex = 0;
                while (q < data.Length && q - p < 9)
                {
                    uint digit = (uint)(data[q] - '0');
                    if (digit > 9) break;
                    fastIndex = fastIndex * 10 + digit;
                    q++;
                }
                if (q > p && q < data.Length && data[q] == (byte)':' && fastIndex > (uint)previousIndex
                    && (fixedCount is null || fastIndex <= (uint)fixedCount.Value))
                {
                    int valueStart = q + 1, valueEnd = valueStart;
                    while (valueEnd < data.Length && !IsSpace(data[valueEnd])) valueEnd++;
                    if (valueEnd > valueStart && Utf8Number.TryParseFloat(data[valueStart..valueEnd], out float fastValue) && float.IsFinite(fastValue))
                    {
                        int accepted = (int)fastIndex;
                        if (BitConverter.SingleToUInt32Bits(fastValue) != 0)
                        {
                            Index.Add(accepted);
                            Value.Add(fastValue);
                        }
                        if (accepted > MaxIndex) MaxIndex = accepted;
                        previousIndex = accepted;
                        p = SkipSpaces(data, valueEnd);
                        continue;
                    }
                }

                end = TokenEnd(data, p);
                token = data[p..end];
                int colon = token.IndexOf((byte)':');
                if (colon < 0) { Index.Count = Value.Count = rowEntries; Fail(lineNo, p, $"expected index:value, found '{Clip(token)}'"); return; }
                var indexToken = token[..colon];
                var valueToken = token[(colon + 1)..];
                if (indexToken.SequenceEqual("qid"u8)) { Index.Count = Value.Count = rowEntries; Fail(lineNo, p, "qid: must come right after the label"); return; }
                if (!Utf8Number.TryParseIndex(indexToken, out int index)) { Index.Count = Value.Count = rowEntries; Fail(lineNo, p, $"bad feature index '{Clip(indexToken)}': expected a positive integer"); return; }
                if (index == 0) { Index.Count = Value.Count = rowEntries; Fail(lineNo, p, "feature index 0: indices are 1-based"); return; }
                if (index <= previousIndex) { Index.Count = Value.Count = rowEntries; Fail(lineNo, p, $"feature indices must ascend: {index} after {previousIndex}"); return; }
                previousIndex = index;
                int valueColumn = p + colon + 1;
                if (valueToken.Length == 0) { Index.Count = Value.Count = rowEntries; Fail(lineNo, valueColumn, $"missing value after '{index}:'"); return; }
                if (!Utf8Number.TryParseFloat(valueToken, out float value)) { Index.Count = Value.Count = rowEntries; Fail(lineNo, valueColumn, $"bad number '{Clip(valueToken)}' for feature {index}"); return; }
                if (!float.IsFinite(value))
                {
                    if (float.IsInfinity(value)) { Index.Count = Value.Count = rowEntries; Fail(lineNo, valueColumn, $"infinite value for feature {index}"); return; }
                    if (!options.AllowNaN) { Index.Count = Value.Count = rowEntries; Fail(lineNo, valueColumn, $"NaN value for feature {index} (allow missing values with AllowNaN / --allow-nan)"); return; }
                }
                if (fixedCount is int count && index > count)
                {
                    if (options.DropExtraFeatures) { p = SkipSpaces(data, end); continue; }
                    Index.Count = Value.Count = rowEntries;
                    Fail(lineNo, p, $"feature index {index} is beyond the feature count {count} (drop such features with DropExtraFeatures / --drop-extra-features)");
                    return;
                }
                if (BitConverter.SingleToUInt32Bits(value) != 0)
                {
                    Index.Add(index);
                    Value.Add(value);
                }
                if (index > MaxIndex) MaxIndex = index;
                p = SkipSpaces(data, end);
            }

            Labels.Add(label);
            Qids.Add(qid);
            RowLine.Add(lineNo);
            QidColumn.Add(qidColumn);
            EntryStart.Add(Index.Count);
            string? comment = null;
            if (hash >= 0 && options.KeepComments)
            {
                var tail = line[(hash + 1)..].Trim(" \t"u8);
                if (tail.Length > 0)
                {
                    comment = Encoding.UTF8.GetString(tail);
                    AnyComment = true;
                }
            }
            Comments.Add(comment);
        }
    }
}
