using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Ranking.Embeddings;
using Spectre.Console;

namespace Ranking.Cli.Commands;

/// <summary>
/// Pair files in the <c>embed</c> commands: <c>embed train --pairs PAIRS --queries QUERIES --items ITEMS [--towers 1|2]
/// [--valid-pairs HELD]</c> trains two towers (a query tower and an item tower, in-batch contrast between them) or one
/// shared encoder; <c>embed eval --pairs</c> reports Recall@k and MRR of each pair's chosen item among all items;
/// <c>--tower query|item</c> picks a two-tower model's tower in <c>encode</c> (and <c>export</c>).
/// </summary>
internal static partial class EmbedCommands
{
    /// <summary>The pair options of <c>embed train</c>, declared once.</summary>
    private sealed class PairTrainOptions
    {
        public Option<string?> Pairs { get; } = new("--pairs") { Description = "Anchor-positive pairs: 'query_row item_row' per line (0-based rows of --queries and --items)." };
        public Option<string?> Queries { get; } = new("--queries") { Description = "With --pairs: the query (anchor) set (CSV/TSV, a class column optional; SVMlight; IDX)." };
        public Option<string?> Items { get; } = new("--items") { Description = "With --pairs: the item (candidate) set; every item is a retrieval target." };
        public Option<string?> ValidPairs { get; } = new("--valid-pairs") { Description = "With --pairs: held-out pairs over the same sets: Recall@1 and MRR of the chosen item among all items after each epoch." };
        public Option<int?> Towers { get; } = new("--towers") { Description = "With --pairs: 2 = a query tower and an item tower (default); 1 = one shared encoder (the sets need one feature count)." };

        public void AddTo(Command command)
        {
            command.Options.Add(Pairs); command.Options.Add(Queries); command.Options.Add(Items); command.Options.Add(ValidPairs); command.Options.Add(Towers);
        }

        /// <summary>True when any pair option is on the command line.</summary>
        public bool Given(ParseResult parse) =>
            parse.GetValue(Pairs) is not null || parse.GetValue(Queries) is not null || parse.GetValue(Items) is not null
            || parse.GetValue(ValidPairs) is not null || parse.GetValue(Towers) is not null;
    }

    /// <summary>Reads the query and item sets of pair files (a class column is optional: each item is then its own class).</summary>
    private static (LabelledItems Queries, LabelledItems Items) ReadPairSets(string? queriesPath, string? itemsPath, string? classColumn, int? limit)
    {
        if (queriesPath is null || itemsPath is null) throw new UsageException("--pairs needs --queries QUERIES and --items ITEMS (the sets its rows index).");
        if (limit is < 1) throw new UsageException("--limit must be at least 1.");
        return (LabelledItemsReader.Read(queriesPath, classColumn, limit, classOptional: true), LabelledItemsReader.Read(itemsPath, classColumn, limit, classOptional: true));
    }

    private static int TrainPairs(ParseResult parse, PairTrainOptions pairOptions, EmbeddingTrainerOptions options, string output, string? classColumn, int? limit, bool asJson,
        Ranking.Compute.IComputeBackend compute)
    {
        string pairsPath = parse.GetValue(pairOptions.Pairs) ?? throw new UsageException("--queries, --items, --valid-pairs and --towers go with --pairs PAIRS.");
        if (options.PerClass is not null) throw new UsageException("--per-class is for class-labelled items; a pair batch is --batch pairs (one shared encoder: two items per pair).");
        int towers = parse.GetValue(pairOptions.Towers) ?? 2;
        if (towers is not (1 or 2)) throw new UsageException($"--towers takes 1 (one shared encoder) or 2 (a query tower and an item tower), got {towers}.");
        var (queries, items) = ReadPairSets(parse.GetValue(pairOptions.Queries), parse.GetValue(pairOptions.Items), classColumn, limit);
        var train = PairSet.Read(pairsPath, queries, items);
        var valid = parse.GetValue(pairOptions.ValidPairs) is { } vp ? PairSet.Read(vp, queries, items) : null;
        var console = ConsoleOutput.Create();
        var lossOptions = options.Loss;
        if (!asJson)
            console.WriteLine($"{train.Count} pairs over {queries.Count} queries ({queries.Dimension} features) and {items.Count} items ({items.Dimension} features); "
                + $"{(towers == 2 ? "two towers" : "one shared encoder")}, {lossOptions.Loss}{(lossOptions.LogQCorrection ? " (log-Q corrected)" : "")}, {lossOptions.Distance.Name()}, "
                + $"batch {Math.Min(options.BatchSize, train.Count)} pairs{(valid is null ? "" : $", {valid.Count} held-out pairs")}; backend: {compute.Description}");
        // One shared encoder counts items (a pair is two of them); two towers count pairs.
        double itemsPerPair = towers == 1 ? 2 : 1;
        void Progress(EmbeddingTrainingEvent e)
        {
            if (asJson) return;
            if (e.Warning is not null) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(e.Warning)}");
            else console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {e.Epoch}: loss {e.Loss:F4}{(double.IsNaN(e.PrecisionAt1) ? "" : $", held-out Recall@1 {e.PrecisionAt1:F4}, MRR {e.Mrr:F4}")}, {e.Samples / itemsPerPair / Math.Max(e.Seconds, 1e-9):F0} pairs/s"));
        }
        var model = towers == 2
            ? Usage(() => PairTrainer.TrainTwoTowers(train, options, valid, Progress, backend: compute))
            : Usage(() => PairTrainer.TrainShared(train, options, valid, Progress, compute));
        model.Save(output);
        if (asJson)
        {
            var events = new JsonArray();
            foreach (var e in model.Events)
                events.Add(new JsonObject
                {
                    ["epoch"] = e.Epoch, ["loss"] = Finite(e.Loss), ["recall_at_1"] = Finite(e.PrecisionAt1), ["mrr"] = Finite(e.Mrr),
                    ["seconds"] = e.Seconds, ["pairs_per_second"] = e.Samples / itemsPerPair / Math.Max(e.Seconds, 1e-9), ["warning"] = e.Warning,
                });
            Console.Out.WriteLine(new JsonObject
            {
                ["model"] = output, ["backend"] = compute.Description, ["towers"] = towers, ["pairs"] = train.Count, ["valid_pairs"] = valid?.Count, ["collapsed"] = model.Collapsed, ["events"] = events,
            }.ToJsonString());
        }
        else console.WriteLine($"wrote {output} ({(towers == 2 ? "two towers" : "one shared encoder")}){(model.Collapsed ? " (training stopped on collapse)" : "")}");
        return ExitCodes.Ok;
    }

    /// <summary><c>embed synth-pairs</c>: the planted asymmetric relation of <see cref="SyntheticPairs"/> as files.</summary>
    private static Command CreateSynthPairs()
    {
        var items = new Option<int>("--items") { Description = "Items in the catalogue.", DefaultValueFactory = _ => 200 };
        var queries = new Option<int>("--queries") { Description = "Queries (one pair each).", DefaultValueFactory = _ => 5000 };
        var heldOut = new Option<double>("--held-out") { Description = "Share of the queries whose pairs go to the held-out file.", DefaultValueFactory = _ => 0.2 };
        var latent = new Option<int>("--latent") { Description = "Dimension of the hidden latent space (even).", DefaultValueFactory = _ => 4 };
        var queryFeatures = new Option<int>("--query-features") { Description = "Features of a query.", DefaultValueFactory = _ => 8 };
        var itemFeatures = new Option<int>("--item-features") { Description = "Features of an item.", DefaultValueFactory = _ => 8 };
        var separateViews = new Option<bool>("--separate-views") { Description = "Queries and items through different feature maps (their widths may then differ)." };
        var popularity = new Option<double>("--popularity") { Description = "Zipf exponent of the items' popularity prior (0: none).", DefaultValueFactory = _ => 0.0 };
        var spread = new Option<double>("--choice-spread") { Description = "0: a query chooses the item nearest its rotated latent point; > 0: sampled from a softmax of that spread times the popularity.", DefaultValueFactory = _ => 0.0 };
        var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--out") { Description = "Prefix: writes PREFIX-queries.csv, PREFIX-items.csv, PREFIX-train.pairs and PREFIX-held-out.pairs.", Required = true };
        var command = new Command("synth-pairs", "Generate seeded pairs with a planted asymmetric relation (a query chooses the item nearest its rotated latent point).")
        {
            items, queries, heldOut, latent, queryFeatures, itemFeatures, separateViews, popularity, spread, seed, output,
        };
        command.SetAction(parse =>
        {
            var set = Usage(() => SyntheticPairs.Generate(new SyntheticPairOptions
            {
                Items = parse.GetValue(items), Queries = parse.GetValue(queries), HeldOut = parse.GetValue(heldOut), LatentDimension = parse.GetValue(latent),
                QueryFeatures = parse.GetValue(queryFeatures), ItemFeatures = parse.GetValue(itemFeatures), SameView = !parse.GetValue(separateViews),
                Popularity = parse.GetValue(popularity), ChoiceSpread = parse.GetValue(spread), Seed = (ulong)parse.GetValue(seed),
            }));
            string prefix = parse.GetValue(output)!;
            Data.AtomicFile.WriteAllText($"{prefix}-queries.csv", Csv(set.Queries));
            Data.AtomicFile.WriteAllText($"{prefix}-items.csv", Csv(set.Items));
            Data.AtomicFile.WriteAllText($"{prefix}-train.pairs", Pairs(set.Train));
            Data.AtomicFile.WriteAllText($"{prefix}-held-out.pairs", Pairs(set.HeldOut));
            Console.Out.WriteLine($"wrote {prefix}-queries.csv ({set.Queries.Count} x {set.Queries.Dimension}), {prefix}-items.csv ({set.Items.Count} x {set.Items.Dimension}), "
                + $"{prefix}-train.pairs ({set.Train.Count}) and {prefix}-held-out.pairs ({set.HeldOut.Count})");
            return ExitCodes.Ok;
        });
        return command;

        static string Csv(LabelledItems set)
        {
            var sb = new StringBuilder(string.Join(",", Enumerable.Range(1, set.Dimension).Select(f => $"f{f}"))).Append('\n');
            for (int i = 0; i < set.Count; i++)
            {
                var row = set.Item(i);
                for (int f = 0; f < row.Length; f++) sb.Append(f == 0 ? "" : ",").Append(row[f].ToString("R", CultureInfo.InvariantCulture));
                sb.Append('\n');
            }
            return sb.ToString();
        }

        static string Pairs(IReadOnlyList<(int Query, int Item)> pairs)
        {
            var sb = new StringBuilder("# query_row item_row\n");
            foreach (var (q, i) in pairs) sb.Append(CultureInfo.InvariantCulture, $"{q}\t{i}\n");
            return sb.ToString();
        }
    }

    private static Option<string?> TowerOption(string what) => new("--tower") { Description = $"A two-tower model: the tower that {what} (query|item)." };

    /// <summary>The tower <c>--tower</c> names: required for a two-tower model, refused for a one-tower model.</summary>
    private static EmbeddingTower? ResolveTower(EmbeddingModel model, string modelPath, string? tower)
    {
        if (model.IsTwoTower && tower is null) throw new UsageException($"{modelPath}: a two-tower model: give --tower query or --tower item.");
        if (!model.IsTwoTower && tower is not null) throw new UsageException($"{modelPath}: one shared encoder, no towers: drop --tower.");
        return tower is null ? null : Usage(() => EmbeddingTowers.Parse(tower));
    }

    /// <summary><c>embed eval --pairs</c>: each pair's query searches every item; Recall@k and MRR of the chosen item.</summary>
    private static int EvalPairs(EmbeddingModel? model, EmbeddingDistance rawDistance, string pairsPath, string? queriesPath, string? itemsPath,
        string? classColumn, int? limit, int? k, int threads, bool asJson, Ranking.Compute.IComputeBackend compute)
    {
        var (queries, items) = ReadPairSets(queriesPath, itemsPath, classColumn, limit);
        var pairs = PairSet.Read(pairsPath, queries, items);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var options = new RetrievalOptions { K = k, RecallAt = PairRetrieval.DefaultRecallAt, KnnVote = 1, Threads = threads, Backend = compute };
        RetrievalReport report;
        if (model is not null) report = PairRetrieval.Evaluate(model, pairs, options);
        else
        {
            if (queries.Dimension != items.Dimension)
                throw new Data.RankingDataException($"{items.Source}: {items.Dimension} features, the queries have {queries.Dimension}: raw features compare only at one width");
            var q = (float[])pairs.QueryFeatures().Clone();
            var r = (float[])items.Features.Clone();
            if (rawDistance.NeedsNormalisedInput())
            {
                EmbeddingDistances.NormaliseRows(q, pairs.Count, queries.Dimension, new float[pairs.Count]);
                EmbeddingDistances.NormaliseRows(r, items.Count, items.Dimension, new float[items.Count]);
            }
            report = PairRetrieval.Evaluate(q, r, pairs, queries.Dimension, rawDistance, options);
        }
        double seconds = clock.Elapsed.TotalSeconds;
        if (asJson)
        {
            var o = new JsonObject { ["precision_at_1"] = report.PrecisionAt1, ["mrr"] = report.Mrr, ["map_at_r"] = report.MapAtR };
            foreach (var (at, value) in report.RecallAt) o[$"recall_at_{at}"] = value;
            o["queries"] = report.Queries; o["items"] = items.Count; o["k"] = report.K; o["mode"] = "pairs";
            o["towers"] = model is null ? null : model.IsTwoTower ? 2 : 1; o["distance"] = report.Distance.Name(); o["seconds"] = seconds;
            o["backend"] = compute.Description;
            Console.Out.WriteLine(o.ToJsonString());
        }
        else
        {
            var console = ConsoleOutput.Create();
            console.WriteLine($"{report.Queries} pairs, each query against {items.Count} items, k = {report.K}, {report.Distance.Name()}"
                + $"{(model is null ? ", raw features" : model.IsTwoTower ? ", query tower / item tower" : ", one shared encoder")}, {seconds:F1} s; backend: {compute.Description}");
            var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
            foreach (var (at, value) in report.RecallAt) table.AddRow($"Recall@{at}", value.ToString("F4", CultureInfo.InvariantCulture));
            table.AddRow($"MRR (within {report.K})", report.Mrr.ToString("F4", CultureInfo.InvariantCulture));
            console.Write(table);
        }
        return ExitCodes.Ok;
    }
}
