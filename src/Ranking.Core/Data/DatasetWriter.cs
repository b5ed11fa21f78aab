using System.Buffers;
using System.Globalization;
using System.Text;

namespace Ranking.Data;

/// <summary>
/// Writes datasets as text, atomically (temporary file + rename). Floats use the shortest text that
/// parses back to the same bits ("R"), so text -> read -> write -> read is exact.
/// </summary>
public static class DatasetWriter
{
    /// <summary>
    /// SVMlight/LETOR: <c>label qid:N 1:v 2:v ... # comment</c>. Dense (every feature, as LETOR and
    /// MSLR files are) unless <paramref name="sparse"/>, which leaves out +0 values.
    /// </summary>
    /// <remarks>
    /// A set with <see cref="RankingDataset.Positions"/> also gets LightGBM's <c>PATH.position</c> (one
    /// position per row), so reading the file back, or training LightGBM on it, sees the same positions; a
    /// stale <c>PATH.position</c> beside a set without positions is removed, as it would be read back.
    /// </remarks>
    public static void WriteSvmLight(RankingDataset data, string path, bool sparse = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        WritePositions(data, path);
        AtomicFile.Write(path, stream => WriteSvmLightRows(data, stream, sparse));
    }

    /// <summary>The rows of <paramref name="data"/> as SVMlight text onto <paramref name="stream"/> (no position file).</summary>
    internal static void WriteSvmLightRows(RankingDataset data, Stream stream, bool sparse)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        int at = 0;
        try
        {
            for (int q = 0; q < data.QueryCount; q++)
            {
                long qid = data.QueryIds[q];
                for (int r = data.GroupOffsets[q]; r < data.GroupOffsets[q + 1]; r++)
                {
                    Ensure(stream, ref buffer, ref at, 64);
                    at += Format(data.Labels[r], buffer.AsSpan(at));
                    "qid:"u8.CopyTo(buffer.AsSpan(at + 1));
                    buffer[at] = (byte)' ';
                    at += 5;
                    qid.TryFormat(buffer.AsSpan(at), out int n, default, CultureInfo.InvariantCulture);
                    at += n;
                    var row = data.Row(r);
                    for (int j = 0; j < row.Length; j++)
                    {
                        if (sparse && BitConverter.SingleToUInt32Bits(row[j]) == 0) continue;
                        Ensure(stream, ref buffer, ref at, 64);
                        buffer[at++] = (byte)' ';
                        (j + 1).TryFormat(buffer.AsSpan(at), out n, default, CultureInfo.InvariantCulture);
                        at += n;
                        buffer[at++] = (byte)':';
                        at += Format(row[j], buffer.AsSpan(at));
                    }
                    string? comment = data.RowComments?[r];
                    if (comment is not null)
                    {
                        byte[] bytes = Encoding.UTF8.GetBytes(" # " + comment.Replace('\n', ' ').Replace('\r', ' '));
                        Ensure(stream, ref buffer, ref at, bytes.Length + 1);
                        bytes.CopyTo(buffer, at);
                        at += bytes.Length;
                    }
                    buffer[at++] = (byte)'\n';
                }
            }
            stream.Write(buffer, 0, at);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>CSV, or TSV when the path ends in .tsv: header <c>label,qid,f1..fN[,comment]</c>.</summary>
    public static void WriteCsv(RankingDataset data, string path) =>
        WriteCsv(data, path, Path.GetExtension(path).Equals(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',');

    /// <summary>As the other overload, fields separated by <paramref name="delimiter"/> whatever the extension; the file reads back through <see cref="DatasetReader"/> as CSV or TSV.</summary>
    public static void WriteCsv(RankingDataset data, string path, char delimiter)
    {
        ArgumentNullException.ThrowIfNull(data);
        DelimitedText.Write(data, path, delimiter);
    }

    /// <summary>Writes in the format the extension names: .rkds, .csv, .tsv, anything else SVMlight.</summary>
    public static void Write(RankingDataset data, string path)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        if (data.Positions is not null && extension is ".rkds" or ".csv" or ".tsv")
            throw new RankingDataException(path, 0, 0, $"the set has display positions, which only SVMlight text keeps (in PATH.position); write to a .txt path instead of {extension}");
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".rkds": RkdsFile.Write(data, path); break;
            case ".csv":
            case ".tsv": WriteCsv(data, path); break;
            default: WriteSvmLight(data, path); break;
        }
    }

    /// <summary>LightGBM's <c>PATH.position</c> beside a text set: one integer per row.</summary>
    internal static void WritePositions(RankingDataset data, string path)
    {
        string positionPath = path + ".position";
        if (data.Positions is null)
        {
            if (File.Exists(positionPath)) File.Delete(positionPath);
            return;
        }
        var text = new StringBuilder(data.RowCount * 3);
        foreach (int p in data.Positions) text.Append(p.ToString(CultureInfo.InvariantCulture)).Append('\n');
        AtomicFile.WriteAllBytes(positionPath, Encoding.ASCII.GetBytes(text.ToString()));
    }

    private static int Format(float value, Span<byte> destination)
    {
        value.TryFormat(destination, out int written, "R", CultureInfo.InvariantCulture);
        return written;
    }

    private static void Ensure(Stream stream, ref byte[] buffer, ref int at, int needed)
    {
        if (buffer.Length - at >= needed) return;
        stream.Write(buffer, 0, at);
        at = 0;
        if (buffer.Length < needed)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(needed);
        }
    }
}
