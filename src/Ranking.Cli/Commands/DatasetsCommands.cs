using System.CommandLine;
using System.Text.Json;
using Ranking.Cli.Datasets;
using Spectre.Console;

namespace Ranking.Cli.Commands;

/// <summary>`ranking datasets list|fetch|prepare`: the public LTR datasets of datasets/catalog.json.</summary>
internal static class DatasetsCommands
{
    public static Command Create()
    {
        var command = new Command("datasets", "List, fetch and prepare public learning-to-rank datasets (datasets/catalog.json).");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateFetch());
        command.Subcommands.Add(CreatePrepare());
        command.Subcommands.Add(CreateSynthetic());
        return command;
    }

    internal static Option<string?> RootOption() => new("--root")
    {
        Description = "Data root holding one folder per dataset (default: $RANKING_DATASETS or ~/.ranking/datasets).",
    };

    private static Command CreateList()
    {
        var root = RootOption();
        var json = SharedOptions.Json("Print the catalogue as JSON.");
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
                Console.Out.WriteLine(JsonSerializer.Serialize(rows, CliJson.SerializerOptions(indented: true, JsonNamingPolicy.CamelCase)));
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

    private static Command CreatePrepare()
    {
        var name = new Argument<string>("name") { Description = "Dataset name (see 'ranking datasets list')." };
        var root = RootOption();
        var force = new Option<bool>("--force") { Description = "Convert again even where a .rkds file is newer than its text." };
        var command = new Command("prepare", "Verify a fetched dataset (files, checksums where known), rebuild LETOR folds from Fold1 where needed, convert every split to .rkds.") { name, root, force };
        command.SetAction(pr =>
        {
            var entry = DatasetCatalog.LoadEmbedded().Get(pr.GetValue(name)!);
            var store = DatasetStore.Resolve(pr.GetValue(root));
            store.Prepare(entry, Console.Out, pr.GetValue(force));
            Console.Out.WriteLine($"ready: ranking compare --folds {store.DirectoryOf(entry)} --rankers ...   (or datasets/evaluate.sh {entry.Name})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateSynthetic()
    {
        var outDir = new Option<string>("--out") { Description = "Folder to write Fold1..FoldK into.", Required = true };
        var preset = new Option<string>("--preset") { Description = "Synthetic preset: small | mslr-like.", DefaultValueFactory = _ => "small" };
        var queries = new Option<int>("--queries") { Description = "Queries in all (split into K equal parts).", DefaultValueFactory = _ => 500 };
        var folds = new Option<int>("--folds") { Description = "Parts and folds (train on K-2 parts, validate on one, test on one).", DefaultValueFactory = _ => 5 };
        var seed = SharedOptions.GeneratorSeed("Generator seed.");
        var command = new Command("synthetic", "Write K rotated folds (.rkds) of seeded synthetic data: the evaluation matrix's generated dataset.") { outDir, preset, queries, folds, seed };
        command.SetAction(pr =>
        {
            int k = pr.GetValue(folds), n = pr.GetValue(queries);
            if (k < 3) throw new UsageException("--folds must be at least 3 (train, valid and test parts).");
            if (n < k) throw new UsageException("--queries must be at least --folds.");
            Ranking.Data.SyntheticSet all;
            try { all = Ranking.Data.SyntheticGenerator.Generate(new Ranking.Data.SyntheticOptions { Preset = pr.GetValue(preset)!, Queries = n, Seed = pr.GetValue(seed) }); }
            catch (ArgumentException ex) { throw new UsageException(ex.Message); }
            var parts = Enumerable.Range(0, k).Select(p => Enumerable.Range(p * n / k, (p + 1) * n / k - p * n / k).ToArray()).ToArray();
            for (int f = 0; f < k; f++)
            {
                string dir = Path.Combine(pr.GetValue(outDir)!, $"Fold{f + 1}");
                var train = Enumerable.Range(0, k - 2).SelectMany(i => parts[(f + i) % k]).ToArray();
                Ranking.Data.RkdsFile.Write(all.Data.Materialize(train), Path.Combine(dir, "train.rkds"));
                Ranking.Data.RkdsFile.Write(all.Data.Materialize(parts[(f + k - 2) % k]), Path.Combine(dir, "vali.rkds"));
                Ranking.Data.RkdsFile.Write(all.Data.Materialize(parts[(f + k - 1) % k]), Path.Combine(dir, "test.rkds"));
            }
            Console.Out.WriteLine($"wrote {k} folds of '{pr.GetValue(preset)}' ({n} queries, seed {pr.GetValue(seed)}) to {Path.GetFullPath(pr.GetValue(outDir)!)}");
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
