using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ranking.Clicks;
using Ranking.Data;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>ranking clicks simulate|aggregate|propensity|experiment</c>: simulate click logs over a judged set,
/// count them, estimate position bias, and run the unbiased-learning-to-rank comparison.
/// </summary>
internal static class ClicksCommands
{
    /// <summary>The <c>clicks</c> command group.</summary>
    public static Command Create()
    {
        var clicks = new Command("clicks", "Click logs: simulate (PBM, cascade, DBN), aggregate, estimate propensities, compare unbiased learners on true grades.");
        clicks.Subcommands.Add(Simulate());
        clicks.Subcommands.Add(Aggregate());
        clicks.Subcommands.Add(Propensity());
        clicks.Subcommands.Add(ClicksExperimentCommand.Create());
        return clicks;
    }

    private static Option<bool> JsonOption() => SharedOptions.Json("Print one JSON object (snake_case keys) instead of text.");

    /// <summary>The click-model flags shared by simulate and experiment.</summary>
    internal sealed class ModelFlags
    {
        public readonly Option<string> Model = new("--click-model") { Description = "pbm | cascade | dbn.", DefaultValueFactory = _ => "pbm" };
        public readonly Option<double> Eta = new("--eta") { Description = "PBM examination (1/position)^eta.", DefaultValueFactory = _ => 1.0 };
        public readonly Option<string> Noise = new("--noise") { Description = "epsilon-,epsilon+: click probability of an examined grade-0 row and of a top-grade row.", DefaultValueFactory = _ => "0.1,1.0" };
        public readonly Option<double?> MaxGrade = new("--max-grade") { Description = "The top grade of the scale (default: the largest grade in the data)." };
        public readonly Option<double> Perseverance = new("--perseverance") { Description = "DBN: probability of reading on after an unsatisfying row.", DefaultValueFactory = _ => 0.9 };
        public readonly Option<int> TopK = new("--top-k") { Description = "Rows shown per session.", DefaultValueFactory = _ => 10 };
        public readonly Option<string> Intervention = new("--intervention") { Description = "none | swap (randomised swap of ranks 1 and k, for propensity estimation).", DefaultValueFactory = _ => "none" };

        public void AddTo(Command command)
        {
            foreach (var o in new Option[] { Model, Eta, Noise, MaxGrade, Perseverance, TopK, Intervention }) command.Options.Add(o);
        }

        public ClickModel Get(ParseResult parse, RankingDataset data)
        {
            var noise = parse.GetValue(Noise)!.Split(',');
            if (noise.Length != 2 || !double.TryParse(noise[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double minus)
                || !double.TryParse(noise[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double plus))
                throw new UsageException($"--noise takes epsilon-,epsilon+ (e.g. 0.1,1.0), got '{parse.GetValue(Noise)}'.");
            var kind = parse.GetValue(Model)!.Trim().ToLowerInvariant() switch
            {
                "pbm" => ClickModelKind.PositionBased,
                "cascade" => ClickModelKind.Cascade,
                "dbn" => ClickModelKind.Dbn,
                var other => throw new UsageException($"--click-model must be pbm, cascade or dbn, got '{other}'."),
            };
            double maxGrade = parse.GetValue(MaxGrade) ?? Math.Max(1.0, data.Labels.Max());
            var model = new ClickModel { Kind = kind, Eta = parse.GetValue(Eta), NoiseNegative = minus, NoisePositive = plus, MaxGrade = maxGrade, Perseverance = parse.GetValue(Perseverance) };
            try { model.Validate(); }
            catch (ArgumentException ex) { throw new UsageException(ex.Message); }
            return model;
        }

        public ClickIntervention GetIntervention(ParseResult parse) => parse.GetValue(Intervention)!.Trim().ToLowerInvariant() switch
        {
            "none" => ClickIntervention.None,
            "swap" => ClickIntervention.SwapWithFirst,
            var other => throw new UsageException($"--intervention must be none or swap, got '{other}'."),
        };
    }

    private static Command Simulate()
    {
        var data = new Option<string>("--data") { Description = "The judged set whose rows are shown (its grades drive the clicks).", Required = true };
        var scores = new Option<string?>("--production-scores") { Description = "One production score per row of --data (else a production ranker is trained on --production-fraction of its queries)." };
        var fraction = new Option<double>("--production-fraction") { Description = "Share of --data's queries the production ranker is trained on.", DefaultValueFactory = _ => 0.01 };
        var ranker = new Option<string>("--production-ranker") { Description = "Catalog ranker used as the production ranker.", DefaultValueFactory = _ => "linear-ranknet" };
        var sessions = new Option<int>("--sessions") { Description = "Sessions in all, each drawing its query uniformly.", DefaultValueFactory = _ => 100_000 };
        var perQuery = new Option<int>("--sessions-per-query") { Description = "Exactly this many sessions per query instead of --sessions.", DefaultValueFactory = _ => 0 };
        var seed = SharedOptions.Seed("Seed of the production ranker and of every click.");
        var threads = SharedOptions.Threads("Worker threads (-1 = all); the log does not depend on it.");
        var output = new Option<string>("--out") { Description = "The click log to write (tab-separated).", Required = true };
        var json = JsonOption();
        var flags = new ModelFlags();
        var command = new Command("simulate", "Simulate a seeded, byte-reproducible click log: a production ranker's top-k per session, clicks by a click model on the true grades.")
            { data, scores, fraction, ranker, sessions, perQuery, seed, threads, output, json };
        flags.AddTo(command);
        command.SetAction(parse =>
        {
            var set = DatasetReader.Read(parse.GetValue(data)!);
            var model = flags.Get(parse, set);
            float[] production;
            if (parse.GetValue(scores) is { } scorePath) production = ScoresFile.Read(scorePath, set.RowCount);
            else
            {
                var (productionModel, _) = ProductionRanker.Train(set, parse.GetValue(fraction), parse.GetValue(seed), parse.GetValue(ranker)!, threads: parse.GetValue(threads));
                production = productionModel.Predict(set);
            }
            var clock = Stopwatch.StartNew();
            ClickLog log;
            try
            {
                log = ClickSimulator.Simulate(set, production, new ClickSimulationOptions
                {
                    Sessions = parse.GetValue(sessions), SessionsPerQuery = parse.GetValue(perQuery), TopK = parse.GetValue(flags.TopK), Model = model,
                    Intervention = flags.GetIntervention(parse), Seed = parse.GetValue(seed), Threads = parse.GetValue(threads),
                });
            }
            catch (ArgumentException ex) { throw new UsageException(ex.Message); }
            double simulateSeconds = clock.Elapsed.TotalSeconds;
            ClickLogFile.Write(log, parse.GetValue(output)!);
            var ctr = log.ClickRateByPosition();
            if (parse.GetValue(json))
                Console.Out.WriteLine(CliJson.Format(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("log", parse.GetValue(output));
                    w.WriteNumber("sessions", log.SessionCount);
                    w.WriteNumber("shown", log.EntryCount);
                    w.WriteNumber("clicks", log.ClickCount);
                    w.WriteNumber("simulate_seconds", simulateSeconds);
                    w.WriteStartArray("click_rate_by_position");
                    foreach (double r in ctr) w.WriteNumberValue(r);
                    w.WriteEndArray();
                    w.WriteEndObject();
                }));
            else
            {
                Console.Out.WriteLine($"{log.SessionCount} sessions, {log.EntryCount} shown, {log.ClickCount} clicks ({simulateSeconds:F2} s) -> {parse.GetValue(output)}");
                Console.Out.WriteLine("click rate by position: " + string.Join(" ", ctr.Select((r, k) => $"{k + 1}:{r:F3}")));
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Aggregate()
    {
        var data = new Option<string>("--data") { Description = "The set the log's qid and doc refer to.", Required = true };
        var logPath = new Option<string>("--log") { Description = "The click log.", Required = true };
        var output = new Option<string>("--out") { Description = "Counts per (qid, doc, position): impressions and clicks (tab-separated).", Required = true };
        var command = new Command("aggregate", "Sum a click log's sessions into impressions and clicks per (query, document, position).") { data, logPath, output };
        command.SetAction(parse =>
        {
            var set = DatasetReader.Read(parse.GetValue(data)!);
            var counts = ClickLogFile.Read(parse.GetValue(logPath)!, set).Aggregate();
            var text = new StringBuilder("qid\tdoc\tposition\timpressions\tclicks\n");
            for (int i = 0; i < counts.Count; i++)
                text.Append(CultureInfo.InvariantCulture, $"{set.QueryIds[counts.Query[i]]}\t{counts.Row[i]}\t{counts.Position[i]}\t{counts.Impressions[i]}\t{counts.Clicks[i]}\n");
            AtomicFile.WriteAllBytes(parse.GetValue(output)!, Encoding.UTF8.GetBytes(text.ToString()));
            Console.Out.WriteLine($"{counts.Count} (query, document, position) counts -> {parse.GetValue(output)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Propensity()
    {
        var data = new Option<string>("--data") { Description = "The set the log's qid and doc refer to.", Required = true };
        var logPath = new Option<string>("--log") { Description = "The click log.", Required = true };
        var method = new Option<string>("--method") { Description = "interventions (needs swaps in the log) | em | regression-em.", DefaultValueFactory = _ => "interventions" };
        var positions = new Option<int>("--positions") { Description = "Estimate positions 1..N (default: the deepest position in the log)." };
        var iterations = new Option<int>("--iterations") { Description = "EM iterations.", DefaultValueFactory = _ => 100 };
        var output = new Option<string?>("--out") { Description = "Write position, propensity, support (tab-separated)." };
        var json = JsonOption();
        var command = new Command("propensity", "Estimate examination propensities per position (relative to position 1) from a click log.") { data, logPath, method, positions, iterations, output, json };
        command.SetAction(parse =>
        {
            var set = DatasetReader.Read(parse.GetValue(data)!);
            var log = ClickLogFile.Read(parse.GetValue(logPath)!, set);
            int k = parse.GetValue(positions) is > 0 and var p ? p : log.MaxPosition;
            PropensityEstimate estimate;
            try
            {
                estimate = parse.GetValue(method)!.Trim().ToLowerInvariant() switch
                {
                    "interventions" => PropensityEstimator.FromInterventions(log.Aggregate(), k),
                    "em" => PropensityEstimator.RegressionEm(log.Aggregate(), k, regression: false, parse.GetValue(iterations)),
                    "regression-em" => PropensityEstimator.RegressionEm(log.Aggregate(), k, regression: true, parse.GetValue(iterations)),
                    var other => throw new UsageException($"--method must be interventions, em or regression-em, got '{other}'."),
                };
            }
            catch (ArgumentException ex) { throw new UsageException(ex.Message); }
            if (parse.GetValue(output) is { } outPath) AtomicFile.WriteAllBytes(outPath, Encoding.UTF8.GetBytes(estimate.ToTsv()));
            if (parse.GetValue(json))
                Console.Out.WriteLine(CliJson.Format(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("method", estimate.Method);
                    w.WriteStartArray("propensities");
                    foreach (double t in estimate.Propensities) w.WriteNumberValue(t);
                    w.WriteEndArray();
                    w.WriteStartArray("support");
                    foreach (long s in estimate.Support) w.WriteNumberValue(s);
                    w.WriteEndArray();
                    w.WriteEndObject();
                }));
            else Console.Out.Write(estimate.ToTsv());
            return ExitCodes.Ok;
        });
        return command;
    }
}
