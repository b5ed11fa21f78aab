using Microsoft.ML;
using Microsoft.ML.Data;
using Ranking.Data;

namespace Ranking.MLNet.Tests;

public class DataViewConversionTests
{
    private static void AssertSame(RankingDataset expected, RankingDataset actual)
    {
        Assert.Equal(expected.FeatureCount, actual.FeatureCount);
        Assert.Equal(expected.Features, actual.Features); // bit-exact: floats are copied, never converted
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.GroupOffsets, actual.GroupOffsets);
        Assert.Equal(expected.QueryIds, actual.QueryIds);
        Assert.Equal(expected.QueryWeights, actual.QueryWeights);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Round_trip_is_exact(bool weights)
    {
        var data = TestData.Synthetic(queries: 40, features: 7, seed: 3, weights: weights);
        var ml = new MLContext(1);
        var back = ml.ToDataView(data).ToRankingDataset(weightColumnName: weights ? RankingColumns.Weight : null);
        AssertSame(data, back);
    }

    [Fact]
    public void Round_trip_through_an_MLNet_transform_and_cache_is_exact()
    {
        // ML.NET itself reads our cursor (copying columns and caching), then we read ML.NET's cursor back.
        var data = TestData.Synthetic(queries: 25, features: 5, seed: 11);
        var ml = new MLContext(1);
        var view = ml.ToDataView(data);
        var copied = ml.Transforms.CopyColumns("F2", RankingColumns.Features).Fit(view).Transform(view);
        var cached = ml.Data.Cache(copied);
        AssertSame(data, cached.ToRankingDataset(featuresColumnName: "F2"));
    }

    [Fact]
    public void Rows_of_a_group_are_contiguous_and_keys_follow_queries()
    {
        var data = TestData.Synthetic(queries: 30, features: 3, seed: 5);
        var view = new MLContext(1).ToDataView(data);
        var groupCol = view.Schema[RankingColumns.GroupId];
        Assert.IsType<KeyDataViewType>(groupCol.Type);
        Assert.Equal((ulong)data.QueryCount, ((KeyDataViewType)groupCol.Type).Count);
        Assert.Equal(new VectorDataViewType(NumberDataViewType.Single, 3), view.Schema[RankingColumns.Features].Type);

        using var cursor = view.GetRowCursor([groupCol]);
        var get = cursor.GetGetter<uint>(groupCol);
        var seen = new HashSet<uint>();
        uint previous = 0, key = 0;
        int row = 0;
        while (cursor.MoveNext())
        {
            get(ref key);
            if (key != previous) Assert.True(seen.Add(key), $"group {key} came back at row {row}");
            // key q + 1 exactly over the rows of query q
            Assert.InRange(row, data.GroupOffsets[key - 1], data.GroupOffsets[key] - 1);
            previous = key;
            row++;
        }
        Assert.Equal(data.RowCount, row);
        Assert.Equal(data.QueryCount, seen.Count);
    }

    [Fact]
    public void Cursor_refuses_a_column_not_asked_for()
    {
        var view = new MLContext(1).ToDataView(TestData.Synthetic(3, 2, 1));
        using var cursor = view.GetRowCursor([view.Schema[RankingColumns.Label]]);
        Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<VBuffer<float>>(view.Schema[RankingColumns.Features]));
        Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<double>(view.Schema[RankingColumns.Label]));
    }

    private sealed class ForeignRow
    {
        public float Label { get; set; }
        public uint Query { get; set; }
        [VectorType(2)] public float[] Features { get; set; } = [];
    }

    [Fact]
    public void Reads_a_foreign_view_with_a_mapped_key_and_sparse_features()
    {
        var ml = new MLContext(1);
        var rows = new[]
        {
            new ForeignRow { Label = 1, Query = 50, Features = [1, 2] },
            new ForeignRow { Label = 0, Query = 50, Features = [3, 0] },
            new ForeignRow { Label = 2, Query = 9, Features = [0, 0] },
        };
        var view = ml.Transforms.Conversion.MapValueToKey("GroupId", "Query").Fit(ml.Data.LoadFromEnumerable(rows))
            .Transform(ml.Data.LoadFromEnumerable(rows));
        var data = view.ToRankingDataset();
        Assert.Equal([0, 2, 3], data.GroupOffsets);
        Assert.Equal([1f, 0f, 2f], data.Labels);
        Assert.Equal([1f, 2f, 3f, 0f, 0f, 0f], data.Features);
        Assert.Equal([1L, 2L], data.QueryIds); // key values (first seen = 1)

        // Sparse rows are densified.
        var sparse = ml.Transforms.Conversion.MapValueToKey("GroupId", "Query").Fit(ml.Data.LoadFromEnumerable(rows))
            .Transform(ml.Data.LoadFromEnumerable(rows));
        var normalized = ml.Transforms.NormalizeMinMax("Features").Fit(sparse).Transform(sparse);
        Assert.Equal(3, normalized.ToRankingDataset().RowCount);
    }

    [Fact]
    public void A_group_that_comes_back_is_an_error_naming_the_row()
    {
        var ml = new MLContext(1);
        var rows = new[]
        {
            new ForeignRow { Label = 1, Query = 1, Features = [1, 2] },
            new ForeignRow { Label = 0, Query = 2, Features = [3, 0] },
            new ForeignRow { Label = 2, Query = 1, Features = [0, 0] },
        };
        var view = ml.Data.LoadFromEnumerable(rows);
        var error = Assert.Throws<RankingDataException>(() => view.ToRankingDataset(groupColumnName: "Query", source: "rows"));
        Assert.Equal(3, error.Line);
        Assert.Contains("rows:3", error.Message);
        Assert.Contains("contiguous", error.Message);
    }

    [Fact]
    public void A_missing_column_is_an_error_listing_the_columns()
    {
        var view = new MLContext(1).ToDataView(TestData.Synthetic(3, 2, 1));
        var error = Assert.Throws<RankingDataException>(() => view.ToRankingDataset(groupColumnName: "Qid"));
        Assert.Contains("GroupId", error.Message);
    }
}
