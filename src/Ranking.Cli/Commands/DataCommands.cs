using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Ranking.Data;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>ranking data stats|validate|convert|generate</c>: look at, check, convert and generate datasets.
/// Every subcommand takes <c>--json</c> (one JSON object on stdout, snake_case keys).
/// </summary>
internal static class DataCommands
{
    public static Command Create()
    {
        var data = new Command("data", "Inspect, validate, convert and generate ranking datasets (SVMlight/LETOR, LightGBM .query, CSV/TSV, .rkds).");
        data.Subcommands.Add(Stats());
        data.Subcommands.Add(Validate());
        data.Subcommands.Add(Convert());
        data.Subcommands.Add(Generate());
        return data;
    }

    /// <summary>The reading flags shared by every subcommand that reads a file.</summary>
    private sealed class ReadFlags
    {
        public readonly Option<int?> FeatureCount = new("--feature-count") { Description = "Fix the feature count (as the training set's); absent indices are zero." };
        public readonly Option<bool> DropExtra = new("--drop-extra-features") { Description = "With --feature-count: drop indices beyond it instead of failing." };
        public readonly Option<bool> Regroup = new("--regroup") { Description = "Sort rows stably by qid when a qid reappears (else an error)." };
        public readonly Option<bool> AllowNaN = new("--allow-nan") { Description = "Accept NaN feature values (missing values)." };
        public readonly Option<int> Threads = SharedOptions.Threads("Parser threads (-1 = all cores).");
        public readonly Option<string?> MaxMemory = ResourceOptions.MaxMemory();

        public void AddTo(Command command)
        {
            command.Options.Add(FeatureCount);
            command.Options.Add(DropExtra);
            command.Options.Add(Regroup);
            command.Options.Add(AllowNaN);
            command.Options.Add(Threads);
            command.Options.Add(MaxMemory);
        }

        public DatasetReadOptions Get(ParseResult parse)
        {
            int? count = parse.GetValue(FeatureCount);
            if (count is < 0) throw new UsageException("--feature-count must not be negative.");
            if (parse.GetValue(DropExtra) && count is null) throw new UsageException("--drop-extra-features needs --feature-count.");
            return new DatasetReadOptions
            {
                FeatureCount = count,
                DropExtraFeatures = parse.GetValue(DropExtra),
                Regroup = parse.GetValue(Regroup),
                AllowNaN = parse.GetValue(AllowNaN),
                Threads = parse.GetValue(Threads),
                MaxMemoryBytes = ResourceOptions.ParseMaxMemory(parse.GetValue(MaxMemory)),
            };
        }
    }

    private static Option<bool> JsonOption() => SharedOptions.Json("Print one JSON object (snake_case keys) instead of text.");

    private static Command Stats()
    {
        var file = new Argument<string>("file") { Description = "The dataset file." };
        var json = JsonOption();
        var flags = new ReadFlags();
        var command = new Command("stats", "Rows, queries, features, label histogram, documents per query, queries with no relevant document.") { file, json };
        flags.AddTo(command);
        command.SetAction(parse =>
        {
            var dataset = DatasetReader.Read(parse.GetValue(file)!, flags.Get(parse) with { KeepComments = false });
            var stats = DatasetStats.Of(dataset);
            Console.Out.Write(parse.GetValue(json) ? CliJson.Format(w => stats.Write(w)) + "\n" : stats.ToText());
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Validate()
    {
        var file = new Argument<string>("file") { Description = "The dataset file." };
        var json = JsonOption();
        var max = new Option<int>("--max-errors") { Description = "Report at most this many problems.", DefaultValueFactory = _ => 20 };
        var flags = new ReadFlags();
        var command = new Command("validate", "Check a dataset file: exit 0 when it is good, else the first problems (file:line:column) and exit 2.") { file, json, max };
        flags.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            int maxErrors = parse.GetValue(max);
            if (maxErrors < 1) throw new UsageException("--max-errors must be at least 1.");
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
            var result = DatasetReader.Validate(path, flags.Get(parse) with { KeepComments = false }, maxErrors);
            if (parse.GetValue(json))
            {
                Console.Out.Write(CliJson.Format(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("file", path);
                    w.WriteBoolean("valid", result.IsValid);
                    if (result.Data is { } d)
                    {
                        w.WriteNumber("rows", d.RowCount);
                        w.WriteNumber("queries", d.QueryCount);
                        w.WriteNumber("features", d.FeatureCount);
                    }
                    w.WriteStartArray("errors");
                    foreach (var e in result.Errors)
                    {
                        w.WriteStartObject();
                        w.WriteString("file", e.File ?? path);
                        w.WriteNumber("line", e.Line);
                        w.WriteNumber("column", e.Column);
                        w.WriteString("message", e.Message);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }) + "\n");
            }
            else if (result.IsValid)
                Console.Out.WriteLine($"{path}: valid ({result.Data!.RowCount} rows, {result.Data.QueryCount} queries, {result.Data.FeatureCount} features)");
            else
            {
                foreach (var e in result.Errors) Console.Error.WriteLine($"ranking: {e.Message}");
                Console.Error.WriteLine($"ranking: {path}: {result.Errors.Count} problem(s) shown{(result.Errors.Count >= maxErrors ? $" (the first {maxErrors})" : "")}");
            }
            return result.IsValid ? ExitCodes.Ok : ExitCodes.BadInput;
        });
        return command;
    }

    private static Command Convert()
    {
        var input = new Argument<string>("input") { Description = "The dataset to read." };
        var output = new Argument<string>("output") { Description = "Where to write: .rkds (binary cache), .csv, .tsv, anything else SVMlight text." };
        var sparse = new Option<bool>("--sparse") { Description = "SVMlight output: leave out zero values." };
        var json = JsonOption();
        var flags = new ReadFlags();
        var command = new Command("convert", "Convert between SVMlight/LETOR text, CSV/TSV and the .rkds binary cache (written atomically).") { input, output, sparse, json };
        flags.AddTo(command);
        command.SetAction(parse =>
        {
            string from = parse.GetValue(input)!, to = parse.GetValue(output)!;
            if (Path.GetFullPath(from) == Path.GetFullPath(to)) throw new UsageException("input and output are the same file.");
            var dataset = DatasetReader.Read(from, flags.Get(parse));
            string format = WriteByExtension(dataset, to, parse.GetValue(sparse));
            long bytes = new FileInfo(to).Length;
            if (parse.GetValue(json))
                Console.Out.Write(CliJson.Format(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("input", from);
                    w.WriteString("output", to);
                    w.WriteString("format", format);
                    w.WriteNumber("rows", dataset.RowCount);
                    w.WriteNumber("queries", dataset.QueryCount);
                    w.WriteNumber("features", dataset.FeatureCount);
                    w.WriteNumber("bytes", bytes);
                    w.WriteEndObject();
                }) + "\n");
            else
                Console.Out.WriteLine($"wrote {to} ({format}: {dataset.RowCount} rows, {dataset.QueryCount} queries, {dataset.FeatureCount} features, {bytes} bytes)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Generate()
    {
        var preset = new Option<string>("--preset") { Description = $"Shape: {string.Join(", ", SyntheticGenerator.Presets)}.", DefaultValueFactory = _ => "small" };
        var queries = new Option<int?>("--queries") { Description = "Number of queries (default: 200 for small, 1000 for mslr-like)." };
        var seed = SharedOptions.GeneratorSeed("Seed: the same seed gives byte-identical files on every machine.");
        var output = new Option<string>("--out") { Description = "Output file (.rkds, .csv, .tsv, else SVMlight text).", Required = true };
        var split = new Option<bool>("--split") { Description = "Write three files split by query 60/20/20: NAME.train.EXT, NAME.valid.EXT, NAME.test.EXT." };
        var oracle = new Option<bool>("--oracle") { Description = "Also write the hidden (oracle) score of every row to FILE.oracle, one per line." };
        var json = JsonOption();
        var command = new Command("generate", "Generate a seeded synthetic dataset with a known hidden scoring function (grades 0..4).") { preset, queries, seed, output, split, oracle, json };
        command.SetAction(parse =>
        {
            string name = parse.GetValue(preset)!, path = parse.GetValue(output)!;
            int? count = parse.GetValue(queries);
            ulong s = parse.GetValue(seed);
            if (count is < 1) throw new UsageException("--queries must be at least 1.");
            if (!SyntheticGenerator.Presets.Contains(name.ToLowerInvariant()))
                throw new UsageException($"unknown preset '{name}'; known: {string.Join(", ", SyntheticGenerator.Presets)}");
            var files = new List<(string Path, SyntheticSet Set)>();
            if (parse.GetValue(split))
            {
                int total = count ?? SyntheticGenerator.DefaultQueries(name);
                if (total < 3) throw new UsageException("--split needs at least 3 queries.");
                var (train, valid, test) = SyntheticGenerator.GenerateSplits(name, total, s);
                string stem = Path.Combine(Path.GetDirectoryName(path) ?? "", Path.GetFileNameWithoutExtension(path));
                string ext = Path.GetExtension(path);
                files.Add(($"{stem}.train{ext}", train));
                files.Add(($"{stem}.valid{ext}", valid));
                files.Add(($"{stem}.test{ext}", test));
            }
            else if (!parse.GetValue(oracle) && DatasetReader.DetectFormat(path) is DatasetFormat.SvmLight or DatasetFormat.LightGbm)
            {
                // SVMlight text is written a chunk of queries at a time (the same bytes): sets larger than memory.
                var options = new SyntheticOptions { Preset = name, Queries = count, Seed = s };
                long written = SyntheticGenerator.WriteSvmLight(options, path);
                int featureCount = SyntheticGenerator.FeatureCount(name);
                int queryCount = count ?? SyntheticGenerator.DefaultQueries(name);
                if (parse.GetValue(json))
                    Console.Out.Write(CliJson.Format(w =>
                    {
                        w.WriteStartObject();
                        w.WriteString("preset", name.ToLowerInvariant());
                        w.WriteNumber("seed", s);
                        w.WriteNumber("features", featureCount);
                        w.WriteStartArray("files");
                        w.WriteStartObject();
                        w.WriteString("path", path);
                        w.WriteNumber("rows", written);
                        w.WriteNumber("queries", queryCount);
                        w.WriteEndObject();
                        w.WriteEndArray();
                        w.WriteEndObject();
                    }) + "\n");
                else Console.Out.WriteLine($"wrote {path} ({written} rows, {queryCount} queries, {featureCount} features)");
                return ExitCodes.Ok;
            }
            else files.Add((path, SyntheticGenerator.Generate(new SyntheticOptions { Preset = name, Queries = count, Seed = s })));
            foreach (var (file, set) in files)
            {
                WriteByExtension(set.Data, file, sparse: false);
                if (parse.GetValue(oracle)) ScoresFile.Write(file + ".oracle", set.OracleScores);
            }
            if (parse.GetValue(json))
                Console.Out.Write(CliJson.Format(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("preset", name.ToLowerInvariant());
                    w.WriteNumber("seed", s);
                    w.WriteNumber("features", files[0].Set.Data.FeatureCount);
                    w.WriteStartArray("files");
                    foreach (var (file, set) in files)
                    {
                        w.WriteStartObject();
                        w.WriteString("path", file);
                        w.WriteNumber("rows", set.Data.RowCount);
                        w.WriteNumber("queries", set.Data.QueryCount);
                        if (parse.GetValue(oracle)) w.WriteString("oracle", file + ".oracle");
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }) + "\n");
            else
                foreach (var (file, set) in files)
                    Console.Out.WriteLine($"wrote {file} ({set.Data.RowCount} rows, {set.Data.QueryCount} queries, {set.Data.FeatureCount} features)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string WriteByExtension(RankingDataset data, string path, bool sparse)
    {
        switch (DatasetReader.DetectFormat(path))
        {
            case DatasetFormat.Rkds: RkdsFile.Write(data, path); return "rkds";
            case DatasetFormat.Csv: DatasetWriter.WriteCsv(data, path, ','); return "csv";
            case DatasetFormat.Tsv: DatasetWriter.WriteCsv(data, path, '\t'); return "tsv";
            default: DatasetWriter.WriteSvmLight(data, path, sparse); return "svmlight";
        }
    }

}

/// <summary>How <c>ranking data stats</c> prints a <see cref="DatasetStats"/> (the numbers come from Core).</summary>
internal static class DatasetStatsOutput
{
    private static string Key(float label) => label.ToString("R", CultureInfo.InvariantCulture);

    public static void Write(this DatasetStats stats, Utf8JsonWriter w)
    {
        var (rows, queries, features, labelCounts, minDocs, meanDocs, maxDocs, emptyQueries) = stats;
        w.WriteStartObject();
        w.WriteNumber("rows", rows);
        w.WriteNumber("queries", queries);
        w.WriteNumber("features", features);
        w.WriteStartObject("label_counts");
        foreach (var (label, count) in labelCounts) w.WriteNumber(Key(label), count);
        w.WriteEndObject();
        w.WriteStartObject("docs_per_query");
        w.WriteNumber("min", minDocs);
        w.WriteNumber("mean", meanDocs);
        w.WriteNumber("max", maxDocs);
        w.WriteEndObject();
        w.WriteNumber("empty_queries", emptyQueries);
        w.WriteEndObject();
    }

    public static string ToText(this DatasetStats stats)
    {
        var (rows, queries, features, labelCounts, minDocs, meanDocs, maxDocs, emptyQueries) = stats;
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"rows           {rows}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"queries        {queries}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"features       {features}");
        sb.AppendLine("labels         " + string.Join("  ", labelCounts.Select(lc => $"{Key(lc.Label)}: {lc.Count}")));
        sb.AppendLine(CultureInfo.InvariantCulture, $"docs/query     min {minDocs}  mean {meanDocs:0.00}  max {maxDocs}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"empty queries  {emptyQueries} (no row with a grade above 0)");
        return sb.ToString();
    }
}
