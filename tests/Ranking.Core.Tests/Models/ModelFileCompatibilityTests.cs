using System.IO.Compression;
using System.Text;
using Ranking.Data;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.Core.Tests.Models;

/// <summary>
/// Model files written by earlier builds (tests/Ranking.Core.Tests/Models/Compat, each trained once with the
/// options below on seeded synthetic data) must still load and score, and the same training today must write
/// the same manifest.json byte for byte: the manifest's option names, order and value forms are a file format.
/// Set RANKING_RECORD_COMPAT=1 to (re)write missing fixtures.
/// </summary>
public class ModelFileCompatibilityTests
{
    public static TheoryData<string> Cases => new() { "listnet-mlp-sgd-step", "linear-lambdarank-gain", "approxndcg-defaults", "composed-linear-triplet" };

    private static (RankerDescriptor Ranker, RankerOptions Options) Setup(string name, RankerCatalog catalog)
    {
        var options = new RankerOptions { Seed = 11, Threads = 1, Iterations = 3 };
        RankerDescriptor ranker;
        switch (name)
        {
            case "listnet-mlp-sgd-step":
                ranker = catalog.Get("listnet");
                options.Parameters["hidden"] = "8,4";
                options.Parameters["dropout"] = "0.1";
                options.Parameters["optimizer"] = "sgd";
                options.Parameters["momentum"] = "0.8";
                options.Parameters["schedule"] = "step";
                options.Parameters["step_epochs"] = "2";
                options.Parameters["step-gamma"] = "0.25";
                options.Parameters["temperature"] = "0.5";
                options.Parameters["target"] = "gain";
                break;
            case "linear-lambdarank-gain":
                ranker = catalog.Get("linear-lambdarank");
                options.LearningRate = 0.02;
                options.Parameters["truncation"] = "10";
                options.Parameters["label-gain"] = "0,1,3,7,15";
                options.Parameters["sigmoid"] = "2";
                options.Parameters["schedule"] = "cosine";
                options.Parameters["weight-decay"] = "0.001";
                break;
            case "approxndcg-defaults":
                ranker = catalog.Get("approxndcg");
                break;
            case "composed-linear-triplet":
                ranker = catalog.Compose("triplet", "linear");
                options.EarlyStoppingRounds = 1;
                options.Parameters["mining"] = "semi-hard";
                options.Parameters["negatives"] = "3";
                options.Parameters["clip-norm"] = "1";
                options.Parameters["batch-queries"] = "4";
                break;
            default: throw new ArgumentException(name);
        }
        return (ranker, options);
    }

    private static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Models", "Compat", name + ".rkm");

    private static string SourceFixturePath(string name, [System.Runtime.CompilerServices.CallerFilePath] string here = "")
        => Path.Combine(Path.GetDirectoryName(here)!, "Compat", name + ".rkm");

    private static (RankingModel Model, RankingDataset Test) Train(string name)
    {
        var catalog = new RankerCatalog();
        CoreRankers.Register(catalog);
        var (ranker, options) = Setup(name, catalog);
        var (train, valid, test) = SyntheticGenerator.GenerateSplits("small", 24, seed: 7);
        var (model, _) = RankerTraining.Train(ranker, train.Data, valid.Data, options, null,
            MetricSpec.ParseList("ndcg@5,map"), NdcgContract.Default);
        return (model, test.Data);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void OldModelFilesLoadAndTheSameTrainingWritesTheSameManifest(string name)
    {
        var (model, test) = Train(name);
        string fresh = Path.Combine(Path.GetTempPath(), $"compat-{name}-{Environment.ProcessId}.rkm");
        try
        {
            model.Save(fresh);
            string fixture = FixturePath(name);
            if (!File.Exists(fixture) && Environment.GetEnvironmentVariable("RANKING_RECORD_COMPAT") == "1")
            {
                File.Copy(fresh, SourceFixturePath(name));
                return;
            }
            Assert.True(File.Exists(fixture), $"fixture {fixture} is missing");

            var catalog = new RankerCatalog();
            CoreRankers.Register(catalog);
            var old = RankingModel.Load(fixture, catalog);
            Assert.Equal(model.Predict(test), old.Predict(test));
            Assert.Equal(Manifest(fixture), Manifest(fresh));
        }
        finally
        {
            File.Delete(fresh);
        }
    }

    private static string Manifest(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        using var reader = new StreamReader(zip.GetEntry("manifest.json")!.Open(), Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
