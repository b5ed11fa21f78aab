using ILGPU;
using ILGPU.Runtime;

namespace Ranking.Gpu;

/// <summary>The per-query arrays a kernel reads, packed so a kernel takes one argument for them.</summary>
public struct QueryArrays
{
    /// <summary>Grade per row.</summary>
    public ArrayView<float> Labels;
    /// <summary>queryCount + 1 offsets; query q owns rows [Offsets[q], Offsets[q + 1]).</summary>
    public ArrayView<int> Offsets;
    /// <summary>The query of each row (so a thread per row finds its query without a search).</summary>
    public ArrayView<int> RowQuery;
    /// <summary>Weight per query (1 where the set has none).</summary>
    public ArrayView<float> QueryWeights;
    /// <summary>First row and first query of the launch: thread t of a row kernel handles row RowBase + t.</summary>
    public int RowBase;
    /// <summary>First query of the launch: the query of row RowBase.</summary>
    public int QueryBase;
}

/// <summary>
/// The queries one launch covers: a contiguous range [first, first + QueryCount) of a set's queries (all of
/// them, or one mini-batch). Every view stays indexed by absolute row and query.
/// </summary>
public readonly struct QueryRange(QueryArrays arrays, int rowCount, int queryCount)
{
    /// <summary>The set's arrays, with RowBase and QueryBase set to this range's first row and first query.</summary>
    public QueryArrays Arrays { get; } = arrays;
    /// <summary>Rows of the range's queries together.</summary>
    public int RowCount { get; } = rowCount;
    /// <summary>Queries in the range.</summary>
    public int QueryCount { get; } = queryCount;
    /// <summary>Absolute index of the range's first row in the set.</summary>
    public int FirstRow => Arrays.RowBase;
    /// <summary>Absolute index of the range's first query in the set.</summary>
    public int FirstQuery => Arrays.QueryBase;
}

/// <summary>
/// A query set resident on a device: labels, offsets, the row-to-query map and query weights are uploaded
/// once; scores, gradients, Hessians and per-row / per-query scratch live on the device so a training loop
/// launches kernels without copying anything but what it asks for. Optionally the row-major features too
/// (for the MLP).
/// </summary>
public sealed class DeviceQuerySet : IDisposable
{
    private readonly List<IDisposable> _owned = new();
    private MemoryBuffer1D<int, Stride1D.Dense>? _topRows;
    private int _topRowsPerQuery;

    /// <summary>Uploads one query set to <paramref name="device"/>.</summary>
    /// <param name="device">The device that holds the set.</param>
    /// <param name="labels">One grade per row.</param>
    /// <param name="groupOffsets">Query q owns rows [groupOffsets[q], groupOffsets[q+1]).</param>
    /// <param name="queryWeights">One weight per query, or null for weight 1.</param>
    /// <param name="features">Row-major features to upload (for the MLP), or null.</param>
    /// <param name="featureCount">Features per row of <paramref name="features"/>.</param>
    /// <param name="allocateFeatures">Allocate room for features without uploading any (a set filled by <see cref="LoadOrder"/>).</param>
    public DeviceQuerySet(GpuDevice device, float[] labels, int[] groupOffsets, float[]? queryWeights = null, float[]? features = null, int featureCount = 0, bool allocateFeatures = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(groupOffsets);
        if (groupOffsets.Length < 1 || groupOffsets[0] != 0 || groupOffsets[^1] != labels.Length)
            throw new ArgumentException("group offsets must start at 0 and end at the row count.", nameof(groupOffsets));
        Device = device;
        RowCount = labels.Length;
        QueryCount = groupOffsets.Length - 1;
        HostLabels = labels;
        HostOffsets = groupOffsets;
        HostQueryWeights = queryWeights;
        var rowQuery = new int[RowCount];
        double squaredLengths = 0;
        for (int q = 0; q < QueryCount; q++)
        {
            int n = groupOffsets[q + 1] - groupOffsets[q];
            if (n < 0) throw new ArgumentException($"offsets of query {q} are not ascending.", nameof(groupOffsets));
            MaxQueryLength = Math.Max(MaxQueryLength, n);
            squaredLengths += (double)n * n;
            Array.Fill(rowQuery, q, groupOffsets[q], n);
        }
        ComparisonsPerRow = RowCount == 0 ? 0 : squaredLengths / RowCount;
        var weights = queryWeights ?? Enumerable.Repeat(1f, QueryCount).ToArray();
        if (weights.Length != QueryCount) throw new ArgumentException("one weight per query is required.", nameof(queryWeights));

        lock (device.Sync)
        {
            Labels = Own(device.Upload(labels));
            Offsets = Own(device.Upload(groupOffsets));
            RowQuery = Own(device.Upload(rowQuery));
            QueryWeights = Own(device.Upload(weights));
            Scores = Own(device.Accelerator.Allocate1D<float>(Math.Max(1, RowCount)));
            Gradients = Own(device.Accelerator.Allocate1D<float>(Math.Max(1, RowCount)));
            Hessians = Own(device.Accelerator.Allocate1D<float>(Math.Max(1, RowCount)));
            for (int c = 0; c < ScratchColumns; c++)
            {
                _rowScratch[c] = Own(device.Accelerator.Allocate1D<double>(Math.Max(1, RowCount)));
                _queryScratch[c] = Own(device.Accelerator.Allocate1D<double>(Math.Max(1, QueryCount)));
            }
            if (features is not null)
            {
                if (features.LongLength != (long)RowCount * featureCount)
                    throw new ArgumentException("features must hold rows x featureCount values.", nameof(features));
                FeatureCount = featureCount;
                Features = Own(device.Upload(features));
            }
            else if (allocateFeatures)
            {
                FeatureCount = featureCount;
                Features = Own(device.Accelerator.Allocate1D<float>(Math.Max(1, (long)RowCount * featureCount)));
            }
        }
    }

    /// <summary>The device that holds every buffer of the set.</summary>
    public GpuDevice Device { get; }
    /// <summary>Rows (documents) in the set.</summary>
    public int RowCount { get; }
    /// <summary>Queries in the set.</summary>
    public int QueryCount { get; }
    /// <summary>Rows of the longest query (0 for an empty set).</summary>
    public int MaxQueryLength { get; }
    /// <summary>
    /// Sum of squared query lengths over the row count: how many rows a row compares itself with, on
    /// average, when a kernel ranks by counting. Kernels switch to a segmented sort when it is large.
    /// </summary>
    public double ComparisonsPerRow { get; }
    /// <summary>Features per row of <see cref="Features"/>; 0 when the set holds no features.</summary>
    public int FeatureCount { get; }

    /// <summary>Host arrays this set was built from (by reference: adapters reuse the set while they are unchanged).</summary>
    public float[] HostLabels { get; }
    /// <summary>Host group offsets the device offsets mirror (replaced by <see cref="LoadOrder"/>).</summary>
    public int[] HostOffsets { get; private set; }
    /// <summary>Host query weights the device weights mirror, or null when every query weighs 1.</summary>
    public float[]? HostQueryWeights { get; private set; }

    /// <summary>Grade per row, on the device.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Labels { get; }
    /// <summary>queryCount + 1 group offsets on the device: query q owns rows [Offsets[q], Offsets[q + 1]).</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> Offsets { get; }
    /// <summary>The query of each row, on the device.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> RowQuery { get; }
    /// <summary>Weight per query on the device (1 where the host set had none).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> QueryWeights { get; }
    /// <summary>Row-major features (rows x <see cref="FeatureCount"/>) on the device, or null when the set was built without them.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense>? Features { get; }

    /// <summary>Current model scores, one per row.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Scores { get; }
    /// <summary>d loss / d score per row, as the last objective launch wrote them (for the loss of each query times its weight).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Gradients { get; }
    /// <summary>The diagonal of d2 loss / d score2 per row, as the last objective launch wrote them.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Hessians { get; }

    /// <summary>
    /// True once <see cref="UploadRowInputs"/> gave the set its objective's per-row inputs (IPW's click weights,
    /// unbiased LambdaMART's positions: <see cref="Ranking.Objectives.IQueryLossObjective.RowInputs"/>), which loss
    /// bodies read as <see cref="Ranking.Numerics.IQueryRows.Auxiliary"/>. <see cref="LoadOrder"/> carries them along.
    /// </summary>
    public bool HasRowInputs { get; private set; }

    /// <summary>Uploads one input per row into <see cref="Workspace.RowInputs"/> (counted) and marks the set as holding them.</summary>
    public void UploadRowInputs(ReadOnlySpan<float> values)
    {
        if (values.Length != RowCount) throw new ArgumentException($"expected {RowCount} row inputs, got {values.Length}.", nameof(values));
        Device.Upload(values, RowBuffer<float>(Workspace.RowInputs));
        HasRowInputs = true;
    }

    /// <summary>Each query's loss times its weight, as the last objective launch left it (summed in query order by the caller).</summary>
    public ArrayView<double> QueryLoss => QueryBuffer<double>(Workspace.QueryLoss);

    private readonly Dictionary<string, MemoryBuffer> _named = new(StringComparer.Ordinal);

    /// <summary>
    /// The workspace <paramref name="name"/> (see <see cref="Workspace"/>): one <typeparamref name="T"/> per
    /// row, allocated on first use and kept with the set. Contents are whatever the last kernel left.
    /// </summary>
    public ArrayView<T> RowBuffer<T>(string name) where T : unmanaged => Named<T>("row:" + name, RowCount);

    /// <summary>The workspace <paramref name="name"/>: one <typeparamref name="T"/> per query, allocated on first use.</summary>
    public ArrayView<T> QueryBuffer<T>(string name) where T : unmanaged => Named<T>("query:" + name, QueryCount);

    /// <summary>The workspace <paramref name="name"/>: <paramref name="perQuery"/> values per query (query q's at q x perQuery), allocated on first use.</summary>
    public ArrayView<T> QueryBuffer<T>(string name, int perQuery) where T : unmanaged =>
        perQuery == 1 ? QueryBuffer<T>(name) : Named<T>($"query:{name}:{perQuery}", checked(QueryCount * perQuery));

    private ArrayView<T> Named<T>(string key, int length) where T : unmanaged
    {
        lock (_named)
        {
            if (!_named.TryGetValue(key, out var buffer))
            {
                buffer = Device.Accelerator.Allocate1D<T>(Math.Max(1, length));
                _named[key] = buffer;
            }
            if (buffer is not MemoryBuffer1D<T, Stride1D.Dense> typed)
                throw new InvalidOperationException($"workspace '{key}' was first taken with another element type.");
            return typed.View;
        }
    }
    /// <summary>Number of scratch columns per row and per query (<see cref="RowScratch"/>, <see cref="QueryScratch"/>).</summary>
    public const int ScratchColumns = 6;
    private readonly MemoryBuffer1D<double, Stride1D.Dense>[] _rowScratch = new MemoryBuffer1D<double, Stride1D.Dense>[ScratchColumns];
    private readonly MemoryBuffer1D<double, Stride1D.Dense>[] _queryScratch = new MemoryBuffer1D<double, Stride1D.Dense>[ScratchColumns];

    /// <summary>Every query of the set.</summary>
    public QueryRange All => new(Arrays, RowCount, QueryCount);

    /// <summary>Queries [first, first + count): a mini-batch of whole queries.</summary>
    public QueryRange Range(int first, int count)
    {
        if (first < 0 || count < 0 || first + count > QueryCount) throw new ArgumentOutOfRangeException(nameof(count));
        var arrays = Arrays;
        arrays.RowBase = HostOffsets[first];
        arrays.QueryBase = first;
        return new QueryRange(arrays, HostOffsets[first + count] - HostOffsets[first], count);
    }

    /// <summary>Scratch column c (0..5): a double per row (partial sums that a kernel per query reduces in row order).</summary>
    public ArrayView<double> RowScratch(int c) => _rowScratch[c].View;

    /// <summary>Scratch column c (0..5): a double per query.</summary>
    public ArrayView<double> QueryScratch(int c) => _queryScratch[c].View;

    /// <summary>The set's arrays for a kernel argument, covering every query (RowBase and QueryBase 0).</summary>
    public QueryArrays Arrays => new()
    {
        Labels = Labels.View,
        Offsets = Offsets.View,
        RowQuery = RowQuery.View,
        QueryWeights = QueryWeights.View,
    };

    /// <summary>True when this set was built from exactly these host arrays (same references).</summary>
    public bool Matches(float[] labels, int[] offsets, float[]? weights) =>
        ReferenceEquals(labels, HostLabels) && ReferenceEquals(offsets, HostOffsets) && ReferenceEquals(weights, HostQueryWeights);

    /// <summary>A queryCount x perQuery int buffer for the rows of each query's top ranks (grown on demand).</summary>
    public ArrayView<int> TopRows(int perQuery)
    {
        if (_topRows is null || _topRowsPerQuery < perQuery)
        {
            _topRows?.Dispose();
            _topRows = Device.Accelerator.Allocate1D<int>(Math.Max(1, (long)QueryCount * perQuery));
            _topRowsPerQuery = perQuery;
        }
        return _topRows.View.SubView(0, Math.Max(1, (long)QueryCount * perQuery));
    }

    private MemoryBuffer1D<int, Stride1D.Dense>? _rowMap;
    private MemoryBuffer1D<int, Stride1D.Dense>? _rankingOrders;

    /// <summary>
    /// Two ints per row for the metric kernels' counted rankings (allocated on first use, kept with the set):
    /// the rows in ranking order and in ideal (descending gain) order, query after query.
    /// </summary>
    public (ArrayView<int> Order, ArrayView<int> IdealOrder) RankingOrders()
    {
        int rows = Math.Max(1, RowCount);
        _rankingOrders ??= Device.Accelerator.Allocate1D<int>(2L * rows);
        return (_rankingOrders.View.SubView(0, rows), _rankingOrders.View.SubView(rows, rows));
    }
    private Kernels.SortedRankKernels.Buffers? _sortBuffers;

    /// <summary>Scratch for sorting every row of the set (allocated on first use, kept with the set).</summary>
    public Kernels.SortedRankKernels.Buffers SortBuffers(Kernels.SortedRankKernels kernels) =>
        _sortBuffers ??= kernels.Allocate(RowCount);

    /// <summary>
    /// Makes this set hold <paramref name="source"/>'s queries in <paramref name="queryOrder"/> (a permutation
    /// of its queries): offsets, row-to-query map, weights and the row map are uploaded (counted), labels
    /// and features gathered on the device. Both sets have the same rows and features.
    /// </summary>
    public void LoadOrder(DeviceQuerySet source, int[] queryOrder)
    {
        if (source.RowCount != RowCount || source.QueryCount != QueryCount || source.FeatureCount != FeatureCount || (source.Features is null) != (Features is null))
            throw new ArgumentException("the sets differ in rows, queries or features.", nameof(source));
        if (queryOrder.Length != QueryCount) throw new ArgumentException($"the order has {queryOrder.Length} queries, the set {QueryCount}.", nameof(queryOrder));
        var offsets = new int[QueryCount + 1];
        var rowQuery = new int[RowCount];
        var map = new int[RowCount];
        var weights = new float[QueryCount];
        for (int q = 0; q < QueryCount; q++)
        {
            int from = queryOrder[q], start = source.HostOffsets[from], n = source.HostOffsets[from + 1] - start;
            offsets[q + 1] = offsets[q] + n;
            for (int i = 0; i < n; i++)
            {
                map[offsets[q] + i] = start + i;
                rowQuery[offsets[q] + i] = q;
            }
            weights[q] = source.HostQueryWeights is null ? 1f : source.HostQueryWeights[from];
        }
        lock (Device.Sync)
        {
            _rowMap ??= Device.Accelerator.Allocate1D<int>(Math.Max(1, RowCount));
            Device.Upload<int>(offsets, Offsets.View);
            Device.Upload<int>(rowQuery, RowQuery.View);
            Device.Upload<float>(weights, QueryWeights.View);
            Device.Upload<int>(map, _rowMap.View);
            var gather = Device.Kernels(a => new Kernels.GatherKernels(a));
            gather.Rows(RowCount, _rowMap.View, source.Labels.View, Labels.View,
                source.Features?.View ?? Labels.View, Features?.View ?? Labels.View, Features is null ? 0 : FeatureCount);
            if (source.HasRowInputs)
            {
                gather.Rows(RowCount, _rowMap.View, source.RowBuffer<float>(Workspace.RowInputs), RowBuffer<float>(Workspace.RowInputs), Labels.View, Labels.View, 0);
            }
            HasRowInputs = source.HasRowInputs;
        }
        HostOffsets = offsets;
        HostQueryWeights = source.HostQueryWeights is null ? null : weights;
    }

    /// <summary>Uploads scores (counted) into <see cref="Scores"/>.</summary>
    public void UploadScores(ReadOnlySpan<float> scores)
    {
        if (scores.Length != RowCount) throw new ArgumentException($"expected {RowCount} scores, got {scores.Length}.", nameof(scores));
        Device.Upload(scores, Scores.View);
    }

    private T Own<T>(T buffer) where T : IDisposable
    {
        _owned.Add(buffer);
        return buffer;
    }

    /// <summary>Frees every device buffer of the set, named workspaces included.</summary>
    public void Dispose()
    {
        _topRows?.Dispose();
        _rowMap?.Dispose();
        _rankingOrders?.Dispose();
        _sortBuffers?.Dispose();
        foreach (var b in _named.Values) b.Dispose();
        _named.Clear();
        foreach (var b in _owned) b.Dispose();
        _owned.Clear();
    }
}

/// <summary>
/// Names of the device workspaces objectives take from a set (<see cref="DeviceQuerySet.RowBuffer{T}"/>,
/// <see cref="DeviceQuerySet.QueryBuffer{T}(string)"/>): the device side of <see cref="Ranking.Numerics.IQueryRows"/>
/// and the buffers of the LambdaRank and pair kernels, each named for what it holds.
/// </summary>
public static class Workspace
{
    /// <summary>double per query: the query's loss times its weight.</summary>
    public const string QueryLoss = "query-loss";
    /// <summary>float per row: the objective's per-row inputs (<see cref="Ranking.Numerics.IQueryRows.Auxiliary"/>).</summary>
    public const string RowInputs = "row-inputs";
    /// <summary>double per query and output: a loss's per-query outputs (<see cref="Ranking.Numerics.IQueryRows.QueryOutput"/>).</summary>
    public const string QueryOutputs = "query-outputs";
    /// <summary>double per row: float64 gradient sums before the rounding to float.</summary>
    public const string GradientSums = "gradient-sums";
    /// <summary>double per row: float64 Hessian sums.</summary>
    public const string HessianSums = "hessian-sums";
    /// <summary>double per row: <see cref="Ranking.Numerics.IQueryRows.RowValue"/>.</summary>
    public const string RowValues = "row-values";
    /// <summary>double per row: <see cref="Ranking.Numerics.IQueryRows.PlaceValue"/>.</summary>
    public const string PlaceValues = "place-values";
    /// <summary>ulong per row: <see cref="Ranking.Numerics.IQueryRows.SortKey"/>.</summary>
    public const string SortKeys = "sort-keys";
    /// <summary>int per row: <see cref="Ranking.Numerics.IQueryRows.Order"/> (query-local rows by place).</summary>
    public const string Order = "order";
    /// <summary>int per row: <see cref="Ranking.Numerics.IQueryRows.ScoreOrder"/>.</summary>
    public const string ScoreOrder = "score-order";
    /// <summary>int per row: <see cref="Ranking.Numerics.IQueryRows.Picked"/>.</summary>
    public const string Picked = "picked";
    /// <summary>int per row: the row's stable rank by score within its query.</summary>
    public const string Ranks = "ranks";
    /// <summary>double per row: the row's gain.</summary>
    public const string Gains = "gains";
    /// <summary>double per row: LambdaRank's ideal-DCG term of the row, then the discount of its current rank.</summary>
    public const string Discounts = "discounts";
    /// <summary>double per row: a row's share of its query's sum of 2 |lambda|.</summary>
    public const string AbsLambdas = "abs-lambdas";
    /// <summary>double per row: a row's share of its query's loss (pairs counted by the row that owns them).</summary>
    public const string LossParts = "loss-parts";
    /// <summary>double per query: 1 / maxDCG@k (0 when maxDCG is 0).</summary>
    public const string InverseMaxDcg = "inverse-max-dcg";
    /// <summary>double per query: 1 when all its scores are equal.</summary>
    public const string AllScoresEqual = "all-scores-equal";
    /// <summary>double per query: LambdaRank's normalisation factor times the query weight.</summary>
    public const string LambdaFactor = "lambda-factor";
    /// <summary>ListNetSums per query: ListNet's normalisers.</summary>
    public const string ListNetSums = "listnet-sums";
}
