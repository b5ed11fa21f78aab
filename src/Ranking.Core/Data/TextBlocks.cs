using System.Runtime.CompilerServices;
using System.Buffers;

namespace Ranking.Data;

/// <summary>
/// Streams a text file as blocks of whole lines (about 4 MiB each), a batch of blocks at a time, so
/// the blocks of a batch can be parsed in parallel while a file of any size never sits in memory whole.
/// A line longer than a block grows that block. A UTF-8 byte order mark at the start is dropped.
/// </summary>
internal sealed class TextBlocks : IDisposable
{
    public const int DefaultBlockSize = 1 << 22;

    private readonly FileStream _stream;
    private readonly int _blockSize;
    private byte[] _carry = [];
    private int _carryLength;
    private bool _atStart = true;
    private bool _eof;
    private long _nextOffset;

    public TextBlocks(string path, int blockSize = DefaultBlockSize)
    {
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        _blockSize = blockSize;
    }

    /// <summary>
    /// A block: Buffer[0..Length) holds whole lines (the last may lack its newline at end of file), read
    /// from the file at byte <see cref="Offset"/> (a second pass can read the same lines again from there).
    /// </summary>
    public readonly record struct Block(byte[] Buffer, int Length, long Offset);

    /// <summary>Reads up to <paramref name="count"/> blocks; empty when the file is done.</summary>
    public List<Block> ReadBatch(int count)
    {
        var batch = new List<Block>(count);
        while (batch.Count < count && !_eof)
        {
            var block = ReadBlock();
            if (block.Length > 0) batch.Add(block);
            else ArrayPool<byte>.Shared.Return(block.Buffer);
        }
        return batch;
    }

    public static void Return(List<Block> batch)
    {
        foreach (var b in batch) ArrayPool<byte>.Shared.Return(b.Buffer);
    }

    private Block ReadBlock()
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(_blockSize, _carryLength * 2));
        Array.Copy(_carry, buffer, _carryLength);
        int filled = _carryLength;
        _carryLength = 0;
        int searchFrom = 0;
        while (true)
        {
            while (filled < buffer.Length)
            {
                int n = _stream.Read(buffer, filled, buffer.Length - filled);
                if (n == 0) { _eof = true; break; }
                filled += n;
            }
            int start = 0;
            if (_atStart && filled >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) start = 3;
            if (_atStart && (filled >= 3 || _eof))
            {
                _atStart = false;
                if (start > 0) { Array.Copy(buffer, 3, buffer, 0, filled - 3); filled -= 3; _nextOffset = 3; }
            }
            long offset = _nextOffset;
            if (_eof) { _nextOffset += filled; return new Block(buffer, filled, offset); }
            int lastNewline = buffer.AsSpan(searchFrom, filled - searchFrom).LastIndexOf((byte)'\n');
            if (lastNewline >= 0)
            {
                lastNewline += searchFrom;
                int rest = filled - lastNewline - 1;
                if (_carry.Length < rest) _carry = new byte[Math.Max(rest, 1024)];
                Array.Copy(buffer, lastNewline + 1, _carry, 0, rest);
                _carryLength = rest;
                _nextOffset += lastNewline + 1;
                return new Block(buffer, lastNewline + 1, offset);
            }
            // One line longer than the whole buffer: grow it and read on.
            searchFrom = filled;
            byte[] bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
            Array.Copy(buffer, bigger, filled);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = bigger;
        }
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>
/// The first pass over a text file: where each block of whole lines sits in the file, how many lines and
/// data rows it holds and the highest feature index it names, so the dense matrix can be allocated once
/// and the blocks parsed again, in parallel, straight into their rows.
/// </summary>
internal sealed class TextLayout
{
    /// <summary>A block of whole lines: bytes [Offset, Offset + Length) of the file.</summary>
    public readonly record struct Extent(long Offset, int Length, long LineBase, int Lines, int RowBase, int Rows, int MaxIndex);

    public List<Extent> Blocks { get; } = [];
    public int Rows { get; private set; }
    public int MaxIndex { get; private set; }
    public long Lines { get; private set; }

    public static TextLayout Scan(string path, int blockSize, int threads)
    {
        var layout = new TextLayout();
        long rows = 0;
        using var text = new TextBlocks(path, blockSize);
        while (true)
        {
            var batch = text.ReadBatch(Math.Max(2, threads * 2));
            if (batch.Count == 0) break;
            var counts = new (int Lines, int Rows, int MaxIndex)[batch.Count];
            Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
                counts[i] = Count(batch[i].Buffer.AsSpan(0, batch[i].Length)));
            for (int i = 0; i < batch.Count; i++)
            {
                if (rows + counts[i].Rows > int.MaxValue)
                    throw new RankingDataException(path, layout.Lines + counts[i].Lines, 0, "more than 2^31 rows");
                layout.Blocks.Add(new Extent(batch[i].Offset, batch[i].Length, layout.Lines, counts[i].Lines, (int)rows, counts[i].Rows, counts[i].MaxIndex));
                layout.Lines += counts[i].Lines;
                rows += counts[i].Rows;
                layout.MaxIndex = Math.Max(layout.MaxIndex, counts[i].MaxIndex);
            }
            TextBlocks.Return(batch);
        }
        layout.Rows = (int)rows;
        return layout;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (int Lines, int Rows, int MaxIndex) Count(ReadOnlySpan<byte> text)
    {
        int pos = 0, lines = 0, rows = 0, max = 0;
        while (pos < text.Length)
        {
            int newline = text[pos..].IndexOf((byte)'\n');
            int end = newline < 0 ? text.Length : pos + newline;
            lines++;
            var line = text[pos..end];
            if (SvmLightLineParser.IsDataLine(line))
            {
                rows++;
                max = Math.Max(max, SvmLightLineParser.LastIndex(line));
            }
            pos = newline < 0 ? text.Length : end + 1;
        }
        return (lines, rows, max);
    }

    /// <summary>Reads one block's bytes again (pass 2); the file must not have changed in between.</summary>
    public static void ReadExtent(Microsoft.Win32.SafeHandles.SafeFileHandle file, string path, Extent extent, byte[] buffer)
    {
        int filled = 0;
        while (filled < extent.Length)
        {
            int n = RandomAccess.Read(file, buffer.AsSpan(filled, extent.Length - filled), extent.Offset + filled);
            if (n == 0) throw new RankingDataException(path, extent.LineBase + 1, 0, "the file became shorter while it was being read");
            filled += n;
        }
    }
}

/// <summary>A growable array without List's bounds bookkeeping, for per-block parse buffers.</summary>
internal struct GrowArray<T>
{
    public T[] Items;
    public int Count;

    public GrowArray(int capacity) { Items = new T[Math.Max(capacity, 4)]; Count = 0; }

    public void Add(T item)
    {
        if (Count == Items.Length) Array.Resize(ref Items, Items.Length * 2);
        Items[Count++] = item;
    }

    public ReadOnlySpan<T> Span => new(Items, 0, Count);
}
