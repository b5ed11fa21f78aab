using Ranking.Data;

namespace Ranking.Core.Tests.Data;

public class RankingDatasetTests
{
    private static RankingDataset ThreeQueries() => new(
        features: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
        featureCount: 2,
        labels: [0, 1, 2, 0, 1, 3],
        groupOffsets: [0, 2, 3, 6],
        queryIds: [10, 20, 30]);

    [Fact]
    public void QueryViewSpansTheParentsArrays()
    {
        var data = ThreeQueries();
        var q = data.Query(2);
        Assert.Equal(3, q.Start);
        Assert.Equal(3, q.Length);
        Assert.Equal(30, q.QueryId);
        Assert.Equal([0f, 1f, 3f], q.Labels.ToArray());
        Assert.Equal([9f, 10f], q.Row(1).ToArray());
        data.Features[8] = 99;
        Assert.Equal(99f, data.Query(2).Row(1)[0]);
    }

    [Fact]
    public void SubsetViewCountsRowsAndMaterializeCopiesInViewOrder()
    {
        var data = ThreeQueries();
        var view = data.Subset([2, 0]);
        Assert.Equal(5, view.RowCount);
        var copy = view.Materialize();
        Assert.Equal([0, 3, 5], copy.GroupOffsets);
        Assert.Equal([30L, 10L], copy.QueryIds);
        Assert.Equal([0f, 1f, 3f, 0f, 1f], copy.Labels);
        Assert.Equal([7f, 8f, 9f, 10f, 11f, 12f, 1f, 2f, 3f, 4f], copy.Features);
    }

    [Fact]
    public void InconsistentArraysAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new RankingDataset([1, 2, 3], 2, [0, 1], [0, 2]));
        Assert.Throws<ArgumentException>(() => new RankingDataset([1, 2], 1, [0, 1], [0, 1]));
        Assert.Throws<ArgumentException>(() => new RankingDataset([1, 2], 1, [0, 1], [0, 0, 2]));
    }
}
