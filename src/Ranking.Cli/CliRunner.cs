using System.CommandLine;
using Ranking.Data;

namespace Ranking.Cli;

/// <summary>Exit codes of every command.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int InternalFault = 1;
    public const int BadInput = 2;
}

/// <summary>
/// Bad usage or bad input found by a command itself (a flag combination that makes no sense, a missing
/// file): exit code 2 with the message alone.
/// </summary>
internal sealed class UsageException(string message) : Exception(message);

internal static class CliRunner
{
    /// <summary>
    /// Parses and runs a command line, turning exceptions into exit codes: bad input and usage errors
    /// give exit code 2 and one line on stderr, anything else exit code 1 (with the stack trace only when
    /// RANKING_DEBUG is set).
    /// </summary>
    public static int Run(RootCommand root, string[] args, TextWriter? stderr = null)
    {
        stderr ??= Console.Error;
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) stderr.WriteLine($"ranking: {error.Message}");
            stderr.WriteLine("Run 'ranking --help' for usage.");
            return ExitCodes.BadInput;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (IsBadInput(ex))
        {
            stderr.WriteLine($"ranking: {Unwrap(ex).Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception ex)
        {
            stderr.WriteLine($"ranking: internal error: {Unwrap(ex).Message}");
            if (Environment.GetEnvironmentVariable("RANKING_DEBUG") is not null) stderr.WriteLine(ex);
            return ExitCodes.InternalFault;
        }
    }

    private static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } agg) ex = agg.InnerExceptions[0];
        return ex;
    }

    public static bool IsBadInput(Exception ex)
    {
        ex = Unwrap(ex);
        return ex is RankingDataException or UsageException or FileNotFoundException or DirectoryNotFoundException
            or InvalidDataException or FormatException;
    }
}
