namespace Ranking.Embeddings;

/// <summary>
/// Retrieval quality on held-out pairs: each pair's query (embedded by the query tower) searches every item of the
/// item set (embedded by the item tower), and the one relevant reference is the item the pair chose. With R = 1,
/// P@1 = Recall@1 = MAP@R; MRR is 1 / the rank of the chosen item within the first k (0 beyond). A query in several
/// pairs is evaluated once per pair, each time with its own chosen item as the target (leave-one-out next-item
/// evaluation). The metrics are <see cref="RetrievalEvaluator"/>'s, over the exact search of the options' backend (<see cref="RetrievalOptions.Backend"/>).
/// </summary>
public static class PairRetrieval
{
    /// <summary>Neighbours retrieved per query when the options give no k: MRR and Recall@k are cut at 100 (or at the item count).</summary>
    public const int DefaultK = 100;

    /// <summary>The k of Recall@k reported by default.</summary>
    public static IReadOnlyList<int> DefaultRecallAt { get; } = [1, 5, 10];

    /// <summary>Embeds the pairs' queries with <paramref name="queryTower"/> and every item with <paramref name="itemTower"/> (the same encoder for one shared encoder), then evaluates.</summary>
    public static RetrievalReport Evaluate(EmbeddingEncoder queryTower, EmbeddingEncoder itemTower, PairSet pairs, EmbeddingDistance distance, RetrievalOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(queryTower);
        ArgumentNullException.ThrowIfNull(itemTower);
        ArgumentNullException.ThrowIfNull(pairs);
        CheckWidth(queryTower, pairs.Queries, "query");
        CheckWidth(itemTower, pairs.Items, "item");
        int threads = options?.Threads ?? -1;
        float[] queries = queryTower.Encode(pairs.QueryFeatures(), pairs.Count, threads);
        float[] items = itemTower.Encode(pairs.Items.Features, pairs.Items.Count, threads);
        return Evaluate(queries, items, pairs, queryTower.Dimension, distance, options);
    }

    /// <summary>A model's retrieval on pairs: its query tower for the queries, its item tower for the items (its one encoder for both when it has one).</summary>
    public static RetrievalReport Evaluate(EmbeddingModel model, PairSet pairs, RetrievalOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Evaluate(model.Tower(EmbeddingTower.Query), model.Tower(EmbeddingTower.Item), pairs, model.Distance, options);
    }

    /// <summary>
    /// Evaluates given embeddings: <paramref name="pairQueries"/> one row per pair (pair order), <paramref name="items"/>
    /// one row per item of the item set; both already normalised where the distance wants it.
    /// </summary>
    public static RetrievalReport Evaluate(float[] pairQueries, float[] items, PairSet pairs, int dimension, EmbeddingDistance distance, RetrievalOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        options ??= new RetrievalOptions { RecallAt = DefaultRecallAt, KnnVote = 1 };
        int itemCount = pairs.Items.Count;
        var itemLabels = Enumerable.Range(0, itemCount).ToArray();
        var search = EmbeddingBackends.For(options.Backend).CreateNearestNeighbourSearch(items, itemCount, dimension, distance, options.Threads);
        try
        {
            var resolved = options with { K = options.K ?? Math.Min(itemCount, Math.Max(DefaultK, options.RecallAt.DefaultIfEmpty(1).Max())) };
            return RetrievalEvaluator.Evaluate(search, pairQueries, pairs.ItemRows, itemLabels, leaveOneOut: false, resolved);
        }
        finally
        {
            (search as IDisposable)?.Dispose();
        }
    }

    private static void CheckWidth(EmbeddingEncoder tower, LabelledItems items, string which)
    {
        if (items.Dimension != tower.InputCount)
            throw new Data.RankingDataException($"{(items.Source == "" ? "<input>" : items.Source)}: {items.Dimension} features, the {which} tower takes {tower.InputCount}");
    }
}
