using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ranking.Data;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;
using Spectre.Console;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>ranking train</c> (fit a ranker of the catalog and write a model file), <c>ranking predict</c> (apply a
/// model file: one score per line, in the data's row order) and <c>ranking rankers</c> (list the catalog).
/// </summary>
internal static class TrainCommands
{
    public static IEnumerable<Command> Create() => [CreateTrain(), CreatePredict(), CreateRankers()];

    /// <summary>
    /// Knobs that `train` offers as their own flags (declared with <c>Flag = true</c> by some ranker of the
    /// catalog), passed through to <see cref="RankerOptions.Parameters"/> under their name.
    /// </summary>
    private static string[] FlagKnobs() => CatalogFactory.CreateDefault().Rankers
        .SelectMany(r => r.KnobDeclarations).Where(k => k.Flag).Select(k => k.Name).Distinct(StringComparer.Ordinal).ToArray();

    private static Command CreateTrain()
    {
        var train = new Option<string>("--train") { Description = "Training set (LETOR/SVMlight, LightGBM with .query, CSV/TSV, .rkds).", Required = true };
        var valid = new Option<string?>("--valid") { Description = "Validation set: early stopping and the reported metrics." };
        var ranker = new Option<string?>("--ranker") { Description = "A ranker of the catalog (see 'ranking rankers')." };
        var objective = new Option<string?>("--objective") { Description = "An objective, with --model, instead of --ranker." };
        var model = new Option<string?>("--model") { Description = "A model family (linear, mlp, gbdt, ...), with --objective." };
        var pipeline = new Option<string>("--pipeline") { Description = "Feature pipeline fitted on the training set, e.g. zscore,log1p; 'none' = raw features.", DefaultValueFactory = _ => RankerTraining.DefaultPipeline };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs (gradient rankers) or boosting rounds (trees)." };
        var lr = new Option<double?>("--lr") { Description = "Learning rate." };
        var metric = new Option<string>("--metric") { Description = "Validation metric(s), comma-separated; the first drives early stopping.", DefaultValueFactory = _ => "ndcg@10" };
        var contract = new Option<string>("--contract") { Description = "NDCG contract of the validation metrics (default|lightgbm|xgboost|sklearn|mlnet|ranklib...).", DefaultValueFactory = _ => "default" };
        var early = new Option<int?>("--early-stopping") { Description = "Stop after N iterations without a better validation metric (0 = off)." };
        var seed = SharedOptions.Seed("Seed of every random draw.");
        var threads = SharedOptions.Threads();
        var output = new Option<string>("--out") { Description = "Model file to write.", Required = true };
        var json = SharedOptions.Json("Print one JSON object instead of a progress bar and a table.");
        var backend = BackendOption.Create();
        var param = new Option<string[]>("--param") { Description = "Extra knob key=value (repeatable), e.g. --param dropout=0.1.", AllowMultipleArgumentsPerToken = false };
        var maxMemory = ResourceOptions.MaxMemory();
        var allowNan = new Option<bool>("--allow-nan") { Description = "Read NaN feature values as missing; the pipeline must fill them (e.g. --pipeline fillnan,zscore) unless the model takes missing values (gbdt)." };
        string[] flagKnobs = FlagKnobs();
        var passOptions = flagKnobs.Select(name => new Option<string?>("--" + name) { Description = $"Ranker knob '{name}' (see 'ranking rankers')." }).ToArray();
        var stream = new Option<bool>("--stream") { Description = "gbdt rankers, --pipeline none: stream the training file into LightGBM in chunks (bins from a sample of rows), never holding its float matrix." };

        var command = new Command("train", "Train a ranker and write a model file (manifest, fitted pipeline, weights).")
        {
            train, valid, ranker, objective, model, pipeline, epochs, lr, metric, contract, early, seed, threads, output, json, param, backend, maxMemory, allowNan, stream,
        };
        foreach (var o in passOptions) command.Options.Add(o);
        command.SetAction(parse =>
        {
            var options = new RankerOptions
            {
                Seed = parse.GetValue(seed),
                Threads = parse.GetValue(threads),
                Iterations = parse.GetValue(epochs),
                LearningRate = parse.GetValue(lr),
                EarlyStoppingRounds = parse.GetValue(early),
            };
            for (int i = 0; i < flagKnobs.Length; i++)
                if (parse.GetValue(passOptions[i]) is { } value) options.Parameters[flagKnobs[i]] = value;
            foreach (string kv in parse.GetValue(param) ?? [])
            {
                int eq = kv.IndexOf('=');
                if (eq <= 0) throw new UsageException($"--param takes key=value, got '{kv}'.");
                options.Parameters[kv[..eq].Trim()] = kv[(eq + 1)..].Trim();
            }
            using var compute = BackendOption.Resolve(parse.GetValue(backend)!);
            if (compute.Kind == Ranking.Compute.ComputeBackendKind.Gpu) options.Compute = compute;
            return RunTrain(parse.GetValue(train)!, parse.GetValue(valid), parse.GetValue(ranker), parse.GetValue(objective), parse.GetValue(model),
                parse.GetValue(pipeline)!, parse.GetValue(metric)!, parse.GetValue(contract)!, options, parse.GetValue(output)!, parse.GetValue(json),
                ResourceOptions.ParseMaxMemory(parse.GetValue(maxMemory)), parse.GetValue(allowNan), parse.GetValue(stream));
        });
        return command;
    }

    private static int RunTrain(string trainPath, string? validPath, string? rankerName, string? objective, string? family,
        string pipeline, string metricText, string contractText, RankerOptions options, string outPath, bool asJson,
        long? maxMemoryBytes = null, bool allowNaN = false, bool stream = false)
    {
        var catalog = CatalogFactory.CreateDefault();
        RankerDescriptor ranker;
        IReadOnlyList<MetricSpec> metrics;
        NdcgContract contract;
        try
        {
            if (rankerName is not null && (objective is not null || family is not null))
                throw new UsageException("give either --ranker or --objective with --model, not both.");
            if (rankerName is null && (objective is null || family is null))
                throw new UsageException("give --ranker NAME, or --objective O with --model M (see 'ranking rankers').");
            ranker = rankerName is not null ? catalog.Get(rankerName) : catalog.Compose(objective!, family!);
            metrics = MetricSpec.ParseList(metricText);
            contract = NdcgContract.Parse(contractText);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
        if (!File.Exists(trainPath)) throw new FileNotFoundException($"{trainPath}: training file not found", trainPath);
        if (validPath is not null && !File.Exists(validPath)) throw new FileNotFoundException($"{validPath}: validation file not found", validPath);

        var read = new DatasetReadOptions { KeepComments = false, Threads = options.Threads, MaxMemoryBytes = maxMemoryBytes, AllowNaN = allowNaN };
        Func<IProgress<TrainingEvent>?, (RankingModel, TrainingResult)> run;
        RankingDataset? valid;
        if (stream)
        {
            if (!Ranking.Features.FeaturePipeline.Parse(pipeline).IsEmpty)
                throw new UsageException("--stream trains on raw features: add --pipeline none.");
            var rows = DatasetRowStream.Open(trainPath, read);
            valid = validPath is null ? null : DatasetReader.Read(validPath, read with { FeatureCount = rows.FeatureCount });
            run = progress => Guard(() => RankerTraining.TrainStreamed(ranker, rows, valid, options, pipeline, metrics, contract, progress));
        }
        else
        {
            RankingDataset train = DatasetReader.Read(trainPath, read);
            valid = validPath is null ? null : ReadMatching(validPath, train.FeatureCount, read, ref train, trainPath);
            run = progress => Guard(() => RankerTraining.Train(ranker, train, valid, options, pipeline, metrics, contract, progress));
        }

        (RankingModel trained, TrainingResult result) = asJson ? run(null) : TrainWithProgress(ranker, metrics, run);
        trained.Save(outPath);

        if (asJson)
        {
            var validMetrics = new JsonObject();
            foreach (var m in metrics)
                if (result.ValidMetrics.TryGetValue(m.Name, out double v)) validMetrics[m.Name] = double.IsFinite(v) ? JsonValue.Create(v) : null;
            var root = new JsonObject
            {
                ["ranker"] = ranker.Name,
                ["objective"] = ranker.Objective,
                ["model"] = ranker.ModelFamily,
                ["best_iteration"] = result.BestIteration,
                ["train_seconds"] = Math.Round(result.Elapsed.TotalSeconds, 3),
                ["valid_metrics"] = validMetrics,
            };
            CliJson.Print(root);
        }
        else
        {
            var console = ConsoleOutput.Create();
            var table = new Table().AddColumn("ranker").AddColumn("objective").AddColumn("model").AddColumn("best iteration").AddColumn("seconds");
            foreach (var m in metrics) table.AddColumn("valid " + m.Name);
            var cells = new List<string> { ranker.Name, ranker.Objective, ranker.ModelFamily, result.BestIteration.ToString(CultureInfo.InvariantCulture),
                result.Elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) };
            foreach (var m in metrics) cells.Add(result.ValidMetrics.TryGetValue(m.Name, out double v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "n/a");
            table.AddRow(cells.Select(Markup.Escape).ToArray());
            console.Write(table);
            if (valid is not null) console.WriteLine($"contract: {contract.Describe()}");
            console.WriteLine($"model written to {outPath}");
        }
        return ExitCodes.Ok;
    }

    /// <summary>Reads the validation set with the training set's feature count; if it has more, both are widened to match.</summary>
    private static RankingDataset ReadMatching(string path, int featureCount, DatasetReadOptions read, ref RankingDataset train, string trainPath)
    {
        var valid = DatasetReader.Read(path, read);
        if (valid.FeatureCount == train.FeatureCount) return valid;
        int count = Math.Max(valid.FeatureCount, featureCount);
        if (train.FeatureCount != count) train = DatasetReader.Read(trainPath, read with { FeatureCount = count });
        return valid.FeatureCount == count ? valid : DatasetReader.Read(path, read with { FeatureCount = count });
    }

    private static (RankingModel, TrainingResult) Guard(Func<(RankingModel, TrainingResult)> train)
    {
        try
        {
            return train();
        }
        catch (ArgumentException ex)
        {
            // A bad knob or pipeline spec: usage, not an internal fault.
            throw new UsageException(ex.Message);
        }
    }

    private static (RankingModel, TrainingResult) TrainWithProgress(RankerDescriptor ranker, IReadOnlyList<MetricSpec> metrics,
        Func<IProgress<TrainingEvent>?, (RankingModel, TrainingResult)> run)
    {
        var console = ConsoleOutput.Create();
        (RankingModel, TrainingResult) outcome = default;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape($"{ranker.Name}: training"), maxValue: 1);
                var progress = new Reporter(ev =>
                {
                    task.MaxValue = Math.Max(1, ev.TotalIterations);
                    task.Value = ev.Iteration;
                    string stop = ev.ValidMetrics.Count > 0 ? $" {metrics[0].Name} {ev.ValidMetrics.GetValueOrDefault(metrics[0].Name):F4}" : "";
                    task.Description = Markup.Escape($"{ranker.Name}: iteration {ev.Iteration}/{ev.TotalIterations} loss {ev.TrainLoss:G4}{stop}");
                });
                outcome = run(progress);
                task.Value = task.MaxValue;
            });
        return outcome;
    }

    /// <summary>Reports synchronously (Progress&lt;T&gt; would post to the thread pool and arrive late).</summary>
    private sealed class Reporter(Action<TrainingEvent> report) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => report(value);
    }

    private static Command CreatePredict()
    {
        var modelPath = new Option<string>("--model") { Description = "Model file written by 'ranking train'.", Required = true };
        var data = new Option<string>("--data") { Description = "Rows to score (any format 'train' reads).", Required = true };
        var output = new Option<string>("--out") { Description = "Scores: one per line, in the data's row order.", Required = true };
        var threads = SharedOptions.Threads();
        var json = SharedOptions.Json("Print a JSON summary.");
        var maxMemory = ResourceOptions.MaxMemory();
        var maxModelSize = ResourceOptions.MaxModelSize();
        var backend = BackendOption.Create();
        var command = new Command("predict", "Score a dataset with a model file; writes one score per line.") { modelPath, data, output, threads, json, maxMemory, maxModelSize, backend };
        command.SetAction(parse =>
        {
            using var compute = BackendOption.Resolve(parse.GetValue(backend)!);
            string path = parse.GetValue(modelPath)!, dataPath = parse.GetValue(data)!, outPath = parse.GetValue(output)!;
            var model = ModelFile.Load(path, CatalogFactory.CreateDefault(), ResourceOptions.ParseModelLimits(parse.GetValue(maxModelSize)));
            if (!File.Exists(dataPath)) throw new FileNotFoundException($"{dataPath}: data file not found", dataPath);
            var set = DatasetReader.Read(dataPath, new DatasetReadOptions
            {
                FeatureCount = model.Manifest.InputFeatureCount, KeepComments = false, Threads = parse.GetValue(threads),
                MaxMemoryBytes = ResourceOptions.ParseMaxMemory(parse.GetValue(maxMemory)),
            });
            float[] scores = model.Predict(set, compute);
            ScoresFile.Write(outPath, scores);
            if (parse.GetValue(json))
                CliJson.Print(new JsonObject { ["model"] = path, ["ranker"] = model.Manifest.Ranker, ["rows"] = set.RowCount, ["out"] = outPath });
            else
                Console.Out.WriteLine($"{set.RowCount} scores written to {outPath} ({model.Manifest.Ranker}, {model.Manifest.ModelFamily})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command CreateRankers()
    {
        var json = SharedOptions.Json();
        var name = new Argument<string?>("name") { Description = "Show this ranker's knobs (name -> meaning and default).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("rankers", "List the rankers of the catalog: name, objective, model family, description; with a name, its knobs.") { json, name };
        command.SetAction(parse =>
        {
            var catalog = CatalogFactory.CreateDefault();
            if (parse.GetValue(name) is { } one)
            {
                RankerDescriptor ranker;
                try { ranker = catalog.Get(one); }
                catch (ArgumentException ex) { throw new UsageException(ex.Message); }
                if (parse.GetValue(json))
                {
                    var knobs = new JsonObject();
                    foreach (var (k, v) in ranker.Knobs.OrderBy(p => p.Key, StringComparer.Ordinal)) knobs[k] = v;
                    CliJson.Print(new JsonObject
                    {
                        ["name"] = ranker.Name, ["objective"] = ranker.Objective, ["model"] = ranker.ModelFamily,
                        ["description"] = ranker.Description, ["knobs"] = knobs,
                    });
                    return ExitCodes.Ok;
                }
                var knobTable = new Table().AddColumn("knob").AddColumn("meaning (default)");
                foreach (var (k, v) in ranker.Knobs.OrderBy(p => p.Key, StringComparer.Ordinal)) knobTable.AddRow(Markup.Escape(k), Markup.Escape(v));
                var c = ConsoleOutput.Create();
                c.WriteLine($"{ranker.Name}: {ranker.Description} ({ranker.ModelFamily} + {ranker.Objective})");
                c.Write(knobTable);
                c.WriteLine("Pass a knob with --param key=value (or its own flag where train has one).");
                return ExitCodes.Ok;
            }
            if (parse.GetValue(json))
            {
                var list = new JsonArray(catalog.Rankers.Select(r => (JsonNode)new JsonObject
                {
                    ["name"] = r.Name, ["objective"] = r.Objective, ["model"] = r.ModelFamily, ["description"] = r.Description,
                }).ToArray());
                CliJson.Print(new JsonObject { ["rankers"] = list });
                return ExitCodes.Ok;
            }
            var table = new Table().AddColumn("name").AddColumn("objective").AddColumn("model").AddColumn("description");
            foreach (var r in catalog.Rankers) table.AddRow(Markup.Escape(r.Name), Markup.Escape(r.Objective), Markup.Escape(r.ModelFamily), Markup.Escape(r.Description));
            var console = ConsoleOutput.Create();
            console.Write(table);
            console.WriteLine("Any objective pairs with linear or mlp: --objective O --model M. Knobs: --param key=value.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
