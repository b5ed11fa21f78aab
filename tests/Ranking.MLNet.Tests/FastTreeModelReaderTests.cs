using System.Buffers.Binary;
using System.IO.Compression;
using Ranking.Data;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.MLNet.Tests;

/// <summary>
/// Our reader of ML.NET's FastTree model zip (<see cref="FastTreeModelReader"/>): it gives exactly the trees ML.NET's
/// own loader gives, and a count that points past the end of the data, which makes ML.NET's loader loop forever, is a
/// clear error at once.
/// </summary>
public class FastTreeModelReaderTests
{
    private static readonly RankingDataset Train = TestData.Synthetic(queries: 120, features: 6, seed: 31);
    private static readonly RankingDataset Valid = TestData.Synthetic(queries: 40, features: 6, seed: 32);

    private static readonly Lazy<FastTreeModel> Trained = new(() =>
    {
        var options = new RankerOptions { Seed = 3, Threads = 1 };
        options.Parameters["trees"] = "12";
        options.Parameters["leaves"] = "8";
        options.Parameters["min-data"] = "5";
        return (FastTreeModel)new FastTreeRankerTrainer(options).Train(new TrainingRequest { Train = Train, Options = options }).Model;
    });

    private static byte[] Zip => Trained.Value.SavePayload()[FastTreeModel.PayloadEntry];

    [Fact]
    public void Reads_the_same_trees_and_scores_as_MLNets_loader()
    {
        var loaded = FastTreeModel.FromZip(Zip);
        Assert.Equal(6, loaded.FeatureCount);
        Assert.Equal(12, loaded.TreeCount);
        // ML.NET's loader, run on request over the same (trusted) bytes, gives the same trees ...
        var theirs = loaded.Parameters.TrainedTreeEnsemble;
        var ours = loaded.Ensemble.ToTreeEnsemble();
        Assert.Equal(theirs.Bias, ours.BaseScore);
        Assert.Equal(theirs.Trees.Count, ours.Trees.Count);
        for (int t = 0; t < ours.Trees.Count; t++)
        {
            var tree = theirs.Trees[t];
            var splits = ours.Trees[t].Splits;
            Assert.Equal(tree.NumericalSplitFeatureIndexes.ToArray(), splits.Select(s => s.Feature).ToArray());
            Assert.Equal(tree.NumericalSplitThresholds.ToArray().Select(v => (double)v), splits.Select(s => s.Threshold));
            Assert.Equal(tree.LeftChild.ToArray(), splits.Select(s => s.Left).ToArray());
            Assert.Equal(tree.RightChild.ToArray(), splits.Select(s => s.Right).ToArray());
            Assert.Equal(tree.LeafValues.ToArray().Select(v => v * theirs.TreeWeights[t]), ours.Trees[t].Leaves);
        }
        // ... and the scores equal ML.NET's own transformer's and the freshly trained model's.
        Assert.Equal(loaded.PredictWithMLNet(Valid.Features, Valid.RowCount), TestData.Predict(loaded, Valid));
        Assert.Equal(TestData.Predict(Trained.Value, Valid), TestData.Predict(loaded, Valid));
    }

    /// <summary>The predictor entry's bytes and the offset of tree 0's leaf-value array length (found by walking the format).</summary>
    private static (List<(string Name, byte[] Bytes)> Entries, int LeafLengthAt) PredictorWithLeafLength()
    {
        var entries = BoundedZip.ReadAll(new MemoryStream(Zip), ModelReadLimits.Default).ToList();
        var bytes = entries.Single(e => e.Name == FastTreeModelReader.PredictorEntry).Bytes;
        int at = 0x100 + 4 + 4; // header, sizeof(float), tree count
        at += 1 + 4 + 8 + 8; // type, leaves, max output, weight
        for (int array = 0; array < 4; array++) at += 4 + 4 * BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at)); // lte, gt, features, categorical nodes
        for (int array = 0; array < 3; array++) at += 4 + 4 * BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at)); // bins, thresholds, defaults
        Assert.Equal(8, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at))); // tree 0's 8 leaf values
        return (entries, at);
    }

    private static byte[] Rezip(IEnumerable<(string Name, byte[] Bytes)> entries)
    {
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in entries)
            {
                using var to = zip.CreateEntry(name).Open();
                to.Write(bytes);
            }
        return output.ToArray();
    }

    [Theory]
    [InlineData(1 << 24)] // the fuzzer's hang: ML.NET allocates 128 MB and waits forever for bytes that are not there
    [InlineData(int.MaxValue)]
    [InlineData(-1)]
    [InlineData(9)] // one more than the tree has: lengths disagree
    public void A_leaf_count_past_the_data_is_a_clear_error_not_a_hang(int declared)
    {
        var (entries, at) = PredictorWithLeafLength();
        var bytes = entries.Single(e => e.Name == FastTreeModelReader.PredictorEntry).Bytes;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), declared);
        var e = Assert.Throws<InvalidDataException>(() => FastTreeModel.FromZip(Rezip(entries)));
        Assert.Contains(FastTreeModelReader.PredictorEntry, e.Message);
        // A length past the data is refused as it is read; one that fits misaligns what follows, refused further on.
        if (declared != 9) Assert.Contains($"tree 0's leaf values declares {declared} values", e.Message);
    }

    [Fact]
    public void Header_tail_trees_and_entries_are_checked()
    {
        InvalidDataException Edited(Action<byte[]> edit, string entry = FastTreeModelReader.PredictorEntry)
        {
            var entries = BoundedZip.ReadAll(new MemoryStream(Zip), ModelReadLimits.Default).ToList();
            edit(entries.Single(e => e.Name == entry).Bytes);
            return Assert.Throws<InvalidDataException>(() => FastTreeModel.FromZip(Rezip(entries)));
        }
        Assert.Contains("signature", Edited(b => b[0] ^= 1).Message);
        Assert.Contains("tail signature", Edited(b => b[^1] ^= 1).Message);
        Assert.Contains("block positions", Edited(b => BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(0x18), 1L << 40)).Message);
        Assert.Contains("declares 1073741824 trees", Edited(b => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(0x104), 1 << 30)).Message);
        Assert.Contains("type 2", Edited(b => b[0x108] = 2).Message);
        Assert.Contains("not a ranking prediction transformer", Edited(b => b[0x50] ^= 1, FastTreeModelReader.TransformerEntry).Message);

        var entries = BoundedZip.ReadAll(new MemoryStream(Zip), ModelReadLimits.Default).Where(e => e.Name != FastTreeModelReader.PredictorEntry);
        Assert.Contains("has no entry", Assert.Throws<InvalidDataException>(() => FastTreeModel.FromZip(Rezip(entries))).Message);
    }

    [Fact]
    public void Through_the_model_file_a_crafted_payload_is_a_data_error()
    {
        var (entries, at) = PredictorWithLeafLength();
        BinaryPrimitives.WriteInt32LittleEndian(entries.Single(e => e.Name == FastTreeModelReader.PredictorEntry).Bytes.AsSpan(at), 1 << 24);
        var payload = new Dictionary<string, byte[]> { [FastTreeModel.PayloadEntry] = Rezip(entries) };
        var catalog = new RankerCatalog();
        MLNetRankers.Register(catalog);
        var e = Assert.Throws<InvalidDataException>(() => catalog.GetLoader(FastTreeModel.Family)(payload));
        Assert.Contains("declares 16777216 values", e.Message);
    }
}
