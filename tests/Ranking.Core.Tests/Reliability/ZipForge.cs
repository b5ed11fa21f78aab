using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Ranking.Core.Tests.Reliability;

/// <summary>One entry of a hand-made zip: its bytes as stored, and what the headers claim about them.</summary>
internal sealed record ForgedEntry(string Name, byte[] Data, ushort Method, long DeclaredSize, long DeclaredPacked, uint Crc);

/// <summary>
/// Writes zips byte by byte, so tests can make what no zip library writes: entries whose declared sizes lie,
/// zip64 records, end records that miscount, and real zip bombs (a deflate stream of a 16 MiB run of zeros,
/// sync-flushed so its blocks can be repeated, inflating to gigabytes from about 1 MB on disk).
/// Shared by the test projects that attack model files.
/// </summary>
internal static class ZipForge
{
    public static ForgedEntry Stored(string name, byte[] bytes) => new(name, bytes, 0, bytes.Length, bytes.Length, Crc(bytes));

    public static ForgedEntry Deflated(string name, byte[] bytes)
    {
        var packed = new MemoryStream();
        using (var deflate = new DeflateStream(packed, CompressionLevel.Optimal, leaveOpen: true)) deflate.Write(bytes);
        return new(name, packed.ToArray(), 8, bytes.Length, packed.Length, Crc(bytes));
    }

    private const int BombChunk = 16 << 20;
    private static readonly Lazy<byte[]> ZeroChunk = new(() =>
    {
        var packed = new MemoryStream();
        using var deflate = new DeflateStream(packed, CompressionLevel.SmallestSize, leaveOpen: true);
        deflate.Write(new byte[BombChunk]);
        deflate.Flush(); // a sync flush: non-final blocks ending byte-aligned, so the chunk can be repeated
        return packed.ToArray();
    });

    /// <summary>A deflate entry that really inflates to <paramref name="chunks"/> x 16 MiB of zeros (and declares so).</summary>
    public static ForgedEntry ZeroBomb(string name, int chunks)
    {
        byte[] chunk = ZeroChunk.Value;
        var data = new byte[chunk.Length * chunks + 5];
        for (int i = 0; i < chunks; i++) chunk.CopyTo(data, i * chunk.Length);
        new byte[] { 0x01, 0x00, 0x00, 0xFF, 0xFF }.CopyTo(data, chunk.Length * chunks); // final empty stored block
        var crc = new Crc32();
        var zeros = new byte[BombChunk];
        for (int i = 0; i < chunks; i++) crc.Append(zeros);
        return new(name, data, 8, (long)BombChunk * chunks, data.Length, crc.GetCurrentHashAsUInt32());
    }

    public static uint Crc(byte[] bytes) => Crc32.HashToUInt32(bytes);

    /// <summary>
    /// The zip of <paramref name="entries"/>. <paramref name="zip64"/> writes sizes and the end record in zip64 form;
    /// <paramref name="declaredCount"/> makes the end record claim another entry count.
    /// </summary>
    public static byte[] Write(IReadOnlyList<ForgedEntry> entries, bool zip64 = false, long? declaredCount = null)
    {
        var output = new MemoryStream();
        var w = new BinaryWriter(output);
        var offsets = new long[entries.Count];
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            offsets[i] = output.Position;
            byte[] name = System.Text.Encoding.UTF8.GetBytes(e.Name);
            byte[] extra = zip64 ? Zip64Extra(e.DeclaredSize, e.DeclaredPacked, null) : [];
            w.Write(0x04034b50u); w.Write((ushort)(zip64 ? 45 : 20)); w.Write((ushort)0); w.Write(e.Method);
            w.Write((ushort)0); w.Write((ushort)0x21); w.Write(e.Crc);
            w.Write(zip64 ? 0xFFFFFFFFu : (uint)e.DeclaredPacked); w.Write(zip64 ? 0xFFFFFFFFu : (uint)e.DeclaredSize);
            w.Write((ushort)name.Length); w.Write((ushort)extra.Length); w.Write(name); w.Write(extra); w.Write(e.Data);
        }
        long directoryStart = output.Position;
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            byte[] name = System.Text.Encoding.UTF8.GetBytes(e.Name);
            byte[] extra = zip64 ? Zip64Extra(e.DeclaredSize, e.DeclaredPacked, offsets[i]) : [];
            w.Write(0x02014b50u); w.Write((ushort)(zip64 ? 45 : 20)); w.Write((ushort)(zip64 ? 45 : 20)); w.Write((ushort)0); w.Write(e.Method);
            w.Write((ushort)0); w.Write((ushort)0x21); w.Write(e.Crc);
            w.Write(zip64 ? 0xFFFFFFFFu : (uint)e.DeclaredPacked); w.Write(zip64 ? 0xFFFFFFFFu : (uint)e.DeclaredSize);
            w.Write((ushort)name.Length); w.Write((ushort)extra.Length); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)0); w.Write(0u);
            w.Write(zip64 ? 0xFFFFFFFFu : (uint)offsets[i]);
            w.Write(name); w.Write(extra);
        }
        long directorySize = output.Position - directoryStart;
        long count = declaredCount ?? entries.Count;
        if (zip64)
        {
            long record = output.Position;
            w.Write(0x06064b50u); w.Write(44L); w.Write((ushort)45); w.Write((ushort)45); w.Write(0u); w.Write(0u);
            w.Write(count); w.Write(count); w.Write(directorySize); w.Write(directoryStart);
            w.Write(0x07064b50u); w.Write(0u); w.Write(record); w.Write(1u);
        }
        w.Write(0x06054b50u); w.Write((ushort)0); w.Write((ushort)0);
        w.Write(zip64 ? (ushort)0xFFFF : (ushort)Math.Min(count, 0xFFFE)); w.Write(zip64 ? (ushort)0xFFFF : (ushort)Math.Min(count, 0xFFFE));
        w.Write(zip64 ? 0xFFFFFFFFu : (uint)directorySize); w.Write(zip64 ? 0xFFFFFFFFu : (uint)directoryStart); w.Write((ushort)0);
        w.Flush();
        return output.ToArray();
    }

    private static byte[] Zip64Extra(long size, long packed, long? offset)
    {
        var extra = new byte[4 + 16 + (offset is null ? 0 : 8)];
        BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
        BinaryPrimitives.WriteUInt16LittleEndian(extra.AsSpan(2), (ushort)(extra.Length - 4));
        BinaryPrimitives.WriteInt64LittleEndian(extra.AsSpan(4), size);
        BinaryPrimitives.WriteInt64LittleEndian(extra.AsSpan(12), packed);
        if (offset is long at) BinaryPrimitives.WriteInt64LittleEndian(extra.AsSpan(20), at);
        return extra;
    }

    /// <summary>The entries of a model file as forged entries (deflated, true sizes), to tamper with and write again.</summary>
    public static List<ForgedEntry> EntriesOf(byte[] zip)
    {
        using var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read);
        return archive.Entries.Select(e =>
        {
            using var s = e.Open();
            var bytes = new MemoryStream();
            s.CopyTo(bytes);
            return Deflated(e.FullName, bytes.ToArray());
        }).ToList();
    }
}
