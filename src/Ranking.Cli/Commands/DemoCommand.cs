using System.CommandLine;
using Ranking.Cli.Compare;
using Ranking.Data;
using Ranking.Metrics;
using Ranking.Training;
using Spectre.Console;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>ranking demo [--data DIR] [--out DIR]</c>: the first thing a new user runs. Without files it generates the
/// seeded `small` synthetic set, compares one ranker of each family and prints the table next to the oracle
/// (the generator's hidden score), writing the full report to ./ranking-demo/.
/// </summary>
internal static class DemoCommand
{
    /// <summary>Synthetic queries by default: 60/20/20 train/valid/test.</summary>
    public const int DemoQueries = 300;

    /// <summary>Fewest synthetic queries `--queries` takes: the 20% test split must keep queries to rank.</summary>
    public const int MinimumQueries = 20;

    /// <summary>
    /// One ranker per family, first registered candidate wins; iteration counts chosen so the whole demo runs in
    /// well under a minute on 2 cores (fewer epochs/trees than the rankers' defaults, which aim at accuracy).
    /// </summary>
    internal static readonly (string Family, string[] Candidates, int Iterations)[] Families =
    [
        ("pointwise", ["pointwise", "linear-pointwise"], 30),
        ("pairwise", ["ranknet", "lambdarank", "ranksvm"], 30),
        ("listwise", ["listnet", "listmle", "softmax"], 30),
        ("metric-learning", ["triplet", "contrastive"], 30),
        ("gradient-boosted trees", ["lambdamart", "lambdamart-fasttree"], 100),
    ];

    /// <summary>
    /// The synthetic set's features share one global scale (the generator's hidden function is global), so a
    /// global z-score suits it; the per-query min-max default (LETOR's QueryLevelNorm) throws that away and
    /// cost the tree ranker ~0.07 NDCG@10 here. LETOR folds (--data) keep the default.
    /// </summary>
    public const string SyntheticPipeline = "zscore";

    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "Run on a LETOR fold (a folder with train/vali/test) instead of generated data." };
        var outDir = new Option<string>("--out") { Description = "Report folder.", DefaultValueFactory = _ => "ranking-demo" };
        var seed = SharedOptions.Seed("Seed of the data and of every ranker.");
        var json = SharedOptions.Json("Print results.json instead of the table.");
        var queries = new Option<int>("--queries") { Description = $"Generated queries (60/20/20 split); at least {MinimumQueries}. Ignored with --data.", DefaultValueFactory = _ => DemoQueries };
        var backend = BackendOption.Create();
        var command = new Command("demo", "Compare one ranker of each family on generated data (or a LETOR fold) and write a report.") { data, outDir, seed, json, queries, backend };
        command.SetAction(pr =>
        {
            int queryCount = pr.GetValue(queries);
            if (queryCount < MinimumQueries) throw new UsageException($"--queries must be at least {MinimumQueries}; got {queryCount}.");
            using var compute = BackendOption.Resolve(pr.GetValue(backend)!);
            return Run(pr.GetValue(data), pr.GetValue(outDir)!, pr.GetValue(seed), pr.GetValue(json), queryCount, compute);
        });
        return command;
    }

    private static int Run(string? dataDir, string outDir, int seed, bool json, int queryCount, Ranking.Compute.IComputeBackend compute)
    {
        var catalog = CompareCatalog.Create();
        var chosen = Choose(catalog);
        CompareFold fold;
        string source;
        if (dataDir is null)
        {
            var (train, valid, test) = SyntheticGenerator.GenerateSplits("small", queryCount, (ulong)seed);
            fold = new CompareFold("synthetic-small", "generated:train", "generated:valid", "generated:test",
                () => (train.Data, valid.Data, test.Data), test.OracleScores);
            source = $"the seeded synthetic set 'small' ({queryCount} queries, seed {seed}, 60/20/20 split); the oracle row scores the test set with the generator's hidden function";
        }
        else
        {
            var folds = CompareCommand.DiscoverFolds(dataDir);
            fold = folds[0];
            source = $"{fold.Name} of {Path.GetFullPath(dataDir)}";
        }
        var settings = new CompareSettings
        {
            Rankers = chosen.Select(c => c.Ranker).ToList(),
            Metrics = MetricSpec.ParseList(CompareCommand.DefaultMetrics),
            Seed = seed,
            RankerParameters = chosen.ToDictionary(c => c.Ranker, c => Knobs(catalog.Get(c.Ranker), c.Iterations)),
            Title = dataDir is null ? "ranking demo: one ranker per family on synthetic data" : $"ranking demo on {fold.Name}",
            Notes = $"Data: {source}. Rankers: {string.Join(", ", chosen.Select(c => $"{c.Ranker} ({c.Family}, {c.Iterations} iterations)"))}.",
            Compute = compute,
        };
        if (!json)
            ConsoleOutput.Create().MarkupLine(Markup.Escape($"ranking demo: {string.Join(", ", chosen.Select(c => $"{c.Ranker} ({c.Family})"))} on {source}"));
        return CompareCommand.Execute([fold], settings, outDir, json, dataDir is null ? SyntheticPipeline : null);
    }

    /// <summary>
    /// Tree rankers get one thread: LightGBM's OpenMP workers spin-wait, which on a busy 2-core machine made
    /// 40 trees on 3,600 rows take ~55 s with all cores against ~0.7 s with one; the demo's data is too small
    /// for more threads to help anyway.
    /// </summary>
    private static IReadOnlyDictionary<string, string> Knobs(RankerDescriptor ranker, int iterations)
    {
        var knobs = new Dictionary<string, string> { ["iterations"] = iterations.ToString() };
        if (ranker.ModelFamily is "gbdt" or "fasttree") knobs["threads"] = "1";
        return knobs;
    }

    internal static List<(string Family, string Ranker, int Iterations)> Choose(RankerCatalog catalog)
    {
        var chosen = new List<(string, string, int)>();
        foreach (var (family, candidates, iterations) in Families)
            if (candidates.FirstOrDefault(c => catalog.TryGet(c, out _)) is { } name)
                chosen.Add((family, name, iterations));
        if (chosen.Count == 0) throw new InvalidOperationException("no demo ranker is registered in this build.");
        return chosen;
    }
}
