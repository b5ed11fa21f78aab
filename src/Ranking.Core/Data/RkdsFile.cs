using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace Ranking.Data;

/// <summary>
/// The <c>.rkds</c> binary cache: a dataset parsed once and loaded again at disk speed.
/// Layout (little-endian):
/// <code>
///  0  magic "RKDS\r\n\x1a\n" (8 bytes; catches text-mode mangling)
///  8  u32 version (1)
/// 12  u32 flags: 1 = query weights present, 2 = row comments present
/// 16  i64 rows
/// 24  i32 feature count
/// 28  i32 query count
/// 32  i64 comment bytes (UTF-8 payload of the comments section)
/// 40  u64 reserved (0)
/// 48  features f32[rows * featureCount], labels f32[rows], group offsets i32[queries + 1],
///     query ids i64[queries], [weights f32[queries]], [comment lengths i32[rows] (-1 = none), comment bytes]
/// end-8: u64 XxHash64 of every byte before it
/// </code>
/// <see cref="Read"/> reads each section straight into its array (no parsing, no per-row work) while
/// hashing, then compares the checksum; <see cref="Map"/> checks the same way but maps the feature block
/// from the file instead of copying it. A wrong magic, version, impossible size, short file or checksum
/// mismatch is a <see cref="RankingDataException"/> naming the byte offset.
/// </summary>
public static class RkdsFile
{
    /// <summary>The format version this code writes and the only one it reads.</summary>
    public const int Version = 1;
    private const int HeaderSize = 48;
    private static ReadOnlySpan<byte> Magic => "RKDS\r\n\x1a\n"u8;
    private const uint WeightsFlag = 1, CommentsFlag = 2;

    /// <summary>Writes <paramref name="data"/> as a binary cache (layout above), atomically: a crash leaves no half file.</summary>
    public static void Write(RankingDataset data, string path)
    {
        ArgumentNullException.ThrowIfNull(data);
        EnsureLittleEndian();
        byte[][]? commentBytes = data.RowComments?.Select(c => c is null ? null! : Encoding.UTF8.GetBytes(c)).ToArray();
        long commentTotal = commentBytes?.Sum(b => (long)(b?.Length ?? 0)) ?? 0;
        AtomicFile.Write(path, stream =>
        {
            var hash = new XxHash64();
            void Put(ReadOnlySpan<byte> bytes) { hash.Append(bytes); stream.Write(bytes); }
            void PutArray<T>(ReadOnlySpan<T> array) where T : unmanaged
            {
                // in slices: a span of bytes cannot exceed 2 GiB
                int perSlice = (1 << 30) / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
                for (int at = 0; at < array.Length; at += perSlice)
                    Put(MemoryMarshal.AsBytes(array.Slice(at, Math.Min(perSlice, array.Length - at))));
            }

            Span<byte> header = stackalloc byte[HeaderSize];
            header.Clear();
            Magic.CopyTo(header);
            uint flags = (data.QueryWeights is null ? 0 : WeightsFlag) | (data.RowComments is null ? 0 : CommentsFlag);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], Version);
            BinaryPrimitives.WriteUInt32LittleEndian(header[12..], flags);
            BinaryPrimitives.WriteInt64LittleEndian(header[16..], data.RowCount);
            BinaryPrimitives.WriteInt32LittleEndian(header[24..], data.FeatureCount);
            BinaryPrimitives.WriteInt32LittleEndian(header[28..], data.QueryCount);
            BinaryPrimitives.WriteInt64LittleEndian(header[32..], commentTotal);
            Put(header);
            PutArray(data.FeatureSpan);
            PutArray<float>(data.Labels);
            PutArray<int>(data.GroupOffsets);
            PutArray<long>(data.QueryIds);
            if (data.QueryWeights is not null) PutArray<float>(data.QueryWeights);
            if (commentBytes is not null)
            {
                PutArray<int>(commentBytes.Select(b => b is null ? -1 : b.Length).ToArray());
                foreach (var b in commentBytes) if (b is not null) Put(b);
            }
            Span<byte> checksum = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.GetCurrentHashAsUInt64());
            stream.Write(checksum);
        });
    }

    /// <summary>Reads a binary cache into managed arrays, checking magic, version, sizes and checksum; any problem is a <see cref="RankingDataException"/> naming the byte offset. <see cref="Map"/> loads the same file without copying its features.</summary>
    public static RankingDataset Read(string path) => Load(path, map: false);

    /// <summary>
    /// Loads a binary cache with its features memory-mapped read-only from the file instead of copied into an
    /// array (<see cref="RankingDataset.FeaturesMapped"/>); labels, offsets, ids, weights and comments (a few
    /// bytes per row) are read into arrays. The whole file is checked first as <see cref="Read"/> checks it
    /// (magic, version, sizes, checksum, offsets): the checksum pass reads the feature block through a small
    /// buffer, so it costs a sequential read but no memory, and the mapped pages become resident only where a
    /// consumer touches them. Dispose the dataset to unmap the file. Every version-1 file maps as it is:
    /// the features start at byte 48, a 16-byte boundary of the page-aligned mapping.
    /// </summary>
    public static RankingDataset Map(string path) => Load(path, map: true);

    private static RankingDataset Load(string path, bool map)
    {
        ArgumentNullException.ThrowIfNull(path);
        EnsureLittleEndian();
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        FeatureMapping? mapping = null;
        try
        {
            var data = LoadSections(stream, path, map, out long featureCount);
            if (!map || featureCount == 0) return data.Build(null, false);
            // The mapping takes the stream (and closes it on Dispose).
            mapping = new FeatureMapping(stream, HeaderSize, featureCount);
            stream = null!;
            return data.Build(mapping, true);
        }
        catch
        {
            mapping?.Dispose();
            throw;
        }
        finally
        {
            stream?.Dispose();
        }
    }

    private sealed record Sections(string Path, float[]? Features, int FeatureCount, float[] Labels, int[] Offsets, long[] Ids, float[]? Weights, string?[]? Comments)
    {
        public RankingDataset Build(FeatureMapping? mapping, bool owns) => mapping is null
            ? new RankingDataset(Features ?? [], FeatureCount, Labels, Offsets, Ids, Weights, Comments, Path)
            : new RankingDataset(mapping, owns, FeatureCount, Labels, Offsets, Ids, Weights, Comments, Path, null);
    }

    private static Sections LoadSections(FileStream stream, string path, bool skipFeatures, out long featureValues)
    {
        long fileLength = stream.Length;
        var hash = new XxHash64();
        long position = 0;

        Span<byte> header = stackalloc byte[HeaderSize];
        int got = stream.ReadAtLeast(header, HeaderSize, throwOnEndOfStream: false);
        if (got < Magic.Length || !header[..Magic.Length].SequenceEqual(Magic))
            throw Bad(path, 0, "not a .rkds file (wrong magic bytes)");
        if (got < HeaderSize) throw Bad(path, got, $"truncated: the header needs {HeaderSize} bytes, the file has {fileLength}");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version != Version) throw Bad(path, 8, $"format version {version} is not supported (this build reads version {Version}); convert the source file again");
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        if ((flags & ~(WeightsFlag | CommentsFlag)) != 0) throw Bad(path, 12, $"unknown flags 0x{flags:x}");
        long rows = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        int featureCount = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        int queryCount = BinaryPrimitives.ReadInt32LittleEndian(header[28..]);
        long commentTotal = BinaryPrimitives.ReadInt64LittleEndian(header[32..]);
        if (rows < 1 || rows > int.MaxValue) throw Bad(path, 16, $"impossible row count {rows}");
        if (featureCount < 0) throw Bad(path, 24, $"impossible feature count {featureCount}");
        if (queryCount < 1 || queryCount > rows) throw Bad(path, 28, $"impossible query count {queryCount}");
        if (commentTotal < 0 || ((flags & CommentsFlag) == 0 && commentTotal != 0)) throw Bad(path, 32, $"impossible comment size {commentTotal}");
        if (rows * featureCount > Array.MaxLength) throw Bad(path, 16, $"{rows} rows x {featureCount} features do not fit one array");
        bool hasWeights = (flags & WeightsFlag) != 0, hasComments = (flags & CommentsFlag) != 0;
        long expected = HeaderSize + rows * featureCount * 4 + rows * 4 + (queryCount + 1L) * 4 + queryCount * 8L
            + (hasWeights ? queryCount * 4L : 0) + (hasComments ? rows * 4 + commentTotal : 0) + 8;
        if (fileLength != expected)
            throw Bad(path, Math.Min(fileLength, expected), fileLength < expected
                ? $"truncated: the header promises {expected} bytes, the file has {fileLength}"
                : $"{fileLength - expected} unexpected bytes after the end of the data ({expected} bytes)");
        hash.Append(header);
        position = HeaderSize;

        int n = (int)rows;
        featureValues = rows * featureCount;
        float[]? features = null;
        if (skipFeatures) HashThrough(stream, featureValues * sizeof(float), hash, ref position);
        else { features = new float[featureValues]; ReadArray(stream, features, hash, ref position); }
        var labels = new float[n];
        var offsets = new int[queryCount + 1];
        var ids = new long[queryCount];
        var weights = hasWeights ? new float[queryCount] : null;
        ReadArray(stream, labels, hash, ref position);
        long offsetsAt = position;
        ReadArray(stream, offsets, hash, ref position);
        ReadArray(stream, ids, hash, ref position);
        if (weights is not null) ReadArray(stream, weights, hash, ref position);
        string?[]? comments = null;
        long commentsAt = position;
        if (hasComments)
        {
            var lengths = new int[n];
            ReadArray(stream, lengths, hash, ref position);
            var bytes = new byte[commentTotal];
            ReadArray(stream, bytes, hash, ref position);
            comments = new string?[n];
            long at = 0;
            for (int r = 0; r < n; r++)
            {
                if (lengths[r] < 0) continue;
                if (at + lengths[r] > commentTotal) throw Bad(path, commentsAt + 4L * r, "comment lengths overrun the comment bytes");
                comments[r] = Encoding.UTF8.GetString(bytes, (int)at, lengths[r]);
                at += lengths[r];
            }
        }
        Span<byte> stored = stackalloc byte[8];
        stream.ReadExactly(stored);
        ulong storedHash = BinaryPrimitives.ReadUInt64LittleEndian(stored), actual = hash.GetCurrentHashAsUInt64();
        if (storedHash != actual)
            throw Bad(path, position, $"checksum mismatch (stored {storedHash:x16}, computed {actual:x16}): the file is corrupted");

        if (offsets[0] != 0 || offsets[^1] != n) throw Bad(path, offsetsAt, "group offsets do not run from 0 to the row count");
        for (int q = 0; q < queryCount; q++)
            if (offsets[q + 1] <= offsets[q]) throw Bad(path, offsetsAt + 4L * (q + 1), $"group offsets are not ascending at query {q}");
        return new Sections(path, features, featureCount, labels, offsets, ids, weights, comments);
    }

    /// <summary>Hashes <paramref name="bytes"/> bytes of the stream through one small buffer: checked, never held.</summary>
    private static void HashThrough(FileStream stream, long bytes, XxHash64 hash, ref long position)
    {
        byte[] buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (long left = bytes; left > 0;)
            {
                int chunk = (int)Math.Min(buffer.Length, left);
                stream.ReadExactly(buffer, 0, chunk);
                hash.Append(buffer.AsSpan(0, chunk));
                left -= chunk;
                position += chunk;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void ReadArray<T>(FileStream stream, T[] array, XxHash64 hash, ref long position) where T : unmanaged
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        int perSlice = (1 << 30) / size;
        for (long at = 0; at < array.LongLength; at += perSlice)
        {
            var bytes = MemoryMarshal.AsBytes(array.AsSpan((int)at, (int)Math.Min(perSlice, array.LongLength - at)));
            stream.ReadExactly(bytes);
            hash.Append(bytes);
            position += bytes.Length;
        }
    }

    private static RankingDataException Bad(string path, long offset, string what) => new($"{path}: byte {offset}: {what}");

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException(".rkds files are little-endian; this machine is not.");
    }
}
