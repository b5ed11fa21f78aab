using Ranking.Data;

namespace Ranking.Embeddings;

/// <summary>
/// P classes x K items per batch (the sampler batch mining needs: every anchor has positives in its batch).
/// Each batch takes P = batch / K classes, visited in a shuffled cycle, and K items of each from that class's
/// own shuffled cycle (items repeat only once a class is used up); a batch of B items that K does not divide
/// gives the first B mod K classes one item more. An epoch is floor(N / B) batches. Seeded; no draw depends on threads.
/// </summary>
public sealed class ClassBatchSampler
{
    private readonly int[][] _members;
    private readonly int[] _classes;
    private readonly int[] _cursor;
    private readonly SeededRandom _random;
    private int _classCursor;

    /// <summary>A sampler over the classes of <paramref name="items"/> that have at least two items.</summary>
    public ClassBatchSampler(LabelledItems items, int batchSize, int perClass, ulong seed)
    {
        if (batchSize < 2) throw new ArgumentOutOfRangeException(nameof(batchSize), "a batch needs at least two items.");
        if (perClass < 2) throw new ArgumentOutOfRangeException(nameof(perClass), "K must be at least 2: an anchor needs a positive in its batch.");
        var lists = Enumerable.Range(0, items.ClassCount).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < items.Count; i++) lists[items.Classes[i]].Add(i);
        _classes = Enumerable.Range(0, items.ClassCount).Where(c => lists[c].Count >= 2).ToArray();
        if (_classes.Length < 2) throw new RankingDataException($"{items.Source}: fewer than two classes with two items: no batch can hold positives and negatives");
        _members = lists.Select(l => l.ToArray()).ToArray();
        _cursor = new int[items.ClassCount];
        BatchSize = batchSize;
        ClassesPerBatch = Math.Max(2, Math.Min(_classes.Length, batchSize / perClass));
        _random = new SeededRandom(seed);
        foreach (int c in _classes) Shuffle(_members[c]);
        Shuffle(_classes);
        BatchesPerEpoch = Math.Max(1, items.Count / batchSize);
    }

    /// <summary>Items per batch.</summary>
    public int BatchSize { get; }
    /// <summary>P: classes per batch.</summary>
    public int ClassesPerBatch { get; }
    /// <summary>Batches in one epoch.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>Fills <paramref name="batch"/> (length <see cref="BatchSize"/>) with the next batch's item indices.</summary>
    public void Next(int[] batch)
    {
        int p = ClassesPerBatch, at = 0;
        for (int s = 0; s < p; s++)
        {
            if (_classCursor == _classes.Length) { Shuffle(_classes); _classCursor = 0; }
            int c = _classes[_classCursor++];
            int take = BatchSize / p + (s < BatchSize % p ? 1 : 0);
            var members = _members[c];
            for (int t = 0; t < take; t++)
            {
                if (_cursor[c] == members.Length) { Shuffle(members); _cursor[c] = 0; }
                batch[at++] = members[_cursor[c]++];
            }
        }
    }

    private void Shuffle(int[] values)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = _random.NextInt(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
