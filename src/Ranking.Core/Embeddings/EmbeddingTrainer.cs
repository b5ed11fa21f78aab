using Ranking.Compute;
using Ranking.Data;
using Ranking.Training;

namespace Ranking.Embeddings;

/// <summary>Everything a training of an encoder takes; each knob with its default.</summary>
public sealed record EmbeddingTrainerOptions
{
    /// <summary>The batch loss, its miner, distance and reducer.</summary>
    public BatchLossOptions Loss { get; init; } = new();
    /// <summary>Hidden layer widths of the MLP encoder; empty = a linear projection.</summary>
    public IReadOnlyList<int> Hidden { get; init; } = [256];
    /// <summary>Embedding dimension.</summary>
    public int Dimension { get; init; } = 128;
    /// <summary>L2-normalise the embeddings (always on for cosine).</summary>
    public bool Normalise { get; init; } = true;
    /// <summary>Passes over the training items.</summary>
    public int Epochs { get; init; } = 5;
    /// <summary>Items per batch.</summary>
    public int BatchSize { get; init; } = 256;
    /// <summary>K, items of one class per batch; null: the batch spread evenly over all classes when there are few (batch / classes, at least 2), else 4.</summary>
    public int? PerClass { get; init; }
    /// <summary>Adam's learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>The optimiser (Adam or SGD with momentum), as the ranker trainer.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    /// <summary>Seed of the weights, the sampler and the random miner.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Cross-batch memory entries; 0 = none (the batch is its own reference set).</summary>
    public int Memory { get; init; }
    /// <summary>Worker threads; -1 = all cores.</summary>
    public int Threads { get; init; } = -1;
    /// <summary>Batches per epoch cap (null: a full pass); for quick runs.</summary>
    public int? MaxBatchesPerEpoch { get; init; }
    /// <summary>Collapse detection: stop early, with a warning event, when the embeddings collapse (see <see cref="CollapseMonitor"/>).</summary>
    public CollapseDetection Collapse { get; init; } = new();
    /// <summary>Proxy losses: the proxies' learning rate as a multiple of the encoder's (Kim et al. train proxies 100x faster).</summary>
    public double ProxyLearningRateScale { get; init; } = 1.0;
    /// <summary>The retrieval options of the per-epoch validation.</summary>
    public RetrievalOptions Validation { get; init; } = new() { RecallAt = [1], KnnVote = 1 };

    /// <summary>Checks the knobs; an <see cref="ArgumentException"/> names the bad one.</summary>
    public void Validate()
    {
        Loss.Settings();
        Collapse.Validate();
        if (Dimension < 1) throw new ArgumentException($"--dim must be positive, got {Dimension}.");
        if (Hidden.Any(h => h < 1)) throw new ArgumentException("--hidden widths must be positive.");
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1, got {Epochs}.");
        if (BatchSize < 4) throw new ArgumentException($"--batch must be at least 4, got {BatchSize}.");
        if (PerClass is < 2) throw new ArgumentException("--per-class must be at least 2.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentException($"--lr must be positive, got {LearningRate}.");
        if (Memory < 0) throw new ArgumentException("--memory must not be negative.");
        if (Memory > 0 && Memory < BatchSize) throw new ArgumentException($"--memory {Memory} must hold at least one batch ({BatchSize}).");
        if (Loss.IsProxyLoss && Memory > 0) throw new ArgumentException($"the proxy loss '{Loss.Loss}' compares the batch with class proxies, not with a memory: drop --memory.");
        if (!(ProxyLearningRateScale > 0) || double.IsInfinity(ProxyLearningRateScale)) throw new ArgumentException($"--proxy-lr-scale must be positive, got {ProxyLearningRateScale}.");
    }
}

/// <summary>
/// One event of a training: an epoch's numbers (mean loss, validation MAP@R and P@1, seconds, samples, and the
/// mean row spread of farness over the epoch's batches, which shrinks on a collapse), or a warning.
/// </summary>
/// <param name="Epoch">1-based epoch the event belongs to.</param>
/// <param name="Loss">Mean batch loss of the epoch so far.</param>
/// <param name="MapAtR">Validation MAP@R after the epoch (NaN without validation items, or for a warning).</param>
/// <param name="PrecisionAt1">Validation P@1 after the epoch (NaN without validation items, or for a warning).</param>
/// <param name="Seconds">Wall-clock seconds of the epoch (of the run so far, for a warning).</param>
/// <param name="Samples">Items the epoch has seen so far.</param>
/// <param name="Warning">Null for an epoch's numbers; otherwise what went wrong (e.g. the embeddings collapsed).</param>
/// <param name="Spread">Mean row spread of farness over the epoch's batches (NaN where it was not measured).</param>
/// <param name="Mrr">Validation MRR after the epoch (NaN where not measured); on held-out pairs the rank of the chosen item among all items.</param>
public sealed record EmbeddingTrainingEvent(int Epoch, double Loss, double MapAtR, double PrecisionAt1, double Seconds, long Samples, string? Warning = null, double Spread = double.NaN, double Mrr = double.NaN);

/// <summary>
/// Trains an <see cref="EmbeddingEncoder"/> with a batch loss: P x K batches, the encoder's forward pass,
/// the batch loss against the batch itself or the cross-batch memory, back-propagation, Adam. Validation
/// (MAP@R, leave-one-out on the validation items) after each epoch. Collapse detection (<see cref="CollapseMonitor"/>):
/// batch-hard mining can drive the embeddings together until the loss sticks at its value for one point (the
/// margin) and the distances shrink; training then stops with a warning event instead of returning a useless
/// model in silence, and the model keeps the parameters of its best validated epoch when there was one.
/// </summary>
public static class EmbeddingTrainer
{
    /// <summary>
    /// Trains on <paramref name="train"/>; <paramref name="progress"/> receives every event as it happens. <paramref name="backend"/>:
    /// where the batch loss (with its cross-batch memory) and the per-epoch validation search run (null: the managed CPU);
    /// the encoder's forward and backward passes and the optimiser stay on the host. Every backend gives the same numbers to 1e-4.
    /// </summary>
    public static EmbeddingModel Train(LabelledItems train, EmbeddingTrainerOptions options, LabelledItems? valid = null, Action<EmbeddingTrainingEvent>? progress = null,
        IComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        if (valid is not null && valid.Dimension != train.Dimension)
            throw new RankingDataException($"{valid.Source}: {valid.Dimension} features, the training items have {train.Dimension}");
        Func<EmbeddingEncoder, RetrievalReport>? validate = valid is null ? null : encoder =>
            RetrievalEvaluator.Evaluate(encoder.Encode(valid.Features, valid.Count, options.Threads), valid.Classes, options.Dimension, options.Loss.Distance,
                options: options.Validation with { Threads = options.Threads, Backend = backend });
        return Train(train, options, validate, progress, backend);
    }

    /// <summary>
    /// The training loop with any per-epoch validation: <paramref name="validate"/> evaluates the encoder after each
    /// epoch (leave-one-out on validation items, or retrieval on held-out pairs).
    /// </summary>
    internal static EmbeddingModel Train(LabelledItems train, EmbeddingTrainerOptions options, Func<EmbeddingEncoder, RetrievalReport>? validate, Action<EmbeddingTrainingEvent>? progress,
        IComputeBackend? backend)
    {
        options.Validate();
        train.CheckTrainable();
        var distance = options.Loss.Distance;
        bool normalise = options.Normalise || distance.NeedsNormalisedInput();
        var encoder = EmbeddingEncoder.Create(train.Dimension, options.Hidden, options.Dimension, normalise, (ulong)options.Seed);
        int perClass = options.PerClass ?? (train.ClassCount * 4 < options.BatchSize ? Math.Max(2, options.BatchSize / train.ClassCount) : 4);
        var sampler = new ClassBatchSampler(train, options.BatchSize, perClass, (ulong)options.Seed + 1);
        int b = options.BatchSize, d = options.Dimension, inputs = train.Dimension;
        var pass = encoder.CreateTrainingPass(b, options.Threads);
        var lossOptions = options.Loss with { Seed = options.Seed };
        // The step (and the memory it holds) runs on the backend; this CPU loss only evaluates the loss at a collapse (no embedding needed).
        using var lossStep = EmbeddingBackends.For(backend).CreateEmbeddingLoss(lossOptions, options.Memory, d, options.Threads);
        var collapseLoss = new BatchLoss(lossOptions, options.Threads);
        bool hasMemory = options.Memory > 0;
        var optimizer = Optimizer.Create(options.Optimizer, encoder.Network.Parameters.Length);
        float[]? logQ = options.Loss.LogQCorrection ? LogClassFrequency(train) : null;
        var proxyLoss = options.Loss.IsProxyLoss
            ? new ProxyLoss(lossOptions, ClassProxies.Create(train.ClassCount, d, (ulong)options.Seed + 2), normalise, options.Threads, lossStep)
            : null;
        var proxyOptimizer = proxyLoss is null ? null : Optimizer.Create(options.Optimizer, proxyLoss.Proxies.Vectors.Length);

        var batch = new int[b];
        var labels = new int[b];
        var features = new float[(long)b * inputs];
        var gradE = new float[(long)b * d];
        var gradP = new float[encoder.Network.Parameters.Length];
        var slots = new int[b];
        var selfIndex = Enumerable.Range(0, b).ToArray();
        float[] refLogQ = new float[b];
        var events = new List<EmbeddingTrainingEvent>();
        int batches = Math.Min(sampler.BatchesPerEpoch, options.MaxBatchesPerEpoch ?? int.MaxValue);
        int iteration = 0;
        // The collapse signature (a loss pinned at its one-point value) is a batch loss's; proxies keep classes apart.
        var monitor = options.Collapse.Enabled && proxyLoss is null ? new CollapseMonitor(options.Collapse) : null;
        bool collapsed = false;
        double bestMap = double.NegativeInfinity;
        float[]? bestParameters = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long samples = 0;

        for (int epoch = 0; epoch < options.Epochs && !collapsed; epoch++)
        {
            double lossSum = 0, spreadSum = 0;
            var epochClock = System.Diagnostics.Stopwatch.StartNew();
            for (int step = 0; step < batches; step++, iteration++)
            {
                sampler.Next(batch);
                for (int i = 0; i < b; i++)
                {
                    Array.Copy(train.Features, (long)batch[i] * inputs, features, (long)i * inputs, inputs);
                    labels[i] = train.Classes[batch[i]];
                }
                pass.Forward(features, b);
                BatchReferences refs = default;
                double value;
                if (proxyLoss is not null) value = proxyLoss.Compute(pass.Embeddings, labels, b, d, gradE, iteration);
                else if (!hasMemory)
                {
                    if (logQ is not null) for (int i = 0; i < b; i++) refLogQ[i] = logQ[labels[i]];
                    refs = new BatchReferences(pass.Embeddings, labels, b, selfIndex, AreTheBatch: true, logQ is null ? null : refLogQ);
                    value = lossStep.Compute(pass.Embeddings, labels, b, d, refs, gradE, iteration);
                }
                else
                {
                    value = lossStep.ComputeAgainstMemory(pass.Embeddings, labels, b, d, gradE, iteration, slots, logQ);
                    refs = lossStep.MemoryReferences;
                }
                lossSum += value;
                pass.Backward(gradE, gradP);
                optimizer.Step(encoder.Network.Parameters, gradP, (float)options.LearningRate);
                proxyLoss?.Step(proxyOptimizer!, (float)(options.LearningRate * options.ProxyLearningRateScale));
                samples += b;

                var statistics = lossStep.LastStatistics;
                spreadSum += statistics.MeanRowSpread;
                if (monitor is not null && monitor.Observe(value, statistics.MeanRowSpread,
                        () => collapseLoss.LossAtCollapse(labels, b, refs, (float)statistics.MeanFarness, iteration)))
                {
                    collapsed = true;
                    var warning = new EmbeddingTrainingEvent(epoch + 1, lossSum / (step + 1), double.NaN, double.NaN, clock.Elapsed.TotalSeconds, samples,
                        string.Create(System.Globalization.CultureInfo.InvariantCulture,
                            $"collapse: for {monitor.Run} batches the loss stuck at {value:G4}, its value if every embedding were one point ({monitor.LastLossAtCollapse:G4}), while the mean spread of distances in a batch fell to {statistics.MeanRowSpread:G3} from a peak of {monitor.PeakSpread:G3}; training stopped at epoch {epoch + 1}, batch {step + 1}"),
                        statistics.MeanRowSpread);
                    events.Add(warning);
                    progress?.Invoke(warning);
                    break;
                }
            }
            if (collapsed) break;
            double map = double.NaN, p1 = double.NaN, mrr = double.NaN;
            if (validate is not null)
            {
                var report = validate(encoder);
                map = report.MapAtR;
                p1 = report.PrecisionAt1;
                mrr = report.Mrr;
                if (map > bestMap) { bestMap = map; bestParameters = (float[])encoder.Network.Parameters.Clone(); }
            }
            var e = new EmbeddingTrainingEvent(epoch + 1, lossSum / batches, map, p1, epochClock.Elapsed.TotalSeconds, (long)batches * b, Spread: spreadSum / batches, Mrr: mrr);
            events.Add(e);
            progress?.Invoke(e);
        }
        if (bestParameters is not null && collapsed) bestParameters.CopyTo(encoder.Network.Parameters, 0);
        return new EmbeddingModel(encoder, distance, options, events, collapsed) { Proxies = proxyLoss?.Proxies };
    }

    /// <summary>log of each class's share of the training items: the popularity q of the log-Q correction.</summary>
    private static float[] LogClassFrequency(LabelledItems items)
    {
        var sizes = items.ClassSizes();
        return sizes.Select(s => s == 0 ? 0f : (float)Math.Log(s / (double)items.Count)).ToArray();
    }
}
