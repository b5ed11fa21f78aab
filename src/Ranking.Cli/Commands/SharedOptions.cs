using System.CommandLine;

namespace Ranking.Cli.Commands;

/// <summary>
/// The options many commands share, declared once (name, type, default); a command passes only the line
/// that says what the option means for it. (--backend: <see cref="BackendOption"/>; --max-memory: <see cref="ResourceOptions"/>.)
/// </summary>
internal static class SharedOptions
{
    /// <summary>--json: one JSON object on stdout (written by <see cref="CliJson"/>) instead of text.</summary>
    public static Option<bool> Json(string description = "Print one JSON object instead of a table.") => new("--json") { Description = description };

    /// <summary>--seed of a command's random draws (rankers, bootstrap), 42 by default.</summary>
    public static Option<int> Seed(string description) => new("--seed") { Description = description, DefaultValueFactory = _ => DefaultSeed };

    /// <summary>--seed of the data generators (64-bit: the synthetic generator's xoshiro256** seed), 42 by default.</summary>
    public static Option<ulong> GeneratorSeed(string description) => new("--seed") { Description = description, DefaultValueFactory = _ => DefaultSeed };

    /// <summary>--threads: worker threads, -1 = all cores.</summary>
    public static Option<int> Threads(string description = "Worker threads (-1 = all cores).") => new("--threads") { Description = description, DefaultValueFactory = _ => -1 };

    /// <summary>The seed every command starts from unless told otherwise.</summary>
    public const int DefaultSeed = 42;
}
