using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Trainers.FastTree;
using Ranking.Data;
using Ranking.Knobs;
using Ranking.Training;

namespace Ranking.MLNet;

/// <summary>
/// Trains ML.NET's FastTree LambdaMART on sets that have already been through our feature pipeline.
/// Defaults are FastTree's own (100 trees, 20 leaves, learning rate 0.2, 10 rows per leaf, gains
/// 0,3,7,15,31, NDCG truncation 100), not LightGBM's: a user asking for FastTree expects FastTree.
/// </summary>
/// <remarks>
/// Early stopping: FastTree has no per-round callback and cannot stop on a metric it does not compute, so
/// it boosts the full count; we then score the validation set tree by tree (our own walk of its trees)
/// with the caller's <see cref="ValidationScorer"/>, stop where the stopping metric has not improved for
/// <see cref="RankerOptions.EarlyStoppingRounds"/> rounds, and, when the best round is not the last,
/// train again with that many trees and the same seed. FastTree's boosting is sequential and seeded, so
/// the second model is the first one's prefix (a test checks it); the payload holds exactly the chosen trees.
/// FastTree reports no training loss; <see cref="TrainingEvent.TrainLoss"/> is NaN.
/// Query weights are not used (FastTree ranking weighs rows, not queries).
/// </remarks>
public sealed class FastTreeRankerTrainer : IRankerTrainer
{
    /// <summary>The knobs this trainer takes, declared on <see cref="FastTreeKnobs"/>.</summary>
    public static KnobSet KnobSet => KnobSet.Of<FastTreeKnobs>();

    /// <summary>Knob name -> description with its default, as the catalog lists them.</summary>
    public static IReadOnlyDictionary<string, string> Knobs { get; } = KnobSet.Describe(new FastTreeKnobs());

    private readonly RankerOptions _options;
    private readonly FastTreeKnobs _knobs;

    /// <summary>Reads and checks the knobs now, so a bad value fails before any training.</summary>
    public FastTreeRankerTrainer(RankerOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        var fastTree = new FastTreeKnobs();
        var defaults = new FastTreeKnobs { Trees = options.Iterations ?? fastTree.Trees, Lr = options.LearningRate ?? fastTree.Lr };
        _knobs = KnobSet.Bind(defaults, options.Parameters, MLNetRankers.LambdaMartFastTree);
    }

    /// <inheritdoc/>
    public TrainingResult Train(TrainingRequest request, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Valid is not null && request.ValidationScorer is null)
            throw new ArgumentException("a validation set needs a ValidationScorer.", nameof(request));
        if (request.Valid is not null && request.Valid.FeatureCount != request.Train.FeatureCount)
            throw new ArgumentException($"validation set has {request.Valid.FeatureCount} features, training set {request.Train.FeatureCount}.", nameof(request));
        CheckGrades(request.Train);
        cancellationToken.ThrowIfCancellationRequested();

        var clock = Stopwatch.StartNew();
        var model = Fit(request.Train, trees: null, cancellationToken);
        var history = new List<TrainingEvent>();
        int best = model.TreeCount;
        IReadOnlyDictionary<string, double> bestMetrics = new Dictionary<string, double>();

        if (request.Valid is { } valid)
        {
            (best, bestMetrics) = ScoreRounds(model, valid, request.ValidationScorer!, clock, history, progress, cancellationToken);
            if (best < model.TreeCount)
                model = Fit(request.Train, best, cancellationToken);
        }
        else
        {
            var done = new TrainingEvent(model.TreeCount, model.TreeCount, double.NaN, bestMetrics, clock.Elapsed);
            history.Add(done);
            progress?.Report(done);
        }
        return new TrainingResult(model, best, bestMetrics, history, clock.Elapsed);
    }

    /// <summary>
    /// Validation metrics after every round; returns the round to keep (1-based tree count) and its metrics.
    /// Stops scoring once the stopping metric has gone EarlyStoppingRounds rounds without improving.
    /// </summary>
    private (int Best, IReadOnlyDictionary<string, double> Metrics) ScoreRounds(
        FastTreeModel model, RankingDataset valid, ValidationScorer scorer, Stopwatch clock,
        List<TrainingEvent> history, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
    {
        int patience = _options.EarlyStoppingRounds ?? 0;
        var ensemble = model.Ensemble;
        var sums = new double[valid.RowCount];
        var scores = new float[valid.RowCount];
        ensemble.InitSums(sums);
        int best = ensemble.TreeCount;
        double bestValue = double.NegativeInfinity;
        IReadOnlyDictionary<string, double> bestMetrics = new Dictionary<string, double>();
        for (int t = 0; t < ensemble.TreeCount; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ensemble.AddTree(t, valid.Features, sums);
            for (int r = 0; r < scores.Length; r++) scores[r] = (float)sums[r];
            var metrics = scorer.Score(scores);
            var step = new TrainingEvent(t + 1, ensemble.TreeCount, double.NaN, metrics, clock.Elapsed);
            history.Add(step);
            progress?.Report(step);
            double value = metrics[scorer.StoppingMetric];
            if (patience <= 0)
            {
                // No early stopping: keep every tree; report the last round's metrics.
                bestMetrics = metrics;
                continue;
            }
            if (value > bestValue)
            {
                bestValue = value;
                best = t + 1;
                bestMetrics = metrics;
            }
            else if (t + 1 - best >= patience) break;
        }
        return (best, bestMetrics);
    }

    private FastTreeModel Fit(RankingDataset train, int? trees, CancellationToken cancellationToken)
    {
        // ML.NET offers no public way to cancel a Fit: cancellation is honoured before and after each fit.
        cancellationToken.ThrowIfCancellationRequested();
        var ml = new MLContext(_options.Seed);
        var view = new RankingDataView(train);
        var transformer = ml.Ranking.Trainers.FastTree(BuildOptions(trees)).Fit(view);
        cancellationToken.ThrowIfCancellationRequested();
        return FastTreeModel.FromTrained(ml, transformer, view.Schema);
    }

    private FastTreeRankingTrainer.Options BuildOptions(int? trees)
    {
        var k = _knobs;
        var fastTreeDefaults = new FastTreeKnobs();
        var options = new FastTreeRankingTrainer.Options
        {
            LabelColumnName = RankingColumns.Label,
            RowGroupColumnName = RankingColumns.GroupId,
            FeatureColumnName = RankingColumns.Features,
            NumberOfTrees = trees ?? k.Trees,
            NumberOfLeaves = k.Leaves,
            LearningRate = k.Lr,
            MinimumExampleCountPerLeaf = k.MinData,
            Seed = _options.Seed,
            NumberOfThreads = _options.Threads > 0 ? _options.Threads : null,
        };
        // FastTree's own defaults stay untouched unless a knob says otherwise.
        if (k.FeatureFraction != fastTreeDefaults.FeatureFraction) options.FeatureFraction = k.FeatureFraction;
        if (k.MaxBin != fastTreeDefaults.MaxBin) options.MaximumBinCountPerFeature = k.MaxBin;
        if (k.Truncation != fastTreeDefaults.Truncation) options.NdcgTruncationLevel = k.Truncation;
        if (!k.LabelGain.SequenceEqual(fastTreeDefaults.LabelGain)) options.CustomGains = k.LabelGain;
        return options;
    }

    /// <summary>FastTree turns a grade into an index of its gain table: grades must be whole and covered.</summary>
    private void CheckGrades(RankingDataset train)
    {
        int gains = _knobs.LabelGain.Length;
        for (int r = 0; r < train.RowCount; r++)
        {
            float y = train.Labels[r];
            if (y < 0 || y != MathF.Floor(y) || y >= gains)
                throw new ArgumentException($"{train.Source ?? "training set"}: row {r + 1} has grade {y}; FastTree needs whole grades 0..{gains - 1} (one per label-gain entry).");
        }
    }
}
