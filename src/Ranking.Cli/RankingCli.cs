using System.CommandLine;
using Ranking.Cli.Commands;

namespace Ranking.Cli;

internal static class RankingCli
{
    /// <summary>The whole command tree; tests build it too and run it in-process.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("Ranking: learning to rank for .NET. Train, evaluate and compare rankers.");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(DataCommands.Create());
        // One line per command group; each lives in Commands/.
        root.Subcommands.Add(DatasetsCommands.Create());
        foreach (var command in TrainCommands.Create()) root.Subcommands.Add(command);
        root.Subcommands.Add(CompareCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(ClicksCommands.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(EmbedCommands.Create());
        return root;
    }
}
