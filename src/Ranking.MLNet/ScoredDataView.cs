using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ranking.MLNet;

/// <summary>
/// Scores a block of rows: row-major features in, one score per row out. <paramref name="groupOffsets"/>
/// splits the block into queries (a block is one query when the scorer needs groups, else [0, rowCount]).
/// </summary>
public delegate void BlockScorer(ReadOnlySpan<float> features, int rowCount, int[] groupOffsets, Span<float> scores);

/// <summary>
/// The input view plus a Score column. Scores are computed a block at a time (one query, or a chunk of
/// rows when the scorer does not need queries) by a second cursor over the input that runs ahead of the
/// one the caller moves: rows are streamed, never all held, and a whole query is at hand for scorers whose
/// feature pipeline normalises per query. Both cursors see the rows in the same order because the view
/// is never shuffled (<see cref="CanShuffle"/> is false).
/// </summary>
internal sealed class ScoredDataView : IDataView
{
    private const int ChunkRows = 1024;

    private readonly IDataView _input;
    private readonly DataViewSchema.Column _features;
    private readonly DataViewSchema.Column? _group;
    private readonly int _featureCount;
    private readonly BlockScorer _scorer;
    private readonly int _scoreIndex;

    public ScoredDataView(IDataView input, DataViewSchema.Column features, DataViewSchema.Column? group, int featureCount, BlockScorer scorer, string scoreColumnName)
    {
        _input = input;
        _features = features;
        _group = group;
        _featureCount = featureCount;
        _scorer = scorer;
        Schema = AppendScore(input.Schema, scoreColumnName);
        _scoreIndex = Schema.Count - 1;
    }

    /// <summary>The input's columns, then a Single score column (hiding an input column of the same name).</summary>
    public static DataViewSchema AppendScore(DataViewSchema input, string scoreColumnName)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input);
        builder.AddColumn(scoreColumnName, NumberDataViewType.Single);
        return builder.ToSchema();
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => false;
    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        bool needScore = false;
        var inputNeeded = new List<DataViewSchema.Column>();
        foreach (var c in columnsNeeded)
        {
            if (c.Index == _scoreIndex) needScore = true;
            else inputNeeded.Add(_input.Schema[c.Index]);
        }
        var inner = _input.GetRowCursor(inputNeeded);
        if (!needScore) return new Cursor(this, inner, null);
        DataViewSchema.Column[] aheadColumns = _group is { } g ? [_features, g] : [_features];
        return new Cursor(this, inner, new BlockReader(this, _input.GetRowCursor(aheadColumns)));
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(ScoredDataView view, DataViewRowCursor inner, BlockReader? blocks) : DataViewRowCursor
    {
        private int _inBlock = -1;

        public override DataViewSchema Schema => view.Schema;
        public override long Position => inner.Position;
        public override long Batch => inner.Batch;
        public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();

        public override bool MoveNext()
        {
            if (!inner.MoveNext()) return false;
            if (blocks is not null && ++_inBlock >= blocks.Rows)
            {
                if (!blocks.ReadNext())
                    throw new InvalidOperationException("the input view gave fewer rows to a second cursor; it must give the same rows to every cursor.");
                _inBlock = 0;
            }
            return true;
        }

        public override bool IsColumnActive(DataViewSchema.Column column)
            => column.Index == view._scoreIndex ? blocks is not null : inner.IsColumnActive(view._input.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != view._scoreIndex) return inner.GetGetter<TValue>(view._input.Schema[column.Index]);
            if (blocks is null) throw new InvalidOperationException($"column '{column.Name}' was not asked for when the cursor was made.");
            ValueGetter<float> score = (ref float v) =>
            {
                if (_inBlock < 0) throw new InvalidOperationException("the cursor is not on a row.");
                v = blocks.Scores[_inBlock];
            };
            return score as ValueGetter<TValue> ?? throw new InvalidOperationException($"column '{column.Name}' is Single, not {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                blocks?.Dispose();
            }
            base.Dispose(disposing);
        }
    }

    /// <summary>Reads the next query (or chunk) from the run-ahead cursor and scores it.</summary>
    private sealed class BlockReader : IDisposable
    {
        private readonly ScoredDataView _view;
        private readonly DataViewRowCursor _ahead;
        private readonly ValueGetter<VBuffer<float>> _getFeatures;
        private readonly Func<ulong>? _readGroup;
        private readonly int[] _offsets = [0, 0];
        private float[] _features;
        private VBuffer<float> _row;
        private bool _onUnreadRow; // the ahead cursor sits on the first row of the next block

        public BlockReader(ScoredDataView view, DataViewRowCursor ahead)
        {
            _view = view;
            _ahead = ahead;
            _getFeatures = ahead.GetGetter<VBuffer<float>>(view._features);
            _readGroup = view._group is { } g ? GroupReader(ahead, g) : null;
            _features = new float[64 * view._featureCount];
            Scores = new float[64];
        }

        public int Rows { get; private set; }
        public float[] Scores { get; private set; }

        public bool ReadNext()
        {
            Rows = 0;
            if (!_onUnreadRow && !_ahead.MoveNext()) return false;
            ulong group = _readGroup?.Invoke() ?? 0;
            while (true)
            {
                Append();
                _onUnreadRow = _ahead.MoveNext();
                if (!_onUnreadRow) break;
                if (_readGroup is null ? Rows == ChunkRows : _readGroup() != group) break;
            }
            _offsets[1] = Rows;
            int f = _view._featureCount;
            _view._scorer(_features.AsSpan(0, Rows * f), Rows, _offsets, Scores.AsSpan(0, Rows));
            return true;
        }

        private void Append()
        {
            int f = _view._featureCount;
            if (Rows == Scores.Length)
            {
                Array.Resize(ref _features, _features.Length * 2);
                Scores = new float[Scores.Length * 2]; // scores are written after the block is read
            }
            _getFeatures(ref _row);
            if (_row.Length != f)
                throw new InvalidOperationException($"row {_ahead.Position + 1} has {_row.Length} features; the scorer takes {f}.");
            var into = _features.AsSpan(Rows * f, f);
            if (_row.IsDense) _row.GetValues().CopyTo(into);
            else
            {
                into.Clear();
                var values = _row.GetValues();
                var indices = _row.GetIndices();
                for (int i = 0; i < indices.Length; i++) into[indices[i]] = values[i];
            }
            Rows++;
        }

        private static Func<ulong> GroupReader(DataViewRowCursor cursor, DataViewSchema.Column column)
        {
            var raw = column.Type.RawType;
            if (raw == typeof(uint)) { var g = cursor.GetGetter<uint>(column); uint v = 0; return () => { g(ref v); return v; }; }
            if (raw == typeof(ulong)) { var g = cursor.GetGetter<ulong>(column); ulong v = 0; return () => { g(ref v); return v; }; }
            if (raw == typeof(int)) { var g = cursor.GetGetter<int>(column); int v = 0; return () => { g(ref v); return (ulong)v; }; }
            if (raw == typeof(long)) { var g = cursor.GetGetter<long>(column); long v = 0; return () => { g(ref v); return (ulong)v; }; }
            throw new InvalidOperationException($"group column '{column.Name}' is {column.Type}; a key or integer is needed.");
        }

        public void Dispose() => _ahead.Dispose();
    }
}
