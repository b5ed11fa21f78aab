using System.CommandLine;
using System.Text.Json;
using Ranking.Cli.Datasets;
using Spectre.Console;

namespace Ranking.Cli.Commands;

/// <summary>`ranking datasets list|fetch|prepare`: the public LTR datasets of datasets/catalog.json.</summary>
public static class DatasetsCommands
{
    public static Command Create()
    {
        var command = new Command("datasets", "List, fetch and prepare public learning-to-rank datasets (datasets/catalog.json).");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateFetch());
        return command;
    }

    internal static Option<string?> RootOption() => new("--root")
    {
        Description = "Data root holding one folder per dataset (default: $RANKING_DATASETS or ~/.ranking/datasets).",
    };

    private static Command CreateList()
    {
        var root = RootOption();
        var json = new Option<bool>("--json") { Description = "Print the catalogue as JSON." };
        var command = new Command("list", "List the catalogue and which datasets are already on this machine.") { root, json };
        command.SetAction(pr =>
        {
            var catalog = DatasetCatalog.LoadEmbedded();
            var store = DatasetStore.Resolve(pr.GetValue(root));
            if (pr.GetValue(json))
            {
                var rows = catalog.Datasets.Select(d => new
                {
                    d.Name, d.Title, d.Homepage, d.DownloadUrl, d.ManualDownload, d.Features, d.Grades, d.Queries, d.Rows,
                    d.Folds, d.Licence, Local = store.PresentFolds(d),
                });
                Console.Out.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumns("name", "queries", "rows", "features", "grades", "folds", "download", "here");
            foreach (var d in catalog.Datasets)
            {
                var present = store.PresentFolds(d);
                table.AddRow(Markup.Escape(d.Name), d.Queries.ToString("N0"), d.Rows.ToString("N0"), d.Features.ToString(), d.Grades,
                    d.Folds.Count.ToString(), d.ManualDownload || d.DownloadUrl is null ? "manual" : "auto",
                    present.Count == 0 ? "-" : $"{present.Count} fold(s)");
            }
            var console = ConsoleOutput.Create();
            console.Write(table);
            console.WriteLine($"data root: {store.Root}");
            console.WriteLine("licences and sources: datasets/README.md");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateFetch()
    {
        var name = new Argument<string>("name") { Description = "Dataset name (see 'ranking datasets list')." };
        var from = new Option<string?>("--from") { Description = "An archive (.zip, .tar.gz, .tgz, .tar) or a folder you already have." };
        var root = RootOption();
        var command = new Command("fetch", "Download a dataset, or unpack/copy one you already have (--from), into the data root.") { name, from, root };
        command.SetAction(pr =>
        {
            var entry = DatasetCatalog.LoadEmbedded().Get(pr.GetValue(name)!);
            var store = DatasetStore.Resolve(pr.GetValue(root));
            store.Fetch(entry, pr.GetValue(from), Console.Out);
            Console.Out.WriteLine($"next: ranking datasets prepare {entry.Name}{(pr.GetValue(root) is { } r ? $" --root {r}" : "")}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
