using Microsoft.ML;
using Microsoft.ML.Data;
using Ranking.Data;

namespace Ranking.MLNet;

/// <summary>
/// <see cref="RankingDataset"/> &lt;-&gt; <see cref="IDataView"/>, both ways, streaming: towards ML.NET a view over
/// the set's arrays (<see cref="RankingDataView"/>); back, one cursor pass that appends rows to growing arrays.
/// </summary>
public static class DataViewConversion
{
    /// <summary>
    /// A view of <paramref name="data"/> with ML.NET's ranking columns (<see cref="RankingColumns"/>).
    /// The <paramref name="mlContext"/> is not needed to build it; it is taken so calls read like ML.NET's own.
    /// </summary>
    public static RankingDataView ToDataView(this MLContext mlContext, RankingDataset data)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(data);
        return new RankingDataView(data);
    }

    /// <summary>
    /// Reads a view into a <see cref="RankingDataset"/>. A new query starts where the group value changes;
    /// a group that comes back after another one is an error (ranking needs each query's rows together).
    /// Label may be Single, Double or a key (key k = grade k - 1); the group a key or an integer; features a
    /// fixed-size Single vector (sparse vectors are densified). An Int64 <c>QueryId</c> column, when present,
    /// gives the query ids (else the group values do); a <c>Weight</c> column, when named, the query weights
    /// (it must be constant within a query). Row comments are not carried by a view.
    /// </summary>
    public static RankingDataset ToRankingDataset(
        this IDataView data,
        string labelColumnName = RankingColumns.Label,
        string groupColumnName = RankingColumns.GroupId,
        string featuresColumnName = RankingColumns.Features,
        string? weightColumnName = null,
        string? source = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        source ??= "<IDataView>";
        var schema = data.Schema;
        var labelCol = Find(schema, labelColumnName, source);
        var groupCol = Find(schema, groupColumnName, source);
        var featuresCol = Find(schema, featuresColumnName, source);
        var queryIdCol = schema.GetColumnOrNull(RankingColumns.QueryId) is { } q && q.Type == NumberDataViewType.Int64 ? q : (DataViewSchema.Column?)null;
        var weightCol = weightColumnName is null ? (DataViewSchema.Column?)null : Find(schema, weightColumnName, source);

        if (featuresCol.Type is not VectorDataViewType { ItemType: var itemType, Size: var featureCount } || itemType != NumberDataViewType.Single || featureCount <= 0)
            throw new RankingDataException($"{source}: column '{featuresColumnName}' is {featuresCol.Type}; a fixed-size vector of Single is needed.");

        var needed = new List<DataViewSchema.Column> { labelCol, groupCol, featuresCol };
        if (queryIdCol is { } qc) needed.Add(qc);
        if (weightCol is { } wc) needed.Add(wc);

        using var cursor = data.GetRowCursor(needed);
        var readLabel = LabelReader(cursor, labelCol, source);
        var readGroup = GroupReader(cursor, groupCol, source);
        var getFeatures = cursor.GetGetter<VBuffer<float>>(featuresCol);
        ValueGetter<long>? getQueryId = queryIdCol is { } qcol ? cursor.GetGetter<long>(qcol) : null;
        var readWeight = weightCol is { } wcol ? NumberReader(cursor, wcol, source) : null;

        long? knownRows = data.GetRowCount();
        int capacity = knownRows is { } k && k <= int.MaxValue ? (int)k : 1024;
        var features = new GrowingArray<float>(checked(capacity * featureCount));
        var labels = new GrowingArray<float>(capacity);
        var offsets = new GrowingArray<int>(64);
        var queryIds = new GrowingArray<long>(64);
        var weights = weightCol is null ? null : new GrowingArray<float>(64);
        var seenGroups = new HashSet<ulong>();
        var row = new VBuffer<float>();
        ulong previousGroup = 0;
        float queryWeight = 0;
        int rows = 0;
        offsets.Add(0);

        while (cursor.MoveNext())
        {
            long line = rows + 1;
            ulong group = readGroup();
            if (rows == 0 || group != previousGroup)
            {
                if (!seenGroups.Add(group))
                    throw new RankingDataException(source, line, 0, $"group {group} appears again after other groups; the rows of a query must be contiguous.");
                if (rows > 0) offsets.Add(rows);
                long id = getQueryId is null ? (long)group : ReadLong(getQueryId);
                queryIds.Add(id);
                if (readWeight is not null)
                {
                    queryWeight = (float)readWeight();
                    weights!.Add(queryWeight);
                }
                previousGroup = group;
            }
            else if (readWeight is not null && (float)readWeight() != queryWeight)
                throw new RankingDataException(source, line, 0, $"weight changes within group {group}; a query has one weight.");

            labels.Add(readLabel(line));
            getFeatures(ref row);
            if (row.Length != featureCount)
                throw new RankingDataException(source, line, 0, $"features hold {row.Length} values, the column says {featureCount}.");
            CopyDense(row, features.AppendSpan(featureCount));
            rows++;
        }
        if (rows > 0) offsets.Add(rows);

        return new RankingDataset(features.ToArray(), featureCount, labels.ToArray(), offsets.ToArray(),
            queryIds.ToArray(), weights?.ToArray(), rowComments: null, source: source);
    }

    private static long ReadLong(ValueGetter<long> getter)
    {
        long v = 0;
        getter(ref v);
        return v;
    }

    private static DataViewSchema.Column Find(DataViewSchema schema, string name, string source)
        => schema.GetColumnOrNull(name)
           ?? throw new RankingDataException($"{source}: no column '{name}'; columns are {string.Join(", ", schema.Select(c => c.Name))}.");

    private static void CopyDense(in VBuffer<float> row, Span<float> into)
    {
        var values = row.GetValues();
        if (row.IsDense)
        {
            values.CopyTo(into);
            return;
        }
        into.Clear();
        var indices = row.GetIndices();
        for (int i = 0; i < indices.Length; i++) into[indices[i]] = values[i];
    }

    private static Func<long, float> LabelReader(DataViewRowCursor cursor, DataViewSchema.Column column, string source)
    {
        if (column.Type is KeyDataViewType)
        {
            // A key label k stands for grade k - 1; key 0 is ML.NET's missing value.
            var key = KeyReader(cursor, column, source);
            return line =>
            {
                ulong k = key();
                if (k == 0) throw new RankingDataException(source, line, 0, $"label '{column.Name}' is missing (key 0).");
                return k - 1;
            };
        }
        var number = NumberReader(cursor, column, source);
        return line =>
        {
            double v = number();
            if (!double.IsFinite(v)) throw new RankingDataException(source, line, 0, $"label '{column.Name}' is {v}; a finite grade is needed.");
            return (float)v;
        };
    }

    private static Func<ulong> GroupReader(DataViewRowCursor cursor, DataViewSchema.Column column, string source)
    {
        if (column.Type is KeyDataViewType) return KeyReader(cursor, column, source);
        var number = NumberReader(cursor, column, source);
        return () =>
        {
            double v = number();
            if (v < 0 || v != Math.Floor(v)) throw new RankingDataException($"{source}: group '{column.Name}' holds {v}; a non-negative integer or key is needed.");
            return (ulong)v;
        };
    }

    private static Func<ulong> KeyReader(DataViewRowCursor cursor, DataViewSchema.Column column, string source)
    {
        switch (column.Type.RawType)
        {
            case var t when t == typeof(uint): { var g = cursor.GetGetter<uint>(column); uint v = 0; return () => { g(ref v); return v; }; }
            case var t when t == typeof(ulong): { var g = cursor.GetGetter<ulong>(column); ulong v = 0; return () => { g(ref v); return v; }; }
            case var t when t == typeof(ushort): { var g = cursor.GetGetter<ushort>(column); ushort v = 0; return () => { g(ref v); return v; }; }
            case var t when t == typeof(byte): { var g = cursor.GetGetter<byte>(column); byte v = 0; return () => { g(ref v); return v; }; }
            default: throw new RankingDataException($"{source}: column '{column.Name}' is {column.Type}; a key or integer is needed.");
        }
    }

    private static Func<double> NumberReader(DataViewRowCursor cursor, DataViewSchema.Column column, string source)
    {
        switch (column.Type.RawType)
        {
            case var t when t == typeof(float): { var g = cursor.GetGetter<float>(column); float v = 0; return () => { g(ref v); return v; }; }
            case var t when t == typeof(double): { var g = cursor.GetGetter<double>(column); double v = 0; return () => { g(ref v); return v; }; }
            case var t when t == typeof(int): { var g = cursor.GetGetter<int>(column); int v = 0; return () => { g(ref v); return v; }; }
            case var t when t == typeof(long): { var g = cursor.GetGetter<long>(column); long v = 0; return () => { g(ref v); return v; }; }
            case var t when t == typeof(uint): { var g = cursor.GetGetter<uint>(column); uint v = 0; return () => { g(ref v); return v; }; }
            default: throw new RankingDataException($"{source}: column '{column.Name}' is {column.Type}; a number is needed.");
        }
    }

    /// <summary>An append-only buffer that doubles; <see cref="ToArray"/> trims to the filled length.</summary>
    private sealed class GrowingArray<T>(int capacity)
    {
        private T[] _items = new T[Math.Max(1, capacity)];
        private int _count;

        public void Add(T item) => AppendSpan(1)[0] = item;

        public Span<T> AppendSpan(int n)
        {
            if (_count + n > _items.Length)
                Array.Resize(ref _items, Math.Max(checked(_count + n), (int)Math.Min(Array.MaxLength, 2L * _items.Length)));
            var span = _items.AsSpan(_count, n);
            _count += n;
            return span;
        }

        public T[] ToArray()
        {
            if (_count != _items.Length) Array.Resize(ref _items, _count);
            return _items;
        }
    }
}
