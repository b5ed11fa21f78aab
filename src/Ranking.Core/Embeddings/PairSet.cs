using Ranking.Data;

namespace Ranking.Embeddings;

/// <summary>
/// Anchor-positive pairs between two sets (weak supervision: a query and the item a person chose): pair k is
/// row <see cref="QueryRows"/>[k] of <see cref="Queries"/> and row <see cref="ItemRows"/>[k] of <see cref="Items"/>.
/// The two sets may have different feature counts (two towers) or the same (one shared encoder). A query may
/// appear in several pairs, and so may an item: an item's share of the pairs is its popularity, the q of the
/// log-Q correction (<see cref="LogItemShare"/>).
/// </summary>
public sealed class PairSet
{
    /// <summary>Pairs over two sets; every row is checked against its set's size.</summary>
    public PairSet(LabelledItems queries, LabelledItems items, IReadOnlyList<(int Query, int Item)> pairs, string source = "")
    {
        Queries = queries ?? throw new ArgumentNullException(nameof(queries));
        Items = items ?? throw new ArgumentNullException(nameof(items));
        ArgumentNullException.ThrowIfNull(pairs);
        QueryRows = new int[pairs.Count];
        ItemRows = new int[pairs.Count];
        for (int k = 0; k < pairs.Count; k++)
        {
            var (q, i) = pairs[k];
            if ((uint)q >= (uint)queries.Count) throw new ArgumentOutOfRangeException(nameof(pairs), $"pair {k}: query row {q} is past the {queries.Count} queries.");
            if ((uint)i >= (uint)items.Count) throw new ArgumentOutOfRangeException(nameof(pairs), $"pair {k}: item row {i} is past the {items.Count} items.");
            QueryRows[k] = q;
            ItemRows[k] = i;
        }
        Source = source;
    }

    /// <summary>
    /// Reads a pair file (<see cref="PairFile"/>: <c>query_row item_row</c> per line) over <paramref name="queries"/> and
    /// <paramref name="items"/>; a row past its set, a malformed line or a file with no pair is a <see cref="RankingDataException"/>
    /// naming the file and line.
    /// </summary>
    public static PairSet Read(string path, LabelledItems queries, LabelledItems items)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(items);
        return new PairSet(queries, items, PairFile.Read(path, queries.Count, items.Count), path);
    }

    /// <summary>The anchors' set (what the query tower embeds).</summary>
    public LabelledItems Queries { get; }
    /// <summary>The candidates' set (what the item tower embeds): every item is a retrieval target.</summary>
    public LabelledItems Items { get; }
    /// <summary>The query row of each pair.</summary>
    public int[] QueryRows { get; }
    /// <summary>The item row of each pair (the item the query chose).</summary>
    public int[] ItemRows { get; }
    /// <summary>Number of pairs.</summary>
    public int Count => QueryRows.Length;
    /// <summary>Where the pairs came from (the pair file's path).</summary>
    public string Source { get; }

    private string Where => Source == "" ? "<pairs>" : Source;

    /// <summary>How many pairs chose each item row.</summary>
    public int[] ItemFrequency()
    {
        var counts = new int[Items.Count];
        foreach (int i in ItemRows) counts[i]++;
        return counts;
    }

    /// <summary>
    /// Per item row, log of its share of the pairs: log q_i, the probability that a batch slot drawn uniformly from
    /// the pairs holds item i, which the log-Q correction (Yi et al. 2019) subtracts from the item's logit (0 for an
    /// item no pair chose: it never enters a batch).
    /// </summary>
    public float[] LogItemShare()
    {
        int[] counts = ItemFrequency();
        return Array.ConvertAll(counts, c => c == 0 ? 0f : (float)Math.Log(c / (double)Count));
    }

    /// <summary>
    /// Refuses pairs that cannot teach in-batch contrast: fewer than two pairs, or every pair choosing the same item
    /// (then every in-batch item is a positive and there is no negative).
    /// </summary>
    public void CheckTrainable()
    {
        if (Count < 2) throw new RankingDataException($"{Where}: {Count} pair{(Count == 1 ? "" : "s")}: in-batch contrast needs at least two pairs (the other pairs' items are the negatives)");
        int first = ItemRows[0];
        if (ItemRows.All(i => i == first))
            throw new RankingDataException($"{Where}: every pair chose item row {first}: in-batch contrast needs pairs with different items (negatives)");
    }

    /// <summary>
    /// The pairs as labelled items for one shared encoder (<see cref="PairFile.ToItems"/>: pair k's query and item
    /// are the two items of class k). Both sets must have the same feature count.
    /// </summary>
    public LabelledItems ToSharedItems()
    {
        if (Queries.Dimension != Items.Dimension)
            throw new RankingDataException($"{Where}: the queries ({Describe(Queries)}) have {Queries.Dimension} features, the items ({Describe(Items)}) {Items.Dimension}: one shared encoder needs one feature count (use two towers)");
        var pairs = new (int, int)[Count];
        for (int k = 0; k < Count; k++) pairs[k] = (QueryRows[k], ItemRows[k]);
        var items = PairFile.ToItems(pairs, Queries, Items);
        return new LabelledItems(items.Features, items.Dimension, items.Classes, null, Where);
    }

    /// <summary>Row-major features of the pairs' queries, in pair order (a query in several pairs is copied for each).</summary>
    public float[] QueryFeatures()
    {
        int d = Queries.Dimension;
        var features = new float[(long)Count * d];
        for (int k = 0; k < Count; k++) Queries.Item(QueryRows[k]).CopyTo(features.AsSpan(k * d, d));
        return features;
    }

    /// <summary>Checks that <paramref name="other"/> pairs sets of this one's feature counts (validation pairs against training pairs).</summary>
    public void CheckSameShapes(PairSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Queries.Dimension != Queries.Dimension)
            throw new RankingDataException($"{Describe(other.Queries)}: {other.Queries.Dimension} query features, the training queries have {Queries.Dimension}");
        if (other.Items.Dimension != Items.Dimension)
            throw new RankingDataException($"{Describe(other.Items)}: {other.Items.Dimension} item features, the training items have {Items.Dimension}");
    }

    private static string Describe(LabelledItems items) => items.Source == "" ? "<input>" : items.Source;
}
