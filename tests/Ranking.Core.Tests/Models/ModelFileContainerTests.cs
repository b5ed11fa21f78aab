using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Ranking.Data;
using Ranking.Models;

namespace Ranking.Core.Tests.Models;

public sealed class ModelFileContainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ranking-modelfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelManifest Manifest() => new()
    {
        Ranker = "listnet", Objective = "listnet", ModelFamily = "mlp", FeatureCount = 4, InputFeatureCount = 4,
        PipelineSpec = "zscore", Options = new JsonObject { ["epochs"] = 3 }, BestIteration = 2,
        ValidMetrics = new Dictionary<string, double> { ["ndcg@10"] = 0.5 }, NdcgContract = new JsonObject { ["name"] = "default" },
    };

    private string Write(string name)
    {
        string path = Path.Combine(_dir, name);
        var model = new MlpModel(4, [3], 0f, seed: 2);
        ModelFile.WriteContainer(path, Manifest(), "{\"steps\":[]}", model.SavePayload());
        return path;
    }

    [Fact]
    public void RoundTripsManifestPipelineAndPayload()
    {
        string path = Write("a.model");
        var (manifest, pipeline, payload) = ModelFile.ReadContainer(path);
        Assert.Equal("listnet", manifest.Ranker);
        Assert.Equal("mlp", manifest.ModelFamily);
        Assert.Equal(0.5, manifest.ValidMetrics["ndcg@10"]);
        Assert.Equal("default", manifest.NdcgContract!["name"]!.GetValue<string>());
        Assert.Equal(2, manifest.BestIteration);
        Assert.Equal("{\"steps\":[]}", pipeline);
        Assert.Equal(new MlpModel(4, [3], 0f, seed: 2).Parameters, MlpModel.Load(payload).Parameters);
        Assert.Equal(2, manifest.Entries.Count);
        Assert.All(manifest.Entries.Values, h => Assert.Equal(64, h.Length));
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp"));
    }

    [Fact]
    public void TheSameModelGivesTheSameBytes()
    {
        Assert.Equal(File.ReadAllBytes(Write("a.model")), File.ReadAllBytes(Write("b.model")));
    }

    [Fact]
    public void TruncatedFileIsAClearError()
    {
        string path = Write("t.model");
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var ex = Assert.Throws<RankingDataException>(() => ModelFile.ReadContainer(path));
        Assert.StartsWith(path, ex.Message);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void ChangedEntryFailsItsChecksum()
    {
        string path = Write("c.model");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            zip.GetEntry("pipeline.json")!.Delete();
            using var s = zip.CreateEntry("pipeline.json").Open();
            s.Write(Encoding.UTF8.GetBytes("{\"steps\":[1]}"));
        }
        var ex = Assert.Throws<RankingDataException>(() => ModelFile.ReadContainer(path));
        Assert.Contains("checksum of entry 'pipeline.json'", ex.Message);
        Assert.StartsWith(path, ex.Message);
    }

    [Fact]
    public void AnotherFormatVersionIsRejected()
    {
        string path = Write("v.model");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry("manifest.json")!;
            string text;
            using (var r = new StreamReader(entry.Open())) text = r.ReadToEnd();
            entry.Delete();
            using var w = new StreamWriter(zip.CreateEntry("manifest.json").Open());
            w.Write(text.Replace("\"format_version\": 1", "\"format_version\": 99"));
        }
        var ex = Assert.Throws<RankingDataException>(() => ModelFile.ReadContainer(path));
        Assert.Contains("model format version 99", ex.Message);
    }

    [Fact]
    public void FlippedByteAnywhereIsAnError()
    {
        string path = Write("f.model");
        byte[] original = File.ReadAllBytes(path);
        int failures = 0;
        for (int at = 0; at < original.Length; at += 7)
        {
            byte[] bytes = (byte[])original.Clone();
            bytes[at] ^= 0x5A;
            File.WriteAllBytes(path, bytes);
            try { ModelFile.ReadContainer(path); }
            catch (RankingDataException) { failures++; }
        }
        // A flipped byte may land in a field the zip reader ignores (e.g. a timestamp or "version made by");
        // everything that reaches data must be caught, which is most positions.
        Assert.True(failures > original.Length / 7 / 2, $"{failures} of {original.Length / 7} corruptions detected");
    }

    [Fact]
    public void NotAZipIsAClearError()
    {
        string path = Path.Combine(_dir, "n.model");
        File.WriteAllText(path, "hello");
        var ex = Assert.Throws<RankingDataException>(() => ModelFile.ReadContainer(path));
        Assert.StartsWith(path, ex.Message);
    }
}
