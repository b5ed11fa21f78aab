using System.CommandLine;
using Ranking.Data;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>--max-memory SIZE</c> on the commands that read datasets: a dataset whose dense matrix would need
/// more (estimated from the parsed shape, or a .rkds header) is refused with exit 2 before it is allocated.
/// </summary>
public static class ResourceOptions
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
}
