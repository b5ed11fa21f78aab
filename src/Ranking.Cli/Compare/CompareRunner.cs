using Ranking.Data;
using Ranking.Metrics;
using Ranking.Training;

namespace Ranking.Cli.Compare;

/// <summary>One train/valid/test split; the sets are loaded when the runner reaches the fold.</summary>
internal sealed class CompareFold(string name, string trainPath, string? validPath, string testPath,
    Func<(RankingDataset Train, RankingDataset? Valid, RankingDataset Test)> load, float[]? oracleTestScores = null)
{
    public string Name { get; } = name;
    public string TrainPath { get; } = trainPath;
    public string? ValidPath { get; } = validPath;
    public string TestPath { get; } = testPath;
    public float[]? OracleTestScores { get; } = oracleTestScores;
    public (RankingDataset Train, RankingDataset? Valid, RankingDataset Test) Load() => load();

    /// <summary>
    /// Reads the three files; valid and test take the training set's feature count. With <paramref name="keepDocumentIds"/>
    /// valid and test keep their row comments, where the document ids are (LETOR "# docid = X", a docno column): the
    /// docno tie order of the trec contract and the subtopic join of alpha-NDCG read them.
    /// </summary>
    public static CompareFold FromFiles(string name, string train, string? valid, string test, int threads = -1, bool keepDocumentIds = false) =>
        new(name, train, valid, test, () =>
        {
            foreach (var path in new[] { train, valid, test })
                if (path is not null && !File.Exists(path)) throw new FileNotFoundException($"{path}: data file not found", path);
            var t = DatasetReader.Read(train, new DatasetReadOptions { KeepComments = false, Threads = threads });
            var same = new DatasetReadOptions { FeatureCount = t.FeatureCount, DropExtraFeatures = true, KeepComments = keepDocumentIds, Threads = threads };
            return (t, valid is null ? null : DatasetReader.Read(valid, same), DatasetReader.Read(test, same));
        });
}

/// <summary>A trained ranker, as far as compare needs it: how to score a raw set, and the training record.</summary>
internal sealed record TrainedRanker(Func<RankingDataset, float[]> Predict, TrainingResult Result);

internal delegate TrainedRanker TrainRanker(RankerDescriptor ranker, RankingDataset train, RankingDataset? valid,
    RankerOptions options, IReadOnlyList<MetricSpec> validMetrics, NdcgContract contract, IProgress<TrainingEvent>? progress);

/// <summary>What compare tells the console while it works.</summary>
internal interface ICompareObserver
{
    IProgress<TrainingEvent>? RankerStarted(string fold, string ranker);
    void RankerFinished(string fold, string ranker, FoldResult result);
}

internal sealed class CompareSettings
{
    public required IReadOnlyList<string> Rankers { get; init; }
    /// <summary>Test metrics; the primary metric (ndcg@10) is added when missing.</summary>
    public required IReadOnlyList<MetricSpec> Metrics { get; init; }
    public NdcgContract Contract { get; init; } = NdcgContract.Default;
    public string PrimaryMetric { get; init; } = "ndcg@10";
    public int Seed { get; init; } = 42;
    public int Threads { get; init; } = -1;
    /// <summary>Overrides every ranker's iteration count (null: each ranker's default).</summary>
    public int? Iterations { get; init; }
    /// <summary>Per-ranker knobs (e.g. the demo's smaller settings), by ranker name.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? RankerParameters { get; init; }
    public string Title { get; init; } = "Ranker comparison";
    public string? Notes { get; init; }
    /// <summary>
    /// Where training computes gradients (and the MLP its products) and where the test metrics are computed:
    /// null or the CPU backend = the managed loops (CLI <c>--backend</c>). Not owned.
    /// </summary>
    public Ranking.Compute.IComputeBackend? Compute { get; init; }
    /// <summary>A TREC diversity qrels file for alpha-NDCG/alpha-DCG, joined to each fold's test set by query id and docno (CLI <c>--subtopics</c>).</summary>
    public string? SubtopicsPath { get; init; }
    /// <summary>Where each ranker learns from (null: the fold's training set; <see cref="ClickCompare"/>: simulated clicks).</summary>
    public ICompareTrainingSets? TrainingSets { get; init; }

    /// <summary>Whether valid and test sets must keep their document ids: for the docno tie order or the subtopic join.</summary>
    public static bool NeedsDocumentIds(NdcgContract contract, string? subtopicsPath) =>
        contract.Ties == TiePolicy.DocIdDescending || subtopicsPath is not null;

    private bool OnDevice => Compute is { Kind: Ranking.Compute.ComputeBackendKind.Gpu };

    /// <summary>The test metrics of <paramref name="scores"/>, on the chosen backend (alpha metrics with the fold's subtopic judgements).</summary>
    public EvaluationReport Evaluate(RankingDataset data, float[] scores, IReadOnlyList<MetricSpec> metrics, SubtopicJudgements? subtopics = null) =>
        OnDevice ? RankingEvaluator.Evaluate(Compute!.Metrics, data, scores, metrics, Contract, subtopics: subtopics)
                 : RankingEvaluator.Evaluate(data, scores, metrics, Contract, Threads, subtopics: subtopics);

    /// <summary>The same settings with another ranker list.</summary>
    public CompareSettings With(IReadOnlyList<string> rankers) => new()
    {
        Rankers = rankers, Metrics = Metrics, Contract = Contract, PrimaryMetric = PrimaryMetric, Seed = Seed, Threads = Threads,
        Iterations = Iterations, RankerParameters = RankerParameters, Title = Title, Notes = Notes, Compute = Compute,
        SubtopicsPath = SubtopicsPath, TrainingSets = TrainingSets,
    };
}

/// <summary>
/// Trains every ranker on every fold, scores the test set, saves the predictions, evaluates them and compares
/// each ranker with the best one. Significance is paired over test queries: with several folds the test
/// queries of all folds are pooled (in k-fold rotation each query is tested once), so the t-test and bootstrap
/// see every query once rather than k fold means.
/// </summary>
internal static class CompareRunner
{
    public static CompareReport Run(RankerCatalog catalog, IReadOnlyList<CompareFold> folds, CompareSettings settings,
        string outDir, TrainRanker train, ICompareObserver? observer = null)
    {
        if (folds.Count == 0) throw new UsageException("compare needs at least one fold.");
        if (settings.Rankers.Count == 0) throw new UsageException("compare needs at least one ranker (--rankers a,b,c).");
        var descriptors = settings.Rankers.Select(name =>
        {
            try { return settings.TrainingSets?.Resolve(catalog, name) ?? catalog.Get(name); }
            catch (ArgumentException ex) { throw new UsageException(ex.Message); }
        }).ToList();
        var metrics = settings.Metrics.Any(m => m.Name == settings.PrimaryMetric)
            ? settings.Metrics.ToList()
            : settings.Metrics.Append(MetricSpec.Parse(settings.PrimaryMetric)).ToList();
        int primary = metrics.FindIndex(m => m.Name == settings.PrimaryMetric);
        var validMetrics = new[] { metrics[primary] };

        var foldResults = descriptors.Select(_ => new List<FoldResult>()).ToList();
        var testScores = descriptors.Select(_ => new List<float[]>()).ToList();
        var tests = new List<RankingDataset>();
        var foldInfos = new List<FoldInfo>();
        var oracleMeans = new List<IReadOnlyDictionary<string, double>>();

        foreach (var fold in folds)
        {
            var (trainSet, validSet, testSet) = fold.Load();
            tests.Add(testSet);
            // Each fold's test set is joined to the judgements on its own: a query is judged wherever it is tested.
            var subtopics = settings.SubtopicsPath is null ? null : SubtopicJudgements.Read(settings.SubtopicsPath, testSet);
            foldInfos.Add(new FoldInfo(fold.Name, fold.TrainPath, fold.ValidPath, fold.TestPath, testSet.QueryCount, testSet.RowCount));
            if (fold.OracleTestScores is { } oracle)
                oracleMeans.Add(settings.Evaluate(testSet, oracle, metrics, subtopics).Means);

            for (int r = 0; r < descriptors.Count; r++)
            {
                var ranker = descriptors[r];
                var options = new RankerOptions { Seed = settings.Seed, Threads = settings.Threads, Iterations = settings.Iterations, Compute = settings.Compute };
                if (settings.RankerParameters?.GetValueOrDefault(ranker.Name) is { } knobs)
                    foreach (var (k, v) in knobs)
                    {
                        // "iterations" and "threads" map to RankerOptions; everything else is a ranker knob.
                        if (k.Equals("iterations", StringComparison.OrdinalIgnoreCase))
                            options.Iterations = settings.Iterations ?? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture);
                        else if (k.Equals("threads", StringComparison.OrdinalIgnoreCase))
                            options.Threads = int.Parse(v, System.Globalization.CultureInfo.InvariantCulture);
                        else options.Parameters[k] = v;
                    }
                // Building a ranker's training set (e.g. simulating a click log) is not its training time.
                var (rankerTrain, rankerValid) = settings.TrainingSets?.For(ranker, trainSet, validSet, options) ?? (trainSet, validSet);
                var given = settings.TrainingSets?.Given(ranker, trainSet);
                var progress = observer?.RankerStarted(fold.Name, ranker.Name);
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var trained = given ?? train(ranker, rankerTrain, rankerValid, options, validMetrics, settings.Contract, progress);
                double seconds = clock.Elapsed.TotalSeconds;
                float[] scores = trained.Predict(testSet);

                string relative = Path.Combine("predictions", Safe(fold.Name), Safe(ranker.Name) + ".txt");
                ScoresFile.Write(Path.Combine(outDir, relative), scores);
                var evaluation = settings.Evaluate(testSet, scores, metrics, subtopics);
                var result = new FoldResult
                {
                    Fold = fold.Name,
                    Metrics = evaluation.Means.ToDictionary(kv => kv.Key, kv => kv.Value),
                    StdError = metrics.Select((m, i) => (m.Name, StdError(evaluation.PerQuery[i]))).ToDictionary(p => p.Name, p => p.Item2),
                    TrainingSeconds = seconds,
                    BestIteration = trained.Result.BestIteration,
                    LearningCurve = trained.Result.History
                        .Where(e => e.ValidMetrics.ContainsKey(settings.PrimaryMetric))
                        .Select(e => new CurvePoint(e.Iteration, e.ValidMetrics[settings.PrimaryMetric])).ToList(),
                    Predictions = relative.Replace('\\', '/'),
                    PerQueryPrimary = evaluation.PerQuery[primary],
                };
                foldResults[r].Add(result);
                testScores[r].Add(scores);
                observer?.RankerFinished(fold.Name, ranker.Name, result);
            }
        }

        var rankers = descriptors.Select((d, r) => new RankerReport
        {
            Name = d.Name, Objective = d.Objective, ModelFamily = d.ModelFamily, Folds = foldResults[r],
        }).ToList();
        var report = new CompareReport
        {
            Title = settings.Title,
            Metrics = metrics.Select(m => m.Name).ToList(),
            PrimaryMetric = settings.PrimaryMetric,
            ContractText = settings.Contract.Describe(),
            Contract = settings.Contract.ToJsonObject(),
            Folds = foldInfos,
            Rankers = rankers,
            Seed = settings.Seed,
            Notes = settings.Notes,
            Oracle = oracleMeans.Count == 0 ? null
                : metrics.ToDictionary(m => m.Name, m => oracleMeans.Average(o => o[m.Name])),
        };

        if (report.Best is { } best && rankers.Count > 1)
        {
            int b = rankers.IndexOf(best);
            var pooled = tests.Count == 1 ? tests[0] : Concatenate(tests);
            float[] bestScores = Concatenate(testScores[b]);
            for (int r = 0; r < rankers.Count; r++)
            {
                if (r == b) continue;
                var c = RankingEvaluator.Compare(pooled, Concatenate(testScores[r]), bestScores, validMetrics, settings.Contract,
                    settings.Seed, threads: settings.Threads)[settings.PrimaryMetric];
                rankers[r].VersusBest = new Significance(best.Name, settings.PrimaryMetric, c.MeanDifference, c.PValue, c.CiLow, c.CiHigh, c.Queries);
            }
        }
        return report;
    }

    /// <summary>Sample std over the queries that define the metric, divided by sqrt(their count).</summary>
    internal static double StdError(double[] perQuery)
    {
        var values = perQuery.Where(double.IsFinite).ToArray();
        if (values.Length < 2) return double.NaN;
        double mean = values.Average();
        double ss = values.Sum(v => (v - mean) * (v - mean));
        return Math.Sqrt(ss / (values.Length - 1)) / Math.Sqrt(values.Length);
    }

    private static float[] Concatenate(IReadOnlyList<float[]> parts) => parts.Count == 1 ? parts[0] : parts.SelectMany(p => p).ToArray();

    /// <summary>The test sets of all folds as one set (queries in fold order); for the pooled paired comparison.</summary>
    internal static RankingDataset Concatenate(IReadOnlyList<RankingDataset> sets)
    {
        int features = sets[0].FeatureCount;
        if (sets.Any(s => s.FeatureCount != features)) throw new InvalidDataException("folds have different feature counts.");
        var offsets = new List<int> { 0 };
        foreach (var s in sets)
        {
            int at = offsets[^1];
            for (int q = 1; q <= s.QueryCount; q++) offsets.Add(at + s.GroupOffsets[q]);
        }
        bool weighted = sets.Any(s => s.QueryWeights is not null);
        return new RankingDataset(
            sets.SelectMany(s => s.Features).ToArray(), features,
            sets.SelectMany(s => s.Labels).ToArray(), offsets.ToArray(),
            sets.SelectMany(s => s.QueryIds).ToArray(),
            weighted ? sets.SelectMany(s => Enumerable.Range(0, s.QueryCount).Select(s.QueryWeight)).ToArray() : null);
    }

    private static string Safe(string name) =>
        string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
}
