using Ranking.Clicks;
using Ranking.Core.Tests.Data;
using Ranking.Data;

namespace Ranking.Core.Tests.Clicks;

public class ClickLogFileTests
{
    private const string Header = "session\tqid\tdoc\tposition\tclick\n";

    [Fact]
    public void RoundTripKeepsEverySessionAndClick()
    {
        var (data, scores) = ClickTestData.Judged(8, 9);
        var log = ClickSimulator.Simulate(data, scores, new ClickSimulationOptions { Sessions = 500, TopK = 5, Intervention = ClickIntervention.SwapWithFirst });
        using var dir = new TempFolder();
        ClickLogFile.Write(log, dir.File("log.tsv"));
        var back = ClickLogFile.Read(dir.File("log.tsv"), data);
        Assert.Equal(log.SessionQuery, back.SessionQuery);
        Assert.Equal(log.SessionOffsets, back.SessionOffsets);
        Assert.Equal(log.ShownRow, back.ShownRow);
        Assert.Equal(log.Clicked, back.Clicked);
    }

    [Fact]
    public void LinesOfASessionMayComeInAnyPositionOrderAndCarryDwell()
    {
        var (data, _) = ClickTestData.Judged(2, 6);
        using var dir = new TempFolder();
        string path = dir.Write("log.tsv", "# a comment\nsession\tqid\tdoc\tposition\tclick\tdwell\n7\t101\t3\t2\t1\t12.5\n7\t101\t5\t1\t0\t0\n\n8\t100\t0\t1\t1\t3\n");
        var log = ClickLogFile.Read(path, data);
        Assert.Equal(2, log.SessionCount);
        Assert.Equal([1, 0], log.SessionQuery);
        Assert.Equal([5, 3, 0], log.ShownRow);
        Assert.Equal([0, 1, 1], log.Clicked);
        Assert.Equal([0f, 12.5f, 3f], log.Dwell!);
    }

    [Theory]
    [InlineData("0\t999\t1\t1\t0\n", 2, "unknown query id 999")]
    [InlineData("0\t100\t1\t0\t1\n", 2, "position 0")]
    [InlineData("0\t100\t1\t1\t0\n0\t100\t2\t3\t1\n", 3, "position 3 in session 0, which shows only 2 documents")]
    [InlineData("0\t100\t1\t1\t0\n0\t100\t2\t1\t1\n", 3, "position 1 appears twice")]
    [InlineData("0\t100\t1\t1\t0\n0\t100\t1\t2\t1\n", 3, "doc 1 is shown twice")]
    [InlineData("0\t100\t9\t1\t0\n", 2, "doc 9: query 100 has 6 documents")]
    [InlineData("0\t100\t1\t1\t2\n", 2, "click 2")]
    [InlineData("0\t100\t1\t1\n", 2, "4 tab-separated fields")]
    [InlineData("0\t100\tx\t1\t0\n", 2, "bad doc 'x'")]
    [InlineData("0\t100\t1\t1\t0\n1\t100\t1\t1\t0\n0\t100\t2\t2\t0\n", 4, "session 0 reappears")]
    [InlineData("0\t100\t1\t1\t0\n0\t101\t2\t2\t0\n", 3, "one query per session")]
    public void BadLogsNameFileAndLine(string body, int line, string what)
    {
        var (data, _) = ClickTestData.Judged(2, 6);
        using var dir = new TempFolder();
        string path = dir.Write("bad.tsv", Header + body);
        var ex = Assert.Throws<RankingDataException>(() => ClickLogFile.Read(path, data));
        Assert.Equal(line, ex.Line);
        Assert.Contains(what, ex.Message);
        Assert.StartsWith(path + ":" + line, ex.Message);
    }

    [Fact]
    public void MissingHeaderAndEmptyLogsAreErrors()
    {
        var (data, _) = ClickTestData.Judged(2, 6);
        using var dir = new TempFolder();
        Assert.Contains("expected the header", Assert.Throws<RankingDataException>(() => ClickLogFile.Read(dir.Write("a.tsv", "0\t100\t1\t1\t0\n"), data)).Message);
        Assert.Contains("empty click log", Assert.Throws<RankingDataException>(() => ClickLogFile.Read(dir.Write("b.tsv", ""), data)).Message);
        Assert.Contains("no sessions", Assert.Throws<RankingDataException>(() => ClickLogFile.Read(dir.Write("c.tsv", Header), data)).Message);
    }

    [Fact]
    public void AggregationCountsImpressionsAndClicksPerQueryRowPosition()
    {
        var (data, _) = ClickTestData.Judged(2, 6);
        using var dir = new TempFolder();
        string path = dir.Write("log.tsv", Header +
            "0\t100\t2\t1\t1\n0\t100\t4\t2\t0\n" +
            "1\t100\t4\t1\t1\n1\t100\t2\t2\t1\n" +
            "2\t100\t2\t1\t0\n2\t100\t4\t2\t0\n" +
            "3\t101\t0\t1\t1\n");
        var counts = ClickLogFile.Read(path, data).Aggregate();
        var rows = Enumerable.Range(0, counts.Count).Select(i => (counts.Query[i], counts.Row[i], counts.Position[i], counts.Impressions[i], counts.Clicks[i])).ToArray();
        Assert.Equal([(0, 2, 1, 2L, 1L), (0, 2, 2, 1L, 1L), (0, 4, 1, 1L, 1L), (0, 4, 2, 2L, 0L), (1, 0, 1, 1L, 1L)], rows);
    }

    [Fact]
    public void TrainingSetCollapsesIdenticalSessionsIntoWeightedGroups()
    {
        var (data, _) = ClickTestData.Judged(2, 6);
        using var dir = new TempFolder();
        string path = dir.Write("log.tsv", Header +
            "0\t100\t2\t1\t1\n0\t100\t4\t2\t0\n" +
            "1\t100\t2\t1\t1\n1\t100\t4\t2\t0\n" +
            "2\t100\t2\t1\t0\n2\t100\t4\t2\t0\n" +
            "3\t100\t2\t1\t0\n3\t100\t4\t2\t1\n");
        var set = ClickTrainingSet.Build(ClickLogFile.Read(path, data));
        Assert.Equal(2, set.QueryCount);                 // session 2 has no click; 0 and 1 are one group
        Assert.Equal([2f, 1f], set.QueryWeights!);
        Assert.Equal([1f, 0f, 0f, 1f], set.Labels);
        Assert.Equal([1, 2, 1, 2], set.Positions!);
        Assert.Equal(data.Row(2).ToArray(), set.Row(0).ToArray());
        Assert.Equal(3, ClickTrainingSet.Build(ClickLogFile.Read(path, data), keepUnclicked: true).QueryCount);
    }
}
