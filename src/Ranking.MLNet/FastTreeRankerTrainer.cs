using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Trainers.FastTree;
using Ranking.Data;
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
    /// <summary>Trees when not given (FastTree's default).</summary>
    public const int DefaultTrees = 100;
    /// <summary>Leaves per tree when not given (FastTree's default).</summary>
    public const int DefaultLeaves = 20;
    /// <summary>Learning rate when not given (FastTree's default).</summary>
    public const double DefaultLearningRate = 0.2;
    /// <summary>Fewest rows per leaf when not given (FastTree's default).</summary>
    public const int DefaultMinDataPerLeaf = 10;

    /// <summary>Knob name -> description with its default, as the catalog lists them.</summary>
    public static IReadOnlyDictionary<string, string> Knobs { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["trees"] = $"boosting rounds (also RankerOptions.Iterations); default {DefaultTrees}",
        ["leaves"] = $"leaves per tree; default {DefaultLeaves}",
        ["lr"] = $"learning rate (also RankerOptions.LearningRate); default {DefaultLearningRate}",
        ["min-data"] = $"minimum rows per leaf; default {DefaultMinDataPerLeaf}",
        ["feature-fraction"] = "fraction of features each tree may use; default 1",
        ["max-bin"] = "histogram bins per feature; default 255",
        ["truncation"] = "NDCG truncation of LambdaMART's gradients; default 100",
        ["label-gain"] = "gain per grade, comma-separated (grades beyond the list fail); default 0,3,7,15,31",
    };

    private readonly RankerOptions _options;

    /// <summary>A FastTree LambdaMART trainer with the knobs of <paramref name="options"/>.</summary>
    public FastTreeRankerTrainer(RankerOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        foreach (var key in options.Parameters.Keys)
            if (!Knobs.ContainsKey(key) && !key.Equals("learning-rate", StringComparison.OrdinalIgnoreCase) && !key.Equals("iterations", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"lambdamart-fasttree does not take '{key}'; its knobs are {string.Join(", ", Knobs.Keys)}.");
        // Parse now so a bad value fails before any training.
        BuildOptions(trees: null);
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
        var p = _options.Parameters;
        var options = new FastTreeRankingTrainer.Options
        {
            LabelColumnName = RankingColumns.Label,
            RowGroupColumnName = RankingColumns.GroupId,
            FeatureColumnName = RankingColumns.Features,
            NumberOfTrees = trees ?? Int(p, "trees") ?? Int(p, "iterations") ?? _options.Iterations ?? DefaultTrees,
            NumberOfLeaves = Int(p, "leaves") ?? DefaultLeaves,
            LearningRate = Double(p, "lr") ?? Double(p, "learning-rate") ?? _options.LearningRate ?? DefaultLearningRate,
            MinimumExampleCountPerLeaf = Int(p, "min-data") ?? DefaultMinDataPerLeaf,
            Seed = _options.Seed,
            NumberOfThreads = _options.Threads > 0 ? _options.Threads : null,
        };
        if (Double(p, "feature-fraction") is { } ff) options.FeatureFraction = ff;
        if (Int(p, "max-bin") is { } bins) options.MaximumBinCountPerFeature = bins;
        if (Int(p, "truncation") is { } k) options.NdcgTruncationLevel = k;
        if (p.TryGetValue("label-gain", out var gains))
            options.CustomGains = gains.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(g => ParseDouble("label-gain", g)).ToArray();
        if (options.NumberOfTrees < 1) throw new ArgumentException("trees must be at least 1.");
        if (options.NumberOfLeaves < 2) throw new ArgumentException("leaves must be at least 2.");
        if (!(options.LearningRate > 0)) throw new ArgumentException("lr must be positive.");
        if (options.MinimumExampleCountPerLeaf < 1) throw new ArgumentException("min-data must be at least 1.");
        return options;
    }

    /// <summary>FastTree turns a grade into an index of its gain table: grades must be whole and covered.</summary>
    private void CheckGrades(RankingDataset train)
    {
        int gains = _options.Parameters.TryGetValue("label-gain", out var g) ? g.Split(',', StringSplitOptions.RemoveEmptyEntries).Length : 5;
        for (int r = 0; r < train.RowCount; r++)
        {
            float y = train.Labels[r];
            if (y < 0 || y != MathF.Floor(y) || y >= gains)
                throw new ArgumentException($"{train.Source ?? "training set"}: row {r + 1} has grade {y}; FastTree needs whole grades 0..{gains - 1} (one per label-gain entry).");
        }
    }

    private static int? Int(Dictionary<string, string> p, string key)
        => p.TryGetValue(key, out var s)
            ? int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : throw new ArgumentException($"{key} must be an integer, not '{s}'.")
            : null;

    private static double? Double(Dictionary<string, string> p, string key)
        => p.TryGetValue(key, out var s) ? ParseDouble(key, s) : null;

    private static double ParseDouble(string key, string s)
        => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
            ? v : throw new ArgumentException($"{key} must be a number, not '{s}'.");
}
