using Ranking.Data;

namespace Ranking.Core.Tests.Data;

/// <summary>
/// The streamed read hands over exactly the rows an in-memory read holds (features, labels, queries), in
/// file order and chunk by chunk; samples are whole rows of the file; bad lines stop it with file:line.
/// </summary>
public class DatasetRowStreamTests
{
    private static string WriteSet(TempFolder dir, out RankingDataset expected)
    {
        var set = SyntheticGenerator.Generate(new SyntheticOptions { Preset = "mslr-like", Queries = 12, Seed = 5 }).Data;
        string path = dir.File("set.txt");
        DatasetWriter.WriteSvmLight(set, path, sparse: true);
        expected = DatasetReader.Read(path, new DatasetReadOptions { KeepComments = false });
        return path;
    }

    [Fact]
    public void ChunksConcatenateToTheInMemoryMatrix()
    {
        using var dir = new TempFolder();
        string path = WriteSet(dir, out var expected);
        var stream = DatasetRowStream.Open(path, new DatasetReadOptions { BlockSize = 8192, Threads = 2 });
        Assert.Equal(expected.RowCount, stream.RowCount);
        Assert.Equal(expected.FeatureCount, stream.FeatureCount);

        var features = new float[expected.Features.Length];
        int nextRow = 0, chunks = 0;
        var rows = stream.ReadChunks((first, count, chunk) =>
        {
            Assert.Equal(nextRow, first);
            Assert.Equal((long)count * stream.FeatureCount, chunk.Length);
            chunk.CopyTo(features.AsSpan(first * stream.FeatureCount));
            nextRow += count;
            chunks++;
        });
        Assert.True(chunks > 3, $"{chunks} chunks");
        Assert.Equal(expected.RowCount, nextRow);
        Assert.Equal(expected.Features, features);
        Assert.Equal(0, rows.FeatureCount);
        Assert.Equal(expected.Labels, rows.Labels);
        Assert.Equal(expected.GroupOffsets, rows.GroupOffsets);
        Assert.Equal(expected.QueryIds, rows.QueryIds);
    }

    [Fact]
    public void SamplesAreWholeRowsInFileOrder()
    {
        using var dir = new TempFolder();
        string path = WriteSet(dir, out var expected);
        var stream = DatasetRowStream.Open(path, new DatasetReadOptions { BlockSize = 8192 });
        int f = stream.FeatureCount;

        var all = stream.Sample(expected.RowCount, seed: 1);
        Assert.Equal(Enumerable.Range(0, expected.RowCount), all.RowIndices);
        Assert.Equal(expected.Features, all.Features);

        var part = stream.Sample(200, seed: 1);
        Assert.InRange(part.RowCount, 200, expected.RowCount - 1);
        Assert.Equal(part.RowIndices.Order(), part.RowIndices);
        for (int i = 0; i < part.RowCount; i++)
            Assert.Equal(expected.Row(part.RowIndices[i]).ToArray(), part.Features.AsSpan(i * f, f).ToArray());
        Assert.Equal(part.RowIndices, stream.Sample(200, seed: 1).RowIndices); // seeded
    }

    [Fact]
    public void ABadLineStopsTheStreamWithFileAndLine()
    {
        using var dir = new TempFolder();
        var lines = Enumerable.Range(0, 400).Select(i => $"{i % 3} qid:{i / 20 + 1} 1:{i}.5 2:{i % 7} 3:0.25").ToList();
        lines[300] = "1 qid:16 1:0.5 2:oops 3:1";
        string path = dir.Write("bad.txt", string.Join("\n", lines) + "\n");
        var stream = DatasetRowStream.Open(path, new DatasetReadOptions { BlockSize = 1024 });
        var ex = Assert.Throws<RankingDataException>(() => stream.ReadChunks((_, _, _) => { }));
        Assert.Contains("bad.txt:301:", ex.Message);
        Assert.Contains("oops", ex.Message);

        string gap = dir.Write("gap.txt", "1 qid:1 1:1\n0 qid:2 1:2\n1 qid:1 1:3\n");
        var structural = Assert.Throws<RankingDataException>(() => DatasetRowStream.Open(gap).ReadChunks((_, _, _) => { }));
        Assert.Contains("reappears", structural.Message);
        Assert.Throws<RankingDataException>(() => DatasetRowStream.Open(gap, new DatasetReadOptions { Regroup = true }));
        string csv = dir.Write("set.csv", "label,qid,f1\n1,1,0.5\n");
        Assert.Throws<RankingDataException>(() => DatasetRowStream.Open(csv));
    }
}
