namespace Ranking.Data;

/// <summary>
/// Bad input: a file that cannot be read as what it claims to be. The message names the place
/// as <c>file:line:column: what is wrong</c> (or <c>file: byte N: ...</c> for binary files).
/// The CLI maps it to exit code 2 with no stack trace.
/// </summary>
public class RankingDataException : Exception
{
    /// <summary>Bad input described by <paramref name="message"/> alone (no file position known).</summary>
    public RankingDataException(string message) : base(message) { }
    /// <summary>Bad input described by <paramref name="message"/>, caused by <paramref name="inner"/>.</summary>
    public RankingDataException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Bad input at <paramref name="file"/>:<paramref name="line"/>:<paramref name="column"/> (1-based; 0 = not known), <paramref name="what"/> saying what is wrong.</summary>
    public RankingDataException(string? file, long line, int column, string what)
        : base(Format(file, line, column, what))
    {
        File = file;
        Line = line;
        Column = column;
        What = what;
    }

    /// <summary>The file the problem is in, or null for input that is not a file.</summary>
    public string? File { get; }
    /// <summary>1-based line, 0 when not known.</summary>
    public long Line { get; }
    /// <summary>1-based column, 0 when not known.</summary>
    public int Column { get; }
    /// <summary>What is wrong, without the place; null when the exception was made from a whole message.</summary>
    public string? What { get; }

    /// <summary>The message form <c>file:line:column: what</c>, leaving out an unknown line or column (0) and writing <c>&lt;input&gt;</c> for no file.</summary>
    public static string Format(string? file, long line, int column, string what)
    {
        string where = file ?? "<input>";
        if (line > 0) where += $":{line}";
        if (line > 0 && column > 0) where += $":{column}";
        return $"{where}: {what}";
    }
}
