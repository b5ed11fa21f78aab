using System.Globalization;

namespace Ranking.Data;

/// <summary>
/// The check every reader makes before it allocates the dense matrix: rows x features float32 values
/// plus labels and query ids must fit one .NET array and the caller's budget
/// (<see cref="DatasetReadOptions.MaxMemoryBytes"/>, the CLI's <c>--max-memory</c>). A stray huge feature
/// index ("1 qid:1 2000000000:1") otherwise asks for gigabytes and ends in an OutOfMemoryException.
/// </summary>
public static class MemoryBudget
{
    /// <summary>Bytes a dataset of this shape holds in memory (features, labels, row qids, offsets).</summary>
    public static long DatasetBytes(long rows, long featureCount) => rows * featureCount * 4 + rows * (4 + 8 + 4);

    /// <summary>Throws a <see cref="RankingDataException"/> naming the file when the shape cannot or may not be allocated.</summary>
    public static void Check(string? path, long rows, long featureCount, long? maxBytes)
    {
        if (rows * featureCount > Array.MaxLength)
            throw new RankingDataException(path, 0, 0,
                $"{rows} rows x {featureCount} features ({rows * featureCount} values) do not fit one array; a stray huge feature index? (fix the file, or fix the feature count and drop extra features)");
        long needed = DatasetBytes(rows, featureCount);
        if (maxBytes is long limit && needed > limit)
            throw new RankingDataException(path, 0, 0,
                $"{rows} rows x {featureCount} features need about {Format(needed)} in memory, more than the limit {Format(limit)} (--max-memory); nothing was allocated");
    }

    /// <summary>Parses "512M", "2G", "1.5GB", "100000" (bytes; K/M/G/T are powers of 1024).</summary>
    public static long Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToUpperInvariant();
        if (t.EndsWith('B')) t = t[..^1];
        long unit = 1;
        if (t.Length > 0 && "KMGT".Contains(t[^1]))
        {
            unit = t[^1] switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1L << 40 };
            t = t[..^1];
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value) || value <= 0 || value * unit > long.MaxValue)
            throw new FormatException($"'{text}' is not a memory size (e.g. 512M, 2G, 1000000).");
        return (long)(value * unit);
    }

    /// <summary>A size for messages: bytes below 1 MiB, else MiB or GiB with one decimal (binary units).</summary>
    public static string Format(long bytes) => bytes < 1L << 20 ? bytes.ToString(CultureInfo.InvariantCulture) + " bytes"
        : bytes >= 1L << 30
        ? (bytes / (double)(1L << 30)).ToString("F1", CultureInfo.InvariantCulture) + " GiB"
        : (bytes / (double)(1L << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB";
}
