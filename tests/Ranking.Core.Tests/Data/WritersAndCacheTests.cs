using System.Buffers.Binary;
using Ranking.Data;

namespace Ranking.Core.Tests.Data;

public class WritersAndCacheTests
{
    private static RankingDataset Sample() => new(
        features: [0.1f, -0f, float.Epsilon, 3.4028235e38f, 1e-7f, 16777217f, -2.5f, 0f, 7f],
        featureCount: 3,
        labels: [2, 0, 1],
        groupOffsets: [0, 2, 3],
        queryIds: [100, -5],
        rowComments: ["docid = A, \"quoted\"", null, "x\ty"]);

    private static void AssertSame(RankingDataset expected, RankingDataset actual, bool comments = true)
    {
        Assert.Equal(expected.FeatureCount, actual.FeatureCount);
        Assert.Equal(expected.Features.Select(BitConverter.SingleToUInt32Bits), actual.Features.Select(BitConverter.SingleToUInt32Bits));
        Assert.Equal(expected.Labels, actual.Labels);
        Assert.Equal(expected.GroupOffsets, actual.GroupOffsets);
        Assert.Equal(expected.QueryIds, actual.QueryIds);
        if (comments) Assert.Equal(expected.RowComments?.AsEnumerable(), actual.RowComments?.AsEnumerable());
    }

    [Theory]
    [InlineData("out.txt")]
    [InlineData("out.csv")]
    [InlineData("out.tsv")]
    [InlineData("out.rkds")]
    public void EveryFormatRoundTripsExactly(string name)
    {
        using var tmp = new TempFolder();
        string path = tmp.File(name);
        DatasetWriter.Write(Sample(), path);
        AssertSame(Sample(), DatasetReader.Read(path));
    }

    [Fact]
    public void SparseSvmLightLeavesOutPositiveZerosOnly()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("s.txt");
        DatasetWriter.WriteSvmLight(Sample(), path, sparse: true);
        string text = File.ReadAllText(path);
        Assert.StartsWith("2 qid:100 1:0.1 2:-0 3:1E-45 # docid = A", text);
        Assert.Contains("\n1 qid:-5 1:-2.5 3:7 # x\ty\n", text);
        AssertSame(Sample(), DatasetReader.Read(path, new DatasetReadOptions { FeatureCount = 3 }));
    }

    [Fact]
    public void SyntheticTextRkdsCsvTextGivesTheSameDataset()
    {
        using var tmp = new TempFolder();
        var data = SyntheticGenerator.Generate(new SyntheticOptions { Preset = "mslr-like", Queries = 30, Seed = 4 }).Data;
        string text = tmp.File("a.txt"), cache = tmp.File("a.rkds"), csv = tmp.File("a.csv"), back = tmp.File("b.txt");
        DatasetWriter.WriteSvmLight(data, text);
        var fromText = DatasetReader.Read(text);
        AssertSame(data, fromText);
        RkdsFile.Write(fromText, cache);
        DatasetWriter.WriteCsv(DatasetReader.Read(cache), csv);
        DatasetWriter.WriteSvmLight(DatasetReader.Read(csv), back);
        Assert.Equal(File.ReadAllBytes(text), File.ReadAllBytes(back));
    }

    [SkippableFact]
    public void Mq2008RoundTripsThroughRkdsAndCsv()
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        using var tmp = new TempFolder();
        var data = DatasetReader.Read(SharedData.Path("mq2008", "Fold1", "vali.txt"));
        RkdsFile.Write(data, tmp.File("v.rkds"));
        AssertSame(data, DatasetReader.Read(tmp.File("v.rkds")));
        DatasetWriter.WriteCsv(data, tmp.File("v.csv"));
        AssertSame(data, DatasetReader.Read(tmp.File("v.csv")));
        DatasetWriter.WriteSvmLight(data, tmp.File("v.txt"));
        AssertSame(data, DatasetReader.Read(tmp.File("v.txt")));
    }

    [Fact]
    public void RkdsKeepsQueryWeights()
    {
        using var tmp = new TempFolder();
        var data = new RankingDataset([1, 2, 3], 1, [0, 1, 2], [0, 1, 3], [4, 5], [0.5f, 2f]);
        RkdsFile.Write(data, tmp.File("w.rkds"));
        Assert.Equal([0.5f, 2f], RkdsFile.Read(tmp.File("w.rkds")).QueryWeights!);
    }

    [Fact]
    public void RkdsCorruptionTruncationVersionAndMagicAreNamedWithAByteOffset()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("c.rkds");
        RkdsFile.Write(Sample(), path);
        byte[] good = File.ReadAllBytes(path);

        byte[] flipped = (byte[])good.Clone();
        flipped[60] ^= 0x40;
        var ex = Assert.Throws<RankingDataException>(() => RkdsFile.Read(tmp.WriteBytes("flip.rkds", flipped)));
        Assert.Matches(@"flip\.rkds: byte \d+: checksum mismatch", ex.Message);

        ex = Assert.Throws<RankingDataException>(() => RkdsFile.Read(tmp.WriteBytes("short.rkds", good[..^20])));
        Assert.Contains($"short.rkds: byte {good.Length - 20}: truncated: the header promises {good.Length} bytes", ex.Message);

        byte[] version = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(version.AsSpan(8), 7);
        ex = Assert.Throws<RankingDataException>(() => RkdsFile.Read(tmp.WriteBytes("v7.rkds", version)));
        Assert.Contains("v7.rkds: byte 8: format version 7 is not supported", ex.Message);

        ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(tmp.Write("text.rkds", "1 qid:1 1:1\n")));
        Assert.Contains("text.rkds: byte 0: not a .rkds file", ex.Message);

        ex = Assert.Throws<RankingDataException>(() => RkdsFile.Read(tmp.WriteBytes("hdr.rkds", good[..20])));
        Assert.Contains("hdr.rkds: byte 20: truncated", ex.Message);
    }

    [Fact]
    public void RkdsWithAFixedFeatureCountPadsOrRefuses()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("f.rkds");
        RkdsFile.Write(Sample(), path);
        Assert.Equal(5, DatasetReader.Read(path, new DatasetReadOptions { FeatureCount = 5 }).FeatureCount);
        Assert.Throws<RankingDataException>(() => DatasetReader.Read(path, new DatasetReadOptions { FeatureCount = 2 }));
        Assert.Equal([0.1f, -0f, 3.4028235e38f, 1e-7f, -2.5f, 0f], DatasetReader.Read(path, new DatasetReadOptions { FeatureCount = 2, DropExtraFeatures = true }).Features);
    }

    [Fact]
    public void CsvHeaderNamesColumnsInAnyOrderAndQuotesAreHonoured()
    {
        using var tmp = new TempFolder();
        string path = tmp.Write("h.csv", "\uFEFFbm25, Query ,relevance,comment,tf\r\n1.5,7,2,\"a, \"\"b\"\"\",3\r\n,7,0,,4\n");
        var ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(path));
        Assert.StartsWith($"{path}:3:1: empty (missing) value in column 'bm25'", ex.Message);
        var data = DatasetReader.Read(path, new DatasetReadOptions { AllowNaN = true });
        Assert.Equal(2, data.FeatureCount);
        Assert.Equal([2f, 0f], data.Labels);
        Assert.Equal([7L], data.QueryIds);
        Assert.Equal(1.5f, data.Features[0]);
        Assert.True(float.IsNaN(data.Features[2]));
        Assert.Equal("a, \"b\"", data.RowComments![0]);
        Assert.Null(data.RowComments[1]);
    }

    [Theory]
    [InlineData("label,qid,f1\n1,1,x\n", "3:5: bad number 'x' in column 'f1'")]
    [InlineData("label,qid,f1\n1,1\n", "2:1: 2 fields, but the header (line 1) names 3")]
    [InlineData("label,f1\n1,1\n", "1:1: no query column in the header")]
    [InlineData("qid,f1\n1,1\n", "1:1: no label column in the header")]
    [InlineData("label,qid,f1\nbad,1,1\n", "2:1: bad label 'bad'")]
    [InlineData("label,qid,f1\n1,q,1\n", "2:3: bad query id 'q'")]
    [InlineData("label,qid,f1\n1,1,\"open\n", "2:5: unterminated quoted field")]
    [InlineData("label,qid,f1\n1,1,1\n1,2,1\n1,1,1\n", "4: qid 1 reappears after other qids")]
    [InlineData("label,qid,f1\n", "1: no data rows after the header")]
    [InlineData("", "1: empty file")]
    [InlineData("label,qid,f1\n1,1,inf\n", "2:5: infinite value in column 'f1'")]
    public void CsvBadInputNamesFileLineColumn(string text, string expected)
    {
        using var tmp = new TempFolder();
        string path = tmp.Write("bad.csv", text.Replace("\n1,1,x", "\n1,1,1\n1,1,x"));
        var ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(path));
        Assert.StartsWith(path + ":" + expected, ex.Message);
    }

    [Fact]
    public void CsvRegroupAndFixedFeatureCount()
    {
        using var tmp = new TempFolder();
        string path = tmp.Write("r.csv", "label,qid,a,b\n1,9,1,2\n2,3,3,4\n3,9,5,6\n");
        var data = DatasetReader.Read(path, new DatasetReadOptions { Regroup = true, FeatureCount = 3 });
        Assert.Equal([3L, 9L], data.QueryIds);
        Assert.Equal([2f, 1f, 3f], data.Labels);
        Assert.Equal([3f, 4f, 0f, 1f, 2f, 0f, 5f, 6f, 0f], data.Features);
        Assert.Throws<RankingDataException>(() => DatasetReader.Read(path, new DatasetReadOptions { Regroup = true, FeatureCount = 1 }));
    }
}
