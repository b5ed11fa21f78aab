using System.Text.Json.Nodes;
using Ranking.Data;
using Ranking.Features;
using Ranking.Metrics;
using Ranking.Models;

namespace Ranking.Training;

/// <summary>
/// The one library entry point for training a ranker of the catalog: fits the feature pipeline on the
/// training set, applies it to the validation set, builds the <see cref="ValidationScorer"/> from
/// <see cref="RankingEvaluator"/>, trains, and packs the result as a <see cref="RankingModel"/> with its
/// manifest. The CLI's train, compare and the demo all call it.
/// </summary>
public static class RankerTraining
{
    /// <summary>
    /// The pipeline used when none is given: per-query min-max, LETOR's QueryLevelNorm. It puts raw
    /// features (MSLR, Yahoo) on the scale the default learning rates expect and leaves LETOR's already
    /// normalised files as they are. "none" trains on raw features.
    /// </summary>
    public const string DefaultPipeline = "query-minmax";

    /// <summary>Fits the pipeline <paramref name="pipelineSpec"/> (null = <see cref="DefaultPipeline"/>) on <paramref name="train"/>, trains <paramref name="ranker"/> with early stopping on the first of <paramref name="validMetrics"/> (under <paramref name="contract"/>) when <paramref name="valid"/> is given, and returns the model with its manifest and the trainer's result.</summary>
    public static (RankingModel Model, TrainingResult Result) Train(
        RankerDescriptor ranker,
        RankingDataset train,
        RankingDataset? valid,
        RankerOptions options,
        string? pipelineSpec,
        IReadOnlyList<MetricSpec> validMetrics,
        NdcgContract contract,
        IProgress<TrainingEvent>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ranker);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(contract);
        if (valid is not null && valid.FeatureCount != train.FeatureCount)
            throw new RankingDataException(valid.Source, 0, 0, $"the validation set has {valid.FeatureCount} features, the training set {train.FeatureCount} (read both with the same feature count).");
        CheckGrades(train);
        if (valid is not null) CheckGrades(valid);
        string spec = string.IsNullOrWhiteSpace(pipelineSpec) ? DefaultPipeline : pipelineSpec.Trim();
        FittedPipeline pipeline = FeaturePipeline.Parse(spec).Fit(train);
        RankingDataset trainT = pipeline.Apply(train);
        RankingDataset? validT = valid is null ? null : pipeline.Apply(valid);

        var metrics = validMetrics is { Count: > 0 } ? validMetrics : MetricSpec.ParseList("ndcg@10");
        ValidationScorer? scorer = validT is null ? null : new ValidationScorer(
            metrics.Select(m => m.Name).ToArray(),
            scores => RankingEvaluator.Evaluate(validT, scores, metrics, contract, options.Threads).Means);

        var trainer = ranker.CreateTrainer(options);
        // Gradient models (linear, mlp) cannot take a missing value: a NaN would spread through every
        // weight. Refuse clearly instead of training to NaN; trees (gbdt) route missing values themselves.
        if (trainer is GradientTrainer && Array.FindIndex(trainT.Features, float.IsNaN) is int nan and >= 0)
            throw new RankingDataException(train.Source, 0, 0,
                $"feature {nan % Math.Max(1, trainT.FeatureCount) + 1} of row {nan / Math.Max(1, trainT.FeatureCount) + 1} is NaN after the pipeline '{pipeline.Spec}'; {ranker.Name} needs finite features: add 'fillnan' to the pipeline (e.g. fillnan,zscore)");
        var result = trainer.Train(new TrainingRequest { Train = trainT, Valid = validT, ValidationScorer = scorer, Options = options }, progress, cancellationToken);

        var manifest = new ModelManifest
        {
            Ranker = ranker.Name,
            Objective = ranker.Objective,
            ModelFamily = result.Model.ModelFamily,
            FeatureCount = result.Model.FeatureCount,
            InputFeatureCount = pipeline.InputFeatureCount,
            PipelineSpec = pipeline.Spec,
            Options = trainer is GradientTrainer g ? g.Options.ToJsonObject(g.ObjectiveKnobs) : OptionsJson(options),
            BestIteration = result.BestIteration,
            ValidMetrics = result.ValidMetrics,
            NdcgContract = validT is null ? null : contract.ToJsonObject(),
        };
        return (new RankingModel(pipeline, result.Model, manifest), result);
    }

    /// <summary>
    /// Trains a ranker whose trainer streams (<see cref="IStreamingRankerTrainer"/>: the gbdt rankers) on a
    /// text file read in chunks, so the training set's float matrix is never held. Raw features only: the
    /// pipeline must be empty ("none"), since fitting one needs every row at hand.
    /// </summary>
    public static (RankingModel Model, TrainingResult Result) TrainStreamed(
        RankerDescriptor ranker,
        DatasetRowStream train,
        RankingDataset? valid,
        RankerOptions options,
        string? pipelineSpec,
        IReadOnlyList<MetricSpec> validMetrics,
        NdcgContract contract,
        IProgress<TrainingEvent>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ranker);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(contract);
        if (!FeaturePipeline.Parse(pipelineSpec).IsEmpty)
            throw new ArgumentException($"a streamed training set is trained on raw features: use the pipeline 'none' (got '{pipelineSpec}').");
        if (ranker.CreateTrainer(options) is not IStreamingRankerTrainer trainer)
            throw new ArgumentException($"ranker {ranker.Name} ({ranker.ModelFamily}) cannot train from a stream; the gbdt rankers can.");
        if (valid is not null && valid.FeatureCount != train.FeatureCount)
            throw new RankingDataException(valid.Source, 0, 0, $"the validation set has {valid.FeatureCount} features, the training set {train.FeatureCount} (read both with the same feature count).");
        if (valid is not null) CheckGrades(valid);
        var pipeline = FittedPipeline.Identity(train.FeatureCount);
        var metrics = validMetrics is { Count: > 0 } ? validMetrics : MetricSpec.ParseList("ndcg@10");
        ValidationScorer? scorer = valid is null ? null : new ValidationScorer(
            metrics.Select(m => m.Name).ToArray(),
            scores => RankingEvaluator.Evaluate(valid, scores, metrics, contract, options.Threads).Means);
        var result = trainer.TrainStreamed(train, valid, scorer, options, progress, cancellationToken);
        var manifest = new ModelManifest
        {
            Ranker = ranker.Name,
            Objective = ranker.Objective,
            ModelFamily = result.Model.ModelFamily,
            FeatureCount = result.Model.FeatureCount,
            InputFeatureCount = pipeline.InputFeatureCount,
            PipelineSpec = pipeline.Spec,
            Options = OptionsJson(options),
            BestIteration = result.BestIteration,
            ValidMetrics = result.ValidMetrics,
            NdcgContract = valid is null ? null : contract.ToJsonObject(),
        };
        return (new RankingModel(pipeline, result.Model, manifest), result);
    }

    /// <summary>
    /// Grades are relevance levels: finite and not negative. Gain tables (2^g - 1), the evaluator and LightGBM
    /// refuse a negative grade; training on one would learn from a label no metric can score.
    /// </summary>
    private static void CheckGrades(RankingDataset data)
    {
        int bad = Array.FindIndex(data.Labels, g => !(g >= 0) || float.IsInfinity(g));
        if (bad < 0) return;
        int query = Array.BinarySearch(data.GroupOffsets, bad);
        if (query < 0) query = ~query - 1;
        throw new RankingDataException($"{data.Source ?? "<data>"}: row {bad + 1} (query {data.QueryIds[query]}): grade {data.Labels[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)} is not a relevance grade (grades must be finite and >= 0)");
    }

    /// <summary>The user's options as given (for rankers that are not gradient-trained).</summary>
    public static JsonObject OptionsJson(RankerOptions options)
    {
        var parameters = new JsonObject();
        foreach (var (k, v) in options.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal)) parameters[k] = v;
        return new JsonObject
        {
            ["seed"] = options.Seed,
            ["iterations"] = options.Iterations,
            ["learning_rate"] = options.LearningRate,
            ["early_stopping_rounds"] = options.EarlyStoppingRounds,
            ["parameters"] = parameters,
        };
    }
}
