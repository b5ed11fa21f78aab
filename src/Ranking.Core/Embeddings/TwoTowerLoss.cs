namespace Ranking.Embeddings;

/// <summary>Which tower of a two-tower model: the query tower embeds anchors, the item tower the candidates.</summary>
public enum EmbeddingTower
{
    /// <summary>The query (anchor) tower.</summary>
    Query,
    /// <summary>The item (candidate) tower.</summary>
    Item,
}

/// <summary>Names and parsing of <see cref="EmbeddingTower"/>.</summary>
public static class EmbeddingTowers
{
    /// <summary>The names the CLI and the model file use.</summary>
    public static IReadOnlyList<string> Names { get; } = ["query", "item"];

    /// <summary>The name of a tower.</summary>
    public static string Name(this EmbeddingTower tower) => Names[(int)tower];

    /// <summary>Parses a name (case-insensitive; "anchor" and "candidate" accepted too).</summary>
    public static EmbeddingTower Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "query" or "queries" or "anchor" => EmbeddingTower.Query,
        "item" or "items" or "candidate" => EmbeddingTower.Item,
        _ => throw new ArgumentException($"unknown tower '{name}'; known: {string.Join(", ", Names)}."),
    };
}

/// <summary>
/// The loss of a two-tower batch: B pairs, the query tower's embeddings of the anchors against the item tower's
/// embeddings of the positives, in-batch contrast between the towers. Pair k's anchor and item are both labelled by
/// the item's row, so with InfoNCE (<c>ntxent</c>, or <c>supcon</c>, which is the same softmax for one positive) pair k's
/// positive is item k and the other pairs' items are its negatives; a second copy of the same item in the batch is
/// a positive, not a negative. When the same query appears in two pairs of a batch with different items, each pair
/// keeps its own item as the positive and the other as a negative: that is what the full softmax over the catalogue
/// does (its denominator holds every item, the query's other choices included), so the model learns p(item | query)
/// shared among the items the query chose, in proportion to how often. With <c>sampled-softmax</c>, each item's logit is
/// corrected by log q (Yi et al. 2019, q = the item's share of the training pairs): popular items, over-sampled as
/// in-batch negatives, are not pushed down for being popular. No self-pair is dropped (the references are not the
/// batch). The math is <see cref="BatchLoss"/>'s (the shared row bodies), which returns d loss / d both towers' embeddings.
/// </summary>
public sealed class TwoTowerLoss
{
    private readonly IBatchLossStep _step;
    private readonly float[]? _logItemShare;
    private int[] _selfIndex = [];
    private float[] _logQ = [];

    /// <summary>
    /// A two-tower loss from checked options. <paramref name="logItemShare"/>: log q per item row (see
    /// <see cref="PairSet.LogItemShare"/>), needed when the options ask for the log-Q correction (<c>sampled-softmax</c>).
    /// <paramref name="step"/>: where the batch loss runs (null: a <see cref="BatchLoss"/> on the CPU; a GPU batch loss implements the same interface).
    /// </summary>
    public TwoTowerLoss(BatchLossOptions options, float[]? logItemShare = null, int threads = -1, IBatchLossStep? step = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.IsProxyLoss) throw new ArgumentException($"the proxy loss '{options.Loss}' compares items with class proxies; two towers compare the query tower with the item tower: use ntxent, supcon or sampled-softmax.");
        if (options.LogQCorrection && logItemShare is null) throw new ArgumentException("the log-Q correction (sampled-softmax) needs each item's share of the pairs.", nameof(logItemShare));
        _step = step ?? new BatchLoss(options, threads);
        _logItemShare = options.LogQCorrection ? logItemShare : null;
    }

    /// <summary>The batch-loss step the loss runs on.</summary>
    public IBatchLossStep Step => _step;
    /// <summary>The options the loss was built from.</summary>
    public BatchLossOptions Options => _step.Options;

    /// <summary>
    /// The reduced loss of <paramref name="count"/> pairs: <paramref name="queries"/> (count x dim, the query tower's
    /// output, normalised where the distance wants it) against <paramref name="items"/> (count x dim, the item tower's),
    /// <paramref name="itemRows"/> the item row of each pair. Writes d loss / d query embeddings into
    /// <paramref name="queryGradient"/> and d loss / d item embeddings into <paramref name="itemGradient"/> (both overwritten).
    /// </summary>
    public double Compute(float[] queries, float[] items, int[] itemRows, int count, int dim, float[] queryGradient, float[] itemGradient, int iteration)
    {
        ArgumentNullException.ThrowIfNull(itemRows);
        if (itemRows.Length < count) throw new ArgumentException("an item row per pair is needed.", nameof(itemRows));
        if (_selfIndex.Length < count)
        {
            _selfIndex = new int[count];
            Array.Fill(_selfIndex, -1);
            _logQ = new float[count];
        }
        float[]? logQ = null;
        if (_logItemShare is not null)
        {
            for (int k = 0; k < count; k++) _logQ[k] = _logItemShare[itemRows[k]];
            logQ = _logQ;
        }
        var references = new BatchReferences(items, itemRows, count, _selfIndex, AreTheBatch: false, logQ);
        return _step.Compute(queries, itemRows, count, dim, references, queryGradient, iteration, itemGradient);
    }
}
