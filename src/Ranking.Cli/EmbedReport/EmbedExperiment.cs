using System.Globalization;
using System.Text.Json.Nodes;
using Ranking.Data;
using Ranking.Embeddings;
using Ranking.Metrics;

namespace Ranking.Cli.EmbedReport;

/// <summary>
/// One recipe of an embedding experiment: a loss with its miner and any loss knob changed from its default,
/// written <c>loss:miner[:key=value...]</c> (keys: <see cref="Keys"/>). The proxy losses' knobs (negatives drawn
/// per batch, proxy-anchor's alpha, the proxies' learning-rate scale) are recipe keys too, so one report can set
/// the sampled softmax beside the full one.
/// </summary>
internal sealed record EmbedRecipe(string Name, BatchLossOptions Loss, int? PerClass, double? ProxyLearningRateScale = null)
{
    /// <summary>The keys a recipe may set, in the order the usage text lists them.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["margin", "temperature", "pos-margin", "neg-margin", "alpha", "beta", "base", "epsilon", "reducer", "soft", "per-class", "proxy-negatives", "proxy-alpha", "proxy-lr-scale"];

    /// <summary>The training options of this recipe with one seed: <paramref name="training"/> with the recipe's loss and overrides.</summary>
    public EmbeddingTrainerOptions Apply(EmbeddingTrainerOptions training, int seed) => training with
    {
        Loss = Loss with { Seed = seed }, Seed = seed, PerClass = PerClass ?? training.PerClass,
        ProxyLearningRateScale = ProxyLearningRateScale ?? training.ProxyLearningRateScale,
    };

    /// <summary>Parses one recipe; an <see cref="ArgumentException"/> names what is wrong.</summary>
    public static EmbedRecipe Parse(string text, EmbeddingDistance distance)
    {
        string[] parts = text.Trim().Split(':');
        if (parts.Length < 2 || parts[0].Length == 0 || parts[1].Length == 0)
            throw new ArgumentException($"recipe '{text}': write loss:miner[:key=value...], e.g. triplet:semihard:margin=0.2.");
        var loss = new BatchLossOptions { Loss = parts[0], Miner = parts[1], Distance = distance };
        int? perClass = null;
        double? proxyLrScale = null;
        foreach (string part in parts.Skip(2))
        {
            int eq = part.IndexOf('=');
            string key = eq < 0 ? part : part[..eq], value = eq < 0 ? "" : part[(eq + 1)..];
            float Number() => float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v)
                ? v : throw new ArgumentException($"recipe '{text}': {key} takes a number, got '{value}'.");
            int Count() => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int v)
                ? v : throw new ArgumentException($"recipe '{text}': {key} takes a non-negative integer, got '{value}'.");
            if (key == "per-class") { perClass = PerClassOf(Number()); continue; }
            if (key == "proxy-lr-scale") { proxyLrScale = Number(); continue; }
            loss = key switch
            {
                "margin" => loss with { Margin = Number() },
                "temperature" => loss with { Temperature = Number() },
                "pos-margin" => loss with { PositiveMargin = Number() },
                "neg-margin" => loss with { NegativeMargin = Number() },
                "alpha" => loss with { Alpha = Number() },
                "beta" => loss with { Beta = Number() },
                "base" => loss with { Base = Number() },
                "epsilon" => loss with { MinerEpsilon = Number() },
                "soft" => loss with { SoftMargin = true },
                "proxy-negatives" => loss with { ProxyNegatives = Count() },
                "proxy-alpha" => loss with { ProxyAlpha = Number() },
                "reducer" => loss with
                {
                    Reducer = value switch
                    {
                        "mean" => LossReducer.Mean, "nonzero" => LossReducer.MeanNonZero, "anchor" => LossReducer.PerAnchor, "sum" => LossReducer.Sum,
                        _ => throw new ArgumentException($"recipe '{text}': unknown reducer '{value}'; known: mean, nonzero, anchor, sum."),
                    },
                },
                _ => throw new ArgumentException($"recipe '{text}': unknown key '{key}'; known: {string.Join(", ", Keys)}."),
            };
        }
        if (!loss.IsProxyLoss && (loss.ProxyNegatives != 0 || proxyLrScale is not null))
            throw new ArgumentException($"recipe '{text}': proxy-negatives and proxy-lr-scale are knobs of the proxy losses ({string.Join(", ", BatchLossOptions.LossNames.Where(n => n.StartsWith("proxy-", StringComparison.Ordinal)))}).");
        loss.Settings();
        return new EmbedRecipe(text.Trim(), loss, perClass, proxyLrScale);

        static int PerClassOf(float v) => v >= 2 && v == MathF.Floor(v) ? (int)v : throw new ArgumentException($"per-class takes an integer of at least 2, got {v}.");
    }
}

/// <summary>One training of one recipe with one seed, evaluated on the test items.</summary>
internal sealed record EmbedRun
{
    /// <summary>The recipe's name.</summary>
    public required string Recipe { get; init; }
    /// <summary>The seed.</summary>
    public required int Seed { get; init; }
    /// <summary>Per epoch: mean training loss.</summary>
    public required double[] EpochLoss { get; init; }
    /// <summary>Per epoch: test MAP@R (leave-one-out).</summary>
    public required double[] EpochMapAtR { get; init; }
    /// <summary>Per epoch: mean row spread of farness.</summary>
    public required double[] EpochSpread { get; init; }
    /// <summary>The collapse warning, if training stopped on one.</summary>
    public string? Warning { get; init; }
    /// <summary>Epochs trained, fractional when training stopped inside an epoch (on a collapse).</summary>
    public required double EpochsTrained { get; init; }
    /// <summary>Final test MAP@R.</summary>
    public required double MapAtR { get; init; }
    /// <summary>Final test R-precision.</summary>
    public required double RPrecision { get; init; }
    /// <summary>Final test P@1.</summary>
    public required double PrecisionAt1 { get; init; }
    /// <summary>Training samples per second of wall time (epochs' own time, validation left out).</summary>
    public required double SamplesPerSecond { get; init; }
    /// <summary>Per test query: MAP@R.</summary>
    public required double[] PerQueryMapAtR { get; init; }
    /// <summary>The test items projected on the first two principal axes of their embeddings (x, y per item).</summary>
    public required double[] Projection { get; init; }

    /// <summary>One line of runs.jsonl.</summary>
    public JsonObject ToJson() => new()
    {
        ["recipe"] = Recipe, ["seed"] = Seed, ["epoch_loss"] = Numbers(EpochLoss), ["epoch_map_at_r"] = Numbers(EpochMapAtR),
        ["epoch_spread"] = Numbers(EpochSpread), ["warning"] = Warning, ["epochs_trained"] = EpochsTrained, ["map_at_r"] = MapAtR, ["r_precision"] = RPrecision,
        ["precision_at_1"] = PrecisionAt1, ["samples_per_second"] = SamplesPerSecond,
        ["per_query_map_at_r"] = Numbers(PerQueryMapAtR), ["projection"] = Numbers(Projection),
    };

    /// <summary>Reads a line written by <see cref="ToJson"/>.</summary>
    public static EmbedRun FromJson(JsonNode o) => new()
    {
        Recipe = o["recipe"]!.GetValue<string>(), Seed = o["seed"]!.GetValue<int>(), EpochLoss = Doubles(o["epoch_loss"]),
        EpochMapAtR = Doubles(o["epoch_map_at_r"]), EpochSpread = Doubles(o["epoch_spread"]), Warning = o["warning"]?.GetValue<string>(),
        EpochsTrained = o["epochs_trained"]?.GetValue<double>() ?? Doubles(o["epoch_map_at_r"]).Length,
        MapAtR = o["map_at_r"]!.GetValue<double>(), RPrecision = o["r_precision"]!.GetValue<double>(), PrecisionAt1 = o["precision_at_1"]!.GetValue<double>(),
        SamplesPerSecond = o["samples_per_second"]!.GetValue<double>(), PerQueryMapAtR = Doubles(o["per_query_map_at_r"]), Projection = Doubles(o["projection"]),
    };

    private static JsonArray Numbers(double[] values) => new(values.Select(v => (JsonNode?)(double.IsFinite(v) ? JsonValue.Create(v) : null)).ToArray());
    private static double[] Doubles(JsonNode? node) => node?.AsArray().Select(v => v is null ? double.NaN : v.GetValue<double>()).ToArray() ?? [];
}

/// <summary>A recipe's runs over every seed, and its comparison with the best recipe and raw features.</summary>
internal sealed record EmbedRecipeResult(EmbedRecipe Recipe, IReadOnlyList<EmbedRun> Runs)
{
    /// <summary>Mean over seeds of the final MAP@R.</summary>
    public double MapAtR => Runs.Average(r => r.MapAtR);
    /// <summary>Standard deviation over seeds of the final MAP@R (NaN for one seed).</summary>
    public double MapAtRStd => Std(Runs.Select(r => r.MapAtR).ToArray());
    /// <summary>Mean over seeds of R-precision.</summary>
    public double RPrecision => Runs.Average(r => r.RPrecision);
    /// <summary>Mean over seeds of P@1.</summary>
    public double PrecisionAt1 => Runs.Average(r => r.PrecisionAt1);
    /// <summary>Mean over seeds of training samples/s.</summary>
    public double SamplesPerSecond => Runs.Average(r => r.SamplesPerSecond);
    /// <summary>Seeds whose training stopped on a collapse.</summary>
    public int Collapsed => Runs.Count(r => r.Warning is not null);

    /// <summary>Per test query, MAP@R averaged over the seeds.</summary>
    public double[] PerQueryMapAtR()
    {
        var mean = new double[Runs[0].PerQueryMapAtR.Length];
        foreach (var run in Runs)
            for (int q = 0; q < mean.Length; q++) mean[q] += run.PerQueryMapAtR[q] / Runs.Count;
        return mean;
    }

    /// <summary>Per epoch, test MAP@R averaged over the seeds that reached it.</summary>
    public double[] EpochMapAtR()
    {
        int epochs = Runs.Max(r => r.EpochMapAtR.Length);
        return Enumerable.Range(0, epochs).Select(e =>
        {
            var values = Runs.Where(r => r.EpochMapAtR.Length > e && double.IsFinite(r.EpochMapAtR[e])).Select(r => r.EpochMapAtR[e]).ToList();
            return values.Count == 0 ? double.NaN : values.Average();
        }).ToArray();
    }

    internal static double Std(double[] values)
    {
        if (values.Length < 2) return double.NaN;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }
}

/// <summary>A paired comparison over test queries: mean difference, t statistic and two-sided p-value.</summary>
internal sealed record PairedDifference(string Against, double MeanDifference, double T, double PValue, int Queries)
{
    /// <summary>Compares per-query values <paramref name="a"/> with <paramref name="b"/> (a - b).</summary>
    public static PairedDifference Of(string against, double[] a, double[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException("the two runs have different test queries.");
        var d = a.Zip(b, (x, y) => x - y).ToArray();
        double mean = d.Length == 0 ? double.NaN : d.Average();
        double sd = EmbedRecipeResult.Std(d);
        double t = sd > 0 ? mean / (sd / Math.Sqrt(d.Length)) : double.NaN;
        return new PairedDifference(against, mean, t, Statistics.PairedTTestPValue(d), d.Length);
    }
}

/// <summary>The settings shared by every run of an experiment.</summary>
internal sealed record EmbedExperimentSettings
{
    /// <summary>The recipes compared.</summary>
    public required IReadOnlyList<EmbedRecipe> Recipes { get; init; }
    /// <summary>Seeds; each recipe is trained once per seed.</summary>
    public required IReadOnlyList<int> Seeds { get; init; }
    /// <summary>Training options every recipe shares (its loss replaced per recipe, the seed per run).</summary>
    public required EmbeddingTrainerOptions Training { get; init; }
    /// <summary>A reference value per recipe name to print beside the result (e.g. a published number), if any.</summary>
    public IReadOnlyDictionary<string, double> Targets { get; init; } = new Dictionary<string, double>();
    /// <summary>Where the batch losses and the evaluations' searches run (null: the managed CPU).</summary>
    public Ranking.Compute.IComputeBackend? Backend { get; init; }
}

/// <summary>
/// Trains every recipe with every seed on the training items, evaluates each run on the test items
/// (leave-one-out MAP@R after every epoch and at the end, per query), projects its test embeddings on two
/// principal axes, and appends the run to runs.jsonl as it finishes, so that an interrupted experiment resumes
/// where it stopped.
/// </summary>
internal static class EmbedExperiment
{
    /// <summary>The runs file inside the output folder.</summary>
    public const string RunsFile = "runs.jsonl";

    /// <summary>Runs (or resumes) the experiment; <paramref name="progress"/> gets a line per epoch and per run.</summary>
    public static (IReadOnlyList<EmbedRecipeResult> Results, RetrievalReport Raw) Run(LabelledItems train, LabelledItems test, EmbedExperimentSettings settings,
        string outDir, bool resume, Action<string>? progress = null)
    {
        Directory.CreateDirectory(outDir);
        string runsPath = Path.Combine(outDir, RunsFile);
        var done = new List<EmbedRun>();
        if (resume && File.Exists(runsPath))
            done.AddRange(File.ReadAllLines(runsPath).Where(l => l.Trim().Length > 0).Select(l => EmbedRun.FromJson(JsonNode.Parse(l)!)));
        else if (File.Exists(runsPath)) File.Delete(runsPath);

        var distance = settings.Training.Loss.Distance;
        int threads = settings.Training.Threads;
        var evaluation = new RetrievalOptions { RecallAt = [1], KnnVote = 1, Threads = threads, Backend = settings.Backend };
        float[] rawTest = (float[])test.Features.Clone();
        if (distance.NeedsNormalisedInput()) EmbeddingDistances.NormaliseRows(rawTest, test.Count, test.Dimension, new float[test.Count]);
        var raw = RetrievalEvaluator.Evaluate(rawTest, test.Classes, test.Dimension, distance, options: evaluation);
        progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"raw features: MAP@R {raw.MapAtR:F4}, P@1 {raw.PrecisionAt1:F4}"));

        var results = new List<EmbedRecipeResult>();
        foreach (var recipe in settings.Recipes)
        {
            var runs = new List<EmbedRun>();
            foreach (int seed in settings.Seeds)
            {
                var finished = done.FirstOrDefault(r => r.Recipe == recipe.Name && r.Seed == seed);
                if (finished is not null && finished.PerQueryMapAtR.Length == raw.PerQueryMapAtR.Length)
                {
                    progress?.Invoke($"{recipe.Name}, seed {seed}: resumed from {RunsFile}");
                    runs.Add(finished);
                    continue;
                }
                var options = recipe.Apply(settings.Training, seed);
                var model = EmbeddingTrainer.Train(train, options, test, e => progress?.Invoke(e.Warning is not null
                    ? $"{recipe.Name}, seed {seed}: warning: {e.Warning}"
                    : string.Create(CultureInfo.InvariantCulture, $"{recipe.Name}, seed {seed}, epoch {e.Epoch}: loss {e.Loss:F4}, spread {e.Spread:G3}, test MAP@R {e.MapAtR:F4}, {e.Samples / Math.Max(e.Seconds, 1e-9):F0} samples/s")),
                    settings.Backend);
                var embeddings = model.Encode(test, threads);
                int d = model.Encoder.Dimension;
                var report = RetrievalEvaluator.Evaluate(embeddings, test.Classes, d, model.Distance, options: evaluation);
                var epochs = model.Events.Where(e => e.Warning is null).ToList();
                var warning = model.Events.FirstOrDefault(e => e.Warning is not null);
                // An epoch event counts its own samples and seconds; a warning event the samples and seconds since the start.
                double seconds = epochs.Sum(e => e.Seconds), trained = epochs.Sum(e => (double)e.Samples);
                if (warning is not null && epochs.Count == 0) { seconds = warning.Seconds; trained = warning.Samples; }
                double samplesPerEpoch = (double)Math.Min(train.Count / options.BatchSize, options.MaxBatchesPerEpoch ?? int.MaxValue) * options.BatchSize;
                var run = new EmbedRun
                {
                    Recipe = recipe.Name, Seed = seed,
                    EpochLoss = epochs.Select(e => e.Loss).ToArray(), EpochMapAtR = epochs.Select(e => e.MapAtR).ToArray(), EpochSpread = epochs.Select(e => e.Spread).ToArray(),
                    Warning = warning?.Warning,
                    EpochsTrained = warning is null ? epochs.Count : warning.Samples / Math.Max(samplesPerEpoch, 1),
                    MapAtR = report.MapAtR, RPrecision = report.RPrecision, PrecisionAt1 = report.PrecisionAt1,
                    SamplesPerSecond = trained / Math.Max(seconds, 1e-9),
                    PerQueryMapAtR = report.PerQueryMapAtR,
                    Projection = PrincipalComponents.Project(embeddings, test.Count, d, 2).Projection,
                };
                File.AppendAllText(runsPath, run.ToJson().ToJsonString() + "\n");
                progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{recipe.Name}, seed {seed}: MAP@R {run.MapAtR:F4}, R-precision {run.RPrecision:F4}, P@1 {run.PrecisionAt1:F4}"));
                runs.Add(run);
            }
            results.Add(new EmbedRecipeResult(recipe, runs));
        }
        return (results, raw);
    }
}
