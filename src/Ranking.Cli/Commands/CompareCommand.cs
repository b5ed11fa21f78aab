using System.CommandLine;
using System.Text.RegularExpressions;
using Ranking.Cli.Compare;
using Ranking.Data;
using Ranking.Metrics;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>ranking compare --train T --valid V --test E --rankers a,b,c [--metrics ...] [--contract ...] [--folds DIR]
/// [--out DIR] [--json]</c>: trains each ranker, evaluates it on the test set and writes report.md, results.json,
/// the plots and each ranker's test predictions to DIR.
/// </summary>
internal static class CompareCommand
{
    public const string DefaultMetrics = "ndcg@1,ndcg@3,ndcg@5,ndcg@10,map";

    public static Command Create()
    {
        var train = new Option<string?>("--train") { Description = "Training set (LETOR/SVMlight, LightGBM with .query, CSV/TSV, .rkds)." };
        var valid = new Option<string?>("--valid") { Description = "Validation set: learning curves and early stopping." };
        var test = new Option<string?>("--test") { Description = "Test set: the reported metrics." };
        var folds = new Option<string?>("--folds") { Description = "A folder of Fold1..FoldK, each with train/vali/test (.rkds or .txt): every ranker on every fold." };
        var rankers = new Option<string>("--rankers") { Description = "Comma-separated ranker names (see 'ranking rankers'), or 'all' for every named ranker of the catalog.", Required = true };
        var metrics = new Option<string>("--metrics") { Description = "Test metrics (ndcg@10 is always added).", DefaultValueFactory = _ => DefaultMetrics };
        var contract = new Option<string>("--contract") { Description = "NDCG contract: default|lightgbm|xgboost|xgboost-|sklearn|mlnet|ranklib[,overrides].", DefaultValueFactory = _ => "default" };
        var outDir = new Option<string>("--out") { Description = "Report folder.", DefaultValueFactory = _ => "ranking-compare" };
        var json = SharedOptions.Json("Print results.json instead of the table.");
        var iterations = new Option<int?>("--iterations") { Description = "Epochs / boosting rounds for every ranker (default: each ranker's own)." };
        var seed = SharedOptions.Seed("Seed of every ranker and of the bootstrap.");
        var threads = SharedOptions.Threads();
        var title = new Option<string?>("--title") { Description = "Report title." };
        var pipeline = new Option<string>("--pipeline")
        {
            Description = "Feature pipeline fitted on each training set, e.g. zscore,log1p; 'none' = raw features.",
            DefaultValueFactory = _ => Ranking.Training.RankerTraining.DefaultPipeline,
        };
        var backend = BackendOption.Create();
        var subtopics = new Option<string?>("--subtopics")
        {
            Description = "Subtopic judgements for alpha-ndcg/alpha-dcg in --metrics: a TREC diversity qrels file ('topic subtopic docno judgment' per line), " +
                "joined to each test set by query id and document id (LETOR '# docid = X' comments or a docno column).",
        };
        var simulateClicks = new Option<int?>("--simulate-clicks")
        {
            Description = "Learn from clicks: replace each fold's training set by this many simulated sessions (production ranker, top k, click model on the true grades); " +
                "rankers: production, naive-F / ipw-F / policy-aware-F (F = linear, mlp, gbdt), skyline-R (R on the true grades), OBJECTIVE/F or R on the per-session clicks. Tested on the true grades.",
        };
        var productionFraction = new Option<double>("--production-fraction") { Description = "With --simulate-clicks: share of training queries the production ranker learns from.", DefaultValueFactory = _ => 0.01 };
        var productionTemperature = new Option<double>("--production-temperature") { Description = "With --simulate-clicks: 0 = deterministic top k; T > 0 = Plackett-Luce draws (Gumbel noise T x the query's score spread).", DefaultValueFactory = _ => 0.0 };
        var clip = new Option<double>("--clip") { Description = "With --simulate-clicks: smallest propensity a click is divided by (0 = none).", DefaultValueFactory = _ => 0.0 };
        var clickFlags = new ClicksCommands.ModelFlags();
        var command = new Command("compare", "Train several rankers on the same data and compare them on the test set: report.md, results.json, plots.")
        {
            train, valid, test, folds, rankers, metrics, contract, outDir, json, iterations, seed, threads, title, pipeline, backend, subtopics,
            simulateClicks, productionFraction, productionTemperature, clip,
        };
        clickFlags.AddTo(command);
        command.SetAction(pr =>
        {
            using var compute = BackendOption.Resolve(pr.GetValue(backend)!);
            var contractValue = ParseContract(pr.GetValue(contract)!);
            string? subtopicsPath = pr.GetValue(subtopics);
            var foldList = ResolveFolds(pr.GetValue(train), pr.GetValue(valid), pr.GetValue(test), pr.GetValue(folds), pr.GetValue(threads),
                CompareSettings.NeedsDocumentIds(contractValue, subtopicsPath));
            var settings = new CompareSettings
            {
                Rankers = SplitList(pr.GetValue(rankers)!),
                Metrics = ParseMetrics(pr.GetValue(metrics)!),
                Contract = contractValue,
                Seed = pr.GetValue(seed),
                Threads = pr.GetValue(threads),
                Iterations = pr.GetValue(iterations),
                Title = pr.GetValue(title) ?? (foldList.Count > 1 ? $"Ranker comparison over {foldList.Count} folds" : "Ranker comparison"),
                Compute = compute,
                SubtopicsPath = subtopicsPath,
            };
            if (pr.GetValue(simulateClicks) is { } sessions)
            {
                double temperature = pr.GetValue(productionTemperature), clipValue = pr.GetValue(clip), fractionValue = pr.GetValue(productionFraction);
                if (sessions < 1) throw new UsageException($"--simulate-clicks takes a positive number of sessions, got {sessions}.");
                if (!(temperature >= 0) || !double.IsFinite(temperature)) throw new UsageException($"--production-temperature must be finite and >= 0, got {temperature}.");
                if (!(clipValue >= 0 && clipValue <= 1)) throw new UsageException($"--clip must be within [0, 1], got {clipValue}.");
                if (!(fractionValue > 0 && fractionValue <= 1)) throw new UsageException($"--production-fraction must be within (0, 1], got {fractionValue}.");
                // The click model's top grade comes from the first fold's training grades unless --max-grade says.
                var first = foldList[0].Load().Train;
                var clicks = new ClickCompare(new ClickCompareSettings(sessions, clickFlags.Get(pr, first), pr.GetValue(clickFlags.TopK), clickFlags.GetIntervention(pr),
                    fractionValue, temperature, clipValue, settings.Seed, settings.Threads));
                settings = new CompareSettings
                {
                    Rankers = settings.Rankers, Metrics = settings.Metrics, Contract = settings.Contract, Seed = settings.Seed, Threads = settings.Threads,
                    Iterations = settings.Iterations, Title = pr.GetValue(title) ?? "Learning from clicks", Compute = settings.Compute,
                    SubtopicsPath = settings.SubtopicsPath, TrainingSets = clicks, Notes = clicks.Notes,
                };
            }
            return Execute(foldList, settings, pr.GetValue(outDir)!, pr.GetValue(json), pr.GetValue(pipeline));
        });
        return command;
    }

    /// <summary>Runs the comparison, writes the report and prints the table (or results.json).</summary>
    internal static int Execute(IReadOnlyList<CompareFold> folds, CompareSettings settings, string outDir, bool json, string? pipeline = null)
    {
        var catalog = CompareCatalog.Create();
        if (settings.Rankers is ["all"])
            settings = settings.With(catalog.Rankers.Select(r => r.Name).ToList());
        outDir = Path.GetFullPath(outDir);
        var report = CompareConsole.Observe(json, settings.PrimaryMetric,
            observer => CompareRunner.Run(catalog, folds, settings, outDir, CompareCatalog.Trainer(pipeline), observer));
        CompareOutput.Write(report, outDir);
        if (json) Console.Out.WriteLine(ReportJson.Write(report));
        else CompareConsole.WriteTable(report, outDir);
        return ExitCodes.Ok;
    }

    internal static IReadOnlyList<string> SplitList(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal static IReadOnlyList<MetricSpec> ParseMetrics(string text)
    {
        try { return MetricSpec.ParseList(text); }
        catch (ArgumentException ex) { throw new UsageException(ex.Message); }
    }

    internal static NdcgContract ParseContract(string text)
    {
        try { return NdcgContract.Parse(text); }
        catch (ArgumentException ex) { throw new UsageException(ex.Message); }
    }

    private static IReadOnlyList<CompareFold> ResolveFolds(string? train, string? valid, string? test, string? folds, int threads, bool keepDocumentIds)
    {
        if (folds is not null)
        {
            if (train is not null || test is not null || valid is not null)
                throw new UsageException("give either --folds DIR or --train/--valid/--test, not both.");
            return DiscoverFolds(folds, threads, keepDocumentIds);
        }
        if (train is null || test is null)
            throw new UsageException("compare needs --train and --test (and usually --valid), or --folds DIR.");
        return [CompareFold.FromFiles(Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(test))) is { Length: > 0 } d ? d : "test", train, valid, test, threads, keepDocumentIds)];
    }

    /// <summary>
    /// DIR/Fold1..FoldK (numeric order), each with train, vali/valid (optional) and test files; a .rkds file wins
    /// over the text file of the same name. DIR itself is taken as the only fold when it has no Fold folders.
    /// </summary>
    internal static IReadOnlyList<CompareFold> DiscoverFolds(string dir, int threads = -1, bool keepDocumentIds = false)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{dir}: folder not found.");
        var foldDirs = Directory.GetDirectories(dir)
            .Select(d => (Dir: d, Match: Regex.Match(Path.GetFileName(d), @"^Fold(\d+)$", RegexOptions.IgnoreCase)))
            .Where(x => x.Match.Success)
            .OrderBy(x => int.Parse(x.Match.Groups[1].Value))
            .Select(x => x.Dir).ToList();
        if (foldDirs.Count == 0) foldDirs.Add(dir);
        return foldDirs.Select(d =>
        {
            string train = FindSplit(d, ["train"]) ?? throw new FileNotFoundException($"{d}: no train.rkds or train.txt.");
            string test = FindSplit(d, ["test"]) ?? throw new FileNotFoundException($"{d}: no test.rkds or test.txt.");
            return CompareFold.FromFiles(Path.GetFileName(d), train, FindSplit(d, ["vali", "valid", "validation"]), test, threads, keepDocumentIds);
        }).ToList();
    }

    private static string? FindSplit(string dir, string[] names)
    {
        foreach (var ext in new[] { ".rkds", ".txt", ".svm", ".libsvm", ".csv", ".tsv", "" })
            foreach (var name in names)
                if (File.Exists(Path.Combine(dir, name + ext))) return Path.Combine(dir, name + ext);
        return null;
    }
}
