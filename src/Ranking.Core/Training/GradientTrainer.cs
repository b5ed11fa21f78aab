using System.Diagnostics;
using Ranking.Data;
using Ranking.Models;
using Ranking.Objectives;

namespace Ranking.Training;

/// <summary>
/// Trains a linear or MLP scorer on any <see cref="IRankingObjective"/>: mini-batches of whole queries
/// (shuffled each epoch by a seeded generator), the objective's gradients back-propagated through the
/// model, L2 weight decay, global-norm clipping, Adam or SGD with momentum, a learning-rate schedule,
/// and early stopping on the validation scorer's first metric that restores the best epoch's weights.
/// The same seed and thread count give bit-identical weights (and, since the kernels and objectives do
/// not depend on the thread count, so does any thread count).
/// </summary>
public sealed class GradientTrainer : IRankerTrainer
{
    private readonly GradientTrainerOptions _options;
    private readonly Func<int, IRankingObjective> _objective;

    /// <param name="options">Resolved options (defaults already overlaid with the user's).</param>
    /// <param name="objective">Builds the objective from a seed.</param>
    /// <param name="objectiveKnobs">The objective's knobs, recorded in the model file.</param>
    public GradientTrainer(GradientTrainerOptions options, Func<int, IRankingObjective> objective, IReadOnlyDictionary<string, string>? objectiveKnobs = null)
    {
        _options = options;
        _objective = objective;
        ObjectiveKnobs = objectiveKnobs ?? new Dictionary<string, string>();
    }

    /// <summary>The options the trainer was built with (defaults overlaid with the user's).</summary>
    public GradientTrainerOptions Options => _options;
    /// <summary>The objective's knobs as given (name -> value), recorded in the model file's options.</summary>
    public IReadOnlyDictionary<string, string> ObjectiveKnobs { get; }

    /// <summary>A fresh model of the configured family over <paramref name="featureCount"/> features: zero weights for linear, seeded He-initialised weights for an MLP.</summary>
    public IDifferentiableModel CreateModel(int featureCount) => _options.ModelFamily switch
    {
        LinearModel.Family => new LinearModel(featureCount) { Threads = _options.Threads },
        MlpModel.Family => new MlpModel(featureCount, _options.Hidden, _options.Dropout, (ulong)_options.Seed) { Threads = _options.Threads },
        _ => throw new ArgumentException($"the gradient trainer fits 'linear' or 'mlp' models, not '{_options.ModelFamily}'."),
    };

    /// <inheritdoc/>
    public TrainingResult Train(TrainingRequest request, IProgress<TrainingEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var o = _options;
        RankingDataset train = request.Train;
        RankingDataset? valid = request.Valid;
        if (valid is not null && request.ValidationScorer is null) throw new ArgumentException("a validation set needs a ValidationScorer.");
        if (valid is not null && valid.FeatureCount != train.FeatureCount)
            throw new ArgumentException($"validation set has {valid.FeatureCount} features, the training set {train.FeatureCount}.");
        if (train.QueryCount == 0) throw new ArgumentException("the training set has no queries.");

        var model = CreateModel(train.FeatureCount);
        var cpuObjective = _objective(o.Seed);
        // --backend gpu: the same objective computed by kernels (the CPU objective when none exists for it).
        var objective = request.Options.Compute is { } compute ? compute.Accelerate(cpuObjective) : cpuObjective;
        using var ownedObjective = objective == cpuObjective ? null : objective as IDisposable;
        float[] parameters = model.Parameters;
        float[] parameterGradients = new float[parameters.Length];
        float[] best = (float[])parameters.Clone();
        var optimizer = Optimizer.Create(o.Optimizer, parameters.Length, o.Momentum);
        var schedule = new LearningRateSchedule(o.Schedule, o.LearningRate, o.Epochs, o.StepEpochs, o.StepGamma);
        var decayed = model.DecayedRanges;

        int batchQueries = Math.Min(o.BatchQueries, train.QueryCount);
        int maxRows = MaxBatchRows(train, batchQueries);
        var pass = model.CreateTrainingPass(maxRows, o.Threads);
        int f = train.FeatureCount;
        var batchFeatures = new float[(long)maxRows * f];
        var buffers = new BatchBuffers();
        var order = Enumerable.Range(0, train.QueryCount).ToArray();
        var random = new ModelRandom((ulong)o.Seed ^ 0x5851F42D4C957F2DUL);
        // --backend gpu with a network and settings the backend says its device sessions support: every step
        // (products, objective, update) runs there, in the same batches and order.
        using var deviceSession = request.Options.Compute is { } backend && (o.DeviceFeatures & ~backend.DenseTrainingFeatures) == 0
            && model is MlpModel or LinearModel
            ? backend.TryStartDenseTraining(train, model is MlpModel mlp ? mlp.Hidden : [], parameters, cpuObjective, batchQueries)
            : null;
        float[]? validScores = valid is null ? null : new float[valid.RowCount];

        var history = new List<TrainingEvent>();
        IReadOnlyDictionary<string, double> bestMetrics = new Dictionary<string, double>();
        double bestValue = double.NegativeInfinity;
        int bestEpoch = 0, sinceBest = 0, step = 0;

        for (int epoch = 0; epoch < o.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            float lr = (float)schedule.Rate(epoch);
            random.Shuffle(order.AsSpan());
            double lossSum = 0, weightSum = 0;
            if (deviceSession is not null)
            {
                (lossSum, weightSum) = deviceSession.RunEpoch(order, batchQueries, lr, step);
                step += (order.Length + batchQueries - 1) / batchQueries;
                deviceSession.CopyParametersTo(parameters);
            }
            else for (int start = 0; start < order.Length; start += batchQueries)
            {
                int count = Math.Min(batchQueries, order.Length - start);
                var batch = buffers.Gather(train, order, start, count, batchFeatures, o.Threads, step);
                int rows = batch.RowCount;
                pass.Forward(batchFeatures, rows, batch.Scores, training: true, ModelRandom.Mix((ulong)o.Seed * 31 + (ulong)step));
                double loss = objective.Compute(batch, buffers.Gradients, buffers.Hessians);
                double batchWeight = buffers.WeightSum;
                if (!double.IsFinite(loss))
                    throw new InvalidOperationException($"training diverged: the loss is {loss} at epoch {epoch + 1}; lower the learning rate (now {o.LearningRate}).");
                // Mean over the batch's queries, so the step size does not depend on the batch size.
                float inv = (float)(1.0 / batchWeight);
                var g = buffers.Gradients;
                for (int i = 0; i < rows; i++) g[i] *= inv;
                pass.Backward(g, rows, parameterGradients);
                GradientTools.AddWeightDecay(parameters, parameterGradients, decayed, (float)o.WeightDecay);
                GradientTools.ClipByGlobalNorm(parameterGradients, o.ClipNorm);
                optimizer.Step(parameters, parameterGradients, lr);
                lossSum += loss;
                weightSum += batchWeight;
                step++;
            }

            IReadOnlyDictionary<string, double> metrics = new Dictionary<string, double>();
            bool improved = false;
            if (valid is not null)
            {
                model.Predict(valid.Features, valid.RowCount, validScores);
                foreach (float s in validScores!)
                    if (!float.IsFinite(s)) throw new InvalidOperationException($"training diverged: non-finite validation scores at epoch {epoch + 1}; lower the learning rate (now {o.LearningRate}).");
                metrics = request.ValidationScorer!.Score(validScores);
                double value = metrics[request.ValidationScorer.StoppingMetric];
                if (value > bestValue || bestEpoch == 0)
                {
                    improved = true;
                    bestValue = value;
                    bestEpoch = epoch + 1;
                    bestMetrics = metrics;
                    Array.Copy(parameters, best, parameters.Length);
                    sinceBest = 0;
                }
                else sinceBest++;
            }
            else
            {
                bestEpoch = epoch + 1;
            }
            var ev = new TrainingEvent(epoch + 1, o.Epochs, lossSum / weightSum, metrics, clock.Elapsed);
            history.Add(ev);
            progress?.Report(ev);
            if (valid is not null && !improved && o.EarlyStopping > 0 && sinceBest >= o.EarlyStopping) break;
        }
        if (valid is not null) Array.Copy(best, parameters, parameters.Length);
        return new TrainingResult(model, bestEpoch, bestMetrics, history, clock.Elapsed);
    }

    /// <summary>The most rows any batch of <paramref name="batchQueries"/> queries can hold: the longest queries together.</summary>
    private static int MaxBatchRows(RankingDataset data, int batchQueries)
    {
        var lengths = Enumerable.Range(0, data.QueryCount).Select(data.QueryLength).OrderDescending().Take(batchQueries);
        return lengths.Sum();
    }

    /// <summary>
    /// Per-batch arrays. <see cref="ObjectiveBatch"/> wants arrays of exactly the batch's row count, which
    /// varies with the shuffle; arrays are cached by length so after the first epochs nothing is allocated.
    /// </summary>
    private sealed class BatchBuffers
    {
        private readonly Dictionary<int, (float[] Labels, float[] Scores, float[] Gradients, float[] Hessians)> _byRows = [];
        private readonly Dictionary<int, (int[] Offsets, float[] Weights)> _byQueries = [];
        private readonly Dictionary<int, int[]> _positionsByRows = [];

        public float[] Gradients { get; private set; } = [];
        public float[] Hessians { get; private set; } = [];
        public double WeightSum { get; private set; }

        public ObjectiveBatch Gather(RankingDataset data, int[] order, int start, int count, float[] features, int threads, int iteration)
        {
            if (!_byQueries.TryGetValue(count, out var q))
                _byQueries[count] = q = (new int[count + 1], new float[count]);
            int rows = 0;
            double weights = 0;
            for (int i = 0; i < count; i++)
            {
                int query = order[start + i];
                q.Offsets[i] = rows;
                q.Weights[i] = data.QueryWeight(query);
                weights += q.Weights[i];
                rows += data.QueryLength(query);
            }
            q.Offsets[count] = rows;
            WeightSum = weights;
            if (!_byRows.TryGetValue(rows, out var r))
            {
                if (_byRows.Count > 4096) _byRows.Clear(); // bound the cache on sets with very varied query lengths
                _byRows[rows] = r = (new float[rows], new float[rows], new float[rows], new float[rows]);
            }
            int f = data.FeatureCount;
            for (int i = 0; i < count; i++)
            {
                int query = order[start + i];
                int from = data.GroupOffsets[query], n = data.QueryLength(query);
                Array.Copy(data.Labels, from, r.Labels, q.Offsets[i], n);
                Array.Copy(data.Features, (long)from * f, features, (long)q.Offsets[i] * f, (long)n * f);
            }
            int[]? positions = null;
            if (data.Positions is not null)
            {
                if (!_positionsByRows.TryGetValue(rows, out positions))
                {
                    if (_positionsByRows.Count > 4096) _positionsByRows.Clear();
                    _positionsByRows[rows] = positions = new int[rows];
                }
                for (int i = 0; i < count; i++)
                {
                    int query = order[start + i];
                    Array.Copy(data.Positions, data.GroupOffsets[query], positions, q.Offsets[i], data.QueryLength(query));
                }
            }
            Gradients = r.Gradients;
            Hessians = r.Hessians;
            return new ObjectiveBatch(r.Labels, r.Scores, q.Offsets, data.QueryWeights is null ? null : q.Weights, iteration, threads) { Positions = positions };
        }
    }
}
