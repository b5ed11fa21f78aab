using Ranking.Data;
using Ranking.Models;

namespace Ranking.Training;

/// <summary>
/// Options every ranker understands, plus free-form family-specific knobs (e.g. "trees", "leaves",
/// "hidden", "truncation") as strings so the CLI, the catalog and the benchmarks pass them through alike.
/// A knob a ranker does not understand is an error, not silently ignored.
/// </summary>
public sealed class RankerOptions
{
    public int Seed { get; set; } = 42;
    /// <summary>Worker threads; -1 = all cores. Results repeat for the same seed and thread count.</summary>
    public int Threads { get; set; } = -1;
    /// <summary>
    /// Where objective gradients (and, where the trainer supports it, model products) are computed: null or
    /// the CPU backend = the managed loops; Ranking.Gpu's backend = kernels (CLI <c>--backend</c>). Not
    /// owned: the caller disposes it.
    /// </summary>
    public Ranking.Compute.IComputeBackend? Compute { get; set; }
    /// <summary>Epochs (gradient models) or boosting rounds (trees); null = the ranker's default.</summary>
    public int? Iterations { get; set; }
    /// <summary>null = the ranker's default.</summary>
    public double? LearningRate { get; set; }
    /// <summary>Stop after this many iterations without a better validation metric; 0 = off; null = default.</summary>
    public int? EarlyStoppingRounds { get; set; }
    /// <summary>Family- and objective-specific knobs, by name.</summary>
    public Dictionary<string, string> Parameters { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>
/// Scores the validation set: validation scores (one per row of the validation set) in, metric values out,
/// keyed by metric name ("ndcg@10"). The first metric is the one early stopping watches; higher is better.
/// Built by the caller from the evaluator so trainers do not depend on how metrics are computed.
/// </summary>
public sealed class ValidationScorer(IReadOnlyList<string> metricNames, Func<float[], IReadOnlyDictionary<string, double>> score)
{
    public IReadOnlyList<string> MetricNames { get; } = metricNames;
    public string StoppingMetric => MetricNames[0];
    public IReadOnlyDictionary<string, double> Score(float[] validScores) => score(validScores);
}

/// <summary>What a trainer gets: pipeline-transformed sets and options.</summary>
public sealed class TrainingRequest
{
    public required RankingDataset Train { get; init; }
    public RankingDataset? Valid { get; init; }
    /// <summary>Required when <see cref="Valid"/> is given.</summary>
    public ValidationScorer? ValidationScorer { get; init; }
    public RankerOptions Options { get; init; } = new();
}

/// <summary>One step of training, streamed to the CLI's progress bar and to compare's learning curves.</summary>
public sealed record TrainingEvent(
    int Iteration,
    int TotalIterations,
    double TrainLoss,
    IReadOnlyDictionary<string, double> ValidMetrics,
    TimeSpan Elapsed);

public sealed record TrainingResult(
    IScoringModel Model,
    int BestIteration,
    IReadOnlyDictionary<string, double> ValidMetrics,
    IReadOnlyList<TrainingEvent> History,
    TimeSpan Elapsed);

/// <summary>Trains one ranker (an objective + a model family).</summary>
public interface IRankerTrainer
{
    TrainingResult Train(TrainingRequest request, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default);
}

/// <summary>
/// A trainer that can learn from rows streamed out of a file (<see cref="DatasetRowStream"/>) without the
/// float matrix ever being held: LightGBM's rankers, which keep only their binned copy of the data.
/// </summary>
public interface IStreamingRankerTrainer : IRankerTrainer
{
    /// <summary>
    /// Trains on the raw features of <paramref name="train"/> (no feature pipeline); <paramref name="valid"/>
    /// is an ordinary in-memory set with the same feature count, scored by <paramref name="scorer"/>.
    /// </summary>
    TrainingResult TrainStreamed(DatasetRowStream train, RankingDataset? valid, ValidationScorer? scorer, RankerOptions options,
        IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default);
}

/// <summary>
/// A named ranker of the catalog: objective + model family, a one-line description, the knobs it takes
/// (name -> description with default) and a factory for its trainer.
/// </summary>
public sealed record RankerDescriptor(
    string Name,
    string Objective,
    string ModelFamily,
    string Description,
    IReadOnlyDictionary<string, string> Knobs,
    Func<RankerOptions, IRankerTrainer> CreateTrainer)
{
    /// <summary>The declarations behind <see cref="Knobs"/> (type, range, flag), for the CLI's flags and the README check.</summary>
    public IReadOnlyList<Ranking.Knobs.Knob> KnobDeclarations { get; init; } = [];
}
