using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Ranking.Data;
using Ranking.Embeddings;
using Spectre.Console;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>ranking embed train|eval|encode|search|synth</c>: metric learning proper. Train an encoder with a batch
/// loss and a miner (optionally a cross-batch memory), evaluate retrieval (P@1, R-precision, MAP@R, Recall@k,
/// MRR, kNN accuracy, NMI) of a model or of raw features, write embeddings, search neighbours, and generate the
/// seeded many-class synthetic set. Data: IDX images (labels found beside them), CSV/TSV with a class column, SVMlight.
/// </summary>
internal static partial class EmbedCommands
{
    /// <summary>The <c>embed</c> command group.</summary>
    public static Command Create()
    {
        var embed = new Command("embed", "Metric learning: train encoders with batch losses and miners, evaluate retrieval, search neighbours.");
        embed.Subcommands.Add(CreateTrain());
        embed.Subcommands.Add(CreateEval());
        embed.Subcommands.Add(CreateEncode());
        embed.Subcommands.Add(CreateSearch());
        embed.Subcommands.Add(CreateSynth());
        embed.Subcommands.Add(CreateSynthPairs());
        embed.Subcommands.Add(CreateReport());
        return embed;
    }

    private static Option<string?> ClassColumn() => new("--class-column") { Description = "CSV/TSV: the header name of the class column (default: class/label/target/y/identity)." };
    private static Option<int?> Limit() => new("--limit") { Description = "Read only the first N items of each file (quick runs)." };
    private static Option<int> Threads() => new("--threads") { Description = "Worker threads (-1 = all cores).", DefaultValueFactory = _ => -1 };
    private static Option<bool> Json() => new("--json") { Description = "Print one JSON object instead of tables." };

    private static LabelledItems Read(string path, string? classColumn, int? limit)
    {
        if (limit is < 1) throw new UsageException("--limit must be at least 1.");
        return LabelledItemsReader.Read(path, classColumn, limit);
    }

    private static T Usage<T>(Func<T> f)
    {
        try { return f(); }
        catch (ArgumentException ex) { throw new UsageException(ex.Message); }
    }

    private static Command CreateTrain()
    {
        var data = new Option<string?>("--data") { Description = "Training items (IDX images, CSV/TSV with a class column, SVMlight); or train on pairs with --pairs." };
        var valid = new Option<string?>("--valid") { Description = "Validation items: MAP@R (leave-one-out) after each epoch." };
        var pairOptions = new PairTrainOptions();
        var loss = new Option<string>("--loss") { Description = $"Batch loss: {string.Join("|", BatchLossOptions.LossNames)}.", DefaultValueFactory = _ => "supcon" };
        var miner = new Option<string>("--miner") { Description = $"Miner: {string.Join("|", BatchLossOptions.MinerNames)}.", DefaultValueFactory = _ => "all" };
        var distance = new Option<string>("--distance") { Description = $"Distance: {string.Join("|", EmbeddingDistances.Names)}.", DefaultValueFactory = _ => "cosine" };
        var reducer = new Option<string?>("--reducer") { Description = "Reducer: mean|nonzero|anchor|sum (default: nonzero for contrastive and triplet, sum for proxy-anchor, mean otherwise)." };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training items.", DefaultValueFactory = _ => 5 };
        var batch = new Option<int>("--batch") { Description = "Items per batch.", DefaultValueFactory = _ => 256 };
        var perClass = new Option<int?>("--per-class") { Description = "K, items of one class per batch (P = batch / K classes)." };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths, comma-separated; 'none' = a linear projection.", DefaultValueFactory = _ => "256" };
        var dim = new Option<int>("--dim") { Description = "Embedding dimension.", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "Adam's learning rate.", DefaultValueFactory = _ => 1e-3 };
        var seed = new Option<int>("--seed") { Description = "Seed of weights, batches and random mining.", DefaultValueFactory = _ => 42 };
        var memory = new Option<int>("--memory") { Description = "Cross-batch memory entries (0 = none).", DefaultValueFactory = _ => 0 };
        var margin = new Option<float?>("--margin") { Description = "Triplet margin and the semi-hard window (default 0.1)." };
        var temperature = new Option<float?>("--temperature") { Description = "Softmax temperature of supcon/ntxent/sampled-softmax (default 0.1)." };
        var posMargin = new Option<float?>("--pos-margin") { Description = "Contrastive positive margin (default 0 for distances, 1 for similarities)." };
        var negMargin = new Option<float?>("--neg-margin") { Description = "Contrastive negative margin (default 1 for distances, 0.5 for similarities)." };
        var softMargin = new Option<bool>("--soft-margin") { Description = "Triplet loss in its soft-margin form log(1 + exp(d_ap - d_an))." };
        var noNormalise = new Option<bool>("--no-normalise") { Description = "Do not L2-normalise the embeddings (cosine always does)." };
        var maxBatches = new Option<int?>("--max-batches") { Description = "Cap the batches of an epoch (quick runs)." };
        var proxyNegatives = new Option<int>("--proxy-negatives") { Description = "Proxy losses: negative proxies drawn per batch besides the batch's own classes (sampled softmax with the log-Q correction, or NCE); 0 = every class (the full softmax).", DefaultValueFactory = _ => 0 };
        var proxyAlpha = new Option<float>("--proxy-alpha") { Description = "proxy-anchor's scale alpha (its margin delta is --margin).", DefaultValueFactory = _ => 32f };
        var proxyLr = new Option<double>("--proxy-lr-scale") { Description = "Proxy losses: the proxies' learning rate as a multiple of --lr.", DefaultValueFactory = _ => 1.0 };
        var output = new Option<string>("--out") { Description = "Model file to write.", Required = true };
        var classColumn = ClassColumn(); var limit = Limit(); var threads = Threads(); var json = Json(); var backend = BackendOption.Create();
        var command = new Command("train", "Train an encoder with a batch loss, a miner and optionally a cross-batch memory; write a model file.")
        {
            data, valid, loss, miner, distance, reducer, epochs, batch, perClass, hidden, dim, lr, seed, memory, margin, temperature,
            posMargin, negMargin, softMargin, noNormalise, maxBatches, proxyNegatives, proxyAlpha, proxyLr, output, classColumn, limit, threads, json, backend,
        };
        pairOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var lossOptions = Usage(() =>
            {
                var o = new BatchLossOptions
                {
                    Loss = parse.GetValue(loss)!, Miner = parse.GetValue(miner)!, Distance = EmbeddingDistances.Parse(parse.GetValue(distance)!),
                    Reducer = parse.GetValue(reducer) switch
                    {
                        null => null, "mean" => LossReducer.Mean, "nonzero" => LossReducer.MeanNonZero, "anchor" => LossReducer.PerAnchor, "sum" => LossReducer.Sum,
                        var r => throw new ArgumentException($"unknown reducer '{r}'; known: mean, nonzero, anchor, sum."),
                    },
                    PositiveMargin = parse.GetValue(posMargin), NegativeMargin = parse.GetValue(negMargin), SoftMargin = parse.GetValue(softMargin),
                    Seed = parse.GetValue(seed), ProxyNegatives = parse.GetValue(proxyNegatives), ProxyAlpha = parse.GetValue(proxyAlpha),
                };
                if (parse.GetValue(margin) is { } m) o = o with { Margin = m };
                if (parse.GetValue(temperature) is { } t) o = o with { Temperature = t };
                o.Settings();
                return o;
            });
            int[] widths = ParseHidden(parse.GetValue(hidden)!);
            var options = new EmbeddingTrainerOptions
            {
                Loss = lossOptions, Hidden = widths, Dimension = parse.GetValue(dim), Normalise = !parse.GetValue(noNormalise),
                Epochs = parse.GetValue(epochs), BatchSize = parse.GetValue(batch), PerClass = parse.GetValue(perClass), LearningRate = parse.GetValue(lr),
                Seed = parse.GetValue(seed), Memory = parse.GetValue(memory), Threads = parse.GetValue(threads), MaxBatchesPerEpoch = parse.GetValue(maxBatches),
                ProxyLearningRateScale = parse.GetValue(proxyLr),
            };
            Usage(() => { options.Validate(); return 0; });
            using var compute = BackendOption.Resolve(parse.GetValue(backend)!);
            if (pairOptions.Given(parse))
            {
                if (parse.GetValue(data) is not null || parse.GetValue(valid) is not null)
                    throw new UsageException("--pairs trains on pairs of --queries and --items (validation: --valid-pairs); --data and --valid are for class-labelled items.");
                return TrainPairs(parse, pairOptions, options, parse.GetValue(output)!, parse.GetValue(classColumn), parse.GetValue(limit), parse.GetValue(json), compute);
            }
            if (parse.GetValue(data) is null) throw new UsageException("give --data TRAIN (class-labelled items), or --pairs PAIRS --queries QUERIES --items ITEMS.");
            var train = Read(parse.GetValue(data)!, parse.GetValue(classColumn), parse.GetValue(limit));
            var validItems = parse.GetValue(valid) is { } v ? Read(v, parse.GetValue(classColumn), parse.GetValue(limit)) : null;
            bool asJson = parse.GetValue(json);
            var console = ConsoleOutput.Create();
            if (!asJson) console.WriteLine($"{train.Count} items, {train.ClassCount} classes, {train.Dimension} features; {lossOptions.Loss} + {lossOptions.Miner} miner, {lossOptions.Distance.Name()}, {lossOptions.EffectiveReducer} reducer, batch {options.BatchSize}{(options.Memory > 0 ? $", memory {options.Memory}" : "")}{(lossOptions.IsProxyLoss ? $", {train.ClassCount} proxies, {(lossOptions.ProxyNegatives == 0 ? "all" : lossOptions.ProxyNegatives.ToString(CultureInfo.InvariantCulture))} negatives per batch" : "")}; backend: {compute.Description}");
            var model = EmbeddingTrainer.Train(train, options, validItems, e =>
            {
                if (asJson) return;
                if (e.Warning is not null) console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(e.Warning)}");
                else console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {e.Epoch}: loss {e.Loss:F4}, distance spread {e.Spread:G3}{(double.IsNaN(e.MapAtR) ? "" : $", valid MAP@R {e.MapAtR:F4}, P@1 {e.PrecisionAt1:F4}")}, {e.Samples / Math.Max(e.Seconds, 1e-9):F0} samples/s"));
            }, compute);
            model.Save(parse.GetValue(output)!);
            if (asJson)
            {
                var events = new JsonArray();
                foreach (var e in model.Events)
                    events.Add(new JsonObject
                    {
                        ["epoch"] = e.Epoch, ["loss"] = Finite(e.Loss), ["map_at_r"] = Finite(e.MapAtR), ["precision_at_1"] = Finite(e.PrecisionAt1),
                        ["seconds"] = e.Seconds, ["samples_per_second"] = e.Samples / Math.Max(e.Seconds, 1e-9), ["spread"] = Finite(e.Spread), ["warning"] = e.Warning,
                    });
                Console.Out.WriteLine(new JsonObject
                {
                    ["model"] = parse.GetValue(output), ["backend"] = compute.Description, ["collapsed"] = model.Collapsed, ["events"] = events,
                }.ToJsonString());
            }
            else console.WriteLine($"wrote {parse.GetValue(output)}{(model.Collapsed ? " (training stopped on collapse)" : "")}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static int[] ParseHidden(string text)
    {
        string hiddenText = text.Trim();
        return Usage(() => hiddenText is "" or "none" or "0" ? [] : hiddenText.Split(',').Select(h =>
            int.TryParse(h.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int w) && w > 0 ? w : throw new ArgumentException($"--hidden takes positive widths, got '{h}'.")).ToArray());
    }

    private static Command CreateReport()
    {
        var data = new Option<string>("--data") { Description = "Training items (IDX images, CSV/TSV with a class column, SVMlight).", Required = true };
        var test = new Option<string>("--test") { Description = "Test items: leave-one-out MAP@R after each epoch and at the end.", Required = true };
        var recipes = new Option<string>("--recipes")
        {
            Description = $"Comma-separated loss:miner[:key=value...] recipes (keys: {string.Join(", ", EmbedReport.EmbedRecipe.Keys)}).",
            DefaultValueFactory = _ => "supcon:all,triplet:semihard,multisim:multisim,contrastive:all",
        };
        var seeds = new Option<string>("--seeds") { Description = "Comma-separated seeds; each recipe trains once per seed.", DefaultValueFactory = _ => "1,2,3" };
        var targets = new Option<string?>("--targets") { Description = "Comma-separated RECIPE=VALUE reference MAP@R values printed beside the results (e.g. published numbers)." };
        var distance = new Option<string>("--distance") { Description = $"Distance: {string.Join("|", EmbeddingDistances.Names)}.", DefaultValueFactory = _ => "cosine" };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training items.", DefaultValueFactory = _ => 5 };
        var batch = new Option<int>("--batch") { Description = "Items per batch.", DefaultValueFactory = _ => 256 };
        var perClass = new Option<int?>("--per-class") { Description = "K, items of one class per batch (a recipe's per-class overrides it)." };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths, comma-separated; 'none' = a linear projection.", DefaultValueFactory = _ => "256" };
        var dim = new Option<int>("--dim") { Description = "Embedding dimension.", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "Adam's learning rate.", DefaultValueFactory = _ => 1e-3 };
        var memory = new Option<int>("--memory") { Description = "Cross-batch memory entries (0 = none).", DefaultValueFactory = _ => 0 };
        var maxBatches = new Option<int?>("--max-batches") { Description = "Cap the batches of an epoch (quick runs)." };
        var title = new Option<string>("--title") { Description = "The report's title.", DefaultValueFactory = _ => "Embedding experiment" };
        var resume = new Option<bool>("--resume") { Description = $"Keep the runs already in OUT/{EmbedReport.EmbedExperiment.RunsFile} and train only the missing ones." };
        var output = new Option<string>("--out") { Description = "Folder for report.md, results.json, runs.jsonl and the plots (PNG and SVG).", Required = true };
        var classColumn = ClassColumn(); var limit = Limit(); var threads = Threads(); var json = Json(); var backend = BackendOption.Create();
        var command = new Command("report", "Train several loss/miner recipes over several seeds, evaluate each on test items, and write a report (markdown, JSON, PNG/SVG plots).")
        {
            data, test, recipes, seeds, targets, distance, epochs, batch, perClass, hidden, dim, lr, memory, maxBatches, title, resume, output, classColumn, limit, threads, json, backend,
        };
        command.SetAction(parse =>
        {
            var dist = Usage(() => EmbeddingDistances.Parse(parse.GetValue(distance)!));
            var recipeList = Usage(() => parse.GetValue(recipes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(r => EmbedReport.EmbedRecipe.Parse(r, dist)).ToList());
            if (recipeList.Count == 0) throw new UsageException("--recipes names no recipe.");
            if (recipeList.Select(r => r.Name).Distinct().Count() != recipeList.Count) throw new UsageException("--recipes names a recipe twice.");
            var seedList = Usage(() => parse.GetValue(seeds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(t => int.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new ArgumentException($"--seeds takes integers, got '{t}'.")).Distinct().ToList());
            if (seedList.Count == 0) throw new UsageException("--seeds names no seed.");
            var targetMap = new Dictionary<string, double>();
            foreach (string t in (parse.GetValue(targets) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = t.LastIndexOf('=');
                if (eq <= 0 || !double.TryParse(t[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new UsageException($"--targets takes RECIPE=VALUE, got '{t}'.");
                targetMap[t[..eq]] = v;
            }
            var training = new EmbeddingTrainerOptions
            {
                Loss = recipeList[0].Loss, Hidden = ParseHidden(parse.GetValue(hidden)!), Dimension = parse.GetValue(dim), Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch), PerClass = parse.GetValue(perClass), LearningRate = parse.GetValue(lr), Memory = parse.GetValue(memory),
                Threads = parse.GetValue(threads), MaxBatchesPerEpoch = parse.GetValue(maxBatches),
            };
            // Every recipe's own options, checked before the first training (a proxy recipe with --memory fails here, not after hours).
            Usage(() => { foreach (var r in recipeList) r.Apply(training, seedList[0]).Validate(); return 0; });
            using var compute = BackendOption.Resolve(parse.GetValue(backend)!);
            var settings = new EmbedReport.EmbedExperimentSettings { Recipes = recipeList, Seeds = seedList, Training = training, Targets = targetMap, Backend = compute };
            var trainItems = Read(parse.GetValue(data)!, parse.GetValue(classColumn), parse.GetValue(limit));
            var testItems = Read(parse.GetValue(test)!, parse.GetValue(classColumn), parse.GetValue(limit));
            if (testItems.Dimension != trainItems.Dimension)
                throw new RankingDataException($"{testItems.Source}: {testItems.Dimension} features, the training items have {trainItems.Dimension}");
            testItems.CheckTrainable();
            string outDir = parse.GetValue(output)!;
            bool asJson = parse.GetValue(json);
            var console = ConsoleOutput.Create();
            if (!asJson) console.WriteLine($"backend: {compute.Description}");
            var (results, raw) = EmbedReport.EmbedExperiment.Run(trainItems, testItems, settings, outDir, parse.GetValue(resume),
                line => { if (!asJson) console.WriteLine(line); });
            string reportTitle = parse.GetValue(title)!;
            var files = EmbedReport.EmbedReportWriter.Write(outDir, reportTitle, results, raw, testItems, settings);
            if (asJson)
            {
                var o = EmbedReport.EmbedReportWriter.Json(reportTitle, results, raw, settings);
                o["backend"] = compute.Description;
                Console.Out.WriteLine(o.ToJsonString());
            }
            else
            {
                var table = new Table().AddColumn("recipe").AddColumn(new TableColumn("MAP@R").RightAligned()).AddColumn(new TableColumn("± seeds").RightAligned())
                    .AddColumn(new TableColumn("R-precision").RightAligned()).AddColumn(new TableColumn("P@1").RightAligned()).AddColumn(new TableColumn("samples/s").RightAligned());
                foreach (var r in results)
                    table.AddRow(Markup.Escape(r.Recipe.Name), F(r.MapAtR), double.IsNaN(r.MapAtRStd) ? "" : F(r.MapAtRStd), F(r.RPrecision), F(r.PrecisionAt1),
                        r.SamplesPerSecond.ToString("F0", CultureInfo.InvariantCulture));
                console.Write(table);
                console.WriteLine($"wrote {string.Join(", ", files.Select(f => Path.Combine(outDir, f)))}");
            }
            return ExitCodes.Ok;
        });
        return command;

        static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
    }

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static (float[] Embeddings, int Dimension, EmbeddingDistance Distance) Embed(EmbeddingModel? model, LabelledItems items, EmbeddingDistance rawDistance, int threads,
        EmbeddingTower tower = EmbeddingTower.Query)
    {
        if (model is not null) return (model.Encode(items, tower, threads), model.Encoder.Dimension, model.Distance);
        float[] x = (float[])items.Features.Clone();
        if (rawDistance.NeedsNormalisedInput()) EmbeddingDistances.NormaliseRows(x, items.Count, items.Dimension, new float[items.Count]);
        return (x, items.Dimension, rawDistance);
    }

    private static Command CreateEval()
    {
        var modelPath = new Option<string?>("--model") { Description = "An embedding model file." };
        var raw = new Option<bool>("--raw") { Description = "Evaluate the raw features instead of a model's embeddings." };
        var data = new Option<string?>("--data") { Description = "Query items (a two-tower model embeds them with its query tower); or evaluate pairs with --pairs." };
        var references = new Option<string?>("--references") { Description = "Reference items (default: leave-one-out over the queries; a two-tower model needs them and embeds them with its item tower)." };
        var distance = new Option<string>("--distance") { Description = "Distance for --raw.", DefaultValueFactory = _ => "cosine" };
        var k = new Option<int?>("--k") { Description = $"Neighbours retrieved (default: the largest class size, as AccuracyCalculator; with --pairs {PairRetrieval.DefaultK} or the item count)." };
        var pairs = new Option<string?>("--pairs") { Description = "Instead of --data: pairs 'query_row item_row'; each query searches every item of --items for its chosen one (Recall@k, MRR)." };
        var pairQueries = new Option<string?>("--queries") { Description = "With --pairs: the query set (a two-tower model's query tower embeds it)." };
        var pairItems = new Option<string?>("--items") { Description = "With --pairs: the item set (a two-tower model's item tower embeds it)." };
        var nmi = new Option<bool>("--nmi") { Description = "Also cluster the queries (seeded k-means++, one cluster per class) and report NMI." };
        var perQuery = new Option<string?>("--per-query") { Description = "Write per-query MAP@R and P@1 to this CSV file." };
        var classColumn = ClassColumn(); var limit = Limit(); var threads = Threads(); var json = Json(); var backend = BackendOption.Create();
        var command = new Command("eval", "Retrieval metrics of embeddings: P@1, R-precision, MAP@R, Recall@k, MRR, kNN accuracy (and NMI); with --pairs, Recall@k and MRR of each query's chosen item.")
        {
            modelPath, raw, data, references, distance, k, nmi, perQuery, classColumn, limit, threads, json, pairs, pairQueries, pairItems, backend,
        };
        command.SetAction(parse =>
        {
            bool isRaw = parse.GetValue(raw);
            string? path = parse.GetValue(modelPath);
            if (isRaw == (path is not null)) throw new UsageException("give exactly one of --model MODEL and --raw.");
            if (parse.GetValue(k) is < 1) throw new UsageException("--k must be at least 1.");
            var rawDistance = Usage(() => EmbeddingDistances.Parse(parse.GetValue(distance)!));
            int threadCount = parse.GetValue(threads);
            using var compute = BackendOption.Resolve(parse.GetValue(backend)!);
            if (parse.GetValue(pairs) is { } pairsPath)
            {
                if (parse.GetValue(data) is not null || parse.GetValue(references) is not null || parse.GetValue(nmi) || parse.GetValue(perQuery) is not null)
                    throw new UsageException("--pairs evaluates pairs of --queries and --items; --data, --references, --nmi and --per-query are for class-labelled items.");
                return EvalPairs(path is null ? null : EmbeddingModel.Load(path), rawDistance, pairsPath, parse.GetValue(pairQueries), parse.GetValue(pairItems),
                    parse.GetValue(classColumn), parse.GetValue(limit), parse.GetValue(k), threadCount, parse.GetValue(json), compute);
            }
            if (parse.GetValue(pairQueries) is not null || parse.GetValue(pairItems) is not null) throw new UsageException("--queries and --items go with --pairs PAIRS.");
            if (parse.GetValue(data) is null) throw new UsageException("give --data QUERIES (class-labelled items), or --pairs PAIRS --queries QUERIES --items ITEMS.");
            var model = path is null ? null : EmbeddingModel.Load(path);
            if (model is { IsTwoTower: true } && parse.GetValue(references) is null)
                throw new UsageException($"{path}: a two-tower model embeds queries and references with different towers: give --references (the item tower's items).");
            var queries = Read(parse.GetValue(data)!, parse.GetValue(classColumn), parse.GetValue(limit));
            var refs = parse.GetValue(references) is { } r ? Read(r, parse.GetValue(classColumn), parse.GetValue(limit)) : null;
            if (refs is not null && refs.Dimension != queries.Dimension && model is not { IsTwoTower: true })
                throw new RankingDataException($"{refs.Source}: {refs.Dimension} features, the queries have {queries.Dimension}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var (qe, dim, dist) = Embed(model, queries, rawDistance, threadCount);
            float[]? re = refs is null ? null : Embed(model, refs, rawDistance, threadCount, EmbeddingTower.Item).Embeddings;
            var options = new RetrievalOptions { K = parse.GetValue(k), Threads = threadCount, Backend = compute };
            var report = RetrievalEvaluator.Evaluate(qe, queries.Classes, dim, dist, re, refs?.Classes, options);
            if (parse.GetValue(nmi))
            {
                int clusters = queries.ClassSizes().Count(s => s > 0);
                var assignment = Clustering.KMeans(qe, queries.Count, dim, clusters, seed: 42);
                report = report with { Nmi = Clustering.NormalisedMutualInformation(queries.Classes, assignment) };
            }
            double seconds = clock.Elapsed.TotalSeconds;
            if (parse.GetValue(perQuery) is { } pq)
            {
                var sb = new StringBuilder("query,class,map_at_r,precision_at_1\n");
                for (int i = 0; i < report.QueryIndices.Length; i++)
                    sb.Append(CultureInfo.InvariantCulture, $"{report.QueryIndices[i]},{queries.ClassNames[queries.Classes[report.QueryIndices[i]]]},{report.PerQueryMapAtR[i]:R},{report.PerQueryPrecisionAt1[i]:R}\n");
                AtomicFile.WriteAllText(pq, sb.ToString());
            }
            if (parse.GetValue(json))
            {
                var o = new JsonObject
                {
                    ["precision_at_1"] = report.PrecisionAt1, ["r_precision"] = report.RPrecision, ["map_at_r"] = report.MapAtR,
                    ["mrr"] = report.Mrr, ["knn_accuracy"] = report.KnnAccuracy, ["knn_vote"] = report.KnnVote,
                };
                foreach (var (at, value) in report.RecallAt) o[$"recall_at_{at}"] = value;
                if (!double.IsNaN(report.Nmi)) o["nmi"] = report.Nmi;
                o["queries"] = report.Queries; o["left_out"] = report.LeftOut; o["k"] = report.K;
                o["mode"] = report.LeaveOneOut ? "leave-one-out" : "query-reference"; o["distance"] = report.Distance.Name(); o["seconds"] = seconds;
                o["backend"] = compute.Description;
                Console.Out.WriteLine(o.ToJsonString());
            }
            else
            {
                var console = ConsoleOutput.Create();
                console.WriteLine($"{report.Queries} queries ({report.LeftOut} left out), {(report.LeaveOneOut ? "leave-one-out" : $"{refs!.Count} references")}, k = {report.K}, {report.Distance.Name()}, {seconds:F1} s; backend: {compute.Description}");
                var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
                void Row(string name, double value) => table.AddRow(name, value.ToString("F4", CultureInfo.InvariantCulture));
                Row("P@1", report.PrecisionAt1); Row("R-precision", report.RPrecision); Row("MAP@R", report.MapAtR); Row("MRR", report.Mrr);
                foreach (var (at, value) in report.RecallAt) Row($"Recall@{at}", value);
                Row($"kNN accuracy ({report.KnnVote})", report.KnnAccuracy);
                if (!double.IsNaN(report.Nmi)) Row("NMI", report.Nmi);
                console.Write(table);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateEncode()
    {
        var modelPath = new Option<string>("--model") { Description = "An embedding model file.", Required = true };
        var data = new Option<string>("--data") { Description = "Items to embed.", Required = true };
        var output = new Option<string>("--out") { Description = "CSV file: class, then the embedding's values.", Required = true };
        var tower = TowerOption("embeds --data");
        var classColumn = ClassColumn(); var limit = Limit(); var threads = Threads();
        var command = new Command("encode", "Embed items with a model (a two-tower model: with --tower query|item); write class,e1..eD per item.") { modelPath, data, output, tower, classColumn, limit, threads };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(modelPath)!;
            var model = EmbeddingModel.Load(path);
            var chosen = ResolveTower(model, path, parse.GetValue(tower));
            if (parse.GetValue(limit) is < 1) throw new UsageException("--limit must be at least 1.");
            // A CSV without a class column is accepted here (each item its own class): the class is only echoed.
            var items = LabelledItemsReader.Read(parse.GetValue(data)!, parse.GetValue(classColumn), parse.GetValue(limit), classOptional: true);
            float[] e = model.Encode(items, chosen ?? EmbeddingTower.Query, parse.GetValue(threads));
            int d = model.Encoder.Dimension;
            var sb = new StringBuilder("class");
            for (int j = 0; j < d; j++) sb.Append(CultureInfo.InvariantCulture, $",e{j + 1}");
            sb.Append('\n');
            for (int i = 0; i < items.Count; i++)
            {
                sb.Append(items.ClassNames[items.Classes[i]]);
                for (int j = 0; j < d; j++) sb.Append(',').Append(e[(long)i * d + j].ToString("R", CultureInfo.InvariantCulture));
                sb.Append('\n');
            }
            AtomicFile.WriteAllText(parse.GetValue(output)!, sb.ToString());
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateSearch()
    {
        var modelPath = new Option<string>("--model") { Description = "An embedding model file.", Required = true };
        var data = new Option<string>("--data") { Description = "Query items.", Required = true };
        var references = new Option<string>("--references") { Description = "Reference items searched.", Required = true };
        var k = new Option<int>("--k") { Description = "Neighbours per query.", DefaultValueFactory = _ => 10 };
        var classColumn = ClassColumn(); var limit = Limit(); var threads = Threads(); var json = Json(); var backend = BackendOption.Create();
        var command = new Command("search", "The k nearest references of each query (exact search; a two-tower model: query tower for --data, item tower for --references): query, rank, reference, class, distance.")
        {
            modelPath, data, references, k, classColumn, limit, threads, json, backend,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(k) < 1) throw new UsageException("--k must be at least 1.");
            using var compute = BackendOption.Resolve(parse.GetValue(backend)!);
            var model = EmbeddingModel.Load(parse.GetValue(modelPath)!);
            if (parse.GetValue(limit) is < 1) throw new UsageException("--limit must be at least 1.");
            // Classes are only echoed here: a CSV without a class column is accepted (each item its own class).
            var queries = LabelledItemsReader.Read(parse.GetValue(data)!, parse.GetValue(classColumn), parse.GetValue(limit), classOptional: true);
            var refs = LabelledItemsReader.Read(parse.GetValue(references)!, parse.GetValue(classColumn), parse.GetValue(limit), classOptional: true);
            int threadCount = parse.GetValue(threads), d = model.Encoder.Dimension;
            // A two-tower model: the query tower embeds the queries, the item tower the references.
            var search = EmbeddingBackends.For(compute).CreateNearestNeighbourSearch(model.Encode(refs, EmbeddingTower.Item, threadCount), refs.Count, d, model.Distance, threadCount);
            NeighbourList result;
            try
            {
                result = search.Search(model.Encode(queries, EmbeddingTower.Query, threadCount), queries.Count, parse.GetValue(k), leaveOneOut: false);
            }
            finally
            {
                (search as IDisposable)?.Dispose();
            }
            bool asJson = parse.GetValue(json);
            var sb = new StringBuilder(asJson ? "" : "query\trank\treference\tclass\tvalue\n");
            var rows = new JsonArray();
            for (int q = 0; q < queries.Count; q++)
                for (int t = 0; t < result.K; t++)
                {
                    int j = result.Indices[(long)q * result.K + t];
                    if (j < 0) break;
                    float value = result.Values[(long)q * result.K + t];
                    if (asJson) rows.Add(new JsonObject { ["query"] = q, ["rank"] = t + 1, ["reference"] = j, ["class"] = refs.ClassNames[refs.Classes[j]], ["value"] = value });
                    else sb.Append(CultureInfo.InvariantCulture, $"{q}\t{t + 1}\t{j}\t{refs.ClassNames[refs.Classes[j]]}\t{value:R}\n");
                }
            Console.Out.Write(asJson ? new JsonObject { ["distance"] = model.Distance.Name(), ["backend"] = compute.Description, ["neighbours"] = rows }.ToJsonString() + "\n" : sb.ToString());
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateSynth()
    {
        var classes = new Option<int>("--classes") { Description = "Classes (identities).", DefaultValueFactory = _ => 2000 };
        var items = new Option<int>("--items") { Description = "Items per class.", DefaultValueFactory = _ => 10 };
        var dim = new Option<int>("--dim") { Description = "Features per item.", DefaultValueFactory = _ => 64 };
        var latent = new Option<int>("--latent") { Description = "Dimension of the hidden class space.", DefaultValueFactory = _ => 16 };
        var noise = new Option<double>("--noise") { Description = "Within-class spread relative to the spread of class centres.", DefaultValueFactory = _ => 0.35 };
        var nuisance = new Option<double>("--nuisance") { Description = "Scale of the per-item nuisance factor raw distances see and a learned metric can remove.", DefaultValueFactory = _ => 1.0 };
        var trainClasses = new Option<int?>("--train-classes") { Description = "Classes of the training file (the rest, unseen, go to the test file); default: half." };
        var seed = new Option<int>("--seed") { Description = "Seed.", DefaultValueFactory = _ => 42 };
        var output = new Option<string>("--out") { Description = "Prefix: writes PREFIX-train-images-idx2, PREFIX-train-labels-idx1 and the -test- pair (IDX, float32).", Required = true };
        var command = new Command("synth", "Generate the seeded many-class synthetic set (nonlinear views of latent class centres), split by class.")
        {
            classes, items, dim, latent, noise, nuisance, trainClasses, seed, output,
        };
        command.SetAction(parse =>
        {
            var set = Usage(() => SyntheticClasses.Generate(new SyntheticClassOptions
            {
                Classes = parse.GetValue(classes), ItemsPerClass = parse.GetValue(items), Dimension = parse.GetValue(dim),
                LatentDimension = parse.GetValue(latent), Noise = parse.GetValue(noise), Nuisance = parse.GetValue(nuisance), Seed = (ulong)parse.GetValue(seed),
            }));
            int split = parse.GetValue(trainClasses) ?? set.Items.ClassCount / 2;
            var (train, test) = Usage(() => SyntheticClasses.SplitByClass(set.Items, split));
            string prefix = parse.GetValue(output)!;
            foreach (var (name, part) in new[] { ("train", train), ("test", test) })
            {
                IdxFile.Write($"{prefix}-{name}-images-idx2", [part.Count, part.Dimension], Array.ConvertAll(part.Features, v => (double)v), asBytes: false);
                IdxFile.Write($"{prefix}-{name}-labels-idx1", [part.Count], Array.ConvertAll(part.Classes, c => (double)c), asBytes: false);
            }
            Console.Out.WriteLine($"wrote {prefix}-train-* ({train.Count} items, {train.ClassCount} classes) and {prefix}-test-* ({test.Count} items, {test.ClassCount} classes)");
            return ExitCodes.Ok;
        });
        return command;
    }
}
