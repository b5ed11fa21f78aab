using Ranking.Cli;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Ranking.Cli.Tests;

/// <summary>Runs the `ranking` command line in-process and captures what it prints.</summary>
public static class CliHarness
{
    private static readonly object Gate = new();

    public sealed record CliResult(int ExitCode, string Stdout, string Stderr);

    public static CliResult Run(params string[] args)
    {
        lock (Gate)
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            TextWriter oldOut = Console.Out, oldErr = Console.Error;
            Console.SetOut(stdout);
            Console.SetError(stderr);
            try
            {
                int code = CliRunner.Run(RankingCli.CreateRoot(), args, stderr);
                return new CliResult(code, stdout.ToString(), stderr.ToString());
            }
            finally
            {
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
            }
        }
    }
}

public class CliBasicsTests
{
    [Fact]
    public void UnknownCommandIsAUsageErrorWithExitCode2()
    {
        var result = CliHarness.Run("no-such-command");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("no-such-command", result.Stderr);
    }

    [Fact]
    public void VersionPrintsTheEngineVersion()
    {
        var result = CliHarness.Run("version");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.StartsWith("ranking ", result.Stdout);
    }
}
