using System.Runtime.CompilerServices;
using System.Text;

namespace Ranking.Data;

/// <summary>
/// What the second pass of the SVMlight reader fills: per-row label, qid, line and qid column for the
/// whole file, comments when kept, and the dense features of either every row (an in-memory read) or
/// one chunk of rows at a time (a streamed read, <see cref="DatasetRowStream"/>). Rows are numbered as
/// the first pass counted them, so blocks parsed in parallel write disjoint rows.
/// </summary>
internal sealed class ParsedRows
{
    public ParsedRows(int rows, int width, bool fixedWidth)
    {
        Width = width;
        FixedWidth = fixedWidth;
        Labels = new float[rows];
        Qids = new long[rows];
        Lines = new long[rows];
        QidColumns = new int[rows];
    }

    /// <summary>Columns of the dense matrix (the fixed feature count, or the highest index the first pass saw).</summary>
    public int Width { get; }
    /// <summary>The width came from outside: an index beyond it is the caller's error (or dropped), not a miscount.</summary>
    public bool FixedWidth { get; }
    public float[] Labels { get; }
    public long[] Qids { get; }
    /// <summary>Line of each row (1-based; 0 = not parsed: a bad line, or a block after the error limit).</summary>
    public long[] Lines { get; }
    public int[] QidColumns { get; }
    /// <summary>Per-row comments, allocated at the first comment kept.</summary>
    public string?[]? Comments;
    /// <summary>Dense features of rows [FeatureRowBase, FeatureRowBase + FeatureRows); null = check the lines only.</summary>
    public float[]? Features { get; private set; }
    public int FeatureRowBase { get; private set; }
    public int FeatureRows { get; private set; }

    public bool Parsed(int row) => Lines[row] != 0;

    /// <summary>Allocates the whole matrix (an in-memory read).</summary>
    public void HoldAllFeatures()
    {
        Features = new float[(long)Labels.Length * Width];
        FeatureRowBase = 0;
        FeatureRows = Labels.Length;
    }

    /// <summary>Points the features at a chunk buffer for rows [first, first + count), zeroed here.</summary>
    public void HoldChunk(float[] buffer, int first, int count)
    {
        buffer.AsSpan(0, (int)((long)count * Width)).Clear();
        Features = buffer;
        FeatureRowBase = first;
        FeatureRows = count;
    }

    public void SetComment(int row, string comment)
    {
        if (Comments is null) Interlocked.CompareExchange(ref Comments, new string?[Labels.Length], null);
        Comments[row] = comment;
    }
}

/// <summary>
/// Parses the lines of one block of SVMlight text into <see cref="ParsedRows"/>, starting at a given row.
/// A data line (not blank, not a <c>#</c> comment) takes the next row whether or not it parses, exactly
/// as <see cref="TextLayout"/> counted it in the first pass. Problems are kept per line (block-relative
/// line numbers) up to a limit.
/// </summary>
internal sealed class SvmLightLineParser
{
    private const long NoQid = long.MinValue;

    /// <summary>A problem on a line of the block (1-based line within the block, 1-based column).</summary>
    public readonly record struct LineError(int Line, int Column, string What);

    private readonly ParsedRows _rows;
    private readonly DatasetReadOptions _options;
    private readonly int _maxErrors;
    private int _row;

    public SvmLightLineParser(ParsedRows rows, int firstRow, DatasetReadOptions options, int maxErrors)
    {
        _rows = rows;
        _row = firstRow;
        _options = options;
        _maxErrors = maxErrors;
    }

    public List<LineError> Errors { get; } = [];

    /// <summary>Is this line (without its newline) a data row? Blank and comment lines are not.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool IsDataLine(ReadOnlySpan<byte> line)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        int p = SkipSpaces(line, 0);
        return p < line.Length && line[p] != (byte)'#';
    }

    /// <summary>
    /// The highest feature index of a well-formed data line: its last <c>index:value</c> token before any
    /// comment (indices ascend). 0 when the last token is the qid or not an index. A malformed line may
    /// hide a higher index; pass 2 reports such a line as bad before its index matters.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int LastIndex(ReadOnlySpan<byte> line)
    {
        int hash = line.IndexOf((byte)'#');
        if (hash >= 0) line = line[..hash];
        int end = line.Length;
        while (end > 0 && (line[end - 1] == (byte)' ' || line[end - 1] == (byte)'\t' || line[end - 1] == (byte)'\r')) end--;
        line = line[..end];
        int start = line.LastIndexOfAny((byte)' ', (byte)'\t') + 1;
        var token = line[start..];
        int colon = token.IndexOf((byte)':');
        if (colon <= 0) return 0;
        return Utf8Number.TryParseIndex(token[..colon], out int index) ? index : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    // One-shot hot loops (a command-line parse calls them a few hundred times in all): compiled fully
    // optimised at once, instead of spending most of the parse in tier-0 and on-stack-replaced code.
    public void ParseLines(ReadOnlySpan<byte> text)
    {
        int pos = 0, line = 0;
        while (pos < text.Length)
        {
            int newline = text[pos..].IndexOf((byte)'\n');
            int end = newline < 0 ? text.Length : pos + newline;
            line++;
            var lineSpan = text[pos..end];
            if (lineSpan.Length > 0 && lineSpan[^1] == (byte)'\r') lineSpan = lineSpan[..^1];
            int p = SkipSpaces(lineSpan, 0);
            if (p < lineSpan.Length && lineSpan[p] != (byte)'#')
            {
                if (Errors.Count < _maxErrors) ParseLine(lineSpan, p, line, _row);
                _row++;
            }
            pos = newline < 0 ? text.Length : end + 1;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsSpace(byte b) => b == (byte)' ' || b == (byte)'\t';

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int SkipSpaces(ReadOnlySpan<byte> s, int p)
    {
        while (p < s.Length && IsSpace(s[p])) p++;
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int TokenEnd(ReadOnlySpan<byte> s, int p)
    {
        while (p < s.Length && !IsSpace(s[p])) p++;
        return p;
    }

    private void Fail(int line, int index0, string what) => Errors.Add(new LineError(line, index0 + 1, what));

    private static string Clip(ReadOnlySpan<byte> s) => SvmLightReader.Clip(Encoding.UTF8.GetString(s.Length <= 60 ? s : s[..60]));

    // The hot loop is kept small on purpose: the JIT inlines only so much into one method, and when the
    // careful paths with their error messages sat in it too, it stopped inlining even SkipSpaces and the
    // number scan, so every value paid calls into code that started at tier 0. Everything unusual (and
    // every message) lives in the out-of-line methods below.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ParseLine(ReadOnlySpan<byte> line, int p, int lineNo, int row)
    {
        int hash = line.IndexOf((byte)'#');
        var data = hash < 0 ? line : line[..hash];
        if (!ParseHead(data, ref p, lineNo, out float label, out long qid, out int qidColumn)) return;

        // The row's features: written straight into the dense matrix (or chunk) when this row is held.
        int width = _rows.Width;
        Span<float> dense = default;
        if (_rows.Features is { } features && row >= _rows.FeatureRowBase && row < _rows.FeatureRowBase + _rows.FeatureRows)
            dense = features.AsSpan((int)((long)(row - _rows.FeatureRowBase) * width), width);
        bool overflow = false;
        int previousIndex = 0;
        while (p < data.Length)
        {
            // Fast path for the common well-formed "index:value" token, in one pass over its bytes;
            // anything unusual goes to the careful path, which re-reads the token and names exactly
            // what is wrong.
            int q = p;
            uint fastIndex = 0;
            while (q < data.Length && q - p < 9)
            {
                uint digit = (uint)(data[q] - '0');
                if (digit > 9) break;
                fastIndex = fastIndex * 10 + digit;
                q++;
            }
            if (q > p && q < data.Length && data[q] == (byte)':' && fastIndex > (uint)previousIndex && fastIndex <= (uint)width)
            {
                int valueStart = q + 1;
                int taken = Utf8Number.ScanFloat(data[valueStart..], out float fastValue);
                int valueEnd = valueStart + taken;
                if (taken > 0 && (valueEnd == data.Length || IsSpace(data[valueEnd])))
                {
                    int accepted = (int)fastIndex;
                    if (!dense.IsEmpty) dense[accepted - 1] = fastValue;
                    previousIndex = accepted;
                    p = SkipSpaces(data, valueEnd);
                    continue;
                }
            }
            p = ParseFeatureCarefully(data, p, lineNo, dense, ref previousIndex, ref overflow);
            if (p < 0) return;
        }
        if (overflow)
            throw new InvalidOperationException($"line {lineNo} of a block: feature index beyond the width {width} the first pass found, on a line that parsed");

        _rows.Labels[row] = label;
        _rows.Qids[row] = qid;
        _rows.QidColumns[row] = qidColumn;
        if (hash >= 0 && _options.KeepComments) KeepComment(line, hash, row);
        // Lines are absolute in the file; the caller adds the block's line base (see Extent.LineBase).
        _rows.Lines[row] = LineBase + lineNo;
    }

    /// <summary>The label and the optional <c>qid:</c> of a data line; false (and the problem noted) when either is bad.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool ParseHead(ReadOnlySpan<byte> data, ref int p, int lineNo, out float label, out long qid, out int qidColumn)
    {
        qid = NoQid;
        qidColumn = 0;
        int end = TokenEnd(data, p);
        var token = data[p..end];
        if (!Utf8Number.TryParseFloat(token, out label)) { Fail(lineNo, p, $"bad label '{Clip(token)}': expected a number"); return false; }
        if (!float.IsFinite(label)) { Fail(lineNo, p, $"label {Clip(token)} is not a finite number"); return false; }
        p = SkipSpaces(data, end);

        qidColumn = p + 1;
        if (data.Length - p >= 4 && data.Slice(p, 4).SequenceEqual("qid:"u8))
        {
            end = TokenEnd(data, p);
            token = data[(p + 4)..end];
            if (token.Length == 0) { Fail(lineNo, p + 4, "missing query id after 'qid:'"); return false; }
            if (!Utf8Number.TryParseLong(token, out qid) || qid == NoQid) { Fail(lineNo, p + 4, $"bad query id '{Clip(token)}': expected an integer"); return false; }
            p = SkipSpaces(data, end);
        }
        return true;
    }

    /// <summary>
    /// One feature token the fast path did not take (an exponent, NaN, a dropped index, or a mistake):
    /// stores it and returns where the next token starts, or notes the problem and returns -1.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private int ParseFeatureCarefully(ReadOnlySpan<byte> data, int p, int lineNo, Span<float> dense, ref int previousIndex, ref bool overflow)
    {
        int end = TokenEnd(data, p);
        var token = data[p..end];
        int colon = token.IndexOf((byte)':');
        if (colon < 0) { Fail(lineNo, p, $"expected index:value, found '{Clip(token)}'"); return -1; }
        var indexToken = token[..colon];
        var valueToken = token[(colon + 1)..];
        if (indexToken.SequenceEqual("qid"u8)) { Fail(lineNo, p, "qid: must come right after the label"); return -1; }
        if (!Utf8Number.TryParseIndex(indexToken, out int index)) { Fail(lineNo, p, $"bad feature index '{Clip(indexToken)}': expected a positive integer"); return -1; }
        if (index == 0) { Fail(lineNo, p, "feature index 0: indices are 1-based"); return -1; }
        if (index <= previousIndex) { Fail(lineNo, p, $"feature indices must ascend: {index} after {previousIndex}"); return -1; }
        previousIndex = index;
        int valueColumn = p + colon + 1;
        if (valueToken.Length == 0) { Fail(lineNo, valueColumn, $"missing value after '{index}:'"); return -1; }
        if (!Utf8Number.TryParseFloat(valueToken, out float value)) { Fail(lineNo, valueColumn, $"bad number '{Clip(valueToken)}' for feature {index}"); return -1; }
        if (!float.IsFinite(value))
        {
            if (float.IsInfinity(value)) { Fail(lineNo, valueColumn, $"infinite value for feature {index}"); return -1; }
            if (!_options.AllowNaN) { Fail(lineNo, valueColumn, $"NaN value for feature {index} (allow missing values with AllowNaN / --allow-nan)"); return -1; }
        }
        if (_options.FeatureCount is int count && index > count)
        {
            if (_options.DropExtraFeatures) return SkipSpaces(data, end);
            Fail(lineNo, p, $"feature index {index} is beyond the feature count {count} (drop such features with DropExtraFeatures / --drop-extra-features)");
            return -1;
        }
        if (index > _rows.Width) overflow = true; // the first pass saw a lower last index: the line must turn out bad
        else if (!dense.IsEmpty) dense[index - 1] = value;
        return SkipSpaces(data, end);
    }

    private void KeepComment(ReadOnlySpan<byte> line, int hash, int row)
    {
        var tail = line[(hash + 1)..].Trim(" \t"u8);
        if (tail.Length > 0) _rows.SetComment(row, Encoding.UTF8.GetString(tail));
    }

    /// <summary>The file line of this block's first line, minus one.</summary>
    public long LineBase { get; init; }
}
