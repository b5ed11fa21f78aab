using System.Diagnostics;
using Ranking.Data;
using Ranking.Objectives;
using Ranking.Training;

namespace Ranking.LightGbm;

/// <summary>
/// Trains a LightGBM booster, either with one of LightGBM's native objectives or with any of our
/// <see cref="IRankingObjective"/>s through LGBM_BoosterUpdateOneIterCustom (LightGBM objective "none":
/// each round our objective gets the booster's running training scores and returns gradients and Hessians).
///
/// Early stopping watches OUR evaluator's metric (the request's <see cref="ValidationScorer"/>), not
/// LightGBM's: the validation set is added to the booster, whose running validation scores LightGBM updates
/// with each new tree, so every round costs one copy plus one evaluation, never a re-prediction of all trees.
/// The saved model is cut at the best round.
/// </summary>
public sealed class LightGbmTrainer : IStreamingRankerTrainer
{
    private readonly GbdtKnobs _knobs;
    private readonly IRankingObjective? _objective;

    /// <summary>A trainer with a native objective: lambdarank, rank_xendcg or regression.</summary>
    public LightGbmTrainer(string lightGbmObjective, RankerOptions options)
    {
        if (lightGbmObjective == "none") throw new ArgumentException("use the constructor taking our objective for custom gradients.");
        _knobs = GbdtKnobs.Read(options, lightGbmObjective);
    }

    /// <summary>A trainer whose gradients come from one of our objectives, built from the knobs the trees do not take.</summary>
    public LightGbmTrainer(Func<IReadOnlyDictionary<string, string>, int, IRankingObjective> createObjective, RankerOptions options)
    {
        _knobs = GbdtKnobs.Read(options, "none");
        _objective = createObjective(_knobs.ObjectiveParameters, options.Seed);
    }

    /// <summary>The knobs this trainer reads, with their defaults.</summary>
    public GbdtKnobs Knobs => _knobs;

    /// <inheritdoc/>
    public TrainingResult Train(TrainingRequest request, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Valid is not null && request.ValidationScorer is null)
            throw new ArgumentException("a validation set needs a ValidationScorer.");
        var clock = Stopwatch.StartNew();
        RankingDataset train = _knobs.Shard is { } shard ? SelectShard(request.Train, shard.Index, shard.Count) : request.Train;
        RankingDataset? valid = request.Valid;
        if (valid is not null && valid.FeatureCount != train.FeatureCount)
            throw new ArgumentException($"the validation set has {valid.FeatureCount} features, the training set {train.FeatureCount}.");

        var p = _knobs.Parameters;
        // LightGBM's network must exist before the datasets: machines agree on bin boundaries while binning.
        using var network = p.IsDistributed ? LightGbmNetwork.Init(p.Machines!, p.LocalListenPort, p.NumMachines) : null;
        string parameters = p.Render();
        using var trainSet = LightGbmDataset.Create(train, parameters);
        return Boost(trainSet, train, valid, request.ValidationScorer, request.Options, parameters, clock, progress, cancellationToken);
    }

    /// <summary>
    /// Trains on a text file streamed in chunks into LightGBM's binned dataset (bin boundaries from a sample
    /// of at least <c>bin_construct_sample_cnt</c> rows, 200,000 by default: the whole file when smaller, so a
    /// small file grows exactly the trees <see cref="Train"/> grows). The float matrix is never held.
    /// One machine only; no shard.
    /// </summary>
    public TrainingResult TrainStreamed(DatasetRowStream train, RankingDataset? valid, ValidationScorer? scorer, RankerOptions options,
        IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (valid is not null && scorer is null) throw new ArgumentException("a validation set needs a ValidationScorer.");
        if (_knobs.Shard is not null || _knobs.Parameters.IsDistributed)
            throw new ArgumentException("a streamed training set trains on one machine: no shard, no machine list.");
        if (valid is not null && valid.FeatureCount != train.FeatureCount)
            throw new ArgumentException($"the validation set has {valid.FeatureCount} features, the training set {train.FeatureCount}.");
        var clock = Stopwatch.StartNew();
        var p = _knobs.Parameters;
        string parameters = p.Render();
        int sampleRows = LightGbmDataset.DefaultSampleRows;
        if (p.Extra.TryGetValue("bin_construct_sample_cnt", out var text) && !int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out sampleRows))
            throw new ArgumentException($"bin_construct_sample_cnt must be an integer, got '{text}'.");
        var (trainSet, rows) = LightGbmDataset.CreateStreamed(train, parameters, Math.Max(1, sampleRows), (ulong)p.Seed);
        using (trainSet)
            return Boost(trainSet, rows, valid, scorer, options, parameters, clock, progress, cancellationToken);
    }

    /// <summary>
    /// The boosting loop over a binned training set; <paramref name="train"/> gives the labels and queries our
    /// objective needs (its features are not read).
    /// </summary>
    private TrainingResult Boost(LightGbmDataset trainSet, RankingDataset train, RankingDataset? valid, ValidationScorer? scorer, RankerOptions options,
        string parameters, Stopwatch clock, IProgress<TrainingEvent>? progress, CancellationToken cancellationToken)
    {
        var p = _knobs.Parameters;
        using var validSet = valid is null ? null : LightGbmDataset.Create(valid, parameters, trainSet);
        using var booster = LightGbmBooster.Create(trainSet, parameters);
        int validIndex = validSet is null ? -1 : booster.AddValidData(validSet);

        var history = new List<TrainingEvent>();
        // --backend gpu: the custom objective's gradients come from kernels (the CPU objective where none exists).
        var objective = _objective is not null && options.Compute is { } compute ? compute.Accelerate(_objective) : _objective;
        using var ownedObjective = objective == _objective ? null : objective as IDisposable;
        var custom = objective is null ? null : new CustomObjectiveRound(objective, train, p.Threads == 0 ? -1 : p.Threads);
        var validRaw = valid is null ? null : new double[valid.RowCount];
        IReadOnlyDictionary<string, double> bestMetrics = new Dictionary<string, double>();
        double bestValue = double.NegativeInfinity;
        int bestIteration = 0, sinceBest = 0;

        for (int iteration = 0; iteration < _knobs.Trees; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double loss = double.NaN;
            bool finished;
            if (_objective is null)
            {
                finished = booster.UpdateOneIter();
            }
            else
            {
                (loss, finished) = custom!.Run(booster, iteration);
            }
            // LightGBM drops a round in which no leaf could split; there is nothing more to learn.
            if (finished) break;
            int done = booster.CurrentIteration;

            IReadOnlyDictionary<string, double> metrics = new Dictionary<string, double>();
            if (validIndex > 0)
            {
                booster.GetPredict(validIndex, validRaw);
                var validScores = new float[validRaw!.Length];
                for (int i = 0; i < validScores.Length; i++) validScores[i] = (float)validRaw[i];
                metrics = scorer!.Score(validScores);
                double value = metrics.TryGetValue(scorer.StoppingMetric, out var v) ? v : double.NaN;
                if (value > bestValue || bestIteration == 0)
                {
                    bestValue = double.IsNaN(value) ? double.NegativeInfinity : value;
                    bestIteration = done;
                    bestMetrics = metrics;
                    sinceBest = 0;
                }
                else
                {
                    sinceBest++;
                }
            }
            else
            {
                bestIteration = done;
            }
            var step = new TrainingEvent(done, _knobs.Trees, loss, metrics, clock.Elapsed);
            history.Add(step);
            progress?.Report(step);
            if (_knobs.EarlyStoppingRounds > 0 && validIndex > 0 && sinceBest >= _knobs.EarlyStoppingRounds) break;
        }

        // Without early stopping the model keeps every round (LightGBM's behaviour); with it, the best.
        int keep = validIndex > 0 && _knobs.EarlyStoppingRounds > 0 ? bestIteration : booster.CurrentIteration;
        if (validIndex > 0 && _knobs.EarlyStoppingRounds == 0 && history.Count > 0) bestMetrics = history[^1].ValidMetrics;
        var model = new LightGbmModel(booster.SaveModelToString(Math.Max(keep, 0) == 0 ? -1 : keep));
        return new TrainingResult(model, keep, bestMetrics, history, clock.Elapsed);
    }

    /// <summary>Every <paramref name="count"/>-th query starting at <paramref name="index"/>: whole queries, disjoint across shards.</summary>
    public static RankingDataset SelectShard(RankingDataset data, int index, int count)
    {
        var queries = new List<int>();
        for (int q = index; q < data.QueryCount; q += count) queries.Add(q);
        if (queries.Count == 0) throw new ArgumentException($"shard {index}/{count} holds no query of {data.QueryCount}.");
        return count == 1 ? data : data.Materialize(queries);
    }
}
