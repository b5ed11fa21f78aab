using System.IO.Compression;
using Ranking.Core.Tests.Data;
using Ranking.Data;
using Ranking.Embeddings;

namespace Ranking.Core.Tests.Embeddings;

public class EmbeddingDataTests
{
    /// <summary>Where Debian's dataset-fashion-mnist puts the files.</summary>
    public const string FashionMnist = "/usr/share/datasets/fashion-mnist";
    public const string FashionMissing = "Debian's dataset-fashion-mnist is not installed (/usr/share/datasets/fashion-mnist)";

    private static byte[] Idx(byte type, int[] dims, byte[] data)
    {
        var bytes = new List<byte> { 0, 0, type, (byte)dims.Length };
        foreach (int d in dims) bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    [Fact]
    public void Idx_images_and_labels_found_by_mnist_naming_and_gzip_read()
    {
        using var dir = new TempFolder();
        // 3 images of 2x2 pixels, labels 7, 7, 2.
        byte[] images = Idx(0x08, [3, 2, 2], [0, 255, 51, 102, 1, 2, 3, 4, 255, 255, 0, 0]);
        string imagesPath = dir.File("x-images-idx3-ubyte.gz");
        using (var f = File.Create(imagesPath))
        using (var gz = new GZipStream(f, CompressionLevel.Fastest)) gz.Write(images);
        dir.WriteBytes("x-labels-idx1-ubyte", Idx(0x08, [3], [7, 7, 2]));

        var items = LabelledItemsReader.Read(imagesPath);
        Assert.Equal(3, items.Count);
        Assert.Equal(4, items.Dimension);
        Assert.Equal([0f, 1f, 0.2f, 0.4f], items.Item(0).ToArray());
        // Integer labels keep their value as the class id.
        Assert.Equal([7, 7, 2], items.Classes);
        Assert.Equal(8, items.ClassCount);
    }

    [Fact]
    public void Idx_wrong_magic_names_the_byte()
    {
        using var dir = new TempFolder();
        string path = dir.WriteBytes("bad-images-idx3-ubyte", [0x08, 0x03, 0, 0, 0, 0, 0, 1]);
        var ex = Assert.Throws<RankingDataException>(() => IdxFile.Read(path));
        Assert.Contains("byte 0: bad IDX magic number 0x08030000", ex.Message);
        Assert.StartsWith(path, ex.Message);
    }

    [Fact]
    public void Idx_truncated_and_nan_values_are_errors_at_their_byte()
    {
        using var dir = new TempFolder();
        string truncated = dir.WriteBytes("t-images-idx3-ubyte", Idx(0x08, [2, 2, 2], [1, 2, 3, 4, 5]));
        Assert.Contains("byte 21: dimensions 2 x 2 x 2 of 1-byte values need 24 bytes, the file holds 21 (truncated)",
            Assert.Throws<RankingDataException>(() => IdxFile.Read(truncated)).Message);
        // float32 pixels, the second NaN (0x7FC00000).
        string nan = dir.WriteBytes("n-images-idx2-float", Idx(0x0D, [1, 2], [0x3F, 0x80, 0, 0, 0x7F, 0xC0, 0, 0]));
        Assert.Contains("byte 16: value 1 is NaN", Assert.Throws<RankingDataException>(() => IdxFile.Read(nan)).Message);
        string unknownType = dir.WriteBytes("u-images-idx1-ubyte", Idx(0x07, [1], [1]));
        Assert.Contains("byte 2: unknown IDX value type 0x07", Assert.Throws<RankingDataException>(() => IdxFile.Read(unknownType)).Message);
    }

    [Fact]
    public void Idx_without_labels_beside_it_is_an_error()
    {
        using var dir = new TempFolder();
        string path = dir.WriteBytes("lonely-images-idx3-ubyte", Idx(0x08, [1, 1, 1], [1]));
        Assert.Contains("no labels file beside it", Assert.Throws<RankingDataException>(() => LabelledItemsReader.Read(path)).Message);
    }

    [Fact]
    public void Csv_class_column_strings_become_dense_ids_and_bad_values_name_line_and_column()
    {
        using var dir = new TempFolder();
        string good = dir.Write("a.csv", "f1,class,f2\n1,cat,2\n3,dog,4\n5,cat,6\n");
        var items = LabelledItemsReader.Read(good);
        Assert.Equal([0, 1, 0], items.Classes);
        Assert.Equal(["cat", "dog"], items.ClassNames);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], items.Features);

        string bad = dir.Write("b.tsv", "label\tx\n1\t0.5\n2\tNaN\n");
        var ex = Assert.Throws<RankingDataException>(() => LabelledItemsReader.Read(bad));
        Assert.Equal($"{bad}:3:3: bad feature value 'NaN' in column 'x': expected a finite number", ex.Message);
        string noClass = dir.Write("c.csv", "a,b\n1,2\n");
        Assert.Contains(":1:1: no class column", Assert.Throws<RankingDataException>(() => LabelledItemsReader.Read(noClass)).Message);
    }

    [Fact]
    public void SvmLight_label_is_the_class()
    {
        using var dir = new TempFolder();
        string path = dir.Write("a.svm", "3 1:0.5 2:1\n3 1:0.25\n1 2:2\n");
        var items = LabelledItemsReader.Read(path);
        Assert.Equal([3, 3, 1], items.Classes);
        Assert.Equal([0.5f, 1f, 0.25f, 0f, 0f, 2f], items.Features);
        string fractional = dir.Write("b.svm", "1.5 1:1\n");
        Assert.Contains(":1:1: class label '1.5' is not a non-negative integer", Assert.Throws<RankingDataException>(() => LabelledItemsReader.Read(fractional)).Message);
    }

    [Fact]
    public void Untrainable_sets_are_refused_with_a_reason()
    {
        var oneClass = new LabelledItems([1, 2, 3], 1, [0, 0, 0], source: "one.csv");
        Assert.Equal("one.csv: only 1 class: metric learning needs at least two classes (negatives)",
            Assert.Throws<RankingDataException>(() => oneClass.CheckTrainable()).Message);
        var singletons = new LabelledItems([1, 2, 3], 1, [0, 1, 2], source: "s.csv");
        Assert.Contains("every class has one item", Assert.Throws<RankingDataException>(() => singletons.CheckTrainable()).Message);
        var mixed = new LabelledItems([1, 2, 3], 1, [0, 0, 1], source: "m.csv");
        mixed.CheckTrainable();
        Assert.Contains("class '1' has one item", Assert.Throws<RankingDataException>(() => mixed.CheckTrainable(everyClassNeedsPair: true)).Message);
        Assert.Throws<RankingDataException>(() => new LabelledItems([1, float.NaN], 1, [0, 1], source: "nan"));
    }

    [Fact]
    public void Pair_file_rows_are_checked_and_pairs_become_two_item_classes()
    {
        using var dir = new TempFolder();
        var anchors = new LabelledItems([1, 2, 3], 1, [0, 0, 0]);
        var candidates = new LabelledItems([10, 20], 1, [0, 0]);
        string path = dir.Write("p.tsv", "# query chosen\n0\t1\n2 0\n");
        var pairs = PairFile.Read(path, anchors.Count, candidates.Count);
        var items = PairFile.ToItems(pairs, anchors, candidates);
        Assert.Equal([1f, 20f, 3f, 10f], items.Features);
        Assert.Equal([0, 0, 1, 1], items.Classes);
        string bad = dir.Write("q.tsv", "0 1\n1 5\n");
        Assert.Equal($"{bad}:2:3: positive row 5 is past the 2 items of its set",
            Assert.Throws<RankingDataException>(() => PairFile.Read(bad, anchors.Count, candidates.Count)).Message);
    }

    [Fact]
    public void Synthetic_classes_are_seeded_prefix_stable_and_separable_in_latent_space()
    {
        var small = SyntheticClasses.Generate(new SyntheticClassOptions { Classes = 20, ItemsPerClass = 4, Dimension = 8, Seed = 7 });
        var large = SyntheticClasses.Generate(new SyntheticClassOptions { Classes = 30, ItemsPerClass = 4, Dimension = 8, Seed = 7 });
        var other = SyntheticClasses.Generate(new SyntheticClassOptions { Classes = 20, ItemsPerClass = 4, Dimension = 8, Seed = 8 });
        Assert.Equal(small.Items.Features, large.Items.Features[..small.Items.Features.Length]);
        Assert.NotEqual(small.Items.Features, other.Items.Features);
        Assert.Equal(80, small.Items.Count);
        Assert.Equal(Enumerable.Range(0, 20).SelectMany(c => Enumerable.Repeat(c, 4)), small.Items.Classes);
        var (train, test) = SyntheticClasses.SplitByClass(large.Items, 25);
        Assert.Equal(100, train.Count);
        Assert.Equal(20, test.Count);
        Assert.Equal(5, test.ClassCount);
    }

    [SkippableFact]
    public void Fashion_mnist_from_debian_reads_whole()
    {
        Skip.IfNot(Directory.Exists(FashionMnist), FashionMissing);
        var test = LabelledItemsReader.Read(Path.Combine(FashionMnist, "t10k-images-idx3-ubyte.gz"));
        Assert.Equal(10_000, test.Count);
        Assert.Equal(784, test.Dimension);
        Assert.Equal(10, test.ClassCount);
        Assert.All(test.ClassSizes(), s => Assert.Equal(1000, s));
        Assert.InRange(test.Features.Max(), 0.99f, 1f);
    }
}
