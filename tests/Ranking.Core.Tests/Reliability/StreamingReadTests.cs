using System.Text;
using Ranking.Data;

namespace Ranking.Core.Tests.Reliability;

/// <summary>
/// The text reader streams: a generated file of ~60 MB is read with allocations far below
/// "the file as one string" (2 bytes per char, 120 MB); and <see cref="DatasetReadOptions.MaxMemoryBytes"/>
/// refuses before allocating.
/// </summary>
[Collection(AllocationMeasuringCollection.Name)]
public class StreamingReadTests : IDisposable
{
    private readonly string _dir = ReliabilityKit.TempDir();
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ALargeTextFileIsReadWithoutHoldingItAsAString()
    {
        string path = Path.Combine(_dir, "large.txt");
        const int rows = 200_000, features = 4;
        using (var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20))
        {
            var rng = new Random(1);
            for (int r = 0; r < rows; r++)
            {
                // long comments make the text much bigger than the dense matrix (LETOR doc ids)
                w.Write($"{r % 3} qid:{r / 50} 1:{rng.NextDouble():R} 2:{rng.NextDouble():R} 3:{rng.NextDouble():R} 4:{rng.NextDouble():R} # docid = {new string('x', 180)}\n");
            }
        }
        long fileBytes = new FileInfo(path).Length;
        Assert.True(fileBytes > 50_000_000, $"{fileBytes}");
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var set = DatasetReader.Read(path, new DatasetReadOptions { KeepComments = false, Threads = 2 });
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.Equal(rows, set.RowCount);
        Assert.Equal(features, set.FeatureCount);
        long dense = (long)rows * features * 4 + rows * 16;
        // a read into one string alone would allocate 2 x file bytes; the reader's share is 4 MiB blocks, parse buffers and the dense result
        Assert.True(allocated < fileBytes, $"allocated {allocated / 1e6:F1} MB for a {fileBytes / 1e6:F1} MB file (dense {dense / 1e6:F1} MB)");
    }

    [Fact]
    public void MaxMemoryRefusesBeforeAllocatingTheDenseMatrix()
    {
        string path = Path.Combine(_dir, "wide.txt");
        File.WriteAllText(path, "1 qid:1 1:1 1000000000:1\n0 qid:1 1:0\n");
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var ex = Assert.Throws<RankingDataException>(() => DatasetReader.Read(path, new DatasetReadOptions { MaxMemoryBytes = 64 << 20 }));
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 << 20);
        Assert.Contains("wide.txt", ex.Message);
        Assert.Contains("--max-memory", ex.Message);
        // two rows x 2.1e9 features never fit one array: refused with or without a budget
        File.WriteAllText(path, "1 qid:1 2100000000:1\n0 qid:1 1:0\n");
        Assert.Throws<RankingDataException>(() => DatasetReader.Read(path));

        string csv = Path.Combine(_dir, "small.csv");
        File.WriteAllText(csv, "label,qid,f1,f2\n1,1,0.5,1\n0,1,0.1,0\n");
        Assert.Throws<RankingDataException>(() => DatasetReader.Read(csv, new DatasetReadOptions { MaxMemoryBytes = 10 }));
        string rkds = Path.Combine(_dir, "small.rkds");
        RkdsFile.Write(DatasetReader.Read(csv), rkds);
        var cached = Assert.Throws<RankingDataException>(() => DatasetReader.Read(rkds, new DatasetReadOptions { MaxMemoryBytes = 10 }));
        Assert.Contains("small.rkds", cached.Message);
        Assert.Equal(2, DatasetReader.Read(rkds, new DatasetReadOptions { MaxMemoryBytes = 1 << 20 }).RowCount);
    }

    [Theory]
    [InlineData("512M", 512L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("1.5GB", 3L << 29)]
    [InlineData("100000", 100000)]
    [InlineData("64k", 64 << 10)]
    public void MemorySizesParse(string text, long bytes) => Assert.Equal(bytes, MemoryBudget.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("-1M")]
    [InlineData("lots")]
    [InlineData("NaN")]
    public void BadMemorySizesAreFormatErrors(string text) => Assert.Throws<FormatException>(() => MemoryBudget.Parse(text));
}
