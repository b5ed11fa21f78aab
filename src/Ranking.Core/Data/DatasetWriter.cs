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
    public static void WriteSvmLight(RankingDataset data, string path, bool sparse = false)
    {
        ArgumentNullException.ThrowIfNull(data);
        AtomicFile.Write(path, stream =>
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
        });
    }

    /// <summary>CSV, or TSV when the path ends in .tsv: header <c>label,qid,f1..fN[,comment]</c>.</summary>
    public static void WriteCsv(RankingDataset data, string path) =>
        WriteCsv(data, path, Path.GetExtension(path).Equals(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',');

    public static void WriteCsv(RankingDataset data, string path, char delimiter)
    {
        ArgumentNullException.ThrowIfNull(data);
        DelimitedText.Write(data, path, delimiter);
    }

    /// <summary>Writes in the format the extension names: .rkds, .csv, .tsv, anything else SVMlight.</summary>
    public static void Write(RankingDataset data, string path)
    {
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".rkds": RkdsFile.Write(data, path); break;
            case ".csv":
            case ".tsv": WriteCsv(data, path); break;
            default: WriteSvmLight(data, path); break;
        }
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
