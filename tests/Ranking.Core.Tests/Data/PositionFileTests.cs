using Ranking.Data;

namespace Ranking.Core.Tests.Data;

/// <summary>LightGBM's FILE.position beside a text set: read into RankingDataset.Positions, written back, errors at file:line.</summary>
public class PositionFileTests
{
    private const string Rows = "1 qid:1 1:0.5\n0 qid:1 1:0.1\n2 qid:2 1:0.9\n";

    [Fact]
    public void PositionsAreReadWrittenAndKeptBySubsets()
    {
        using var dir = new TempFolder();
        string path = dir.Write("train.txt", Rows);
        dir.Write("train.txt.position", "1\n2\n1\n");
        var data = DatasetReader.Read(path);
        Assert.Equal([1, 2, 1], data.Positions!);
        Assert.Equal([1], data.Materialize([1]).Positions!);
        DatasetWriter.Write(data, dir.File("copy.txt"));
        Assert.Equal("1\n2\n1\n", File.ReadAllText(dir.File("copy.txt.position")));
        Assert.Equal(data.Positions, DatasetReader.Read(dir.File("copy.txt")).Positions);
        // a set without positions removes a stale sidecar, which would otherwise be read back
        DatasetWriter.Write(data.WithPositions(null), dir.File("copy.txt"));
        Assert.False(File.Exists(dir.File("copy.txt.position")));
        Assert.Null(DatasetReader.Read(dir.File("copy.txt")).Positions);
    }

    [Fact]
    public void LightGbmStyleFilesTakePositionsToo()
    {
        using var dir = new TempFolder();
        string path = dir.Write("train.txt", "1 1:0.5\n0 1:0.1\n2 1:0.9\n");
        dir.Write("train.txt.query", "2\n1\n");
        dir.Write("train.txt.position", "3\n1\n2\n");
        Assert.Equal([3, 1, 2], DatasetReader.Read(path).Positions!);
    }

    [Theory]
    [InlineData("1\n0\n1\n", 2, "position 0")]
    [InlineData("1\nx\n1\n", 2, "bad position 'x'")]
    [InlineData("1\n2\n", 2, "2 positions but the data file has 3 rows")]
    [InlineData("1\n2\n3\n4\n", 4, "more positions than the data file's 3 rows")]
    public void BadPositionFilesNameFileAndLine(string positions, int line, string what)
    {
        using var dir = new TempFolder();
        string path = dir.Write("train.txt", Rows);
        string positionPath = dir.Write("train.txt.position", positions);
        var ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(path));
        Assert.Equal(positionPath, ex.File);
        Assert.Equal(line, ex.Line);
        Assert.Contains(what, ex.Message);
    }

    [Fact]
    public void FormatsWithoutPositionsRefuseToDropThem()
    {
        using var dir = new TempFolder();
        string path = dir.Write("train.txt", Rows);
        dir.Write("train.txt.position", "1\n2\n1\n");
        var data = DatasetReader.Read(path);
        Assert.Contains("only SVMlight text keeps", Assert.Throws<RankingDataException>(() => DatasetWriter.Write(data, dir.File("x.rkds"))).Message);
        Assert.Throws<ArgumentException>(() => data.WithPositions([1, 0, 1]));
    }
}
