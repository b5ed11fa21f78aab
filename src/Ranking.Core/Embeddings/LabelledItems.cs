namespace Ranking.Embeddings;

/// <summary>
/// Items with a class identity: the unit of metric learning. Items of one class are positives of each
/// other, items of different classes negatives. Features are dense float32, row-major (Count x Dimension);
/// classes are dense ids 0..ClassCount-1 (the original labels are kept in <see cref="ClassNames"/>).
/// </summary>
public sealed class LabelledItems
{
    /// <summary>Wraps arrays that already hold dense class ids; checks shapes and that every feature is finite.</summary>
    public LabelledItems(float[] features, int dimension, int[] classes, IReadOnlyList<string>? classNames = null, string source = "")
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(classes);
        if (dimension <= 0) throw new ArgumentOutOfRangeException(nameof(dimension), "items need at least one feature.");
        if (features.LongLength != (long)classes.Length * dimension)
            throw new ArgumentException($"{classes.Length} items x {dimension} features need {(long)classes.Length * dimension} values, got {features.LongLength}.", nameof(features));
        int max = -1;
        foreach (int c in classes)
        {
            if (c < 0) throw new ArgumentException($"class ids must be non-negative, got {c}.", nameof(classes));
            max = Math.Max(max, c);
        }
        for (long i = 0; i < features.LongLength; i++)
            if (!float.IsFinite(features[i]))
                throw new Data.RankingDataException(source == "" ? null : source, 0, 0, $"item {i / dimension} feature {i % dimension} is {features[i]}: features must be finite");
        Features = features;
        Dimension = dimension;
        Classes = classes;
        ClassCount = max + 1;
        ClassNames = classNames ?? Enumerable.Range(0, ClassCount).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Source = source;
    }

    /// <summary>Row-major features, <see cref="Count"/> x <see cref="Dimension"/>.</summary>
    public float[] Features { get; }
    /// <summary>Features per item.</summary>
    public int Dimension { get; }
    /// <summary>The dense class id of each item.</summary>
    public int[] Classes { get; }
    /// <summary>Number of items.</summary>
    public int Count => Classes.Length;
    /// <summary>One more than the largest class id.</summary>
    public int ClassCount { get; }
    /// <summary>The label each dense class id stands for, as written in the source.</summary>
    public IReadOnlyList<string> ClassNames { get; }
    /// <summary>Where the items came from (a path, or a generator's description).</summary>
    public string Source { get; }

    /// <summary>The features of one item.</summary>
    public ReadOnlySpan<float> Item(int index) => Features.AsSpan(index * Dimension, Dimension);

    /// <summary>Items per class id.</summary>
    public int[] ClassSizes()
    {
        var sizes = new int[ClassCount];
        foreach (int c in Classes) sizes[c]++;
        return sizes;
    }

    /// <summary>
    /// Refuses a set that cannot teach a metric: fewer than two classes (no negatives), or no class with two
    /// items (no positives). A class with a single item is allowed in a larger set (it serves as a negative)
    /// unless <paramref name="everyClassNeedsPair"/>.
    /// </summary>
    public void CheckTrainable(bool everyClassNeedsPair = false)
    {
        string where = Source == "" ? "<input>" : Source;
        int[] sizes = ClassSizes();
        int present = sizes.Count(s => s > 0);
        if (present < 2) throw new Data.RankingDataException($"{where}: only {present} class{(present == 1 ? "" : "es")}: metric learning needs at least two classes (negatives)");
        if (sizes.All(s => s < 2)) throw new Data.RankingDataException($"{where}: every class has one item: metric learning needs a class with two items (positives)");
        if (everyClassNeedsPair)
            for (int c = 0; c < sizes.Length; c++)
                if (sizes[c] == 1) throw new Data.RankingDataException($"{where}: class '{ClassNames[c]}' has one item: it has no positive");
    }

    /// <summary>The items at <paramref name="indices"/>, in that order (class ids and names kept).</summary>
    public LabelledItems Subset(IReadOnlyList<int> indices)
    {
        var features = new float[(long)indices.Count * Dimension];
        var classes = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Array.Copy(Features, (long)indices[i] * Dimension, features, (long)i * Dimension, Dimension);
            classes[i] = Classes[indices[i]];
        }
        return new LabelledItems(features, Dimension, classes, ClassNames, Source);
    }

    /// <summary>
    /// Maps raw labels (any strings) to dense ids in order of first appearance, unless every label is an
    /// integer in [0, 65536): then the ids are the integers themselves, so "3" means class 3 in every file.
    /// </summary>
    public static (int[] Ids, string[] Names) DenseClassIds(IReadOnlyList<string> labels)
    {
        var ids = new int[labels.Count];
        bool allSmallIntegers = labels.Count > 0;
        int max = -1;
        for (int i = 0; i < labels.Count && allSmallIntegers; i++)
        {
            if (int.TryParse(labels[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v) && v < 65536)
            { ids[i] = v; max = Math.Max(max, v); }
            else allSmallIntegers = false;
        }
        if (allSmallIntegers)
            return (ids, Enumerable.Range(0, max + 1).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        var names = new List<string>();
        for (int i = 0; i < labels.Count; i++)
        {
            if (!map.TryGetValue(labels[i], out int id)) { id = names.Count; map[labels[i]] = id; names.Add(labels[i]); }
            ids[i] = id;
        }
        return (ids, names.ToArray());
    }
}
