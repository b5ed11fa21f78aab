using System.Text;
using Ranking.Data;

namespace Ranking.Core.Tests.Data;

public class SvmLightReaderTests
{
    [Fact]
    public void ReadsLetorLinesWithQidsCommentsAndSparseIndices()
    {
        using var tmp = new TempFolder();
        string path = tmp.Write("a.txt",
            "# a header comment\n" +
            "2 qid:7 1:0.5 3:-1.25 # docid = A\n" +
            "\n" +
            "0 qid:7 2:3e2\n" +
            "1 qid:3 1:1 2:2 3:3\n");
        var data = DatasetReader.Read(path);
        Assert.Equal(3, data.RowCount);
        Assert.Equal(3, data.FeatureCount);
        Assert.Equal([0, 2, 3], data.GroupOffsets);
        Assert.Equal([7L, 3L], data.QueryIds);
        Assert.Equal([2f, 0f, 1f], data.Labels);
        Assert.Equal([0.5f, 0f, -1.25f, 0f, 300f, 0f, 1f, 2f, 3f], data.Features);
        Assert.Equal(new string?[] { "docid = A", null, null }, data.RowComments!.AsEnumerable());
        Assert.Equal(path, data.Source);
    }

    [Fact]
    public void AcceptsCrlfBomTabsAndTrailingSpacesAndNoFinalNewline()
    {
        using var tmp = new TempFolder();
        byte[] bom = [0xEF, 0xBB, 0xBF];
        string path = tmp.WriteBytes("b.txt", [.. bom, .. Encoding.UTF8.GetBytes("1\tqid:1\t1:2  \r\n  0 qid:1 2:4\t \r\n3 qid:2 1:1")]);
        var data = DatasetReader.Read(path);
        Assert.Equal([1f, 0f, 3f], data.Labels);
        Assert.Equal([2f, 0f, 0f, 4f, 1f, 0f], data.Features);
        Assert.Equal([1L, 2L], data.QueryIds);
        Assert.Null(data.RowComments);
    }

    [Fact]
    public void ParsesFloatsExactlyLikeFloatParse()
    {
        string[] samples = ["0.1", "3.4028235e38", "1e-45", "1.17549435e-38", "-0", "16777217", "0.30000001192092896",
            "123456789012345678901234567890", "2.5e-3", "7.006492321624085e-46", "1.00000005960464477539062", "0.000001", "9.99999999999999999999",
            "0.00000000000000000000123", "-00000000000000000000001.5", "1E5", "+2.5", "12.", ".25", "1234567890123456789", "-0.0e-0"];
        var random = new Random(5);
        var all = samples.Concat(Enumerable.Range(0, 20000).Select(i =>
            i % 3 == 0 ? (random.NextDouble() * 1000).ToString("F" + (i % 9), System.Globalization.CultureInfo.InvariantCulture)
            : i % 3 == 1 ? ((float)(random.NextDouble() * 2 - 1)).ToString("R", System.Globalization.CultureInfo.InvariantCulture)
            : (random.NextDouble() * Math.Pow(10, random.Next(-30, 30))).ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
        foreach (string s in all)
        {
            Assert.True(Utf8Number.TryParseFloat(Encoding.ASCII.GetBytes(s), out float parsed), s);
            float expected = float.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(parsed), $"{s}: {expected:R} vs {parsed:R}");
        }
        foreach (string bad in new[] { "", "-", ".", "1e", "1.2.3", "abc", "1,5", "0x10" })
            Assert.False(Utf8Number.TryParseFloat(Encoding.ASCII.GetBytes(bad), out _), bad);
    }

    [Fact]
    public void ScanFloatReadsTheNumberBeforeADelimiterOrLeavesItToTheCarefulPath()
    {
        // The reader's one-pass fast path: the number at the start of the bytes, how many bytes it took.
        var random = new Random(11);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        int fast = 0, total = 0;
        foreach (string number in Enumerable.Range(0, 5000).Select(i => i % 2 == 0
            ? (random.NextDouble() * 2000 - 1000).ToString("F" + (i % 7), inv)
            : ((float)(random.NextDouble() * Math.Pow(10, random.Next(-12, 12)))).ToString("R", inv)))
            foreach (string tail in new[] { "", " 7:1", "\t", ":", "x" })
            {
                total++;
                int taken = Utf8Number.ScanFloat(Encoding.ASCII.GetBytes(number + tail), out float value);
                if (taken < 0) continue; // the careful path decides; TryParseFloat is checked above
                fast++;
                Assert.Equal(number.Length, taken);
                float expected = float.Parse(number, inv);
                Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(value), $"{number}: {expected:R} vs {value:R}");
            }
        // Short decimals, what real files hold, must take the fast path (else the reader is slow but right).
        Assert.True(fast > total * 9 / 10, $"{fast} of {total} took the fast path");
        foreach (string careful in new[] { "", "-", ".", "1e", "1e+", "12345678901234567890", "0.00000000000000000001", "1e23", "nan" })
            Assert.Equal(-1, Utf8Number.ScanFloat(Encoding.ASCII.GetBytes(careful), out _));
        Assert.Equal(4, Utf8Number.ScanFloat("-1.5e3"u8[..4], out float cut));
        Assert.Equal(-1.5f, cut);
    }

    [Fact]
    public void FixedFeatureCountPadsMissingColumnsAndRejectsOrDropsExtraOnes()
    {
        using var tmp = new TempFolder();
        string path = tmp.Write("t.txt", "1 qid:1 1:1 2:2\n0 qid:1 5:9\n");
        var padded = DatasetReader.Read(path, new DatasetReadOptions { FeatureCount = 8 });
        Assert.Equal(8, padded.FeatureCount);
        Assert.Equal(9f, padded.Row(1)[4]);

        var ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(path, new DatasetReadOptions { FeatureCount = 3 }));
        Assert.StartsWith($"{path}:2:9: feature index 5 is beyond the feature count 3", ex.Message);

        var dropped = DatasetReader.Read(path, new DatasetReadOptions { FeatureCount = 3, DropExtraFeatures = true });
        Assert.Equal([1f, 2f, 0f, 0f, 0f, 0f], dropped.Features);
    }

    [Fact]
    public void LightGbmStyleTakesGroupSizesFromTheQueryFile()
    {
        using var tmp = new TempFolder();
        string path = tmp.Write("rank.train", "1 1:1\n0 2:1\n2 1:3\n");
        tmp.Write("rank.train.query", "2\n1\n");
        var data = DatasetReader.Read(path);
        Assert.Equal(DatasetFormat.LightGbm, DatasetReader.DetectFormat(path));
        Assert.Equal([0, 2, 3], data.GroupOffsets);
        Assert.Equal([0L, 1L], data.QueryIds);
    }

    [Fact]
    public void RegroupSortsRowsStablyByQid()
    {
        using var tmp = new TempFolder();
        string path = tmp.Write("r.txt", "1 qid:5 1:1\n2 qid:2 1:2\n3 qid:5 1:3\n4 qid:2 1:4\n");
        var ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(path));
        Assert.StartsWith($"{path}:3:3: qid 5 reappears after other qids (first seen at line 1)", ex.Message);
        var data = DatasetReader.Read(path, new DatasetReadOptions { Regroup = true });
        Assert.Equal([2L, 5L], data.QueryIds);
        Assert.Equal([2f, 4f, 1f, 3f], data.Labels);
        Assert.Equal([2f, 4f, 1f, 3f], data.Features);
    }

    [Fact]
    public void NaNIsRejectedUnlessAllowedAndInfinityAlways()
    {
        using var tmp = new TempFolder();
        string path = tmp.Write("n.txt", "1 qid:1 1:nan 2:1\n");
        Assert.Contains(":1:11: NaN value for feature 1", Assert.Throws<RankingDataException>(() => DatasetReader.Read(path)).Message);
        var data = DatasetReader.Read(path, new DatasetReadOptions { AllowNaN = true });
        Assert.True(float.IsNaN(data.Features[0]));
        string inf = tmp.Write("i.txt", "1 qid:1 1:-inf\n");
        Assert.Contains(":1:11: infinite value", Assert.Throws<RankingDataException>(() => DatasetReader.Read(inf, new DatasetReadOptions { AllowNaN = true })).Message);
    }

    [Theory]
    [InlineData("1 qid:1 1:1\n1 qid:1 2:x\n", "2:11: bad number 'x' for feature 2")]
    [InlineData("1 qid:1 1:1\n1 2:1\n", "2:3: qid: missing here but present from line 1 on")]
    [InlineData("1 1:1\n1 qid:2 2:1\n", "2:3: qid: present here but missing in earlier lines")]
    [InlineData("1 qid:1 0:1\n", "1:9: feature index 0: indices are 1-based")]
    [InlineData("1 qid:1 2:1 2:3\n", "1:13: feature indices must ascend: 2 after 2")]
    [InlineData("1 qid:1 3:1 2:3\n", "1:13: feature indices must ascend: 2 after 3")]
    [InlineData("abc qid:1 1:1\n", "1:1: bad label 'abc'")]
    [InlineData("nan qid:1 1:1\n", "1:1: label nan is not a finite number")]
    [InlineData("1 qid:x 1:1\n", "1:7: bad query id 'x'")]
    [InlineData("1 qid: 1:1\n", "1:7: missing query id after 'qid:'")]
    [InlineData("1 qid:1 1:\n", "1:11: missing value after '1:'")]
    [InlineData("1 qid:1 1:2 3\n", "1:13: expected index:value, found '3'")]
    [InlineData("1 qid:1 a:2\n", "1:9: bad feature index 'a'")]
    [InlineData("1 1:2 qid:4\n", "1:7: qid: must come right after the label")]
    [InlineData("\n# only comments\n\n", "1: no data rows")]
    [InlineData("", "1: no data rows")]
    [InlineData("1 1:1\n", "1: no qid: on the rows and no x.txt.query file")]
    public void BadInputNamesFileLineColumn(string text, string expected)
    {
        using var tmp = new TempFolder();
        string path = tmp.Write("x.txt", text);
        var ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(path));
        Assert.StartsWith(path + ":" + expected, ex.Message);
    }

    [Theory]
    [InlineData("2\n2\n", "rank.train.query:2:1: group sizes reach 4 here but the data file has only 3 rows")]
    [InlineData("1\n1\n", "rank.train.query:2: group sizes sum to 2 but the data file has 3 rows")]
    [InlineData("1\nx\n", "rank.train.query:2:1: bad group size 'x'")]
    [InlineData("0\n3\n", "rank.train.query:1:1: group size 0")]
    public void BadQueryFileNamesItsLine(string query, string expected)
    {
        using var tmp = new TempFolder();
        string path = tmp.Write("rank.train", "1 1:1\n0 2:1\n2 1:3\n");
        tmp.Write("rank.train.query", query);
        var ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(path));
        Assert.StartsWith(tmp.File(expected), ex.Message);
    }

    [Fact]
    public void ValidateCollectsErrorsInFileOrderUpToTheLimit()
    {
        using var tmp = new TempFolder();
        var sb = new StringBuilder();
        for (int i = 0; i < 50; i++) sb.Append(i % 2 == 0 ? $"1 qid:{i} 1:x\n" : $"1 qid:{i} 1:1\n");
        string path = tmp.Write("v.txt", sb.ToString());
        var result = DatasetReader.Validate(path, new DatasetReadOptions { BlockSize = 64 });
        Assert.False(result.IsValid);
        Assert.Null(result.Data);
        Assert.Equal(20, result.Errors.Count);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => 2L * i + 1), result.Errors.Select(e => e.Line));
        Assert.True(DatasetReader.Validate(tmp.Write("ok.txt", "1 qid:1 1:1\n")).IsValid);
    }

    [Fact]
    public void ManyBlocksGiveTheSameDatasetAsOneThreadAndLineNumbersSpanBlocks()
    {
        using var tmp = new TempFolder();
        var sb = new StringBuilder();
        var random = new Random(1);
        int rows = 60000;
        for (int i = 0; i < rows; i++)
            sb.Append($"{random.Next(5)} qid:{i / 30} 1:{random.NextDouble():R} 3:{random.Next(100)} # row {i}\n");
        string path = tmp.Write("big.txt", sb.ToString());
        var parallel = DatasetReader.Read(path, new DatasetReadOptions { BlockSize = 4093 });
        var single = DatasetReader.Read(path, new DatasetReadOptions { Threads = 1 });
        Assert.Equal(rows, parallel.RowCount);
        Assert.Equal(2000, parallel.QueryCount);
        Assert.Equal(single.Features, parallel.Features);
        Assert.Equal(single.Labels, parallel.Labels);
        Assert.Equal("row 59999", parallel.RowComments![^1]);

        File.AppendAllText(path, "1 qid:9999 1:oops\n");
        var ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(path, new DatasetReadOptions { BlockSize = 4093 }));
        Assert.Equal($"{path}:{rows + 1}:14: bad number 'oops' for feature 1", ex.Message);
    }

    [Fact]
    public void MissingFileIsFileNotFound()
    {
        Assert.Throws<FileNotFoundException>(() => DatasetReader.Read("/no/such/file.txt"));
    }

    [SkippableFact]
    public void Mq2008Fold1TrainHasTheKnownCounts()
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        var data = DatasetReader.Read(SharedData.Path("mq2008", "Fold1", "train.txt"));
        Assert.Equal(9630, data.RowCount);
        Assert.Equal(471, data.QueryCount);
        Assert.Equal(46, data.FeatureCount);
        Assert.Equal(7820, data.Labels.Count(l => l == 0));
        Assert.Equal(1223, data.Labels.Count(l => l == 1));
        Assert.Equal(587, data.Labels.Count(l => l == 2));
        int empty = Enumerable.Range(0, data.QueryCount).Count(q => !data.Query(q).Labels.ToArray().Any(l => l > 0));
        Assert.Equal(132, empty);
        Assert.StartsWith("docid = GX008-86-4444840", data.RowComments![0]);
    }

    [SkippableFact]
    public void LightGbmExampleLoadsWithItsQueryFile()
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        var data = DatasetReader.Read(SharedData.Path("lightgbm-lambdarank", "rank.train"));
        Assert.Equal(3005, data.RowCount);
        Assert.Equal(201, data.QueryCount);
        Assert.Equal(300, data.FeatureCount);
        Assert.Equal([645, 1211, 858, 222, 69], Enumerable.Range(0, 5).Select(g => data.Labels.Count(l => l == g)));
        var test = DatasetReader.Read(SharedData.Path("lightgbm-lambdarank", "rank.test"), new DatasetReadOptions { FeatureCount = data.FeatureCount });
        Assert.Equal(768, test.RowCount);
        Assert.Equal(50, test.QueryCount);
    }
}
