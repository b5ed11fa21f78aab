using System.CommandLine;
using System.Reflection;

namespace Ranking.Cli.Commands;

internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the engine's version.");
        command.SetAction(_ =>
        {
            var version = typeof(Ranking.Data.RankingDataset).Assembly.GetName().Version;
            Console.WriteLine($"ranking {version}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
