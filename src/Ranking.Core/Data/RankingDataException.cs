namespace Ranking.Data;

/// <summary>
/// Bad input: a file that cannot be read as what it claims to be. The message names the place
/// as <c>file:line:column: what is wrong</c> (or <c>file: byte N: ...</c> for binary files).
/// The CLI maps it to exit code 2 with no stack trace.
/// </summary>
public class RankingDataException : Exception
{
    public RankingDataException(string message) : base(message) { }
    public RankingDataException(string message, Exception inner) : base(message, inner) { }

    public RankingDataException(string? file, long line, int column, string what)
        : base(Format(file, line, column, what))
    {
        File = file;
        Line = line;
        Column = column;
        What = what;
    }

    public string? File { get; }
    /// <summary>1-based line, 0 when not known.</summary>
    public long Line { get; }
    /// <summary>1-based column, 0 when not known.</summary>
    public int Column { get; }
    public string? What { get; }

    public static string Format(string? file, long line, int column, string what)
    {
        string where = file ?? "<input>";
        if (line > 0) where += $":{line}";
        if (line > 0 && column > 0) where += $":{column}";
        return $"{where}: {what}";
    }
}
