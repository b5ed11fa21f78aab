using System.IO.Compression;
using Ranking.Data;
using Ranking.Models;

namespace Ranking.Core.Tests.Reliability;

/// <summary>
/// Hand-made hostile model files (zip bombs, thousands of entries, sizes that lie, zip64 records, path-like names,
/// duplicates) are refused with a <see cref="RankingDataException"/> before anything large is allocated: each refusal
/// is measured to allocate far less than the file claims.
/// </summary>
public class ModelFileAttackTests : IDisposable
{
    private readonly string _dir = ReliabilityKit.TempDir();
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const long AllocationBound = 64L << 20;

    /// <summary>Loads <paramref name="zip"/> as a model file; returns the refusal's message, having checked its cost.</summary>
    private string Refused(byte[] zip, ModelReadLimits? limits = null)
    {
        string path = Path.Combine(_dir, $"attack-{Guid.NewGuid():N}.rkm");
        File.WriteAllBytes(path, zip);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<RankingDataException>(() => ModelFile.Load(path, ReliabilityKit.CoreCatalog(), limits ?? ModelReadLimits.Default));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < AllocationBound + zip.Length, $"refusing cost {allocated:N0} bytes: {ex.Message}");
        Assert.StartsWith(path, ex.Message);
        return ex.Message;
    }

    private List<ForgedEntry> Valid() => ZipForge.EntriesOf(ReliabilityKit.ModelBytes(_dir));

    [Fact]
    public void A_manifest_that_inflates_to_1_6_GB_is_refused_before_inflating()
    {
        // The file: ~1.6 MB on disk, manifest.json inflating to 1.68 GB.
        var entries = Valid();
        entries[entries.FindIndex(e => e.Name == ModelFile.ManifestEntry)] = ZipForge.ZeroBomb(ModelFile.ManifestEntry, 100);
        byte[] zip = ZipForge.Write(entries);
        Assert.InRange(zip.Length, 1L << 20, 3L << 20);
        string message = Refused(zip);
        Assert.Contains("'manifest.json' inflates to 1,677,721,600 bytes; the limit is 268,435,456", message);
    }

    [Fact]
    public void The_forged_bomb_really_inflates_to_what_it_declares()
    {
        var bomb = ZipForge.ZeroBomb("x", 4);
        using var inflate = new DeflateStream(new MemoryStream(bomb.Data), CompressionMode.Decompress);
        var buffer = new byte[1 << 20];
        long total = 0;
        int n;
        while ((n = inflate.Read(buffer)) > 0) total += n;
        Assert.Equal(bomb.DeclaredSize, total);
        Assert.Equal(64L << 20, total);
        Assert.True(bomb.Data.Length < (128 << 10), $"{bomb.Data.Length} bytes");
    }

    [Fact]
    public void Under_the_size_limit_a_bomb_is_caught_by_its_ratio_and_by_the_total()
    {
        var entries = Valid();
        entries.Add(ZipForge.ZeroBomb("payload/extra.bin", 2)); // 32 MiB from ~32 KB
        Assert.Contains("(a zip bomb?)", Refused(ZipForge.Write(entries)));
        var lenient = ModelReadLimits.Default with { MaxCompressionRatio = 1e6, MaxTotalBytes = 16L << 20 };
        Assert.Contains("inflate to more than 16,777,216 bytes together", Refused(ZipForge.Write(entries), lenient));
    }

    [Fact]
    public void An_entry_that_inflates_past_its_declared_size_is_refused()
    {
        var entries = Valid();
        var bomb = ZipForge.ZeroBomb(ModelFile.PipelineEntry, 1);
        entries[entries.FindIndex(e => e.Name == ModelFile.PipelineEntry)] = bomb with { DeclaredSize = 1000 };
        // .NET stops inflating at the declared size and our reader reads no further: the 1,000 bytes then fail
        // their checksum. Either way nothing past the declared size is inflated (Refused measures it).
        string past = Refused(ZipForge.Write(entries));
        Assert.True(past.Contains("'pipeline.json'"), past);
        var shortOne = Valid();
        int i = shortOne.FindIndex(e => e.Name == ModelFile.PipelineEntry);
        shortOne[i] = shortOne[i] with { DeclaredSize = shortOne[i].DeclaredSize + 10 };
        Assert.Contains("fewer than", Refused(ZipForge.Write(shortOne)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Thousands_of_entries_are_refused_even_when_the_end_record_miscounts(bool lie)
    {
        var entries = Valid();
        for (int i = 0; i < 5000; i++) entries.Add(ZipForge.Stored($"payload/e{i}", [1]));
        string message = Refused(ZipForge.Write(entries, declaredCount: lie ? 3 : null));
        Assert.Contains("entries", message);
        Assert.Contains("64", message);
    }

    [Fact]
    public void Zip64_records_that_lie_are_refused()
    {
        var entries = Valid();
        Assert.Contains("declares 1,099,511,627,776 entries", Refused(ZipForge.Write(entries, zip64: true, declaredCount: 1L << 40)));
        int i = entries.FindIndex(e => e.Name == ModelFile.ManifestEntry);
        entries[i] = entries[i] with { DeclaredSize = 1L << 40 };
        Assert.Contains("inflates to 1,099,511,627,776 bytes", Refused(ZipForge.Write(entries, zip64: true)));
        // A truthful zip64 model file still loads.
        string path = Path.Combine(_dir, "zip64.rkm");
        File.WriteAllBytes(path, ZipForge.Write(Valid(), zip64: true));
        Assert.Equal(2, ModelFile.Load(path, ReliabilityKit.CoreCatalog()).Model.FeatureCount);
    }

    [Theory]
    [InlineData("../evil.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("payload/../../x")]
    [InlineData("payload/a\\b")]
    [InlineData("payload/sub/dir")]
    [InlineData("C:/x")]
    public void Path_like_entry_names_are_refused(string name)
    {
        var entries = Valid();
        entries.Add(ZipForge.Stored(name, [1, 2, 3]));
        Assert.Contains("is not a model-file entry", Refused(ZipForge.Write(entries)));
    }

    [Fact]
    public void A_duplicated_entry_is_refused()
    {
        var entries = Valid();
        entries.Add(entries.First(e => e.Name == ModelFile.PipelineEntry));
        Assert.Contains("'pipeline.json' appears twice", Refused(ZipForge.Write(entries)));
    }

    [Fact]
    public void Limits_can_be_lowered_and_raised()
    {
        byte[] zip = ReliabilityKit.ModelBytes(_dir);
        Assert.Contains("--max-model-size", Refused(zip, ModelReadLimits.Default with { MaxEntryBytes = 100 }));
        string path = Path.Combine(_dir, "ok.rkm");
        File.WriteAllBytes(path, zip);
        Assert.Equal(2, ModelFile.Load(path, ReliabilityKit.CoreCatalog(), ModelReadLimits.WithMaxSize(4L << 30)).Model.FeatureCount);
        Assert.Throws<ArgumentException>(() => ModelFile.Load(path, ReliabilityKit.CoreCatalog(), ModelReadLimits.Default with { MaxEntries = 0 }));
    }

    [Fact]
    public void Network_weights_that_disagree_with_their_shape_or_are_not_finite_are_refused()
    {
        var (manifest, pipeline, payload) = ModelFile.ReadContainer(WriteModel());
        byte[] weights = payload["weights.bin"];
        // Layout: magic, version, inputs, hidden count, (widths), dropout, count, parameters.
        string Tampered(Action<byte[]> edit)
        {
            var bytes = (byte[])weights.Clone();
            edit(bytes);
            string path = Path.Combine(_dir, $"w-{Guid.NewGuid():N}.rkm");
            ModelFile.WriteContainer(path, manifest, pipeline, new Dictionary<string, byte[]> { ["weights.bin"] = bytes });
            return Refused(File.ReadAllBytes(path));
        }
        Assert.Contains("weights must be finite", Tampered(b => BitConverter.GetBytes(float.NaN).CopyTo(b, b.Length - 4)));
        Assert.Contains("weights must be finite", Tampered(b => BitConverter.GetBytes(float.PositiveInfinity).CopyTo(b, b.Length - 8)));
        Assert.Contains("dropout", Tampered(b => BitConverter.GetBytes(float.NaN).CopyTo(b, 16)));
        Assert.Contains("parameters", Tampered(b => BitConverter.GetBytes(int.MaxValue).CopyTo(b, 20)));
        Assert.Contains("parameters", Tampered(b => BitConverter.GetBytes(1 << 30).CopyTo(b, 8)));
        Assert.Contains("bad network shape", Tampered(b => BitConverter.GetBytes(-5).CopyTo(b, 8)));
    }

    [Fact]
    public void A_pipeline_or_manifest_that_disagrees_with_the_model_is_refused()
    {
        var (manifest, pipeline, payload) = ModelFile.ReadContainer(WriteModel());
        string Written(ModelManifest m, string p)
        {
            string path = Path.Combine(_dir, $"m-{Guid.NewGuid():N}.rkm");
            ModelFile.WriteContainer(path, m, p, payload);
            return Refused(File.ReadAllBytes(path));
        }
        Assert.Contains("must be positive", Written(manifest.WithEntries(manifest.Entries) is var m0 ? new ModelManifest
        {
            Ranker = m0.Ranker, Objective = m0.Objective, ModelFamily = m0.ModelFamily, FeatureCount = -3, InputFeatureCount = m0.InputFeatureCount,
        } : null!, pipeline));
        Assert.Contains("the pipeline maps", Written(new ModelManifest
        {
            Ranker = manifest.Ranker, Objective = manifest.Objective, ModelFamily = manifest.ModelFamily, FeatureCount = 2, InputFeatureCount = 7,
        }, pipeline));
        Assert.Contains("not finite", Written(manifest, pipeline.Replace("\"steps\": [", "\"steps\": [{\"op\": \"fillnan\", \"value\": [1e400, 0]},")
            .Replace("\"steps\":[", "\"steps\":[{\"op\":\"fillnan\",\"value\":[1e400,0]},")));
    }

    private string WriteModel()
    {
        string path = Path.Combine(_dir, $"model-{Guid.NewGuid():N}.rkm");
        File.WriteAllBytes(path, ReliabilityKit.ModelBytes(_dir));
        return path;
    }
}
