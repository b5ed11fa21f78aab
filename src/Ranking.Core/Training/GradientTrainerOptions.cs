using System.Text.Json.Nodes;
using Ranking.Compute;
using Ranking.Knobs;
using Ranking.Models;

namespace Ranking.Training;

/// <summary>The gradient trainer's update rule.</summary>
public enum OptimizerKind
{
    /// <summary>Adam with bias-corrected moments (<see cref="AdamOptimizer"/>).</summary>
    Adam,
    /// <summary>SGD with heavy-ball momentum (<see cref="SgdMomentumOptimizer"/>).</summary>
    Sgd,
}

/// <summary>How the learning rate changes over the epochs (<see cref="LearningRateSchedule"/>).</summary>
public enum LearningRateScheduleKind
{
    /// <summary>The base rate every epoch.</summary>
    Constant,
    /// <summary>Cosine annealing from the base rate towards 0 over the epochs.</summary>
    Cosine,
    /// <summary>The rate times gamma every step-epochs epochs.</summary>
    Step,
}

/// <summary>
/// Everything the gradient trainer needs: model family and shape, optimizer, schedule, regularisation,
/// batching and early stopping. Each setting is declared once, here, with its <see cref="KnobAttribute"/>
/// (name, range, help); rankers carry their own defaults (<see cref="CoreRankers"/>), and <see cref="Apply"/>
/// overlays the user's <see cref="RankerOptions"/>. The manifest records these knobs in declaration order.
/// </summary>
public sealed record GradientTrainerOptions
{
    /// <summary>"linear" or "mlp".</summary>
    [Knob("model family: linear | mlp", Use = KnobUse.Fixed)]
    public string ModelFamily { get; init; } = MlpModel.Family;

    /// <summary>Hidden layer widths (MLP); empty for a linear model.</summary>
    [Knob("hidden layer widths, comma-separated (mlp only), e.g. 64,32", Min = 1, Max = 1 << 16, EmptyText = "none|0", Flag = true)]
    public int[] Hidden { get; init; } = [64, 32];

    /// <summary>Inverted dropout after each hidden layer while training.</summary>
    [Knob("dropout rate after each hidden layer while training, [0, 1)", Min = 0, Max = 0.99)]
    public float Dropout { get; init; }

    /// <summary>Passes over the training set (RankerOptions.Iterations, --epochs).</summary>
    [Knob("passes over the training set (--epochs)", Use = KnobUse.Shared, Min = 1)]
    public int Epochs { get; init; } = 30;

    /// <summary>The base learning rate (RankerOptions.LearningRate, --lr).</summary>
    [Knob("base learning rate (--lr)", Use = KnobUse.Shared, Min = 0, MinExclusive = true)]
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Queries per mini-batch (whole queries: listwise losses need every row of a query).</summary>
    [Knob("whole queries per mini-batch", Min = 1, Flag = true)]
    public int BatchQueries { get; init; } = 16;

    /// <summary>The update rule.</summary>
    [Knob("adam | sgd (with momentum)")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>SGD's momentum.</summary>
    [Knob("SGD momentum", Min = 0, Max = 0.9999)]
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 penalty on weights (not biases).</summary>
    [Knob("L2 penalty on the weights", Min = 0, Max = 1e6)]
    public double WeightDecay { get; init; }

    /// <summary>The learning-rate schedule.</summary>
    [Knob("learning-rate schedule: constant | cosine | step")]
    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.Constant;

    /// <summary>Step schedule: epochs between decays.</summary>
    [Knob("step schedule: epochs between decays", Min = 1)]
    public int StepEpochs { get; init; } = 10;

    /// <summary>Step schedule: factor per decay.</summary>
    [Knob("step schedule: factor per decay", Min = 0, Max = 1)]
    public double StepGamma { get; init; } = 0.5;

    /// <summary>Global gradient-norm clip; 0 = off.</summary>
    [Knob("clip the global gradient norm to this; 0 = off", Min = 0, Max = 1e12)]
    public double ClipNorm { get; init; }

    /// <summary>Epochs without a better validation metric before stopping; 0 = off.</summary>
    [Knob("epochs without a better validation metric before stopping; 0 = off (--early-stopping)", Use = KnobUse.Shared, Min = 0)]
    public int EarlyStopping { get; init; } = 10;

    /// <summary>Seed of every random draw (initial weights, shuffles, dropout, sampling objectives).</summary>
    [Knob("seed of every random draw (--seed)", Use = KnobUse.Shared)]
    public int Seed { get; init; } = 42;

    /// <summary>Worker threads; -1 = all cores. Not a knob: results do not depend on it, and the manifest does not record it.</summary>
    public int Threads { get; init; } = -1;

    /// <summary>What these settings ask of a device training session beyond plain Adam (<see cref="IComputeBackend.DenseTrainingFeatures"/>).</summary>
    public DenseTrainingFeatures DeviceFeatures =>
        (Dropout > 0 ? DenseTrainingFeatures.Dropout : 0)
        | (WeightDecay > 0 ? DenseTrainingFeatures.WeightDecay : 0)
        | (ClipNorm > 0 ? DenseTrainingFeatures.GradientClipping : 0)
        | (Optimizer == OptimizerKind.Sgd ? DenseTrainingFeatures.SgdMomentum : 0);

    /// <summary>The trainer's declared knobs; every other knob a gradient ranker takes belongs to its objective.</summary>
    public static KnobSet Knobs => KnobSet.Of<GradientTrainerOptions>();

    /// <summary>Overlays the user's options on these defaults; returns the knobs left for the objective (keys normalised).</summary>
    public GradientTrainerOptions Apply(RankerOptions options, out Dictionary<string, string> objectiveKnobs)
    {
        ArgumentNullException.ThrowIfNull(options);
        var shared = this with
        {
            Seed = options.Seed,
            Threads = options.Threads,
            Epochs = options.Iterations ?? Epochs,
            LearningRate = options.LearningRate ?? LearningRate,
            EarlyStopping = options.EarlyStoppingRounds ?? EarlyStopping,
        };
        var result = Knobs.Bind(shared, options.Parameters, $"the {ModelFamily} trainer", out var rest);
        objectiveKnobs = new Dictionary<string, string>(rest, StringComparer.OrdinalIgnoreCase);
        if (result.ModelFamily == LinearModel.Family && result.Hidden.Length > 0 && options.Parameters.Keys.Any(k => Knobs.Find(k)?.Name == "hidden"))
            throw new ArgumentException("'hidden' applies to mlp rankers; a linear ranker has no hidden layer.");
        Knobs.Check(result, $"the {ModelFamily} trainer");
        return result;
    }

    /// <summary>The options as they go into the model file's manifest (nothing time- or machine-dependent), with the objective's knobs as given.</summary>
    public JsonObject ToJsonObject(IReadOnlyDictionary<string, string> objectiveKnobs)
    {
        var knobs = new JsonObject();
        foreach (var (k, v) in objectiveKnobs.OrderBy(p => p.Key, StringComparer.Ordinal)) knobs[k] = v;
        var json = Knobs.ToJson(this);
        json["objective_knobs"] = knobs;
        return json;
    }
}
