using System.Formats.Tar;
using System.IO.Compression;
using Ranking.Cli.Datasets;

namespace Ranking.Cli.Tests;

/// <summary>The shared datasets for the Cli tests (found by Ranking.Core.Tests' SharedData).</summary>
internal static class DatasetsTestData
{
    public const string Missing = SharedData.Missing;
    public static string? Root => SharedData.Root;

    public static string Mq2008Fold1 => Path.Combine(Root!, "mq2008", "Fold1");
}

internal sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ranking-test-" + Guid.NewGuid().ToString("N"));
    public TempDir() => Directory.CreateDirectory(Path);
    public string this[string relative] => System.IO.Path.Combine(Path, relative);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

public class DatasetsTests
{
    private static readonly DatasetCatalog Catalog = DatasetCatalog.LoadEmbedded();

    [Fact]
    public void CatalogNamesEveryRequiredDatasetWithSourceLicenceAndSizes()
    {
        foreach (var name in new[] { "mslr-web10k", "mslr-web30k", "mq2007", "mq2008", "yahoo-set1", "istella", "istella-s" })
        {
            var d = Catalog.Get(name);
            Assert.StartsWith("http", d.Homepage);
            Assert.False(string.IsNullOrWhiteSpace(d.Licence), name);
            Assert.True(d.Queries > 0 && d.Rows > d.Queries && d.Features > 0, name);
            Assert.NotEmpty(d.Folds);
            foreach (var (_, sha) in d.FileSha256) Assert.Matches("^[0-9a-f]{64}$", sha);
            if (d.ArchiveSha256 is not null) Assert.Matches("^[0-9a-f]{64}$", d.ArchiveSha256);
            // A checksum always says who vouches for it.
            if (d.ArchiveSha256 is not null || d.FileSha256.Count > 0) Assert.NotEqual("not published", d.ChecksumSource);
        }
        Assert.Equal(784, Catalog.Get("mq2008").Rotation!.PartQueries.Sum());
    }

    [Fact]
    public void UnknownDatasetIsAUsageErrorListingTheKnownOnes()
    {
        var result = CliHarness.Run("datasets", "fetch", "no-such-set", "--from", ".");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("mslr-web10k", result.Stderr);
    }

    [Fact]
    public void ListShowsEveryDatasetAndWhatIsHere()
    {
        using var root = new TempDir();
        var result = CliHarness.Run("datasets", "list", "--root", root.Path);
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        foreach (var d in Catalog.Datasets) Assert.Contains(d.Name, result.Stdout);
    }

    [Fact]
    public void FetchWithoutFromOnAManualDatasetSaysToUseFrom()
    {
        using var root = new TempDir();
        var result = CliHarness.Run("datasets", "fetch", "yahoo-set1", "--root", root.Path);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("--from", result.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(root.Path));
    }

    private static void WriteFakeFold(string dir, string train = "2 qid:1 1:0.5\n0 qid:1 1:0.1\n")
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "train.txt"), train);
        File.WriteAllText(Path.Combine(dir, "vali.txt"), "1 qid:2 1:0.3\n0 qid:2 1:0.2\n");
        File.WriteAllText(Path.Combine(dir, "test.txt"), "1 qid:3 1:0.3\n0 qid:3 1:0.2\n");
    }

    [Fact]
    public void FetchFromAZipFindsTheFoldsBelowTheArchivesTopFolder()
    {
        using var tmp = new TempDir();
        for (int k = 1; k <= 5; k++) WriteFakeFold(tmp[$"src/MQ2007/Fold{k}"]);
        ZipFile.CreateFromDirectory(tmp["src"], tmp["MQ2007.zip"]);
        var result = CliHarness.Run("datasets", "fetch", "mq2007", "--from", tmp["MQ2007.zip"], "--root", tmp["root"]);
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.True(File.Exists(tmp["root/mq2007/Fold5/test.txt"]));
        Assert.Single(Directory.GetDirectories(tmp["root"]));   // no staging folder left behind
    }

    [Fact]
    public void FetchFromATarGzAndFromAFolderBothWork()
    {
        using var tmp = new TempDir();
        WriteFakeFold(tmp["src/sample"]);
        using (var file = File.Create(tmp["istella-s-letor.tar.gz"]))
        using (var gz = new GZipStream(file, CompressionLevel.Fastest))
            TarFile.CreateFromDirectory(tmp["src"], gz, includeBaseDirectory: false);
        // The catalogue's checksum is for the real archive: a same-named fake must be refused, not unpacked.
        var refused = CliHarness.Run("datasets", "fetch", "istella-s", "--from", tmp["istella-s-letor.tar.gz"], "--root", tmp["root"]);
        Assert.Equal(ExitCodes.BadInput, refused.ExitCode);
        Assert.Contains("SHA-256", refused.Stderr);
        File.Move(tmp["istella-s-letor.tar.gz"], tmp["my-copy.tar.gz"]);
        var unpacked = CliHarness.Run("datasets", "fetch", "istella-s", "--from", tmp["my-copy.tar.gz"], "--root", tmp["root"]);
        Assert.True(unpacked.ExitCode == ExitCodes.Ok, unpacked.Stderr);
        Assert.True(File.Exists(tmp["root/istella-s/sample/vali.txt"]));

        var copied = CliHarness.Run("datasets", "fetch", "mq2008", "--from", tmp["src/sample"], "--root", tmp["root"]);
        Assert.True(copied.ExitCode == ExitCodes.Ok, copied.Stderr);
        Assert.True(File.Exists(tmp["root/mq2008/Fold1/train.txt"]));   // a bare fold folder becomes Fold1
    }

    [Fact]
    public void RotationSplitsTrainIntoPartsAndRotatesThem()
    {
        using var tmp = new TempDir();
        // Parts of 2, 2, 2 | 2 | 1 queries: qids 1-2, 3-4, 5-6 in train, 7-8 vali, 9 test.
        string Rows(params int[] qids) => string.Concat(qids.Select(q => $"{q % 3} qid:{q} 1:{q}.0\n{(q + 1) % 3} qid:{q} 1:-{q}\n"));
        Directory.CreateDirectory(tmp["Fold1"]);
        File.WriteAllText(tmp["Fold1/train.txt"], Rows(1, 2, 3, 4, 5, 6));
        File.WriteAllText(tmp["Fold1/vali.txt"], Rows(7, 8));
        File.WriteAllText(tmp["Fold1/test.txt"], Rows(9));
        var spec = new FoldRotationSpec { TrainParts = 3, PartQueries = [2, 2, 2, 2, 1] };
        LetorFoldRotation.Build(tmp["Fold1"], tmp["out"], spec, "train.txt", "vali.txt", "test.txt");
        for (int k = 1; k <= 5; k++)
            Assert.True(File.Exists(tmp[$"out/Fold{k}/train.txt"]));
        Assert.Equal(File.ReadAllText(tmp["Fold1/train.txt"]), File.ReadAllText(tmp["out/Fold1/train.txt"]));
        // Fold2: train S2+S3+S4, vali S5, test S1.
        Assert.Equal(Rows(3, 4, 5, 6, 7, 8), File.ReadAllText(tmp["out/Fold2/train.txt"]));
        Assert.Equal(Rows(9), File.ReadAllText(tmp["out/Fold2/vali.txt"]));
        Assert.Equal(Rows(1, 2), File.ReadAllText(tmp["out/Fold2/test.txt"]));
        // Fold5: train S5+S1+S2, vali S3, test S4.
        Assert.Equal(Rows(9, 1, 2, 3, 4), File.ReadAllText(tmp["out/Fold5/train.txt"]));
        Assert.Equal(Rows(7, 8), File.ReadAllText(tmp["out/Fold5/test.txt"]));

        spec = new FoldRotationSpec { TrainParts = 3, PartQueries = [3, 2, 2, 2, 1] };
        var ex = Assert.Throws<Ranking.Data.RankingDataException>(() =>
            LetorFoldRotation.Build(tmp["Fold1"], tmp["bad"], spec, "train.txt", "vali.txt", "test.txt"));
        Assert.Contains("train.txt", ex.Message);
    }

    [SkippableFact]
    public void Mq2008RotationReproducesFold1ByteForByteAndTestsEveryQueryOnce()
    {
        Skip.If(DatasetsTestData.Root is null, DatasetsTestData.Missing);
        using var tmp = new TempDir();
        var entry = Catalog.Get("mq2008");
        LetorFoldRotation.Build(DatasetsTestData.Mq2008Fold1, tmp.Path, entry.Rotation!, "train.txt", "vali.txt", "test.txt");
        foreach (var f in new[] { "train.txt", "vali.txt", "test.txt" })
            Assert.Equal(entry.FileSha256[$"Fold1/{f}"], DatasetStore.Sha256Of(tmp[$"Fold1/{f}"]));
        var testQids = new HashSet<string>();
        for (int k = 1; k <= 5; k++)
        {
            var qids = LetorFoldRotation.ReadQueryBlocks(tmp[$"Fold{k}/test.txt"]).Select(b => System.Text.Encoding.ASCII.GetString(b[0]).Split(' ')[1]);
            foreach (var q in qids) Assert.True(testQids.Add(q), $"{q} tested twice");
            long rows = new[] { "train.txt", "vali.txt", "test.txt" }.Sum(f => File.ReadLines(tmp[$"Fold{k}/{f}"]).Count());
            Assert.Equal(15211, rows);
        }
        Assert.Equal(784, testQids.Count);
    }

    [SkippableFact]
    public void PrepareRebuildsMq2008FoldsVerifiesChecksumsAndConvertsToRkds()
    {
        Skip.If(DatasetsTestData.Root is null, DatasetsTestData.Missing);
        using var tmp = new TempDir();
        Assert.Equal(ExitCodes.Ok, CliHarness.Run("datasets", "fetch", "mq2008", "--from", DatasetsTestData.Mq2008Fold1, "--root", tmp.Path).ExitCode);
        var prepared = CliHarness.Run("datasets", "prepare", "mq2008", "--root", tmp.Path);
        Assert.True(prepared.ExitCode == ExitCodes.Ok, prepared.Stderr);
        Assert.Contains("Fold1/train.txt: SHA-256 ok", prepared.Stdout);
        int tested = 0;
        for (int k = 1; k <= 5; k++)
        {
            var test = Ranking.Data.RkdsFile.Read(tmp[$"mq2008/Fold{k}/test.rkds"]);
            var train = Ranking.Data.RkdsFile.Read(tmp[$"mq2008/Fold{k}/train.rkds"]);
            Assert.Equal(46, test.FeatureCount);
            Assert.Empty(test.QueryIds.Intersect(train.QueryIds));
            tested += test.QueryCount;
        }
        Assert.Equal(784, tested);
        Assert.Contains("up to date", CliHarness.Run("datasets", "prepare", "mq2008", "--root", tmp.Path).Stdout);

        File.AppendAllText(tmp["mq2008/Fold1/vali.txt"], "0 qid:99999 1:0\n");
        var corrupt = CliHarness.Run("datasets", "prepare", "mq2008", "--root", tmp.Path);
        Assert.Equal(ExitCodes.BadInput, corrupt.ExitCode);
        Assert.Contains("Fold1/vali.txt", corrupt.Stderr);
        Assert.Contains("SHA-256", corrupt.Stderr);
    }

    [Fact]
    public void PrepareBeforeFetchSaysToFetch()
    {
        using var tmp = new TempDir();
        var result = CliHarness.Run("datasets", "prepare", "mslr-web10k", "--root", tmp.Path);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("fetch", result.Stderr);
    }

    [Fact]
    public void SyntheticFoldsRotateEqualPartsSoEveryQueryIsTestedOnce()
    {
        using var tmp = new TempDir();
        var result = CliHarness.Run("datasets", "synthetic", "--out", tmp.Path, "--queries", "50", "--folds", "5", "--seed", "3");
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        var tested = new List<long>();
        for (int k = 1; k <= 5; k++)
        {
            var train = Ranking.Data.RkdsFile.Read(tmp[$"Fold{k}/train.rkds"]);
            var valid = Ranking.Data.RkdsFile.Read(tmp[$"Fold{k}/vali.rkds"]);
            var test = Ranking.Data.RkdsFile.Read(tmp[$"Fold{k}/test.rkds"]);
            Assert.Equal((30, 10, 10), (train.QueryCount, valid.QueryCount, test.QueryCount));
            Assert.Empty(train.QueryIds.Intersect(test.QueryIds).Concat(train.QueryIds.Intersect(valid.QueryIds)));
            tested.AddRange(test.QueryIds);
        }
        Assert.Equal(50, tested.Distinct().Count());
    }
}
