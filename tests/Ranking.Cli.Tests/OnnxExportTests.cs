using System.Text.Json.Nodes;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ranking.Data;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Onnx;
using Ranking.Training;

namespace Ranking.Cli.Tests;

/// <summary>
/// ONNX export held to a real ONNX Runtime: for every model family (linear, MLP, LightGBM GBDT, FastTree) and the
/// row-wise pipeline steps, ONNX Runtime's scores on the exported graph equal our own <c>Predict</c> on the same raw
/// rows, on a generated set, on a set with NaN features, and on MQ2008 Fold1 test.
/// </summary>
public class OnnxExportTests(Xunit.Abstractions.ITestOutputHelper output)
{
    /// <summary>|onnx - ours| &lt;= Tolerance * max(|ours|, 1): float rounding of a different summation order.</summary>
    private const double Tolerance = 1e-5;

    private static readonly RankerCatalog Catalog = CatalogFactory.CreateDefault();

    /// <summary>Ranker, pipeline, options: one per family, each with pipeline steps the graph must reproduce.</summary>
    public static TheoryData<string, string> Families => new()
    {
        { "linear-ranknet", "log1p,zscore" },
        { "ranknet", "clip,minmax" },
        { "lambdamart", "none" },
        { "lambdamart", "fillnan(0.5),select(1-5,8,12-20),log1p" },
        { "lambdamart-fasttree", "zscore" },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void OnnxRuntimeScoresEqualOursOnAGeneratedSet(string ranker, string pipeline)
    {
        var (train, valid, test) = SyntheticGenerator.GenerateSplits("small", 60, 11);
        var model = Train(ranker, pipeline, train.Data, valid.Data);
        AssertSameScores(model, test.Data);
    }

    [Theory]
    [InlineData("lambdamart")]
    [InlineData("lambdamart-fasttree")]
    public void TreesRouteNaNFeaturesAsTheyDo(string ranker)
    {
        var (train, valid, test) = SyntheticGenerator.GenerateSplits("small", 60, 12);
        // Training NaN in features 0-4 (LightGBM: missing type NaN, learnt default way); test NaN everywhere, so
        // features that had none in training take the other rules (LightGBM reads NaN as 0 there; FastTree goes right).
        SprinkleNaN(train.Data, 5, 0.2, 1);
        SprinkleNaN(valid.Data, 5, 0.2, 2);
        SprinkleNaN(test.Data, test.Data.FeatureCount, 0.15, 3);
        var model = Train(ranker, "none", train.Data, valid.Data);
        Assert.Contains(test.Data.Features, float.IsNaN);
        AssertSameScores(model, test.Data);
    }

    [Fact]
    public void FillNaNAndClipKeepNaNHandlingOfThePipeline()
    {
        var (train, valid, test) = SyntheticGenerator.GenerateSplits("small", 60, 13);
        SprinkleNaN(train.Data, train.Data.FeatureCount, 0.1, 4);
        SprinkleNaN(valid.Data, valid.Data.FeatureCount, 0.1, 5);
        SprinkleNaN(test.Data, test.Data.FeatureCount, 0.1, 6);
        var model = Train("linear-listnet", "fillnan,clip,zscore", train.Data, valid.Data);
        AssertSameScores(model, test.Data);
    }

    [SkippableTheory]
    [InlineData("linear-ranknet", "zscore")]
    [InlineData("ranknet", "log1p,zscore")]
    [InlineData("lambdamart", "none")]
    [InlineData("lambdamart-fasttree", "none")]
    public void OnnxRuntimeScoresEqualOursOnMq2008(string ranker, string pipeline)
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        string dir = SharedData.Path("mq2008", "Fold1");
        var train = DatasetReader.Read(Path.Combine(dir, "train.txt"));
        var shape = new DatasetReadOptions { FeatureCount = train.FeatureCount };
        var valid = DatasetReader.Read(Path.Combine(dir, "vali.txt"), shape);
        var test = DatasetReader.Read(Path.Combine(dir, "test.txt"), shape);
        var model = Train(ranker, pipeline, train, valid);
        AssertSameScores(model, test);
    }

    [Fact]
    public void TheModelDeclaresItsIrAndOpsetVersionsAndItsInputAndOutput()
    {
        var (train, valid, _) = SyntheticGenerator.GenerateSplits("small", 40, 14);
        byte[] bytes = OnnxExport.ToBytes(Train("lambdamart", "zscore", train.Data, valid.Data));
        // Read the ModelProto's fields with the wire format alone (independent of the export's own classes):
        // 1 ir_version, 8 opset_import { 1 domain, 2 version }.
        long irVersion = 0;
        var opsets = new Dictionary<string, long>();
        var input = new CodedInputStream(bytes);
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            if (tag == WireFormat.MakeTag(1, WireFormat.WireType.Varint)) irVersion = input.ReadInt64();
            else if (tag == WireFormat.MakeTag(8, WireFormat.WireType.LengthDelimited))
            {
                var entry = new CodedInputStream(input.ReadBytes().ToByteArray());
                string domain = ""; long version = 0;
                for (uint t; (t = entry.ReadTag()) != 0;)
                {
                    if (WireFormat.GetTagFieldNumber(t) == 1) domain = entry.ReadString();
                    else if (WireFormat.GetTagFieldNumber(t) == 2) version = entry.ReadInt64();
                    else entry.SkipLastField();
                }
                opsets[domain] = version;
            }
            else input.SkipLastField();
        }
        Assert.Equal(8, irVersion);
        Assert.Equal(17, opsets[""]);
        Assert.Equal(3, opsets["ai.onnx.ml"]);

        using var session = new InferenceSession(bytes);
        var features = session.InputMetadata[OnnxFormat.FeaturesInput];
        Assert.Equal([-1, train.Data.FeatureCount], features.Dimensions);
        Assert.Equal(typeof(float), features.ElementType);
        Assert.Equal([-1], session.OutputMetadata[OnnxFormat.ScoreOutput].Dimensions);
        Assert.Equal("lambdamart", session.ModelMetadata.CustomMetadataMap["ranker"]);
        Assert.Equal("zscore", session.ModelMetadata.CustomMetadataMap["pipeline"]);
    }

    [Fact]
    public void APerQueryPipelineStepIsRefusedWithAClearError()
    {
        var (train, valid, _) = SyntheticGenerator.GenerateSplits("small", 40, 15);
        var model = Train("linear-ranknet", "query-minmax", train.Data, valid.Data);
        var error = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(model));
        Assert.Contains("query-minmax", error.Message);
        Assert.Contains("per-row pipeline", error.Message);
    }

    [Fact]
    public void ExportCommandWritesAGraphThatScoresAsPredictDoes()
    {
        using var tmp = new TempDir();
        var (train, valid, test) = SyntheticGenerator.GenerateSplits("small", 60, 16);
        DatasetWriter.Write(train.Data, tmp["train.txt"]);
        DatasetWriter.Write(valid.Data, tmp["valid.txt"]);
        DatasetWriter.Write(test.Data, tmp["test.txt"]);
        Run("train", "--train", tmp["train.txt"], "--valid", tmp["valid.txt"], "--ranker", "lambdamart", "--pipeline", "log1p,zscore",
            "--threads", "1", "--trees", "30", "--out", tmp["m.rkm"]);
        Run("predict", "--model", tmp["m.rkm"], "--data", tmp["test.txt"], "--out", tmp["m.scores"]);
        var result = Run("export", "--model", tmp["m.rkm"], "--format", "onnx", "--out", tmp["m.onnx"], "--json");
        var summary = JsonNode.Parse(result.Stdout)!;
        Assert.Equal("gbdt", (string)summary["model_family"]!);
        Assert.Equal(8, (int)summary["ir_version"]!);

        float[] predicted = ScoresFile.Read(tmp["m.scores"], test.Data.RowCount);
        var testRead = DatasetReader.Read(tmp["test.txt"], new DatasetReadOptions { FeatureCount = train.Data.FeatureCount });
        AssertClose(predicted, OnnxScores(File.ReadAllBytes(tmp["m.onnx"]), testRead));
    }

    [Fact]
    public void ExportCommandRefusesAPerQueryPipelineWithExitCode2AndWritesNothing()
    {
        using var tmp = new TempDir();
        var (train, valid, _) = SyntheticGenerator.GenerateSplits("small", 40, 17);
        DatasetWriter.Write(train.Data, tmp["train.txt"]);
        DatasetWriter.Write(valid.Data, tmp["valid.txt"]);
        Run("train", "--train", tmp["train.txt"], "--valid", tmp["valid.txt"], "--ranker", "linear-ranknet", "--epochs", "3", "--out", tmp["m.rkm"]);
        var result = CliHarness.Run("export", "--model", tmp["m.rkm"], "--out", tmp["m.onnx"]);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("query-minmax", result.Stderr);
        Assert.False(File.Exists(tmp["m.onnx"]));
        var format = CliHarness.Run("export", "--model", tmp["m.rkm"], "--out", tmp["m.onnx"], "--format", "pmml");
        Assert.Equal(ExitCodes.BadInput, format.ExitCode);
        Assert.Contains("--format", format.Stderr);
    }

    private static CliHarness.CliResult Run(params string[] args)
    {
        var result = CliHarness.Run(args);
        Assert.True(result.ExitCode == ExitCodes.Ok, $"ranking {string.Join(' ', args)}: {result.Stderr}");
        return result;
    }

    private static RankingModel Train(string ranker, string pipeline, RankingDataset train, RankingDataset valid)
    {
        var options = new RankerOptions { Seed = 42, Threads = 1, Iterations = ranker.Contains("lambdamart") ? 40 : 8 };
        return RankerTraining.Train(Catalog.Get(ranker), train, valid, options, pipeline, MetricSpec.ParseList("ndcg@10"), NdcgContract.Default).Model;
    }

    private void AssertSameScores(RankingModel model, RankingDataset raw)
    {
        float[] ours = model.Predict(raw);
        double worst = AssertClose(ours, OnnxScores(OnnxExport.ToBytes(model), raw));
        output.WriteLine($"{model.Manifest.Ranker} ({model.Manifest.ModelFamily}), pipeline {model.Pipeline.Spec}: {raw.RowCount} rows, worst relative difference {worst:E2}");
    }

    private static float[] OnnxScores(byte[] onnx, RankingDataset raw)
    {
        using var session = new InferenceSession(onnx);
        var input = new DenseTensor<float>(raw.Features.ToArray(), [raw.RowCount, raw.FeatureCount]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(OnnxFormat.FeaturesInput, input)]);
        return results.Single(r => r.Name == OnnxFormat.ScoreOutput).AsTensor<float>().ToArray();
    }

    private static double AssertClose(float[] ours, float[] onnx)
    {
        Assert.Equal(ours.Length, onnx.Length);
        Assert.All(ours, s => Assert.True(float.IsFinite(s)));
        double worst = 0; int worstRow = -1;
        for (int i = 0; i < ours.Length; i++)
        {
            double error = Math.Abs(onnx[i] - (double)ours[i]) / Math.Max(Math.Abs((double)ours[i]), 1.0);
            if (!(error <= worst)) { worst = error; worstRow = i; }
        }
        Assert.True(worst <= Tolerance, $"row {worstRow}: ours {ours[Math.Max(worstRow, 0)]:R}, ONNX Runtime {onnx[Math.Max(worstRow, 0)]:R} (relative error {worst:E2})");
        return worst;
    }

    private static void SprinkleNaN(RankingDataset data, int features, double share, ulong seed)
    {
        var random = new Random((int)seed);
        for (int r = 0; r < data.RowCount; r++)
            for (int j = 0; j < features; j++)
                if (random.NextDouble() < share) data.Features[r * data.FeatureCount + j] = float.NaN;
    }
}
