using System.IO.MemoryMappedFiles;

namespace Ranking.Data;

/// <summary>
/// The feature block of a <c>.rkds</c> file mapped read-only into memory: the dataset's features are the
/// file's pages (the operating system's page cache), not a managed copy. Pages are read from disk when first
/// touched and count as the process's file-backed resident memory while mapped; the kernel can drop them
/// under pressure and other processes mapping the same file share them.
/// The pointer stays valid until <see cref="Dispose"/>: the view's handle is referenced from mapping to
/// Dispose, so a mapping whose dataset is dropped without Dispose is never unmapped under a span still in
/// use (it lasts until the process ends).
/// </summary>
internal sealed unsafe class FeatureMapping : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly float* _values;
    private int _disposed;

    /// <summary>Maps <paramref name="count"/> floats starting at byte <paramref name="offset"/> of the open file (closed with the mapping).</summary>
    public FeatureMapping(FileStream stream, long offset, long count)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count));
        _file = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
            HandleInheritability.None, leaveOpen: false);
        try
        {
            _view = _file.CreateViewAccessor(offset, count * sizeof(float), MemoryMappedFileAccess.Read);
            byte* start = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            // The view starts at the page holding `offset`; PointerOffset is the distance to it.
            _values = (float*)(start + _view.PointerOffset);
        }
        catch
        {
            _view?.Dispose();
            _file.Dispose();
            throw;
        }
        Count = count;
    }

    /// <summary>Floats in the mapped block.</summary>
    public long Count { get; }

    /// <summary>True once <see cref="Dispose"/> has unmapped the block.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary><paramref name="length"/> floats from float <paramref name="start"/>, bounds-checked (the memory is not a managed array).</summary>
    public ReadOnlySpan<float> Slice(long start, int length)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (start < 0 || length < 0 || start + length > Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"floats [{start}, {start + length}) are outside the mapped {Count}.");
        return new ReadOnlySpan<float>(_values + start, length);
    }

    /// <summary>Unmaps the block and closes the file; spans taken before must not be used after.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
