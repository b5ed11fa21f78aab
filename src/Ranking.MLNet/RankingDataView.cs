using Microsoft.ML;
using Microsoft.ML.Data;
using Ranking.Data;

namespace Ranking.MLNet;

/// <summary>
/// A read-only <see cref="IDataView"/> over a <see cref="RankingDataset"/>'s own arrays: nothing is copied
/// up front and no row objects are made; a cursor hands out each row's values from the arrays as ML.NET asks.
/// Columns: Label (Single), GroupId (key), Features (Single vector of FeatureCount), QueryId (Int64) and,
/// when the set has query weights, Weight (Single). Without labels/groups (prediction) only Features exists.
/// </summary>
/// <remarks>
/// Shuffling is refused (<see cref="CanShuffle"/> is false): ranking needs the rows of a query contiguous,
/// and a shuffled cursor would scatter them.
/// </remarks>
public sealed class RankingDataView : IDataView
{
    private readonly float[] _features;
    private readonly int _featureCount;
    private readonly int _rowCount;
    private readonly float[]? _labels;
    private readonly int[]? _groupOffsets;
    private readonly long[]? _queryIds;
    private readonly float[]? _queryWeights;
    // Column indices in Schema, -1 where absent.
    private readonly int _labelCol = -1, _groupCol = -1, _featuresCol, _queryIdCol = -1, _weightCol = -1;

    /// <summary>A view of every column of <paramref name="data"/>.</summary>
    public RankingDataView(RankingDataset data)
        : this(data.Features, data.FeatureCount, data.RowCount, data.Labels, data.GroupOffsets, data.QueryIds, data.QueryWeights)
    {
        Dataset = data;
    }

    /// <summary>Features only (rows x featureCount, row-major), for scoring rows that have no labels or queries.</summary>
    public RankingDataView(float[] features, int featureCount, int rowCount)
        : this(features, featureCount, rowCount, null, null, null, null)
    {
    }

    private RankingDataView(float[] features, int featureCount, int rowCount, float[]? labels, int[]? groupOffsets, long[]? queryIds, float[]? queryWeights)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (featureCount <= 0) throw new ArgumentOutOfRangeException(nameof(featureCount), "ML.NET vectors need at least one feature.");
        if (rowCount < 0 || (long)rowCount * featureCount > features.LongLength)
            throw new ArgumentOutOfRangeException(nameof(rowCount), $"{rowCount} rows of {featureCount} features do not fit in {features.LongLength} values.");
        _features = features;
        _featureCount = featureCount;
        _rowCount = rowCount;
        _labels = labels;
        _groupOffsets = groupOffsets;
        _queryIds = queryIds;
        _queryWeights = queryWeights;

        var builder = new DataViewSchema.Builder();
        int col = 0;
        if (labels is not null)
        {
            builder.AddColumn(RankingColumns.Label, NumberDataViewType.Single);
            _labelCol = col++;
            // A key type needs a count of at least 1, even for a set without queries.
            builder.AddColumn(RankingColumns.GroupId, new KeyDataViewType(typeof(uint), Math.Max(1, groupOffsets!.Length - 1)));
            _groupCol = col++;
        }
        builder.AddColumn(RankingColumns.Features, new VectorDataViewType(NumberDataViewType.Single, featureCount));
        _featuresCol = col++;
        if (labels is not null)
        {
            builder.AddColumn(RankingColumns.QueryId, NumberDataViewType.Int64);
            _queryIdCol = col++;
        }
        if (queryWeights is not null)
        {
            builder.AddColumn(RankingColumns.Weight, NumberDataViewType.Single);
            _weightCol = col++;
        }
        Schema = builder.ToSchema();
    }

    /// <summary>The set this view reads, when it was made from one.</summary>
    public RankingDataset? Dataset { get; }

    /// <inheritdoc/>
    public DataViewSchema Schema { get; }

    /// <inheritdoc/>
    public bool CanShuffle => false;

    /// <inheritdoc/>
    public long? GetRowCount() => _rowCount;

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = new bool[Schema.Count];
        foreach (var c in columnsNeeded) active[c.Index] = true;
        return new Cursor(this, active);
    }

    /// <inheritdoc/>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly RankingDataView _view;
        private readonly bool[] _active;
        private long _row = -1;
        private int _query = -1; // query of the current row (only tracked when the view has groups)
        private bool _done;

        public Cursor(RankingDataView view, bool[] active)
        {
            _view = view;
            _active = active;
        }

        public override DataViewSchema Schema => _view.Schema;
        public override long Position => _row;
        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_done) return false;
            if (_row + 1 >= _view._rowCount)
            {
                _done = true;
                _row = -1;
                return false;
            }
            _row++;
            var offsets = _view._groupOffsets;
            if (offsets is not null)
                while (_row >= offsets[_query + 1]) _query++;
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter()
            => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_row, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index])
                throw new InvalidOperationException($"column '{column.Name}' was not asked for when the cursor was made.");
            Delegate getter = column.Index switch
            {
                var c when c == _view._labelCol => (ValueGetter<float>)((ref float v) => v = _view._labels![Current()]),
                var c when c == _view._groupCol => (ValueGetter<uint>)((ref uint v) => { Current(); v = (uint)(_query + 1); }),
                var c when c == _view._queryIdCol => (ValueGetter<long>)((ref long v) => { Current(); v = _view._queryIds![_query]; }),
                var c when c == _view._weightCol => (ValueGetter<float>)((ref float v) => { Current(); v = _view._queryWeights![_query]; }),
                var c when c == _view._featuresCol => (ValueGetter<VBuffer<float>>)GetFeatures,
                _ => throw new ArgumentOutOfRangeException(nameof(column)),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"column '{column.Name}' is {column.Type}, not {typeof(TValue).Name}.");
        }

        private void GetFeatures(ref VBuffer<float> value)
        {
            int n = _view._featureCount;
            var editor = VBufferEditor.Create(ref value, n);
            _view._features.AsSpan(checked((int)(Current() * n)), n).CopyTo(editor.Values);
            value = editor.Commit();
        }

        private long Current()
        {
            if (_row < 0) throw new InvalidOperationException("the cursor is not on a row.");
            return _row;
        }
    }
}
