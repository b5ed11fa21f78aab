namespace Ranking.Data;

/// <summary>
/// Rows grouped by query, rows of one query contiguous. Features are dense float32, row-major
/// (rows x <see cref="FeatureCount"/>), which is what LightGBM and the MLP both consume without copying.
/// Query q owns rows [GroupOffsets[q], GroupOffsets[q + 1]).
/// The features are either a managed array or, for a set read from a <c>.rkds</c> file
/// (<see cref="RkdsFile.Map"/>), the file's own pages mapped read-only (<see cref="FeaturesMapped"/>); read
/// them through <see cref="FeatureSpan"/>, <see cref="Row"/> and <see cref="Query"/>, which copy nothing in
/// either case. <see cref="Dispose"/> releases a mapping (a no-op for an array-backed set).
/// </summary>
public sealed class RankingDataset : IDisposable
{
    /// <summary>A dataset over the given arrays (kept by reference, not copied), checked for consistent lengths: features hold rows x <paramref name="featureCount"/> values, offsets start at 0, ascend strictly (no empty query) and end at the row count; query ids default to 0..queryCount-1.</summary>
    public RankingDataset(
        float[] features,
        int featureCount,
        float[] labels,
        int[] groupOffsets,
        long[]? queryIds = null,
        float[]? queryWeights = null,
        string?[]? rowComments = null,
        string? source = null,
        int[]? positions = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(groupOffsets);
        if (featureCount < 0) throw new ArgumentOutOfRangeException(nameof(featureCount));
        if ((long)labels.Length * featureCount != features.LongLength)
            throw new ArgumentException($"features hold {features.LongLength} values, expected rows ({labels.Length}) x features ({featureCount}).", nameof(features));
        if (groupOffsets.Length < 1 || groupOffsets[0] != 0 || groupOffsets[^1] != labels.Length)
            throw new ArgumentException("group offsets must start at 0 and end at the row count.", nameof(groupOffsets));
        for (int q = 0; q + 1 < groupOffsets.Length; q++)
            if (groupOffsets[q + 1] <= groupOffsets[q])
                throw new ArgumentException($"query {q} is empty or offsets are not ascending.", nameof(groupOffsets));
        int queryCount = groupOffsets.Length - 1;
        if (queryIds is not null && queryIds.Length != queryCount)
            throw new ArgumentException("one query id per query is required.", nameof(queryIds));
        if (queryWeights is not null && queryWeights.Length != queryCount)
            throw new ArgumentException("one weight per query is required.", nameof(queryWeights));
        if (rowComments is not null && rowComments.Length != labels.Length)
            throw new ArgumentException("one comment per row is required.", nameof(rowComments));
        if (positions is not null)
        {
            if (positions.Length != labels.Length) throw new ArgumentException("one position per row is required.", nameof(positions));
            int bad = Array.FindIndex(positions, p => p < 1);
            if (bad >= 0) throw new ArgumentException($"row {bad}: position {positions[bad]}; positions are 1-based display ranks.", nameof(positions));
        }

        _features = features;
        FeatureCount = featureCount;
        Labels = labels;
        GroupOffsets = groupOffsets;
        QueryIds = queryIds ?? Enumerable.Range(0, queryCount).Select(i => (long)i).ToArray();
        QueryWeights = queryWeights;
        RowComments = rowComments;
        Source = source;
        Positions = positions;
    }

    /// <summary>
    /// A dataset whose features are the mapped block of a <c>.rkds</c> file; <paramref name="ownsMapping"/>
    /// says whether <see cref="Dispose"/> unmaps it (the set read from the file) or not (a set sharing it).
    /// </summary>
    internal RankingDataset(FeatureMapping mapping, bool ownsMapping, int featureCount, float[] labels, int[] groupOffsets,
        long[]? queryIds, float[]? queryWeights, string?[]? rowComments, string? source, int[]? positions)
        : this([], 0, labels, groupOffsets, queryIds, queryWeights, rowComments, source, positions)
    {
        if (mapping.Count != (long)labels.Length * featureCount)
            throw new ArgumentException($"the mapping holds {mapping.Count} values, expected rows ({labels.Length}) x features ({featureCount}).", nameof(mapping));
        _features = null;
        _mapping = mapping;
        _ownsMapping = ownsMapping;
        FeatureCount = featureCount;
    }

    // Array-backed: the features. Mapped: null until Features asks for a managed copy.
    private float[]? _features;
    private readonly FeatureMapping? _mapping;
    private readonly bool _ownsMapping;

    /// <summary>
    /// Dense row-major features, rows x FeatureCount, as a managed array. For a mapped set
    /// (<see cref="FeaturesMapped"/>) the first call copies the mapped block into a new array (once; later calls
    /// return the same copy): the consumers that need an array (feature pipelines, the MLP and linear trainers,
    /// the GPU paths) pay that copy. Consumers that only read use <see cref="FeatureSpan"/>, which never copies.
    /// </summary>
    public float[] Features => _features ?? CopyMappedFeatures();

    /// <summary>
    /// The features, rows x FeatureCount row-major, without a copy (the array, or the mapped file's pages). A mapped
    /// set of more than 2^31 - 1 values has no such span (nor a managed copy): an <see cref="InvalidOperationException"/>
    /// says so; read it by row or query (<see cref="Row"/>, <see cref="Query"/>).
    /// </summary>
    public ReadOnlySpan<float> FeatureSpan => _mapping is null ? _features : _mapping.Slice(0, WholeMatrixLength());

    /// <summary>The mapped block's length as one span's, or the error that names the set and the limit.</summary>
    private int WholeMatrixLength() => _mapping!.Count <= Array.MaxLength
        ? (int)_mapping.Count
        : throw new InvalidOperationException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{Source ?? "the mapped set"}: {_mapping.Count:N0} feature values ({RowCount:N0} rows x {FeatureCount} features) are more than one span or array holds ({Array.MaxLength:N0}); read it by row or query (Row, Query), or split the set into smaller files."));

    /// <summary>True when the features are a <c>.rkds</c> file's pages mapped into memory rather than a managed array.</summary>
    public bool FeaturesMapped => _mapping is not null;

    /// <summary>True once a mapped set has made its managed copy for <see cref="Features"/> (how tests see that a path copied nothing).</summary>
    internal bool HasFeatureCopy => _mapping is not null && Volatile.Read(ref _features) is not null;

    private float[] CopyMappedFeatures()
    {
        lock (_mapping!)
            return _features ??= FeatureSpan.ToArray();
    }

    /// <summary>Features [start, start + length) of the row-major matrix, without a copy.</summary>
    internal ReadOnlySpan<float> FeatureSlice(long start, int length)
        => _mapping is null ? new ReadOnlySpan<float>(_features, checked((int)start), length) : _mapping.Slice(start, length);

    /// <summary>
    /// Unmaps the features of a set read with <see cref="RkdsFile.Map"/> (then <see cref="FeatureSpan"/>, <see cref="Row"/>
    /// and <see cref="Query"/> throw <see cref="ObjectDisposedException"/>, and the file can be replaced or deleted
    /// on every system). Sets made from it by <see cref="WithLabels"/> or <see cref="WithPositions"/> share the
    /// mapping and are only valid until then. Nothing to release for an array-backed set.
    /// </summary>
    public void Dispose()
    {
        if (_ownsMapping) _mapping!.Dispose();
    }
    /// <summary>Features per row (the row length of <see cref="Features"/>).</summary>
    public int FeatureCount { get; }
    /// <summary>Relevance grade per row.</summary>
    public float[] Labels { get; }
    /// <summary>int[QueryCount + 1]; query q owns rows [GroupOffsets[q], GroupOffsets[q+1]).</summary>
    public int[] GroupOffsets { get; }
    /// <summary>The file's qid of each query, in query order (0..queryCount-1 for sets without qids).</summary>
    public long[] QueryIds { get; }
    /// <summary>Optional weight per query (null = all 1).</summary>
    public float[]? QueryWeights { get; }
    /// <summary>Optional per-row comment (LETOR's "# docid = ..." tail), null entries where absent.</summary>
    public string?[]? RowComments { get; }
    /// <summary>Where the set came from (a file path), for messages.</summary>
    public string? Source { get; }
    /// <summary>
    /// Optional per-row display position (1 = top) at which the row was shown when its clicks were logged:
    /// LightGBM's <c>FILE.position</c>, read beside a text file, and what position-bias estimators learn from.
    /// Null when the set carries none.
    /// </summary>
    public int[]? Positions { get; }

    /// <summary>Number of rows (documents) over all queries.</summary>
    public int RowCount => Labels.Length;
    /// <summary>Number of queries.</summary>
    public int QueryCount => GroupOffsets.Length - 1;

    /// <summary>The weight of query <paramref name="query"/> (0-based index, not qid): 1 when the set has no weights.</summary>
    public float QueryWeight(int query) => QueryWeights is null ? 1f : QueryWeights[query];

    /// <summary>Rows of query <paramref name="query"/> (0-based index).</summary>
    public int QueryLength(int query) => GroupOffsets[query + 1] - GroupOffsets[query];

    /// <summary>The rows of one query, without copying.</summary>
    public QueryView Query(int query)
    {
        if ((uint)query >= (uint)QueryCount) throw new ArgumentOutOfRangeException(nameof(query));
        return new QueryView(this, query);
    }

    /// <summary>Features of one row, without copying.</summary>
    public ReadOnlySpan<float> Row(int row)
    {
        if ((uint)row >= (uint)RowCount) throw new ArgumentOutOfRangeException(nameof(row));
        return FeatureSlice((long)row * FeatureCount, FeatureCount);
    }

    /// <summary>A view of some queries (a fold, a mini-batch) sharing this set's arrays.</summary>
    public DatasetView Subset(IReadOnlyList<int> queries) => new(this, queries.ToArray());

    /// <summary>A view of every query.</summary>
    public DatasetView AsView() => new(this, Enumerable.Range(0, QueryCount).ToArray());

    /// <summary>
    /// Copies the given queries into a new, compact dataset (for writing a fold to disk or
    /// handing a contiguous block to a native library).
    /// </summary>
    public RankingDataset Materialize(IReadOnlyList<int> queries)
    {
        int rows = 0;
        foreach (int q in queries) rows += QueryLength(q);
        var features = new float[(long)rows * FeatureCount];
        var labels = new float[rows];
        var offsets = new int[queries.Count + 1];
        var ids = new long[queries.Count];
        float[]? weights = QueryWeights is null ? null : new float[queries.Count];
        string?[]? comments = RowComments is null ? null : new string?[rows];
        int[]? positions = Positions is null ? null : new int[rows];
        int at = 0;
        for (int i = 0; i < queries.Count; i++)
        {
            int q = queries[i];
            int start = GroupOffsets[q], n = QueryLength(q);
            FeatureSlice((long)start * FeatureCount, n * FeatureCount).CopyTo(features.AsSpan(checked((int)((long)at * FeatureCount))));
            Array.Copy(Labels, start, labels, at, n);
            if (comments is not null) Array.Copy(RowComments!, start, comments, at, n);
            if (positions is not null) Array.Copy(Positions!, start, positions, at, n);
            ids[i] = QueryIds[q];
            if (weights is not null) weights[i] = QueryWeights![q];
            at += n;
            offsets[i + 1] = at;
        }
        return new RankingDataset(features, FeatureCount, labels, offsets, ids, weights, comments, Source, positions);
    }

    /// <summary>The same rows with other labels (and, optionally, query weights), sharing the features.</summary>
    public RankingDataset WithLabels(float[] labels, float[]? queryWeights = null)
        => _mapping is not null
            ? new(_mapping, false, FeatureCount, labels, GroupOffsets, QueryIds, queryWeights ?? QueryWeights, RowComments, Source, Positions)
            : new(_features!, FeatureCount, labels, GroupOffsets, QueryIds, queryWeights ?? QueryWeights, RowComments, Source, Positions);

    /// <summary>The same rows with per-row display positions (null removes them), sharing the features.</summary>
    public RankingDataset WithPositions(int[]? positions)
        => _mapping is not null
            ? new(_mapping, false, FeatureCount, Labels, GroupOffsets, QueryIds, QueryWeights, RowComments, Source, positions)
            : new(_features!, FeatureCount, Labels, GroupOffsets, QueryIds, QueryWeights, RowComments, Source, positions);
}

/// <summary>One query's rows of a dataset: spans into the parent's arrays.</summary>
public readonly struct QueryView
{
    private readonly RankingDataset _data;

    internal QueryView(RankingDataset data, int query)
    {
        _data = data;
        Index = query;
        Start = data.GroupOffsets[query];
        Length = data.GroupOffsets[query + 1] - Start;
    }

    /// <summary>The query's 0-based index in the parent set.</summary>
    public int Index { get; }
    /// <summary>First row of the query in the parent set.</summary>
    public int Start { get; }
    /// <summary>Rows of the query.</summary>
    public int Length { get; }
    /// <summary>The query's qid as read from the file.</summary>
    public long QueryId => _data.QueryIds[Index];
    /// <summary>The query's weight (1 when the set has none).</summary>
    public float Weight => _data.QueryWeight(Index);
    /// <summary>The query's grades, one per row.</summary>
    public ReadOnlySpan<float> Labels => new(_data.Labels, Start, Length);
    /// <summary>The query's features, row-major, Length x FeatureCount.</summary>
    public ReadOnlySpan<float> Features => _data.FeatureSlice((long)Start * _data.FeatureCount, Length * _data.FeatureCount);
    /// <summary>The features of the query's row <paramref name="i"/> (0-based within the query).</summary>
    public ReadOnlySpan<float> Row(int i) => _data.FeatureSlice((long)(Start + i) * _data.FeatureCount, _data.FeatureCount);
}

/// <summary>
/// A subset of a dataset's queries (a fold, a shuffled mini-batch) that shares the parent's arrays.
/// </summary>
public sealed class DatasetView
{
    internal DatasetView(RankingDataset parent, int[] queries)
    {
        Parent = parent;
        foreach (int q in queries)
            if ((uint)q >= (uint)parent.QueryCount) throw new ArgumentOutOfRangeException(nameof(queries), $"query {q} is not in the set.");
        Queries = queries;
        int rows = 0;
        foreach (int q in queries) rows += parent.QueryLength(q);
        RowCount = rows;
    }

    /// <summary>The dataset whose arrays this view reads.</summary>
    public RankingDataset Parent { get; }
    /// <summary>Indices of the parent's queries in this view, in view order.</summary>
    public IReadOnlyList<int> Queries { get; }
    /// <summary>Number of queries in the view.</summary>
    public int QueryCount => Queries.Count;
    /// <summary>Rows of the view's queries together.</summary>
    public int RowCount { get; }
    /// <summary>The view's query <paramref name="i"/> (view order), as a view into the parent.</summary>
    public QueryView Query(int i) => Parent.Query(Queries[i]);
    /// <summary>A new dataset holding copies of the view's queries, in view order.</summary>
    public RankingDataset Materialize() => Parent.Materialize(Queries);
}
