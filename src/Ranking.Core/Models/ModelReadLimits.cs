namespace Ranking.Models;

/// <summary>
/// Bounds on what reading a model file may cost, checked before anything is inflated: a zip bomb, a zip of
/// thousands of entries or an entry whose declared size lies is refused with a <see cref="Ranking.Data.RankingDataException"/>
/// instead of exhausting memory. The defaults hold every model this engine trains by a wide margin (an MLP of
/// 136-256-128-1 is 0.2 MB, 1,000 LightGBM trees of 255 leaves ~40 MB); raise them for larger models through
/// <c>ModelFile.Load(path, catalog, limits)</c> or the CLI's <c>--max-model-size</c>.
/// </summary>
public sealed record ModelReadLimits
{
    /// <summary>The limits used when none are given.</summary>
    public static ModelReadLimits Default { get; } = new();

    /// <summary>Largest inflated size of one entry (default 256 MiB). The nested FastTree zip's entries are held to it too.</summary>
    public long MaxEntryBytes { get; init; } = 256L << 20;

    /// <summary>Largest inflated size of all entries together (default 512 MiB).</summary>
    public long MaxTotalBytes { get; init; } = 512L << 20;

    /// <summary>Most entries a zip may hold (default 64; a model file has 3, ML.NET's FastTree zip about 10).</summary>
    public int MaxEntries { get; init; } = 64;

    /// <summary>
    /// Largest ratio of inflated to compressed size (default 100) for an entry larger than
    /// <see cref="RatioExemptBytes"/>. Deflate reaches ~1000 on runs of one byte; model payloads compress 1-10x.
    /// </summary>
    public double MaxCompressionRatio { get; init; } = 100;

    /// <summary>Entries up to this inflated size (default 1 MiB) are not held to <see cref="MaxCompressionRatio"/>: they cannot exhaust memory.</summary>
    public long RatioExemptBytes { get; init; } = 1L << 20;

    /// <summary>Limits that allow entries (up to the largest .NET array) and totals of <paramref name="bytes"/> (the CLI's <c>--max-model-size</c>); other bounds keep their defaults.</summary>
    public static ModelReadLimits WithMaxSize(long bytes)
    {
        if (bytes <= 0) throw new ArgumentOutOfRangeException(nameof(bytes), "the model size limit must be positive.");
        return Default with { MaxEntryBytes = Math.Min(bytes, Array.MaxLength), MaxTotalBytes = Math.Max(bytes, Default.MaxTotalBytes) };
    }

    /// <summary>
    /// The limits of the model file being loaded on this flow of execution (<see cref="Default"/> outside
    /// <c>ModelFile.Load</c>). Payload loaders keep the catalog's one-argument signature, so a loader that opens a
    /// nested container (FastTree's ML.NET zip) reads its bounds here.
    /// </summary>
    public static ModelReadLimits InEffect => Ambient.Value ?? Default;

    internal static readonly AsyncLocal<ModelReadLimits?> Ambient = new();

    /// <summary>Throws <see cref="ArgumentException"/> for limits that make no sense (zero or negative bounds).</summary>
    public void Validate()
    {
        if (MaxEntryBytes <= 0 || MaxEntryBytes > Array.MaxLength) throw new ArgumentException($"MaxEntryBytes must be in 1..{Array.MaxLength}.");
        if (MaxTotalBytes <= 0) throw new ArgumentException("MaxTotalBytes must be positive.");
        if (MaxEntries <= 0) throw new ArgumentException("MaxEntries must be positive.");
        if (!(MaxCompressionRatio >= 1)) throw new ArgumentException("MaxCompressionRatio must be at least 1.");
        if (RatioExemptBytes < 0) throw new ArgumentException("RatioExemptBytes must not be negative.");
    }
}
