using System.Buffers;
using System.Text;

namespace Ranking.Data;

/// <summary>
/// SVMlight / LETOR text (<c>label qid:N idx:val ... # comment</c>, 1-based ascending indices, sparse
/// or dense) and the LightGBM variant without qid whose group sizes sit in <c>FILE.query</c>.
/// <para>
/// Two passes, so that the peak memory is the dense matrix plus a fixed set of block buffers: a first,
/// cheap pass streams the file in blocks of whole lines and counts the data rows and the highest feature
/// index of each block (the last index of a line: indices ascend); the matrix is then allocated once and
/// the second pass re-reads the same blocks (by file offset, in parallel) and parses each line straight
/// into its row. Nothing is returned unless the whole file parsed.
/// </para>
/// </summary>
internal static class SvmLightReader
{
    private const long NoQid = long.MinValue;

    /// <summary>Parses the file; bad input is collected (up to <paramref name="maxErrors"/>), in file order.</summary>
    public static RankingDataset? Read(string path, DatasetReadOptions options, int maxErrors, List<RankingDataException> errors)
    {
        int threads = options.EffectiveThreads;
        var layout = TextLayout.Scan(path, options.BlockSize, threads);
        int rows = layout.Rows;
        int featureCount = options.FeatureCount ?? layout.MaxIndex;

        // A shape that cannot or may not be allocated is refused after the parse errors, as a parse that
        // kept sparse rows would: pass 2 then only checks the lines, writing nothing.
        RankingDataException? refused = null;
        try { MemoryBudget.Check(path, rows, featureCount, options.MaxMemoryBytes); }
        catch (RankingDataException ex) { refused = ex; }
        var rowsOut = new ParsedRows(rows, featureCount, options.FeatureCount is not null);
        if (refused is null) rowsOut.HoldAllFeatures();
        using (var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess))
        {
            int batchSize = Math.Max(2, threads * 2);
            for (int first = 0; first < layout.Blocks.Count && errors.Count < maxErrors; first += batchSize)
                ParseBlocks(file, path, layout, first, Math.Min(first + batchSize, layout.Blocks.Count), rowsOut, options, maxErrors, threads, errors);
        }
        var groups = CheckStructure(path, rowsOut, options, maxErrors, errors);
        if (errors.Count > 0) return null;
        if (refused is not null) throw refused;
        return Assemble(rowsOut, featureCount, groups!, path);
    }

    /// <summary>Where the queries are: offsets, ids, and whether rows must be sorted by qid first.</summary>
    internal sealed record QueryGroups(int[]? Sizes, bool Regroup, int[]? Positions);

    /// <summary>
    /// Structure: qid presence, contiguity, the .query file, checked over the rows that parsed. Adds the
    /// problems to <paramref name="errors"/> (sorted by line, cut to <paramref name="maxErrors"/>); returns the
    /// query groups when there are none.
    /// </summary>
    internal static QueryGroups? CheckStructure(string path, ParsedRows rowsOut, DatasetReadOptions options, int maxErrors, List<RankingDataException> errors)
    {
        string queryPath = path + ".query";
        bool hasQueryFile = File.Exists(queryPath);
        int rows = rowsOut.Labels.Length;
        long[] rowQids = rowsOut.Qids;
        var structural = new List<RankingDataException>();
        bool? fileHasQid = null;
        long firstRowLine = 0;
        var firstLineOfQid = new Dictionary<long, long>();
        bool needRegroup = false;
        long previous = NoQid;
        for (int r = 0; r < rows; r++)
        {
            if (!rowsOut.Parsed(r)) continue;
            long qid = rowQids[r];
            long line = rowsOut.Lines[r];
            int column = rowsOut.QidColumns[r];
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
        if (positions is not null && needRegroup)
            throw new RankingDataException(positionPath, 0, 0, "positions cannot follow rows that --regroup reorders: write the data grouped, or drop the .position file");
        return new QueryGroups(querySizes, needRegroup, positions);
    }

    /// <summary>
    /// Pass 2 over blocks [first, end) (one batch, parsed in parallel). Their problems are added to
    /// <paramref name="errors"/> in file order; callers stop after the batch in which enough problems are
    /// known (a broken 10 GB file fails fast, and the problems reported are still the first in file order).
    /// </summary>
    internal static void ParseBlocks(Microsoft.Win32.SafeHandles.SafeFileHandle file, string path, TextLayout layout, int first, int end,
        ParsedRows rowsOut, DatasetReadOptions options, int maxErrors, int threads, List<RankingDataException> errors)
    {
        var batchErrors = new List<SvmLightLineParser.LineError>[end - first];
        Parallel.For(first, end, new ParallelOptions { MaxDegreeOfParallelism = threads }, b =>
        {
            var extent = layout.Blocks[b];
            byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, extent.Length));
            try
            {
                TextLayout.ReadExtent(file, path, extent, buffer);
                var parser = new SvmLightLineParser(rowsOut, extent.RowBase, options, maxErrors) { LineBase = extent.LineBase };
                parser.ParseLines(buffer.AsSpan(0, extent.Length));
                batchErrors[b - first] = parser.Errors;
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        });
        for (int i = 0; i < batchErrors.Length; i++)
            foreach (var e in batchErrors[i])
                errors.Add(new RankingDataException(path, layout.Blocks[first + i].LineBase + e.Line, e.Column, e.What));
    }

    private static RankingDataset Assemble(ParsedRows parsed, int featureCount, QueryGroups groups, string path)
    {
        int rows = parsed.Labels.Length;
        bool regroup = groups.Regroup;
        float[] features = parsed.Features!;
        float[] labels = parsed.Labels;
        long[] rowQids = parsed.Qids;
        string?[]? comments = parsed.Comments;
        if (regroup)
        {
            // stable sort by qid, applied in place to the matrix (one row of scratch) so no second matrix is needed
            int[] order = new int[rows];
            for (int r = 0; r < rows; r++) order[r] = r;
            long[] keys = (long[])rowQids.Clone();
            Array.Sort(keys, order); // not stable on its own: ties are restored below
            for (int start = 0; start < rows;)
            {
                int end = start + 1;
                while (end < rows && keys[end] == keys[start]) end++;
                Array.Sort(order, start, end - start);
                start = end;
            }
            PermuteRowsInPlace(features, featureCount, order);
            labels = Gather(labels, order);
            rowQids = Gather(rowQids, order);
            if (comments is not null) comments = Gather(comments, order);
        }

        var (offsets, queryIds) = Offsets(groups.Sizes, rowQids);
        return new RankingDataset(features, featureCount, labels, offsets, queryIds, null, comments, path, groups.Positions);
    }

    /// <summary>Group offsets and query ids: from the .query sizes, or from runs of equal qids.</summary>
    internal static (int[] Offsets, long[] QueryIds) Offsets(int[]? querySizes, long[] rowQids)
    {
        int rows = rowQids.Length;
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
        return (offsets, queryIds);
    }

    private static T[] Gather<T>(T[] values, int[] order)
    {
        var result = new T[values.Length];
        for (int k = 0; k < order.Length; k++) result[k] = values[order[k]];
        return result;
    }

    /// <summary>Row k of the result is row order[k] of the input: cycle by cycle, one row of scratch.</summary>
    private static void PermuteRowsInPlace(float[] features, int width, int[] order)
    {
        if (width == 0) return;
        var done = new bool[order.Length];
        var scratch = new float[width];
        for (int start = 0; start < order.Length; start++)
        {
            if (done[start] || order[start] == start) { done[start] = true; continue; }
            features.AsSpan((int)((long)start * width), width).CopyTo(scratch);
            int k = start;
            while (true)
            {
                done[k] = true;
                int from = order[k];
                if (from == start) { scratch.CopyTo(features.AsSpan((int)((long)k * width), width)); break; }
                Array.Copy(features, (long)from * width, features, (long)k * width, width);
                k = from;
            }
        }
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

}
