using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ranking.Embeddings;
using Ranking.Models;
using Ranking.Onnx;

namespace Ranking.Cli.Tests;

/// <summary>
/// ONNX export of the embedding encoders held to a real ONNX Runtime: for linear and MLP encoders, with and without L2
/// normalisation, ONNX Runtime's [N, dim] output equals <see cref="EmbeddingEncoder.Encode"/> on the same rows; a row
/// whose embedding is zero stays zero (no 0/0); <c>ranking export</c> writes the encoder of an embedding model file.
/// </summary>
public sealed class EncoderOnnxExportTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    /// <summary>|onnx - ours| &lt;= Tolerance * max(|ours|, 1), per element (as the scorers' export tests).</summary>
    private const double Tolerance = 1e-5;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ranking-encoder-onnx-" + Guid.NewGuid().ToString("N"));

    /// <inheritdoc/>
    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>Hidden widths ("" = linear), normalise, distance.</summary>
    public static TheoryData<string, bool, string> Encoders => new()
    {
        { "", true, "cosine" },
        { "", false, "l2" },
        { "16", true, "cosine" },
        { "24,12", false, "squared-l2" },
        { "24,12", true, "dot" },
    };

    [Theory]
    [MemberData(nameof(Encoders))]
    public void OnnxRuntimeEmbeddingsEqualEncode(string hidden, bool normalise, string distance)
    {
        var (train, test) = Split(seed: 21);
        var options = new EmbeddingTrainerOptions
        {
            Hidden = hidden.Length == 0 ? [] : hidden.Split(',').Select(int.Parse).ToArray(),
            Dimension = 8, Normalise = normalise, Epochs = 2, BatchSize = 32, Seed = 3, Threads = 1,
            Loss = new BatchLossOptions { Distance = EmbeddingDistances.Parse(distance) },
        };
        var model = EmbeddingTrainer.Train(train, options);
        Assert.Equal(normalise || distance == "cosine", model.Encoder.Normalise);

        float[] ours = model.Encode(test, threads: 1);
        float[] onnx = OnnxEmbeddings(EmbeddingOnnx.ToBytes(model), test.Features, test.Count, test.Dimension, out var shape);
        Assert.Equal([test.Count, model.Encoder.Dimension], shape);
        double worst = AssertClose(ours, onnx);
        if (model.Encoder.Normalise)
            for (int r = 0; r < test.Count; r++)
            {
                double norm = Math.Sqrt(onnx.AsSpan(r * 8, 8).ToArray().Sum(v => (double)v * v));
                Assert.InRange(norm, 1 - 1e-5, 1 + 1e-5);
            }
        output.WriteLine($"hidden '{hidden}', normalise {model.Encoder.Normalise}, {distance}: {test.Count} items, worst relative difference {worst:E2}");
    }

    [Fact]
    public void AZeroEmbeddingStaysZeroUnderNormalisation()
    {
        // All-zero parameters: every embedding is the zero vector, whose norm is 0. Encode leaves it as it is; the
        // graph must too (x / |x| would be 0/0 = NaN).
        var network = DenseNetwork.FromParameters(5, [4], 0f, new float[5 * 4 + 4 + 4 * 3 + 3], outputWidth: 3);
        var model = new EmbeddingModel(new EmbeddingEncoder(network, normalise: true), EmbeddingDistance.Cosine);
        float[] features = Enumerable.Range(0, 7 * 5).Select(i => (float)Math.Sin(i)).ToArray();
        float[] ours = model.Encoder.Encode(features, 7, threads: 1);
        float[] onnx = OnnxEmbeddings(EmbeddingOnnx.ToBytes(model), features, 7, 5, out _);
        Assert.All(ours, v => Assert.Equal(0f, v));
        Assert.All(onnx, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void TheGraphDeclaresItsInputOutputAndMetadata()
    {
        var (train, _) = Split(seed: 22);
        var model = EmbeddingTrainer.Train(train, new EmbeddingTrainerOptions { Hidden = [16], Dimension = 6, Epochs = 1, BatchSize = 32, Threads = 1 });
        using var session = new InferenceSession(EmbeddingOnnx.ToBytes(model));
        Assert.Equal([-1, train.Dimension], session.InputMetadata[OnnxFormat.FeaturesInput].Dimensions);
        Assert.Equal([-1, 6], session.OutputMetadata[OnnxFormat.EmbeddingOutput].Dimensions);
        Assert.Equal(typeof(float), session.OutputMetadata[OnnxFormat.EmbeddingOutput].ElementType);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal(EmbeddingModel.Family, metadata["model_family"]);
        Assert.Equal("true", metadata["normalise"]);
        Assert.Equal("cosine", metadata["distance"]);
        Assert.Equal("6", metadata["dimension"]);
    }

    [Fact]
    public void ExportCommandWritesTheEncoderOfAnEmbeddingModelFile()
    {
        Directory.CreateDirectory(_dir);
        string Path_(string name) => Path.Combine(_dir, name);
        var synth = CliHarness.Run("embed", "synth", "--classes", "20", "--items", "6", "--dim", "10", "--latent", "4", "--train-classes", "14", "--out", Path_("s"));
        Assert.True(synth.ExitCode == 0, synth.Stderr);
        string train = Path_("s-train-images-idx2"), test = Path_("s-test-images-idx2");
        var trained = CliHarness.Run("embed", "train", "--data", train, "--epochs", "2", "--batch", "24", "--hidden", "16", "--dim", "5",
            "--seed", "4", "--out", Path_("e.rkm"), "--threads", "1");
        Assert.True(trained.ExitCode == 0, trained.Stderr);

        var export = CliHarness.Run("export", "--model", Path_("e.rkm"), "--format", "onnx", "--out", Path_("e.onnx"), "--json");
        Assert.True(export.ExitCode == 0, export.Stderr);
        var summary = JsonNode.Parse(export.Stdout)!;
        Assert.Equal(EmbeddingModel.Family, (string)summary["model_family"]!);
        Assert.Equal(5, (int)summary["dimension"]!);
        Assert.True((bool)summary["normalise"]!);

        var model = EmbeddingModel.Load(Path_("e.rkm"));
        var items = LabelledItemsReader.Read(test);
        float[] ours = model.Encode(items, threads: 1);
        float[] onnx = OnnxEmbeddings(File.ReadAllBytes(Path_("e.onnx")), items.Features, items.Count, items.Dimension, out var shape);
        Assert.Equal([items.Count, 5], shape);
        AssertClose(ours, onnx);
    }

    [Fact]
    public void ExportCommandWritesEachTowerOfATwoTowerModel()
    {
        Directory.CreateDirectory(_dir);
        string Path_(string name) => Path.Combine(_dir, name);
        var set = SyntheticPairs.Generate(new SyntheticPairOptions { Items = 30, Queries = 300, QueryFeatures = 7, ItemFeatures = 5, SameView = false, Seed = 5 });
        var model = PairTrainer.TrainTwoTowers(new PairSet(set.Queries, set.Items, set.Train),
            new EmbeddingTrainerOptions { Hidden = [12], Dimension = 6, Epochs = 2, BatchSize = 32, Threads = 1 });
        model.Save(Path_("two.rkm"));
        Assert.Equal(2, CliHarness.Run("export", "--model", Path_("two.rkm"), "--out", Path_("none.onnx")).ExitCode);
        Assert.False(File.Exists(Path_("none.onnx")));
        foreach (var (tower, items) in new[] { (EmbeddingTower.Query, set.Queries), (EmbeddingTower.Item, set.Items) })
        {
            string onnxPath = Path_($"{tower.Name()}.onnx");
            var export = CliHarness.Run("export", "--model", Path_("two.rkm"), "--out", onnxPath, "--tower", tower.Name(), "--json");
            Assert.True(export.ExitCode == 0, export.Stderr);
            Assert.Equal(tower.Name(), (string)JsonNode.Parse(export.Stdout)!["tower"]!);
            Assert.Equal(items.Dimension, (int)JsonNode.Parse(export.Stdout)!["input_features"]!);
            byte[] bytes = File.ReadAllBytes(onnxPath);
            using (var session = new InferenceSession(bytes)) Assert.Equal(tower.Name(), session.ModelMetadata.CustomMetadataMap["tower"]);
            float[] onnx = OnnxEmbeddings(bytes, items.Features, items.Count, items.Dimension, out var shape);
            Assert.Equal([items.Count, 6], shape);
            AssertClose(model.Encode(items, tower, threads: 1), onnx);
        }
    }

    private static (LabelledItems Train, LabelledItems Test) Split(ulong seed)
    {
        var set = SyntheticClasses.Generate(new SyntheticClassOptions { Classes = 24, ItemsPerClass = 6, Dimension = 10, LatentDimension = 4, Seed = seed });
        return SyntheticClasses.SplitByClass(set.Items, 16);
    }

    private static float[] OnnxEmbeddings(byte[] onnx, float[] features, int rows, int columns, out long[] shape)
    {
        using var session = new InferenceSession(onnx);
        var input = new DenseTensor<float>(features.AsSpan(0, rows * columns).ToArray(), [rows, columns]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxFormat.FeaturesInput, input)]);
        var tensor = results.Single(r => r.Name == OnnxFormat.EmbeddingOutput).AsTensor<float>();
        shape = tensor.Dimensions.ToArray().Select(d => (long)d).ToArray();
        return tensor.ToArray();
    }

    private static double AssertClose(float[] ours, float[] onnx)
    {
        Assert.Equal(ours.Length, onnx.Length);
        double worst = 0; int worstAt = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            Assert.True(float.IsFinite(ours[i]) && float.IsFinite(onnx[i]), $"element {i}: ours {ours[i]}, ONNX Runtime {onnx[i]}");
            double error = Math.Abs(onnx[i] - (double)ours[i]) / Math.Max(Math.Abs((double)ours[i]), 1.0);
            if (error > worst) { worst = error; worstAt = i; }
        }
        Assert.True(worst <= Tolerance, $"element {worstAt}: ours {ours[worstAt]:R}, ONNX Runtime {onnx[worstAt]:R} (relative error {worst:E2})");
        return worst;
    }
}
