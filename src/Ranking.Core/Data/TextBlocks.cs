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

    public TextBlocks(string path, int blockSize = DefaultBlockSize)
    {
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        _blockSize = blockSize;
    }

    /// <summary>A block: Buffer[0..Length) holds whole lines (the last may lack its newline at end of file).</summary>
    public readonly record struct Block(byte[] Buffer, int Length);

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
                if (start > 0) { Array.Copy(buffer, 3, buffer, 0, filled - 3); filled -= 3; }
            }
            if (_eof) return new Block(buffer, filled);
            int lastNewline = buffer.AsSpan(searchFrom, filled - searchFrom).LastIndexOf((byte)'\n');
            if (lastNewline >= 0)
            {
                lastNewline += searchFrom;
                int rest = filled - lastNewline - 1;
                if (_carry.Length < rest) _carry = new byte[Math.Max(rest, 1024)];
                Array.Copy(buffer, lastNewline + 1, _carry, 0, rest);
                _carryLength = rest;
                return new Block(buffer, lastNewline + 1);
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
