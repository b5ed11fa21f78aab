using System.Buffers.Binary;
using System.IO.Compression;

namespace Ranking.Models;

/// <summary>
/// Reads every entry of a zip within <see cref="ModelReadLimits"/>, checking before it inflates anything: the
/// number of central-directory records (counted by walking them, as .NET's reader would, so an end record that
/// lies about the count does not matter), each entry's declared size, the total, and the compression ratio. An
/// entry is then inflated into a buffer of its declared size and no further: one that inflates to more or less
/// than it declares is refused. So no entry is ever read unbounded, whatever the file says about itself.
/// Failures are <see cref="InvalidDataException"/>s saying what is wrong (callers add the file name).
/// </summary>
public static class BoundedZip
{
    private const uint EndOfCentralDirectory = 0x06054b50, Zip64Locator = 0x07064b50, Zip64End = 0x06064b50, CentralHeader = 0x02014b50;

    /// <summary>Every entry's name and bytes, in the order of the central directory.</summary>
    public static IReadOnlyList<(string Name, byte[] Bytes)> ReadAll(Stream zip, ModelReadLimits limits)
    {
        ArgumentNullException.ThrowIfNull(zip);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        if (!zip.CanSeek) throw new ArgumentException("the zip stream must be seekable.", nameof(zip));
        CheckEntryCount(zip, limits);
        zip.Position = 0;
        using var archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
        if (archive.Entries.Count > limits.MaxEntries)
            throw new InvalidDataException($"the zip holds {archive.Entries.Count} entries; the limit is {limits.MaxEntries}.");
        long total = 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in archive.Entries)
        {
            if (!names.Add(entry.FullName)) throw new InvalidDataException($"entry '{Printable(entry.FullName)}' appears twice.");
            long size = entry.Length, packed = entry.CompressedLength;
            if (size < 0 || packed < 0) throw new InvalidDataException($"entry '{Printable(entry.FullName)}' declares a negative size.");
            if (size > limits.MaxEntryBytes)
                throw new InvalidDataException($"entry '{Printable(entry.FullName)}' inflates to {size:N0} bytes; the limit is {limits.MaxEntryBytes:N0} (raise it with --max-model-size or ModelReadLimits).");
            total += size;
            if (total > limits.MaxTotalBytes)
                throw new InvalidDataException($"the entries inflate to more than {limits.MaxTotalBytes:N0} bytes together (raise the limit with --max-model-size or ModelReadLimits).");
            if (size > limits.RatioExemptBytes && size > limits.MaxCompressionRatio * Math.Max(packed, 1))
                throw new InvalidDataException($"entry '{Printable(entry.FullName)}' inflates {size / (double)Math.Max(packed, 1):F0}x ({packed:N0} -> {size:N0} bytes); the limit is {limits.MaxCompressionRatio:F0}x (a zip bomb?).");
        }
        var result = new List<(string, byte[])>(archive.Entries.Count);
        foreach (var entry in archive.Entries) result.Add((entry.FullName, ReadEntry(entry)));
        return result;
    }

    /// <summary>Inflates exactly the declared size: more or fewer bytes is an error, never a larger buffer.</summary>
    private static byte[] ReadEntry(ZipArchiveEntry entry)
    {
        var bytes = new byte[entry.Length];
        using var stream = entry.Open();
        int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read < bytes.Length)
            throw new InvalidDataException($"entry '{Printable(entry.FullName)}' inflates to {read:N0} bytes, fewer than the {bytes.Length:N0} it declares (truncated or corrupted).");
        Span<byte> probe = stackalloc byte[1];
        if (stream.Read(probe) != 0)
            throw new InvalidDataException($"entry '{Printable(entry.FullName)}' inflates past the {bytes.Length:N0} bytes it declares (a lying size).");
        return bytes;
    }

    /// <summary>
    /// Finds the end-of-central-directory record (zip64 too) and walks the central directory's records, stopping
    /// one past the limit: .NET's reader walks them all and would hold millions of entries in memory.
    /// </summary>
    private static void CheckEntryCount(Stream zip, ModelReadLimits limits)
    {
        long length = zip.Length;
        if (length < 22) throw new InvalidDataException("too short to be a zip (no end-of-central-directory record).");
        int tailLength = (int)Math.Min(length, 22 + 65535);
        var tail = new byte[tailLength];
        zip.Position = length - tailLength;
        zip.ReadExactly(tail);
        int end = -1;
        for (int i = tailLength - 22; i >= 0; i--)
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndOfCentralDirectory) { end = i; break; }
        if (end < 0) throw new InvalidDataException("no end-of-central-directory record (truncated, or not a zip).");
        long endPosition = length - tailLength + end;
        long declared = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(end + 10));
        long directoryStart = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(end + 16));
        if (declared == 0xFFFF || directoryStart == 0xFFFFFFFF)
        {
            // zip64: the locator sits just before the end record and points at the zip64 end record.
            if (endPosition < 20) throw new InvalidDataException("a zip64 marker without a zip64 locator.");
            var locator = new byte[20];
            zip.Position = endPosition - 20;
            zip.ReadExactly(locator);
            if (BinaryPrimitives.ReadUInt32LittleEndian(locator) != Zip64Locator) throw new InvalidDataException("a zip64 marker without a zip64 locator.");
            ulong recordAt = BinaryPrimitives.ReadUInt64LittleEndian(locator.AsSpan(8));
            if (recordAt > (ulong)(endPosition - 56)) throw new InvalidDataException("the zip64 locator points outside the file.");
            var record = new byte[56];
            zip.Position = (long)recordAt;
            zip.ReadExactly(record);
            if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64End) throw new InvalidDataException("the zip64 end record is missing.");
            ulong entries64 = BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(32));
            ulong start64 = BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(48));
            if (entries64 > (ulong)limits.MaxEntries) throw new InvalidDataException($"the zip declares {entries64:N0} entries; the limit is {limits.MaxEntries}.");
            if (start64 > (ulong)endPosition) throw new InvalidDataException("the central directory starts outside the file.");
            declared = (long)entries64;
            directoryStart = (long)start64;
        }
        if (declared > limits.MaxEntries) throw new InvalidDataException($"the zip declares {declared:N0} entries; the limit is {limits.MaxEntries}.");
        if (directoryStart > endPosition) throw new InvalidDataException("the central directory starts outside the file.");

        var header = new byte[46];
        long at = directoryStart;
        for (int count = 0; ; count++)
        {
            if (at + 46 > length) return;
            zip.Position = at;
            zip.ReadExactly(header);
            if (BinaryPrimitives.ReadUInt32LittleEndian(header) != CentralHeader) return;
            if (count + 1 > limits.MaxEntries) throw new InvalidDataException($"the zip holds more than {limits.MaxEntries} entries (the limit).");
            at += 46L + BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28)) + BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(30))
                + BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(32));
        }
    }

    /// <summary>An entry name for a message: control characters escaped, long names cut.</summary>
    internal static string Printable(string name)
    {
        var text = string.Concat(name.Take(80).Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
        return name.Length > 80 ? text + "..." : text;
    }
}
