using Ranking.Objectives;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ranking.Clicks;
using Ranking.Data;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>ranking clicks experiment</c>: the unbiased-learning-to-rank comparison on simulated clicks. A production
/// ranker from a small share of the judged training queries; a click log simulated over the training set;
/// then every estimator trained on the clicks alone (naive, IPW with true and estimated propensities,
/// unbiased LambdaMART, LightGBM's position GAM) and the full-information skyline on the true grades, all
/// evaluated on the test set's true grades with paired t-tests against naive; the propensities learned
/// against the true ones; and NDCG@10 against the number of sessions.
/// </summary>
internal static class ClicksExperimentCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var data = new Option<string?>("--data") { Description = "A folder with train.txt, vali.txt, test.txt (e.g. MQ2008 Fold1)." };
        var synthetic = new Option<string?>("--synthetic") { Description = "Instead of --data: a generated preset (small, mslr-like), split 60/20/20." };
        var queries = new Option<int>("--queries") { Description = "Queries of the synthetic set.", DefaultValueFactory = _ => 1000 };
        var sessions = new Option<string>("--sessions") { Description = "Sessions of the click log; a comma list gives the learning curve (the largest trains the table).", DefaultValueFactory = _ => "100000" };
        var swapSessions = new Option<int>("--swap-sessions") { Description = "Sessions of the randomised-swap log the propensities are estimated from.", DefaultValueFactory = _ => 100_000 };
        var fraction = new Option<double>("--production-fraction") { Description = "Share of training queries the production ranker learns from.", DefaultValueFactory = _ => 0.01 };
        var model = new Option<string>("--model") { Description = "linear | mlp: the model of the gradient-trained estimators.", DefaultValueFactory = _ => "linear" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of every gradient-trained estimator (no early stopping: no judged data is used to pick a model).", DefaultValueFactory = _ => 20 };
        var trees = new Option<int>("--trees") { Description = "Boosting rounds of the LightGBM estimators (0 = skip them).", DefaultValueFactory = _ => 100 };
        var pipeline = new Option<string>("--pipeline") { Description = "Feature pipeline fitted on each training set (none for LETOR's normalised files).", DefaultValueFactory = _ => "none" };
        var seed = new Option<int>("--seed") { Description = "Seed of the production ranker, the logs and the models.", DefaultValueFactory = _ => 42 };
        var threads = new Option<int>("--threads") { Description = "Threads (-1 = all).", DefaultValueFactory = _ => -1 };
        var output = new Option<string?>("--out") { Description = "Folder for report.md, results.json, propensities.tsv and the plots (propensities, learning curve; PNG and SVG)." };
        var json = new Option<bool>("--json") { Description = "Print results.json instead of the table." };
        var curveOnly = new Option<bool>("--curve-only") { Description = "Only the learning curve (naive and IPW softmax, linear and with trees when --trees > 0), the production ranker and the skylines: no propensity estimation, no other estimator." };
        var temperature = new Option<double>("--production-temperature") { Description = "0 = the deterministic production top k (the issue's protocol); T > 0 = each session shows a Plackett-Luce draw, score + T sd G (Gumbel noise scaled by the query's score spread).", DefaultValueFactory = _ => 0.0 };
        var clickSets = new Option<string>("--click-sets") { Description = "Training sets of the learning curve: session (one group per distinct session, weighted by its count), query (one group per query, labels aggregated over its sessions: naive, IPW, policy-aware IPW), or both.", DefaultValueFactory = _ => "session,query" };
        var clip = new Option<double>("--clip") { Description = "Smallest propensity a click is divided by in the IPW runs (0 = none; clipping bounds the variance and biases deep rows down; the policy-aware labels are bounded by 1/theta_k without it).", DefaultValueFactory = _ => 0.0 };
        var flags = new ClicksCommands.ModelFlags();
        var command = new Command("experiment", "Naive vs IPW vs unbiased LambdaMART vs LightGBM's position GAM on simulated clicks, evaluated on held-out true grades.")
            { data, synthetic, queries, sessions, swapSessions, fraction, model, epochs, trees, pipeline, seed, threads, output, json, curveOnly, temperature, clickSets, clip };
        flags.AddTo(command);
        command.SetAction(parse =>
        {
            var (train, test, name) = Load(parse.GetValue(data), parse.GetValue(synthetic), parse.GetValue(queries), parse.GetValue(seed));
            var sizes = parse.GetValue(sessions)!.Split(',').Select(t => int.TryParse(t.Trim(), NumberStyles.Integer, Inv, out int v) && v > 0 ? v
                : throw new UsageException($"--sessions takes positive integers, got '{t}'.")).Distinct().Order().ToArray();
            string family = parse.GetValue(model)!.Trim().ToLowerInvariant();
            if (family is not ("linear" or "mlp")) throw new UsageException($"--model must be linear or mlp, got '{family}'.");
            var settings = new Settings(flags.Get(parse, train), flags.GetIntervention(parse), parse.GetValue(flags.TopK), sizes, parse.GetValue(swapSessions),
                parse.GetValue(fraction), family, parse.GetValue(epochs), parse.GetValue(trees), parse.GetValue(pipeline)!, parse.GetValue(seed), parse.GetValue(threads),
                parse.GetValue(curveOnly), parse.GetValue(temperature), ParseClickSets(parse.GetValue(clickSets)!), parse.GetValue(clip));
            if (!(settings.ProductionTemperature >= 0) || !double.IsFinite(settings.ProductionTemperature))
                throw new UsageException($"--production-temperature must be finite and >= 0, got {settings.ProductionTemperature}.");
            if (!(settings.Clip >= 0 && settings.Clip <= 1)) throw new UsageException($"--clip must be within [0, 1], got {settings.Clip}.");
            Result result;
            try { result = Run(name, train, test, settings, line => Console.Error.WriteLine(line)); }
            catch (ArgumentException ex) { throw new UsageException(ex.Message); }
            string markdown = result.Markdown();
            string resultsJson = result.Json();
            if (parse.GetValue(output) is { } dir)
            {
                Directory.CreateDirectory(dir);
                var plots = Compare.ClicksReportPlots.Write(result, dir);
                string images = string.Concat(plots.Where(f => f.EndsWith(".png", StringComparison.Ordinal)).Select(f => $"\n![{Path.GetFileNameWithoutExtension(f)}]({f})\n"));
                AtomicFile.WriteAllBytes(Path.Combine(dir, "report.md"), Encoding.UTF8.GetBytes(markdown + images));
                AtomicFile.WriteAllBytes(Path.Combine(dir, "results.json"), Encoding.UTF8.GetBytes(resultsJson));
                AtomicFile.WriteAllBytes(Path.Combine(dir, "propensities.tsv"), Encoding.UTF8.GetBytes(result.PropensityTsv()));
            }
            Console.Out.Write(parse.GetValue(json) ? resultsJson + "\n" : markdown);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static (bool Sessions, bool Queries) ParseClickSets(string text)
    {
        bool sessions = false, queries = false;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Equals("session", StringComparison.OrdinalIgnoreCase)) sessions = true;
            else if (part.Equals("query", StringComparison.OrdinalIgnoreCase)) queries = true;
            else throw new UsageException($"--click-sets takes session, query or both (comma-separated), got '{part}'.");
        }
        if (!sessions && !queries) throw new UsageException("--click-sets needs session, query or both.");
        return (sessions, queries);
    }

    private static (RankingDataset Train, RankingDataset Test, string Name) Load(string? folder, string? preset, int queries, int seed)
    {
        if ((folder is null) == (preset is null)) throw new UsageException("give exactly one of --data DIR and --synthetic PRESET.");
        if (folder is not null)
        {
            var train = DatasetReader.Read(Path.Combine(folder, "train.txt"));
            var test = DatasetReader.Read(Path.Combine(folder, "test.txt"), new DatasetReadOptions { FeatureCount = train.FeatureCount });
            return (train, test, folder);
        }
        var (tr, _, te) = SyntheticGenerator.GenerateSplits(preset!, queries, (ulong)seed);
        return (tr.Data, te.Data, $"synthetic:{preset}:{queries}");
    }

    /// <summary>Everything the experiment is run with.</summary>
    public sealed record Settings(ClickModel Model, ClickIntervention Intervention, int TopK, int[] Sessions, int SwapSessions, double ProductionFraction,
        string Family, int Epochs, int Trees, string Pipeline, int Seed, int Threads, bool CurveOnly = false, double ProductionTemperature = 0,
        (bool Sessions, bool Queries)? ClickSets = null, double Clip = 0)
    {
        /// <summary>Which training sets the learning curve builds (both unless set).</summary>
        public (bool Sessions, bool Queries) Sets => ClickSets ?? (true, true);
    }

    /// <summary>
    /// One log size of the learning curve: test NDCG@10 of each curve estimator (naive and IPW softmax on the
    /// per-session and per-query click sets, with the gradient-trained model and as LightGBM custom objectives),
    /// in one order for every point.
    /// </summary>
    public sealed record CurvePoint(int Sessions, int DistinctSessions, IReadOnlyDictionary<string, double> Ndcg);

    /// <summary>One estimator's test metrics and its paired comparison with naive.</summary>
    /// <param name="Estimator">The row's name.</param>
    /// <param name="Description">What it was trained on, and how.</param>
    /// <param name="Means">Test metrics on the true grades.</param>
    /// <param name="VersusNaive">Paired comparison of NDCG@10 with <paramref name="Baseline"/> (null for the baseline itself).</param>
    /// <param name="Seconds">Training time.</param>
    /// <param name="Baseline">The naive run of the same model and click set this row is tested against.</param>
    public sealed record Row(string Estimator, string Description, IReadOnlyDictionary<string, double> Means, MetricComparison? VersusNaive, double Seconds, string Baseline = "naive-softmax");

    /// <summary>The whole outcome.</summary>
    public sealed record Result(string Data, Settings Settings, int LogSessions, long Clicks, double SimulateSeconds, int ClickGroups, int ClickRows,
        List<Row> Rows, double[] TruePropensities, Dictionary<string, double[]> Estimated, List<CurvePoint> Curve)
    {
        /// <summary>Mean NDCG of the lists the log showed, on the training queries' true grades (<see cref="ClickLog.ShownNdcg"/>).</summary>
        public double ShownNdcg { get; init; } = double.NaN;

        /// <summary>The report as markdown.</summary>
        public string Markdown()
        {
            var sb = new StringBuilder();
            sb.Append(Inv, $"# Learning from clicks: {Data}\n\n");
            sb.Append(Inv, $"{Settings.Model.Kind} eta={Settings.Model.Eta} noise={Settings.Model.NoiseNegative}/{Settings.Model.NoisePositive}, top {Settings.TopK}, production ranker from {Settings.ProductionFraction:P0} of the training queries, ");
            sb.Append(Inv, $"{LogSessions} sessions ({Clicks} clicks, simulated in {SimulateSeconds:F2} s) -> {ClickGroups} distinct sessions / {ClickRows} rows; {Settings.Family} models, {Settings.Epochs} epochs; seed {Settings.Seed}. ");
            sb.Append(Inv, $"Production ranker {(Settings.ProductionTemperature > 0 ? $"sampled (Plackett-Luce, temperature {Settings.ProductionTemperature})" : "deterministic")}; NDCG of the lists shown (training queries, true grades): {ShownNdcg:F4}.\n\n");
            sb.Append("| estimator | NDCG@1 | NDCG@3 | NDCG@5 | NDCG@10 | vs naive NDCG@10 (p) | train s |\n|---|---:|---:|---:|---:|---|---:|\n");
            foreach (var r in Rows)
            {
                string versus = r.VersusNaive is { } c ? $"{c.MeanDifference:+0.0000;-0.0000} (p {c.PValue:0.000})" + (r.Baseline == "naive-softmax" ? "" : $" vs {r.Baseline}") : "";
                sb.Append(Inv, $"| {r.Estimator} | {r.Means["ndcg@1"]:F4} | {r.Means["ndcg@3"]:F4} | {r.Means["ndcg@5"]:F4} | {r.Means["ndcg@10"]:F4} | {versus} | {r.Seconds:F1} |\n");
            }
            sb.Append("\nPropensities (relative to position 1):\n\n| position | true |");
            foreach (var k in Estimated.Keys) sb.Append(Inv, $" {k} |");
            sb.Append("\n|---:|---:|");
            foreach (var _ in Estimated.Keys) sb.Append("---:|");
            sb.Append('\n');
            for (int p = 0; p < TruePropensities.Length; p++)
            {
                sb.Append(Inv, $"| {p + 1} | {TruePropensities[p]:F3} |");
                foreach (var v in Estimated.Values) sb.Append(Inv, $" {(p < v.Length ? v[p].ToString("F3", Inv) : "")} |");
                sb.Append('\n');
            }
            if (Curve.Count > 0)
            {
                var names = Curve[0].Ndcg.Keys.ToArray();
                sb.Append("\nNDCG@10 against sessions:\n\n| sessions | distinct sessions |");
                foreach (var n in names) sb.Append(Inv, $" {n} |");
                sb.Append("\n|---:|---:|");
                foreach (var _ in names) sb.Append("---:|");
                sb.Append('\n');
                foreach (var c in Curve)
                {
                    sb.Append(Inv, $"| {c.Sessions} | {c.DistinctSessions} |");
                    foreach (var n in names) sb.Append(Inv, $" {c.Ndcg[n]:F4} |");
                    sb.Append('\n');
                }
            }
            return sb.ToString();
        }

        /// <summary>Positions with the true and every estimated propensity (tab-separated).</summary>
        public string PropensityTsv()
        {
            var sb = new StringBuilder("position\ttrue");
            foreach (var k in Estimated.Keys) sb.Append('\t').Append(k);
            sb.Append('\n');
            for (int p = 0; p < TruePropensities.Length; p++)
            {
                sb.Append(Inv, $"{p + 1}\t{TruePropensities[p]:R}");
                foreach (var v in Estimated.Values) sb.Append('\t').Append(p < v.Length ? v[p].ToString("R", Inv) : "");
                sb.Append('\n');
            }
            return sb.ToString();
        }

        /// <summary>The results as JSON.</summary>
        public string Json() => CliJson.Format(w =>
        {
            w.WriteStartObject();
            w.WriteString("schema", "ranking-clicks-experiment/1");
            w.WriteString("data", Data);
            w.WriteNumber("sessions", LogSessions);
            w.WriteNumber("clicks", Clicks);
            w.WriteNumber("simulate_seconds", SimulateSeconds);
            w.WriteNumber("production_temperature", Settings.ProductionTemperature);
            if (double.IsFinite(ShownNdcg)) w.WriteNumber("shown_ndcg", ShownNdcg);
            w.WriteStartArray("estimators");
            foreach (var r in Rows)
            {
                w.WriteStartObject();
                w.WriteString("name", r.Estimator);
                w.WriteString("description", r.Description);
                w.WriteNumber("train_seconds", r.Seconds);
                w.WriteStartObject("metrics");
                foreach (var (k, v) in r.Means) w.WriteNumber(k, v);
                w.WriteEndObject();
                if (r.VersusNaive is { } c)
                {
                    w.WriteStartObject("versus_naive");
                    w.WriteString("baseline", r.Baseline);
                    w.WriteNumber("ndcg@10_difference", c.MeanDifference);
                    w.WriteNumber("p_value", c.PValue);
                    w.WriteNumber("ci_low", c.CiLow);
                    w.WriteNumber("ci_high", c.CiHigh);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("propensities");
            w.WriteStartArray("true");
            foreach (double t in TruePropensities) w.WriteNumberValue(t);
            w.WriteEndArray();
            foreach (var (k, v) in Estimated)
            {
                w.WriteStartArray(k);
                foreach (double t in v) w.WriteNumberValue(t);
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteStartArray("learning_curve");
            foreach (var c in Curve)
            {
                w.WriteStartObject();
                w.WriteNumber("sessions", c.Sessions);
                w.WriteNumber("distinct_sessions", c.DistinctSessions);
                w.WriteStartObject("ndcg@10");
                foreach (var (k, v) in c.Ndcg) w.WriteNumber(k, v);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    /// <summary>Runs the experiment; progress lines go to <paramref name="log"/>.</summary>
    public static Result Run(string name, RankingDataset train, RankingDataset test, Settings s, Action<string> log)
    {
        var metrics = MetricSpec.ParseList("ndcg@1,ndcg@3,ndcg@5,ndcg@10");
        var contract = NdcgContract.Default;
        var catalog = CatalogFactory.CreateDefault();
        var clock = Stopwatch.StartNew();
        var (production, _) = ProductionRanker.Train(train, s.ProductionFraction, s.Seed, threads: s.Threads);
        float[] productionTrain = production.Predict(train);
        log($"production ranker trained ({clock.Elapsed.TotalSeconds:F1} s)");

        int largest = s.Sessions[^1];
        var simClock = Stopwatch.StartNew();
        var clickLog = ClickSimulator.Simulate(train, productionTrain, new ClickSimulationOptions
            { Sessions = largest, TopK = s.TopK, Model = s.Model, Intervention = s.Intervention, Seed = s.Seed, Threads = s.Threads, ProductionTemperature = s.ProductionTemperature });
        double simulateSeconds = simClock.Elapsed.TotalSeconds;
        // The per-session set of the largest log trains the table (not built for a curve-only run without session sets).
        var clicks = !s.CurveOnly || s.Sets.Sessions ? ClickTrainingSet.Build(clickLog) : null;
        double shownNdcg = clickLog.ShownNdcg();
        log($"{largest} sessions simulated in {simulateSeconds:F2} s; NDCG of the shown lists {shownNdcg:F4}" + (clicks is null ? "" : $": {clicks.QueryCount} distinct sessions, {clicks.RowCount} rows"));

        // Propensities: true, from a randomised-swap log, by regression-EM on the plain log.
        var truth = s.Model.Propensities(s.TopK);
        var estimated = new Dictionary<string, double[]>();
        // The swap log is cheap: the per-query estimators use its estimate even in a curve-only run.
        if (!s.CurveOnly || s.Sets.Queries)
        {
            var swapLog = ClickSimulator.Simulate(train, productionTrain, new ClickSimulationOptions
                { Sessions = s.SwapSessions, TopK = s.TopK, Model = s.Model, Intervention = ClickIntervention.SwapWithFirst, Seed = s.Seed + 1, Threads = s.Threads, ProductionTemperature = s.ProductionTemperature });
            estimated["interventions"] = PropensityEstimator.FromInterventions(swapLog.Aggregate(), s.TopK).Propensities;
        }
        if (!s.CurveOnly)
        {
            estimated["regression-em"] = PropensityEstimator.RegressionEm(clickLog.Take(Math.Min(largest, 100_000)).Aggregate(), s.TopK).Propensities;
            log("propensities estimated");
        }

        string List(double[] p) => string.Join(",", p.Select(v => Math.Max(v, 1e-6).ToString("R", Inv)));
        string trueList = List(truth);
        var rows = new List<Row>();
        var scoresOf = new Dictionary<string, float[]>();

        void Add(string estimator, string description, float[] scores, double seconds, string baseline = "naive-softmax")
        {
            var report = RankingEvaluator.Evaluate(test, scores, metrics, contract, s.Threads);
            scoresOf[estimator] = scores;
            MetricComparison? versus = null;
            if (scoresOf.TryGetValue(baseline, out var naive) && estimator != baseline)
                versus = RankingEvaluator.Compare(test, scores, naive, metrics, contract, s.Seed)["ndcg@10"];
            rows.Add(new Row(estimator, description, report.Means, versus, seconds, baseline));
            log($"{estimator}: NDCG@10 {report.Means["ndcg@10"]:F4}");
        }

        float[] TrainGradient(RankingDataset set, string objective, params (string Key, string Value)[] knobs)
        {
            var options = new RankerOptions { Seed = s.Seed, Threads = s.Threads, Iterations = s.Epochs, EarlyStoppingRounds = 0 };
            foreach (var (k, v) in knobs) options.Parameters[k] = v;
            if (objective.StartsWith("ipw-", StringComparison.Ordinal) && !options.Parameters.ContainsKey("clip")) options.Parameters["clip"] = s.Clip.ToString("R", Inv);
            var (m, _) = RankerTraining.Train(catalog.Compose(objective, s.Family), set, null, options, s.Pipeline, metrics, contract);
            return m.Predict(test);
        }

        float[] TrainTrees(RankingDataset set, string ranker, string? objective = null, params (string Key, string Value)[] knobs)
        {
            var options = new RankerOptions { Seed = s.Seed, Threads = 1, Iterations = s.Trees, EarlyStoppingRounds = 0 };
            foreach (var (k, v) in knobs) options.Parameters[k] = v;
            if (objective is not null && objective.StartsWith("ipw-", StringComparison.Ordinal) && !options.Parameters.ContainsKey("clip")) options.Parameters["clip"] = s.Clip.ToString("R", Inv);
            var descriptor = objective is null ? catalog.Get(ranker) : catalog.Compose(objective, "gbdt");
            var (m, _) = RankerTraining.Train(descriptor, set, null, options, "none", metrics, contract);
            return m.Predict(test);
        }

        (float[] Scores, double Seconds) Timed(Func<float[]> train)
        {
            var t = Stopwatch.StartNew();
            var scores = train();
            return (scores, t.Elapsed.TotalSeconds);
        }

        Add("production", $"linear-ranknet on {s.ProductionFraction:P0} of the judged training queries", production.Predict(test), 0);
        if (!s.CurveOnly) Estimators();
        if (s.Trees > 0)
        {
            var g5 = Timed(() => TrainTrees(train, "lambdamart"));
            Add("skyline lambdamart", "LightGBM lambdarank on the true grades of every training query", g5.Scores, g5.Seconds);
        }
        var sky = Timed(() => TrainGradient(train, "softmax"));
        Add("skyline softmax", $"softmax cross-entropy on the true grades, {s.Family}", sky.Scores, sky.Seconds);

        // The per-query click sets of the largest log: naive, IPW and (with a stochastic production ranker, where they
        // differ) policy-aware IPW, each tested against the naive run of the same model.
        if (s.Sets.Queries)
        {
            var corrections = new List<(string Name, ClickLabelCorrection Correction)> { ("naive", ClickLabelCorrection.None), ("ipw", ClickLabelCorrection.PositionIpw) };
            if (s.ProductionTemperature > 0) corrections.Add(("policy-aware ipw", ClickLabelCorrection.PolicyAware));
            // The last correction again with the propensities estimated from the swap log.
            var (lastLabel, lastCorrection) = corrections[^1];
            var runs = corrections.Select(c => (c.Name, c.Correction, Propensities: truth, Source: "true")).ToList();
            if (estimated.TryGetValue("interventions", out var harvested))
                runs.Add(($"{lastLabel} (interventions)", lastCorrection, harvested.Select(v => Math.Clamp(v, 1e-6, 1.0)).ToArray(), "swap-log"));
            foreach (var (label, correction, theta, source) in runs)
            {
                var set = ClickTrainingSet.BuildPerQuery(clickLog, correction, theta, s.Clip);
                string propensities = correction == ClickLabelCorrection.None ? "" : $", {source} propensities";
                var linear = Timed(() => TrainGradient(set, "ipw-softmax", ("propensities", "1"), ("clip", "0")));
                Add($"{label} per query ({s.Family})", $"softmax on per-query {label} click labels{propensities}, {s.Family}", linear.Scores, linear.Seconds, $"naive per query ({s.Family})");
                if (s.Trees > 0)
                {
                    var trees = Timed(() => TrainTrees(set, "", "ipw-softmax", ("propensities", "1"), ("clip", "0")));
                    Add($"gbdt {label} per query", $"softmax on per-query {label} click labels{propensities}, LightGBM custom objective", trees.Scores, trees.Seconds, "gbdt naive per query");
                }
            }
        }

        // The infinite-data limits of the click estimators, from the true grades: every row the log showed, labelled
        // with its true P(click | examined) (what IPW's labels converge to), and every row of the training set so
        // labelled (what a ranker that shows every row would converge to). The gap between the two is the
        // item-selection bias no position correction removes.
        if (s.Trees > 0)
        {
            var logged = LoggedRows(clickLog);
            var o1 = Timed(() => TrainTrees(Attractiveness(train, logged, s.Model), "", "ipw-softmax", ("propensities", "1"), ("clip", "0")));
            Add("limit: true P(click|examined), logged rows", $"gbdt softmax on a(g) of the {logged.Count(b => b)} rows the log showed: the limit of IPW with unlimited sessions", o1.Scores, o1.Seconds);
            var o2 = Timed(() => TrainTrees(Attractiveness(train, null, s.Model), "", "ipw-softmax", ("propensities", "1"), ("clip", "0")));
            Add("limit: true P(click|examined), all rows", "gbdt softmax on a(g) of every training row: the limit if every row could be shown", o2.Scores, o2.Seconds);
        }

        var curve = new List<CurvePoint>();
        if (s.Sessions.Length > 1 || s.CurveOnly)
            foreach (int n in s.Sessions)
            {
                var taken = clickLog.Take(n);
                var ndcg = new Dictionary<string, double>();
                double Ndcg(float[] scores) => RankingEvaluator.Evaluate(test, scores, metrics, contract, s.Threads).Means["ndcg@10"];
                int distinct = 0;
                if (s.Sets.Sessions)
                {
                    var part = ClickTrainingSet.Build(taken);
                    distinct = part.QueryCount;
                    ndcg["naive-softmax"] = Ndcg(TrainGradient(part, "ipw-softmax", ("propensities", "1"), ("clip", "0")));
                    ndcg["ipw-softmax (true)"] = Ndcg(TrainGradient(part, "ipw-softmax", ("propensities", trueList)));
                    if (s.Trees > 0)
                    {
                        ndcg["gbdt naive-softmax"] = Ndcg(TrainTrees(part, "", "ipw-softmax", ("propensities", "1"), ("clip", "0")));
                        ndcg["gbdt ipw-softmax (true)"] = Ndcg(TrainTrees(part, "", "ipw-softmax", ("propensities", trueList)));
                    }
                }
                if (s.Sets.Queries)
                {
                    var sets = new (string Name, RankingDataset Set)[]
                    {
                        ("naive", ClickTrainingSet.BuildPerQuery(taken, ClickLabelCorrection.None)),
                        ("ipw", ClickTrainingSet.BuildPerQuery(taken, ClickLabelCorrection.PositionIpw, truth, s.Clip)),
                        ("policy-aware ipw", ClickTrainingSet.BuildPerQuery(taken, ClickLabelCorrection.PolicyAware, truth, s.Clip)),
                    };
                    // Under a deterministic production ranker the two IPW labels coincide: train one.
                    bool same = sets[1].Set.Labels.AsSpan().SequenceEqual(sets[2].Set.Labels);
                    foreach (var (label, set) in sets)
                    {
                        if (same && label == "policy-aware ipw") continue;
                        ndcg[$"{label} per query"] = Ndcg(TrainGradient(set, "ipw-softmax", ("propensities", "1"), ("clip", "0")));
                        if (s.Trees > 0) ndcg[$"gbdt {label} per query"] = Ndcg(TrainTrees(set, "", "ipw-softmax", ("propensities", "1"), ("clip", "0")));
                    }
                }
                curve.Add(new CurvePoint(n, distinct, ndcg));
                log($"curve {n}: {distinct} distinct sessions; " + string.Join(", ", ndcg.Select(kv => $"{kv.Key} {kv.Value:F4}")));
            }
        return new Result(name, s, largest, clickLog.ClickCount, simulateSeconds, clicks?.QueryCount ?? 0, clicks?.RowCount ?? 0, rows, truth, estimated, curve) { ShownNdcg = shownNdcg };

        // Every estimator of the table, on the largest log.
        void Estimators()
        {
            clicks ??= ClickTrainingSet.Build(clickLog);
            var naiveRun = Timed(() => TrainGradient(clicks, "ipw-softmax", ("propensities", "1"), ("clip", "0")));
            Add("naive-softmax", "softmax cross-entropy on clicks, no correction", naiveRun.Scores, naiveRun.Seconds);
            var r1 = Timed(() => TrainGradient(clicks, "ipw-softmax", ("propensities", trueList)));
            Add("ipw-softmax (true)", "IPW softmax, true propensities, clip 0.01", r1.Scores, r1.Seconds);
            var r2 = Timed(() => TrainGradient(clicks, "ipw-softmax", ("propensities", List(estimated["interventions"]))));
            Add("ipw-softmax (interventions)", "IPW softmax, propensities from the swap log", r2.Scores, r2.Seconds);
            var r3 = Timed(() => TrainGradient(clicks, "ipw-softmax", ("propensities", List(estimated["regression-em"]))));
            Add("ipw-softmax (regression-em)", "IPW softmax, propensities by regression-EM on the plain log", r3.Scores, r3.Seconds);
            var r4 = Timed(() => TrainGradient(clicks, "ipw-ranknet", ("propensities", "1"), ("clip", "0")));
            Add("naive-ranknet", "RankNet of clicks against every other shown row, no correction", r4.Scores, r4.Seconds);
            var r5 = Timed(() => TrainGradient(clicks, "ipw-ranknet", ("propensities", trueList)));
            Add("ipw-ranknet (true)", "IPW RankNet, true propensities", r5.Scores, r5.Seconds);
            var r6 = Timed(() => TrainGradient(clicks, "ipw-lambdarank", ("propensities", trueList)));
            Add("ipw-lambdarank (true)", "IPW LambdaRank, true propensities", r6.Scores, r6.Seconds);

            // Unbiased LambdaMART on the gradient trainer, keeping the objective to read its learned biases.
            {
                var t = Stopwatch.StartNew();
                var defaults = s.Family == "mlp" ? CoreRankers.MlpDefaults : CoreRankers.LinearDefaults;
                var options = new RankerOptions { Seed = s.Seed, Threads = s.Threads, Iterations = s.Epochs, EarlyStoppingRounds = 0 };
                var resolved = defaults.Apply(options, out _);
                UnbiasedLambdaRankObjective? objective = null;
                var trainer = new GradientTrainer(resolved, seed => objective = new UnbiasedLambdaRankObjective(new UnbiasedLambdaRankOptions { MaxPosition = s.TopK, BiasDecay = 0.99 }) { Seed = seed });
                var pipeline = Ranking.Features.FeaturePipeline.Parse(s.Pipeline).Fit(clicks);
                var result = trainer.Train(new TrainingRequest { Train = pipeline.Apply(clicks), Options = options });
                var testX = pipeline.Apply(test);
                var scores = new float[test.RowCount];
                result.Model.Predict(testX.Features, testX.RowCount, scores);
                Add("unbiased-lambdarank", $"unbiased LambdaMART (Hu et al. 2019) on a {s.Family} model, biases learned", scores, t.Elapsed.TotalSeconds);
                estimated["unbiased-lambdarank t+"] = objective!.ClickPropensities.ToArray();
            }

            if (s.Trees > 0)
            {
                var g1 = Timed(() => TrainTrees(clicks.WithPositions(null), "lambdamart"));
                Add("lambdamart naive", "LightGBM lambdarank on clicks, no positions", g1.Scores, g1.Seconds);
                var g2 = Timed(() => TrainTrees(clicks, "lambdamart"));
                Add("lambdamart position GAM", "LightGBM lambdarank with FILE.position: its position-bias GAM", g2.Scores, g2.Seconds);
                var g3 = Timed(() => TrainTrees(clicks, "", "ipw-softmax", ("propensities", trueList)));
                Add("gbdt ipw-softmax (true)", "IPW softmax as a LightGBM custom objective", g3.Scores, g3.Seconds);
                var g4 = Timed(() => TrainTrees(clicks, "", "unbiased-lambdarank", ("bias-decay", "0"), ("max-position", s.TopK.ToString(Inv))));
                Add("gbdt unbiased-lambdarank", "unbiased LambdaMART as a LightGBM custom objective", g4.Scores, g4.Seconds);
            }
        }
    }

    /// <summary>Which training rows (flat index) the log showed at least once.</summary>
    private static bool[] LoggedRows(ClickLog log)
    {
        var shown = new bool[log.Data.RowCount];
        for (int s = 0; s < log.SessionCount; s++)
        {
            int rowBase = log.Data.GroupOffsets[log.SessionQuery[s]];
            for (int e = log.SessionOffsets[s]; e < log.SessionOffsets[s + 1]; e++) shown[rowBase + log.ShownRow[e]] = true;
        }
        return shown;
    }

    /// <summary>
    /// The rows of <paramref name="train"/> kept by <paramref name="keep"/> (all when null), one group per query,
    /// labelled with the click model's P(click | examined, grade): what IPW's per-query labels converge to.
    /// </summary>
    private static RankingDataset Attractiveness(RankingDataset train, bool[]? keep, ClickModel model)
    {
        var rowsOf = new List<int>[train.QueryCount];
        var queries = new List<int>();
        for (int q = 0; q < train.QueryCount; q++)
        {
            var rows = new List<int>();
            for (int r = train.GroupOffsets[q]; r < train.GroupOffsets[q + 1]; r++) if (keep is null || keep[r]) rows.Add(r - train.GroupOffsets[q]);
            rowsOf[q] = rows;
            if (rows.Count > 0) queries.Add(q);
        }
        int total = queries.Sum(q => rowsOf[q].Count), f = train.FeatureCount;
        var features = new float[(long)total * f];
        var labels = new float[total];
        var offsets = new int[queries.Count + 1];
        int at = 0;
        for (int g = 0; g < queries.Count; g++)
        {
            int q = queries[g];
            foreach (int i in rowsOf[q])
            {
                int row = train.GroupOffsets[q] + i;
                Array.Copy(train.Features, (long)row * f, features, (long)at * f, f);
                labels[at++] = (float)model.Attractiveness(train.Labels[row]);
            }
            offsets[g + 1] = at;
        }
        return new RankingDataset(features, f, labels, offsets, queries.Select(q => train.QueryIds[q]).ToArray(), null, null, $"attractiveness:{train.Source}");
    }
}
