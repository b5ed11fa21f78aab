using System.Globalization;
using System.Text.Json.Nodes;
using Ranking.Models;

namespace Ranking.Training;

/// <summary>
/// Everything the gradient trainer needs: model family and shape, optimizer, schedule, regularisation,
/// batching and early stopping. Rankers carry their own defaults; <see cref="Apply"/> overlays the
/// user's <see cref="RankerOptions"/> (common options and the string knobs listed in <see cref="Knobs"/>).
/// </summary>
public sealed record GradientTrainerOptions
{
    /// <summary>"linear" or "mlp".</summary>
    public string ModelFamily { get; init; } = MlpModel.Family;
    public int[] Hidden { get; init; } = [64, 32];
    public float Dropout { get; init; }
    public int Epochs { get; init; } = 30;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Queries per mini-batch (whole queries: listwise losses need every row of a query).</summary>
    public int BatchQueries { get; init; } = 16;
    /// <summary>"adam" or "sgd".</summary>
    public string Optimizer { get; init; } = "adam";
    public double Momentum { get; init; } = 0.9;
    /// <summary>L2 penalty on weights (not biases).</summary>
    public double WeightDecay { get; init; }
    /// <summary>"constant", "cosine" or "step".</summary>
    public string Schedule { get; init; } = "constant";
    public int StepEpochs { get; init; } = 10;
    public double StepGamma { get; init; } = 0.5;
    /// <summary>Global gradient-norm clip; 0 = off.</summary>
    public double ClipNorm { get; init; }
    /// <summary>Epochs without a better validation metric before stopping; 0 = off.</summary>
    public int EarlyStopping { get; init; } = 10;
    public int Seed { get; init; } = 42;
    public int Threads { get; init; } = -1;

    /// <summary>The trainer's knobs (name -> help with default); every other knob goes to the objective.</summary>
    public static IReadOnlyDictionary<string, string> Knobs { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["hidden"] = "hidden layer widths, comma-separated (mlp only), e.g. 64,32",
        ["dropout"] = "dropout rate after each hidden layer while training, [0, 1)",
        ["batch-queries"] = "whole queries per mini-batch",
        ["optimizer"] = "adam | sgd (with momentum)",
        ["momentum"] = "SGD momentum",
        ["weight-decay"] = "L2 penalty on the weights",
        ["schedule"] = "learning-rate schedule: constant | cosine | step",
        ["step-epochs"] = "step schedule: epochs between decays",
        ["step-gamma"] = "step schedule: factor per decay",
        ["clip-norm"] = "clip the global gradient norm to this; 0 = off",
    };

    /// <summary>Overlays the user's options on these defaults; returns the knobs left for the objective.</summary>
    public GradientTrainerOptions Apply(RankerOptions options, out Dictionary<string, string> objectiveKnobs)
    {
        objectiveKnobs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var result = this with
        {
            Seed = options.Seed,
            Threads = options.Threads,
            Epochs = options.Iterations ?? Epochs,
            LearningRate = options.LearningRate ?? LearningRate,
            EarlyStopping = options.EarlyStoppingRounds ?? EarlyStopping,
        };
        foreach (var (rawKey, value) in options.Parameters)
        {
            string key = rawKey.Trim().TrimStart('-').Replace('_', '-').ToLowerInvariant();
            result = key switch
            {
                "hidden" => result with { Hidden = ParseHidden(value) },
                "dropout" => result with { Dropout = (float)Number(key, value, 0, 0.99) },
                "batch-queries" => result with { BatchQueries = Integer(key, value, 1) },
                "optimizer" => result with { Optimizer = value.Trim().ToLowerInvariant() },
                "momentum" => result with { Momentum = Number(key, value, 0, 0.9999) },
                "weight-decay" => result with { WeightDecay = Number(key, value, 0, 1e6) },
                "schedule" => result with { Schedule = value.Trim().ToLowerInvariant() },
                "step-epochs" => result with { StepEpochs = Integer(key, value, 1) },
                "step-gamma" => result with { StepGamma = Number(key, value, 0, 1) },
                "clip-norm" => result with { ClipNorm = Number(key, value, 0, 1e12) },
                "trees" or "leaves" or "min-data" or "feature-fraction" or "bagging-fraction" or "bagging-by-query" or "max-bin" =>
                    throw new ArgumentException($"'{key}' is a tree knob; the {result.ModelFamily} rankers do not take it (use --epochs, --lr, --hidden)."),
                _ => Keep(result, key, value, objectiveKnobs),
            };
        }
        if (result.ModelFamily == LinearModel.Family && options.Parameters.ContainsKey("hidden") && result.Hidden.Length > 0)
            throw new ArgumentException("'hidden' applies to mlp rankers; a linear ranker has no hidden layer.");
        if (result.Epochs <= 0) throw new ArgumentException($"epochs must be positive, got {result.Epochs}.");
        if (!(result.LearningRate > 0) || double.IsInfinity(result.LearningRate)) throw new ArgumentException($"learning rate must be positive, got {result.LearningRate}.");
        if (result.EarlyStopping < 0) throw new ArgumentException("early stopping rounds must be >= 0.");
        if (result.Optimizer is not ("adam" or "sgd")) throw new ArgumentException($"unknown optimizer '{result.Optimizer}'; known: adam, sgd.");
        if (result.Schedule is not ("constant" or "cosine" or "step")) throw new ArgumentException($"unknown schedule '{result.Schedule}'; known: constant, cosine, step.");
        return result;
    }

    private static GradientTrainerOptions Keep(GradientTrainerOptions o, string key, string value, Dictionary<string, string> objectiveKnobs)
    {
        objectiveKnobs[key] = value;
        return o;
    }

    public static int[] ParseHidden(string text)
    {
        string t = text.Trim();
        if (t.Length == 0 || t == "none" || t == "0") return [];
        var widths = t.Split(',', StringSplitOptions.TrimEntries);
        return widths.Select(w => int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 && n <= 1 << 16
            ? n : throw new ArgumentException($"hidden layer widths must be positive integers, got '{text}'.")).ToArray();
    }

    private static double Number(string key, string value, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max
            ? v : throw new ArgumentException($"'{key}' must be a number in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}], got '{value}'.");

    private static int Integer(string key, string value, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= min
            ? v : throw new ArgumentException($"'{key}' must be an integer >= {min}, got '{value}'.");

    /// <summary>The options as they go into the model file's manifest (nothing time- or machine-dependent).</summary>
    public JsonObject ToJsonObject(IReadOnlyDictionary<string, string> objectiveKnobs)
    {
        var knobs = new JsonObject();
        foreach (var (k, v) in objectiveKnobs.OrderBy(p => p.Key, StringComparer.Ordinal)) knobs[k] = v;
        return new JsonObject
        {
            ["model_family"] = ModelFamily,
            ["hidden"] = new JsonArray(Hidden.Select(h => (JsonNode)h).ToArray()),
            ["dropout"] = Dropout,
            ["epochs"] = Epochs,
            ["learning_rate"] = LearningRate,
            ["batch_queries"] = BatchQueries,
            ["optimizer"] = Optimizer,
            ["momentum"] = Momentum,
            ["weight_decay"] = WeightDecay,
            ["schedule"] = Schedule,
            ["step_epochs"] = StepEpochs,
            ["step_gamma"] = StepGamma,
            ["clip_norm"] = ClipNorm,
            ["early_stopping"] = EarlyStopping,
            ["seed"] = Seed,
            ["objective_knobs"] = knobs,
        };
    }
}
