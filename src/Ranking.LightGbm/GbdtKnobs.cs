using System.Globalization;
using Ranking.Training;

namespace Ranking.LightGbm;

/// <summary>
/// Reads the gbdt knobs out of <see cref="RankerOptions"/> (names as the `ranking train` flags, without
/// dashes) into LightGBM parameters. Keys starting with "lightgbm." pass through to LightGBM verbatim
/// (e.g. lightgbm.lambda_l2=1). With a native objective any other key is an error; with one of our
/// objectives the remaining keys are that objective's knobs (truncation, sigmoid, ... are then its own).
/// </summary>
public sealed class GbdtKnobs
{
    /// <summary>Boosting rounds when --trees is not given (LightGBM's default).</summary>
    public const int DefaultTrees = 100;
    /// <summary>Prefix of knobs passed to LightGBM verbatim: <c>lightgbm.NAME=VALUE</c>.</summary>
    public const string PassThroughPrefix = "lightgbm.";

    /// <summary>Knobs of the tree learner itself (every gbdt ranker).</summary>
    public static readonly IReadOnlyDictionary<string, string> TreeKnobs = new Dictionary<string, string>
    {
        ["trees"] = $"boosting rounds (default {DefaultTrees}; also --epochs/Iterations)",
        ["leaves"] = "leaves per tree (default 31)",
        ["min-data"] = "minimum rows per leaf (default 20)",
        ["feature-fraction"] = "features sampled per tree (default 1)",
        ["bagging-fraction"] = "rows sampled per round (default 1 = off)",
        ["bagging-by-query"] = "bag whole queries (default false)",
        ["max-bin"] = "histogram bins per feature (default 255)",
        ["machines"] = "data-parallel training: host:port,host:port of every machine",
        ["local-port"] = "this machine's listening port (default 12400)",
        ["num-machines"] = "machines in the data-parallel run (default 1)",
        ["shard"] = "i/N: train on every N-th query starting at query i (one file for all machines)",
    };

    /// <summary>Knobs of LightGBM's native ranking objectives.</summary>
    public static readonly IReadOnlyDictionary<string, string> NativeRankKnobs = new Dictionary<string, string>
    {
        ["truncation"] = "lambdarank: pairs only with the top-K documents (default 30)",
        ["label-gain"] = "gain of each grade, e.g. 0,1,3,7,15 (default 2^g-1)",
        ["sigmoid"] = "lambdarank: slope of the pair sigmoid (default 1)",
    };

    /// <summary>The LightGBM parameters the knobs resolve to.</summary>
    public required LightGbmParameters Parameters { get; init; }
    /// <summary>Boosting rounds to run.</summary>
    public required int Trees { get; init; }
    /// <summary>Rounds without a better validation metric before stopping; 0 = off.</summary>
    public required int EarlyStoppingRounds { get; init; }
    /// <summary>(index, count) of --shard i/N, or null.</summary>
    public (int Index, int Count)? Shard { get; init; }
    /// <summary>Keys left for our objective (custom path only).</summary>
    public required IReadOnlyDictionary<string, string> ObjectiveParameters { get; init; }

    /// <param name="options">The ranker options whose knobs are read.</param>
    /// <param name="lightGbmObjective">lambdarank, rank_xendcg, regression, or none for our objectives.</param>
    public static GbdtKnobs Read(RankerOptions options, string lightGbmObjective)
    {
        bool custom = lightGbmObjective == "none";
        var p = new LightGbmParameters
        {
            Objective = lightGbmObjective,
            Seed = options.Seed,
            Threads = options.Threads <= 0 ? 0 : options.Threads,
            LearningRate = options.LearningRate ?? 0.1,
        };
        int trees = options.Iterations ?? DefaultTrees;
        (int, int)? shard = null;
        var rest = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (rawKey, value) in options.Parameters)
        {
            string key = rawKey.Trim().TrimStart('-').ToLowerInvariant();
            switch (key)
            {
                case "trees": case "iterations": trees = Int(key, value); break;
                case "leaves": p.NumLeaves = Int(key, value); break;
                case "min-data": p.MinDataInLeaf = Int(key, value); break;
                case "feature-fraction": p.FeatureFraction = Real(key, value); break;
                case "bagging-fraction": p.BaggingFraction = Real(key, value); break;
                case "bagging-by-query": p.BaggingByQuery = Bool(key, value); break;
                case "max-bin": p.MaxBin = Int(key, value); break;
                case "machines": p.Machines = value.Trim(); break;
                case "local-port": p.LocalListenPort = Int(key, value); break;
                case "num-machines": p.NumMachines = Int(key, value); break;
                case "shard": shard = ParseShard(value); break;
                // Native knobs only where LightGBM reads them: a knob that would be ignored is an error.
                case "truncation" when lightGbmObjective == "lambdarank": p.TruncationLevel = Int(key, value); break;
                case "sigmoid" when lightGbmObjective == "lambdarank": p.Sigmoid = Real(key, value); break;
                case "label-gain" when lightGbmObjective == "lambdarank": p.LabelGain = RealList(key, value); break;
                default:
                    if (key.StartsWith(PassThroughPrefix, StringComparison.Ordinal) && key.Length > PassThroughPrefix.Length)
                        p.Extra[rawKey.Trim()[PassThroughPrefix.Length..]] = value.Trim();
                    else if (custom)
                        rest[rawKey] = value;
                    else
                        throw new ArgumentException($"knob '{rawKey}' does not apply to LightGBM's {lightGbmObjective}; known: "
                            + string.Join(", ", TreeKnobs.Keys.Concat(NativeRankKnobs.Keys)) + $", {PassThroughPrefix}<LightGBM parameter>.");
                    break;
            }
        }
        if (trees < 1) throw new ArgumentException("trees must be at least 1.");
        if (p.NumMachines > 1 && p.Machines is null) throw new ArgumentException("num-machines > 1 needs machines host:port,host:port.");
        if (p.Machines is not null && p.NumMachines == 1) p.NumMachines = p.Machines.Split(',', StringSplitOptions.RemoveEmptyEntries).Length;
        p.Render(); // validates every value now, with our message, rather than at the first native call
        int early = options.EarlyStoppingRounds ?? 0;
        if (early < 0) throw new ArgumentException("early-stopping must be 0 (off) or positive.");
        return new GbdtKnobs { Parameters = p, Trees = trees, EarlyStoppingRounds = early, Shard = shard, ObjectiveParameters = rest };
    }

    private static (int, int) ParseShard(string value)
    {
        var parts = value.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && i < n)
            return (i, n);
        throw new ArgumentException($"shard '{value}' must be i/N with 0 <= i < N.");
    }

    private static int Int(string key, string value) =>
        int.TryParse(value.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new ArgumentException($"{key} must be an integer, got '{value}'.");

    private static double Real(string key, string value) =>
        double.TryParse(value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v
            : throw new ArgumentException($"{key} must be a number, got '{value}'.");

    private static bool Bool(string key, string value) => value.Trim().ToLowerInvariant() switch
    {
        "" or "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new ArgumentException($"{key} must be true or false, got '{value}'."),
    };

    private static double[] RealList(string key, string value) =>
        value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v => Real(key, v)).ToArray();
}
