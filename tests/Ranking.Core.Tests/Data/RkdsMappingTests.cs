using Ranking.Data;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.Core.Tests.Data;

/// <summary>
/// A <c>.rkds</c> set loaded with <see cref="RkdsFile.Map"/> (what <see cref="DatasetReader.Read"/> does) reads
/// the same bits as one copied into arrays, scores and evaluates identically without copying its features,
/// refuses damaged files as <see cref="RkdsFile.Read"/> does, and lets go of the file when disposed.
/// </summary>
public class RkdsMappingTests
{
    private static readonly string Corpus = SharedData.RepositoryPath("tests", "corpus", "data");

    private static RankingDataset Synthetic(int queries = 40, int seed = 3)
    {
        var data = SyntheticGenerator.Generate(new SyntheticOptions { Preset = "mslr-like", Queries = queries, Seed = (ulong)seed }).Data;
        var weights = Enumerable.Range(0, data.QueryCount).Select(q => 0.5f + q % 3).ToArray();
        var comments = Enumerable.Range(0, data.RowCount).Select(r => r % 7 == 0 ? null : $"docid = {r}").ToArray();
        return new RankingDataset(data.Features, data.FeatureCount, data.Labels, data.GroupOffsets, data.QueryIds, weights, comments, "synthetic");
    }

    private static uint[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new uint[values.Length];
        for (int i = 0; i < values.Length; i++) bits[i] = BitConverter.SingleToUInt32Bits(values[i]);
        return bits;
    }

    [Fact]
    public void MappedSetReadsTheSameBitsAsTheCopiedOne()
    {
        using var tmp = new TempFolder();
        var data = Synthetic();
        string path = tmp.File("m.rkds");
        RkdsFile.Write(data, path);
        var copied = RkdsFile.Read(path);
        using var mapped = RkdsFile.Map(path);
        using var viaReader = DatasetReader.Read(path);

        Assert.False(copied.FeaturesMapped);
        Assert.True(mapped.FeaturesMapped);
        Assert.True(viaReader.FeaturesMapped);
        Assert.Equal(Bits(data.Features), Bits(mapped.FeatureSpan));
        Assert.Equal(data.Labels, mapped.Labels);
        Assert.Equal(data.GroupOffsets, mapped.GroupOffsets);
        Assert.Equal(data.QueryIds, mapped.QueryIds);
        Assert.Equal(data.QueryWeights, mapped.QueryWeights);
        Assert.Equal(data.RowComments!.AsEnumerable(), mapped.RowComments!.AsEnumerable());
        for (int r = 0; r < data.RowCount; r += 17) Assert.Equal(Bits(data.Row(r)), Bits(mapped.Row(r)));
        for (int q = 0; q < data.QueryCount; q++)
        {
            Assert.Equal(Bits(data.Query(q).Features), Bits(mapped.Query(q).Features));
            Assert.Equal(Bits(data.Query(q).Row(data.QueryLength(q) - 1)), Bits(mapped.Query(q).Row(mapped.QueryLength(q) - 1)));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => mapped.Row(mapped.RowCount));
        var fold = mapped.Materialize([5, 1, 30]);
        Assert.False(fold.FeaturesMapped);
        Assert.Equal(Bits(data.Materialize([5, 1, 30]).Features), Bits(fold.Features));
        // A mapped set written again is the same file.
        RkdsFile.Write(mapped, tmp.File("again.rkds"));
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(tmp.File("again.rkds")));
        Assert.False(mapped.HasFeatureCopy);
    }

    [Fact]
    public void EvaluationAndPredictionOnAMappedSetEqualTheArraySetAndCopyNothing()
    {
        using var tmp = new TempFolder();
        var data = Synthetic(30, 5);
        string path = tmp.File("p.rkds");
        RkdsFile.Write(data, path);
        var copied = RkdsFile.Read(path);
        using var mapped = RkdsFile.Map(path);

        var catalog = new RankerCatalog();
        CoreRankers.Register(catalog);
        var options = new RankerOptions { Seed = 11, Threads = 1, Iterations = 3 };
        var metrics = MetricSpec.ParseList("ndcg@10,map");
        var (raw, _) = RankerTraining.Train(catalog.Get("listnet"), copied, null, options, "none", metrics, NdcgContract.Default);
        float[] expected = raw.Predict(copied);
        float[] actual = raw.Predict(mapped);
        Assert.Equal(Bits(expected), Bits(actual));
        Assert.Equal(RankingEvaluator.Evaluate(copied, expected, metrics, NdcgContract.Default).Means,
            RankingEvaluator.Evaluate(mapped, actual, metrics, NdcgContract.Default).Means);
        Assert.False(mapped.HasFeatureCopy);

        // A model behind a fitted pipeline transforms a copy, as it does for an array-backed set.
        var (normalised, _) = RankerTraining.Train(catalog.Get("listnet"), copied, null, options, "zscore", metrics, NdcgContract.Default);
        Assert.Equal(Bits(normalised.Predict(copied)), Bits(normalised.Predict(mapped)));
        Assert.False(mapped.HasFeatureCopy);

        // Training on the mapped set (the MLP/linear trainers take the managed copy) gives the same model.
        var (fromMapped, _) = RankerTraining.Train(catalog.Get("listnet"), mapped, null, options, "none", metrics, NdcgContract.Default);
        Assert.Equal(Bits(expected), Bits(fromMapped.Predict(copied)));
    }

    [Fact]
    public void FeaturesOfAMappedSetIsOneManagedCopy()
    {
        using var tmp = new TempFolder();
        var data = Synthetic(10, 1);
        string path = tmp.File("c.rkds");
        RkdsFile.Write(data, path);
        using var mapped = RkdsFile.Map(path);
        float[] copy = mapped.Features;
        Assert.True(mapped.HasFeatureCopy);
        Assert.Same(copy, mapped.Features);
        Assert.Equal(Bits(data.Features), Bits(copy));
        var relabelled = mapped.WithLabels(data.Labels.Select(l => 4 - l).ToArray());
        Assert.True(relabelled.FeaturesMapped);
        Assert.Equal(Bits(data.Features), Bits(relabelled.FeatureSpan));
        relabelled.Dispose(); // shares the mapping, does not own it
        Assert.Equal(Bits(data.Row(3)), Bits(mapped.Row(3)));
    }

    [Fact]
    public void AVersionOneFileFromAnEarlierBuildMapsAsItIs()
    {
        string path = Path.Combine(Corpus, "good", "cache.rkds");
        var copied = RkdsFile.Read(path);
        using var mapped = RkdsFile.Map(path);
        Assert.True(mapped.FeaturesMapped);
        Assert.True(copied.RowCount > 0 && copied.FeatureCount > 0);
        Assert.Equal(Bits(copied.Features), Bits(mapped.FeatureSpan));
        Assert.Equal(copied.Labels, mapped.Labels);
        Assert.Equal(copied.GroupOffsets, mapped.GroupOffsets);
    }

    [Theory]
    [InlineData("rkds-checksum-mismatch.rkds")]
    [InlineData("rkds-header-only.rkds")]
    [InlineData("rkds-is-text.rkds")]
    [InlineData("rkds-trailing-garbage.rkds")]
    [InlineData("rkds-truncated.rkds")]
    [InlineData("rkds-wrong-version.rkds")]
    public void ADamagedFileIsRefusedWhenMappedAsWhenRead(string name)
    {
        string path = Path.Combine(Corpus, name);
        var read = Assert.Throws<RankingDataException>(() => RkdsFile.Read(path));
        var mapped = Assert.Throws<RankingDataException>(() => RkdsFile.Map(path));
        Assert.Equal(read.Message, mapped.Message);
        Assert.StartsWith(path + ": byte ", mapped.Message);
    }

    [Fact]
    public void AFlippedFeatureByteIsCaughtBeforeAnythingIsMapped()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("f.rkds");
        RkdsFile.Write(Synthetic(5, 2), path);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[48 + 1001] ^= 0x10; // inside the feature block, which Map never copies
        File.WriteAllBytes(path, bytes);
        var ex = Assert.Throws<RankingDataException>(() => RkdsFile.Map(path));
        Assert.Matches(@"f\.rkds: byte \d+: checksum mismatch", ex.Message);
        Assert.False(IsMapped(path));
        File.Delete(path); // nothing holds it
    }

    [Fact]
    public void DisposeReleasesTheMapping()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("d.rkds");
        var first = Synthetic(6, 1);
        RkdsFile.Write(first, path);
        var mapped = RkdsFile.Map(path);
        var row = Bits(mapped.Row(2));
        if (OperatingSystem.IsLinux()) Assert.True(IsMapped(path));
        mapped.Dispose();
        mapped.Dispose(); // twice is harmless
        Assert.False(IsMapped(path));
        Assert.Throws<ObjectDisposedException>(() => mapped.Row(2).Length);
        Assert.Throws<ObjectDisposedException>(() => mapped.FeatureSpan.Length);
        Assert.Equal(Bits(first.Row(2)), row);

        // Overwrite in place (not through a rename) and delete: both need the file let go on every system.
        var second = Synthetic(6, 9);
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None)) stream.SetLength(0);
        RkdsFile.Write(second, path);
        using (var again = RkdsFile.Map(path)) Assert.Equal(Bits(second.Row(2)), Bits(again.Row(2)));
        File.Delete(path);
        Assert.False(File.Exists(path));
    }

    /// <summary>Whether this process maps the file (Linux: /proc/self/maps; elsewhere false, and the delete checks stand).</summary>
    private static bool IsMapped(string path)
    {
        if (!OperatingSystem.IsLinux()) return false;
        string full = Path.GetFullPath(path);
        return File.ReadLines("/proc/self/maps").Any(line => line.EndsWith(full, StringComparison.Ordinal));
    }
    [Fact]
    public void A_mapped_set_past_two_to_the_31_values_reads_by_row_and_refuses_a_whole_span_with_a_clear_message()
    {
        using var tmp = new TempFolder();
        string path = tmp.File("huge.bin");
        const int features = 1024, rows = 2_097_153; // 2^31 + 1,024 values, 8 GiB: a sparse file, no disk is written
        long values = (long)rows * features;
        using (var sparse = new FileStream(path, FileMode.CreateNew)) sparse.SetLength(values * sizeof(float));
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var set = new RankingDataset(new FeatureMapping(stream, 0, values), ownsMapping: true, features, new float[rows], [0, rows],
            null, null, null, "huge.rkds", null);

        Assert.Equal(features, set.Row(rows - 1).Length);
        Assert.Equal(0f, set.Row(rows - 1)[features - 1]);
        var ex = Assert.Throws<InvalidOperationException>(() => set.FeatureSpan.Length);
        Assert.Contains("huge.rkds", ex.Message);
        Assert.Contains("2,147,484,672 feature values", ex.Message);
        Assert.Contains("read it by row or query", ex.Message);
        Assert.Throws<InvalidOperationException>(() => set.Features);
    }
}
