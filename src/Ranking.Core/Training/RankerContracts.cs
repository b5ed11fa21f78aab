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
    /// <summary>Seed of every random choice in training (initial weights, shuffles, sampling, dropout): the same seed and thread count give the same model.</summary>
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
    /// <summary>The validation metrics reported each iteration, e.g. "ndcg@10"; the first one decides early stopping.</summary>
    public IReadOnlyList<string> MetricNames { get; } = metricNames;
    /// <summary>The metric early stopping watches: the first of <see cref="MetricNames"/> (higher is better).</summary>
    public string StoppingMetric => MetricNames[0];
    /// <summary>Each metric of <see cref="MetricNames"/> for one score per validation row.</summary>
    public IReadOnlyDictionary<string, double> Score(float[] validScores) => score(validScores);
}

/// <summary>What a trainer gets: pipeline-transformed sets and options.</summary>
public sealed class TrainingRequest
{
    /// <summary>The training set, already transformed by the fitted pipeline.</summary>
    public required RankingDataset Train { get; init; }
    /// <summary>The validation set, transformed by the same pipeline; null trains for the full number of iterations with no early stopping.</summary>
    public RankingDataset? Valid { get; init; }
    /// <summary>Required when <see cref="Valid"/> is given.</summary>
    public ValidationScorer? ValidationScorer { get; init; }
    /// <summary>Seed, threads, compute backend and the ranker's knobs.</summary>
    public RankerOptions Options { get; init; } = new();
}

/// <summary>One step of training, streamed to the CLI's progress bar and to compare's learning curves.</summary>
/// <param name="Iteration">1-based epoch (gradient models) or tree count (boosted trees) just finished.</param>
/// <param name="TotalIterations">The most iterations the run may take (early stopping may end it sooner).</param>
/// <param name="TrainLoss">The objective's loss on the training set, summed over queries divided by their total weight.</param>
/// <param name="ValidMetrics">Validation metric name -> value after this iteration (empty without a validation set).</param>
/// <param name="Elapsed">Wall-clock time since training started.</param>
public sealed record TrainingEvent(
    int Iteration,
    int TotalIterations,
    double TrainLoss,
    IReadOnlyDictionary<string, double> ValidMetrics,
    TimeSpan Elapsed);

/// <summary>What a trainer returns: the kept model and how training went.</summary>
/// <param name="Model">The scorer of the best iteration on the validation set (the last iteration without one).</param>
/// <param name="BestIteration">1-based iteration of <paramref name="Model"/>.</param>
/// <param name="ValidMetrics">Validation metric name -> value at <paramref name="BestIteration"/> (empty without a validation set).</param>
/// <param name="History">Every iteration's event, in order.</param>
/// <param name="Elapsed">Wall-clock time of the whole run.</param>
public sealed record TrainingResult(
    IScoringModel Model,
    int BestIteration,
    IReadOnlyDictionary<string, double> ValidMetrics,
    IReadOnlyList<TrainingEvent> History,
    TimeSpan Elapsed);

/// <summary>Trains one ranker (an objective + a model family).</summary>
public interface IRankerTrainer
{
    /// <summary>Trains on <paramref name="request"/>, reporting each iteration to <paramref name="progress"/>; cancellation stops between iterations with an <see cref="OperationCanceledException"/>.</summary>
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
/// <param name="Name">The catalog name the CLI and model files use, e.g. "lambdamart".</param>
/// <param name="Objective">The objective's name, e.g. "lambdarank".</param>
/// <param name="ModelFamily">The model family, e.g. "gbdt", "mlp", "linear".</param>
/// <param name="Description">One line for <c>ranking rankers</c>.</param>
/// <param name="Knobs">Knob name -> description with its default, as help shows them.</param>
/// <param name="CreateTrainer">Builds the trainer from the options (knobs checked there).</param>
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
