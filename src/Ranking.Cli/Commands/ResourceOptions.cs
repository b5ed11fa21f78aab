using System.CommandLine;
using Ranking.Data;
using Ranking.Models;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>--max-memory SIZE</c> on the commands that read datasets: a dataset whose dense matrix would need
/// more (estimated from the parsed shape, or a .rkds header) is refused with exit 2 before it is allocated.
/// </summary>
internal static class ResourceOptions
{
    public static Option<string?> MaxMemory() => new("--max-memory")
    {
        Description = "Refuse (exit 2) a dataset whose in-memory size (rows x features x 4 bytes + per-row arrays) exceeds this, e.g. 512M, 4G.",
    };

    public static long? ParseMaxMemory(string? text)
    {
        if (text is null) return null;
        try { return MemoryBudget.Parse(text); }
        catch (FormatException ex) { throw new UsageException("--max-memory: " + ex.Message); }
    }

    /// <summary><c>--max-model-size SIZE</c>: raises the bounds a model file's entries may inflate to (see <see cref="ModelReadLimits"/>).</summary>
    public static Option<string?> MaxModelSize() => new("--max-model-size")
    {
        Description = "Largest size a model file's entry may inflate to (default 256M; totals at least 512M), e.g. 1G. Files over it are refused with exit 2.",
    };

    /// <summary>The limits for <c>--max-model-size</c> (the defaults without it).</summary>
    public static ModelReadLimits ParseModelLimits(string? text)
    {
        if (text is null) return ModelReadLimits.Default;
        try { return ModelReadLimits.WithMaxSize(MemoryBudget.Parse(text)); }
        catch (Exception ex) when (ex is FormatException or ArgumentOutOfRangeException) { throw new UsageException("--max-model-size: " + ex.Message); }
    }
}
