using Ranking.Compute;
using Ranking.Data;
using Ranking.Training;

namespace Ranking.Embeddings;

/// <summary>
/// Trains embeddings on anchor-positive pairs (<see cref="PairSet"/>: a query and the item a person chose), in one of
/// two ways that evaluate alike (retrieval of each held-out query's chosen item among all items, <see cref="PairRetrieval"/>):
/// <list type="bullet">
/// <item><see cref="TrainTwoTowers"/>: a query tower and an item tower (two <see cref="EmbeddingEncoder"/>s, their own
/// weights, input widths and optimiser states; one output dimension, normalisation and distance). Each batch is B
/// pairs drawn without replacement from a shuffled pass over the pairs; the query tower embeds the anchors, the item
/// tower the positives, and <see cref="TwoTowerLoss"/> (in-batch contrast between the towers, optionally with the
/// log-Q correction) back-propagates into both.</item>
/// <item><see cref="TrainShared"/>: one shared encoder by the existing path (<see cref="PairFile.ToItems"/>: each pair a
/// class of two items, P pairs x 2 per batch, <see cref="EmbeddingTrainer"/>); queries and items need one feature count.</item>
/// </list>
/// </summary>
public static class PairTrainer
{
    /// <summary>
    /// Trains a two-tower model on <paramref name="train"/>; with <paramref name="valid"/> (held-out pairs over sets of the
    /// same feature counts), Recall@1 (as P@1) and MRR after each epoch. <paramref name="step"/>: where the batch loss
    /// runs (null: <paramref name="backend"/>'s step). <paramref name="backend"/>: where the batch loss and the validation
    /// search run (null: the managed CPU). The batch is at most the number of pairs. Cross-batch memory,
    /// proxy losses and collapse detection do not apply to two towers.
    /// </summary>
    public static EmbeddingModel TrainTwoTowers(PairSet train, EmbeddingTrainerOptions options, PairSet? valid = null,
        Action<EmbeddingTrainingEvent>? progress = null, IBatchLossStep? step = null, IComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Memory > 0) throw new ArgumentException("--memory: a cross-batch memory is not supported for two towers (the references are the item tower's batch).");
        if (options.Loss.IsProxyLoss) throw new ArgumentException($"the proxy loss '{options.Loss.Loss}' does not apply to two towers: use ntxent, supcon or sampled-softmax.");
        train.CheckTrainable();
        if (valid is not null) train.CheckSameShapes(valid);
        var distance = options.Loss.Distance;
        bool normalise = options.Normalise || distance.NeedsNormalisedInput();
        var queryTower = EmbeddingEncoder.Create(train.Queries.Dimension, options.Hidden, options.Dimension, normalise, (ulong)options.Seed);
        var itemTower = EmbeddingEncoder.Create(train.Items.Dimension, options.Hidden, options.Dimension, normalise, (ulong)options.Seed + 3);
        int b = Math.Min(options.BatchSize, train.Count), d = options.Dimension;
        int queryInputs = train.Queries.Dimension, itemInputs = train.Items.Dimension;
        var sampler = new PairBatchSampler(train.Count, b, (ulong)options.Seed + 1);
        using var ownStep = step is null ? EmbeddingBackends.For(backend).CreateEmbeddingLoss(options.Loss with { Seed = options.Seed }, 0, options.Dimension, options.Threads) : null;
        var loss = new TwoTowerLoss(options.Loss with { Seed = options.Seed }, options.Loss.LogQCorrection ? train.LogItemShare() : null, options.Threads, step ?? ownStep);
        var queryPass = queryTower.CreateTrainingPass(b, options.Threads);
        var itemPass = itemTower.CreateTrainingPass(b, options.Threads);
        var queryOptimizer = Optimizer.Create(options.Optimizer, queryTower.Network.Parameters.Length);
        var itemOptimizer = Optimizer.Create(options.Optimizer, itemTower.Network.Parameters.Length);

        var batch = new int[b];
        var itemRows = new int[b];
        var queryFeatures = new float[(long)b * queryInputs];
        var itemFeatures = new float[(long)b * itemInputs];
        var queryGradient = new float[(long)b * d];
        var itemGradient = new float[(long)b * d];
        var queryParameterGradient = new float[queryTower.Network.Parameters.Length];
        var itemParameterGradient = new float[itemTower.Network.Parameters.Length];
        var events = new List<EmbeddingTrainingEvent>();
        int batches = Math.Min(sampler.BatchesPerEpoch, options.MaxBatchesPerEpoch ?? int.MaxValue);
        int iteration = 0;
        var validation = options.Validation with { Threads = options.Threads, Backend = backend };

        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            double lossSum = 0, spreadSum = 0;
            var epochClock = System.Diagnostics.Stopwatch.StartNew();
            for (int s = 0; s < batches; s++, iteration++)
            {
                sampler.Next(batch);
                for (int k = 0; k < b; k++)
                {
                    int pair = batch[k];
                    Array.Copy(train.Queries.Features, (long)train.QueryRows[pair] * queryInputs, queryFeatures, (long)k * queryInputs, queryInputs);
                    Array.Copy(train.Items.Features, (long)train.ItemRows[pair] * itemInputs, itemFeatures, (long)k * itemInputs, itemInputs);
                    itemRows[k] = train.ItemRows[pair];
                }
                queryPass.Forward(queryFeatures, b);
                itemPass.Forward(itemFeatures, b);
                lossSum += loss.Compute(queryPass.Embeddings, itemPass.Embeddings, itemRows, b, d, queryGradient, itemGradient, iteration);
                spreadSum += loss.Step.LastStatistics.MeanRowSpread;
                queryPass.Backward(queryGradient, queryParameterGradient);
                itemPass.Backward(itemGradient, itemParameterGradient);
                queryOptimizer.Step(queryTower.Network.Parameters, queryParameterGradient, (float)options.LearningRate);
                itemOptimizer.Step(itemTower.Network.Parameters, itemParameterGradient, (float)options.LearningRate);
            }
            double map = double.NaN, p1 = double.NaN, mrr = double.NaN;
            if (valid is not null)
            {
                var report = PairRetrieval.Evaluate(queryTower, itemTower, valid, distance, validation);
                (map, p1, mrr) = (report.MapAtR, report.PrecisionAt1, report.Mrr);
            }
            var e = new EmbeddingTrainingEvent(epoch + 1, lossSum / batches, map, p1, epochClock.Elapsed.TotalSeconds, (long)batches * b,
                Spread: spreadSum / batches, Mrr: mrr);
            events.Add(e);
            progress?.Invoke(e);
        }
        return new EmbeddingModel(queryTower, distance, options with { BatchSize = b }, events) { ItemEncoder = itemTower };
    }

    /// <summary>
    /// Trains one shared encoder on the pairs by the existing path (<see cref="PairSet.ToSharedItems"/>, K = 2 items per
    /// pair-class in a batch, the options' loss, miner and memory; <see cref="EmbeddingTrainerOptions.BatchSize"/> counts
    /// pairs, so a batch holds twice as many items); with <paramref name="valid"/>, the same per-epoch
    /// retrieval as <see cref="TrainTwoTowers"/>, the one encoder embedding both queries and items. <paramref name="backend"/>:
    /// where the batch loss, its memory and the validation search run (null: the managed CPU).
    /// </summary>
    public static EmbeddingModel TrainShared(PairSet train, EmbeddingTrainerOptions options, PairSet? valid = null, Action<EmbeddingTrainingEvent>? progress = null,
        IComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        train.CheckTrainable();
        var items = train.ToSharedItems();
        if (valid is not null) train.CheckSameShapes(valid);
        var validation = options.Validation with { Threads = options.Threads, Backend = backend };
        Func<EmbeddingEncoder, RetrievalReport>? validate = valid is null ? null : encoder => PairRetrieval.Evaluate(encoder, encoder, valid, options.Loss.Distance, validation);
        // The batch counts pairs, as for two towers: B pairs are 2B items of B two-item classes.
        return EmbeddingTrainer.Train(items, options with { PerClass = 2, BatchSize = Math.Max(4, Math.Min(2 * options.BatchSize, items.Count)) }, validate, progress, backend);
    }
}

/// <summary>
/// Batches of pair indices: a seeded shuffled pass over the pairs, B at a time without replacement; the pass's tail
/// shorter than a batch is dropped and the pairs reshuffled (so no batch holds a pair twice). An epoch is floor(N / B) batches.
/// </summary>
internal sealed class PairBatchSampler
{
    private readonly int[] _order;
    private readonly SeededRandom _random;
    private int _cursor;

    public PairBatchSampler(int pairs, int batchSize, ulong seed)
    {
        if (batchSize < 1 || batchSize > pairs) throw new ArgumentOutOfRangeException(nameof(batchSize), $"a batch of {batchSize} from {pairs} pairs.");
        _order = Enumerable.Range(0, pairs).ToArray();
        _random = new SeededRandom(seed);
        BatchSize = batchSize;
        BatchesPerEpoch = Math.Max(1, pairs / batchSize);
        Shuffle();
    }

    public int BatchSize { get; }
    public int BatchesPerEpoch { get; }

    public void Next(int[] batch)
    {
        if (_cursor + BatchSize > _order.Length) { Shuffle(); _cursor = 0; }
        Array.Copy(_order, _cursor, batch, 0, BatchSize);
        _cursor += BatchSize;
    }

    private void Shuffle()
    {
        for (int i = _order.Length - 1; i > 0; i--)
        {
            int j = _random.NextInt(i + 1);
            (_order[i], _order[j]) = (_order[j], _order[i]);
        }
    }
}
