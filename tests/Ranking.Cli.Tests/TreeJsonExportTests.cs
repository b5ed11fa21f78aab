using System.Text.Json.Nodes;
using Ranking.Data;
using Ranking.Onnx;

namespace Ranking.Cli.Tests;

/// <summary>
/// <c>ranking export --format lightgbm-json|xgboost-json</c>: the written trees, read back into the engine's tree scorer,
/// score the test rows as <c>ranking predict</c> does, for LightGBM (lambdamart) and FastTree (whose bias becomes a
/// tree of one leaf); models the formats cannot hold (a feature pipeline, a linear model) are exit code 2 with nothing written.
/// </summary>
public sealed class TreeJsonExportTests() : TempFolderTests("ranking-tree-json-")
{
    [Theory]
    [InlineData("lambdamart", "lightgbm-json")]
    [InlineData("lambdamart", "xgboost-json")]
    [InlineData("lambdamart-fasttree", "lightgbm-json")]
    [InlineData("lambdamart-fasttree", "xgboost-json")]
    public void ExportedTreesScoreAsPredictDoes(string ranker, string format)
    {
        var test = TrainAndPredict(ranker, "none", seed: 31);
        var result = CliHarness.Run("export", "--model", P("m.rkm"), "--format", format, "--out", P("m.json"), "--json");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var summary = JsonNode.Parse(result.Stdout)!;
        Assert.Equal(format, (string)summary["format"]!);

        string text = File.ReadAllText(P("m.json"));
        var trees = format == "lightgbm-json" ? LightGbmJsonDump.Read(text).Ensemble : XgboostJsonDump.Read(text, test.FeatureCount);
        Assert.Equal((int)summary["trees"]! + ((double)summary["base_score"]! != 0 ? 1 : 0), trees.Trees.Count);
        float[] predicted = ScoresFile.Read(P("m.scores"), test.RowCount);
        for (int r = 0; r < test.RowCount; r++)
        {
            double score = trees.Score(test.Features.AsSpan(r * test.FeatureCount, test.FeatureCount));
            double error = Math.Abs(score - predicted[r]) / Math.Max(1, Math.Abs(predicted[r]));
            Assert.True(error <= 1e-5, $"{ranker} {format}, row {r}: predict {predicted[r]:R}, exported trees {score:R}");
        }
    }

    [Fact]
    public void APipelineOrALinearModelIsRefusedWithExitCode2AndNothingWritten()
    {
        TrainAndPredict("lambdamart", "zscore", seed: 32);
        var pipeline = CliHarness.Run("export", "--model", P("m.rkm"), "--format", "lightgbm-json", "--out", P("m.json"));
        Assert.Equal(ExitCodes.BadInput, pipeline.ExitCode);
        Assert.Contains("pipeline 'zscore'", pipeline.Stderr);
        Assert.False(File.Exists(P("m.json")));

        TrainAndPredict("linear-ranknet", "none", seed: 33);
        var linear = CliHarness.Run("export", "--model", P("m.rkm"), "--format", "xgboost-json", "--out", P("m.json"));
        Assert.Equal(ExitCodes.BadInput, linear.ExitCode);
        Assert.Contains("tree models", linear.Stderr);
        Assert.False(File.Exists(P("m.json")));
    }

    /// <summary>Trains <paramref name="ranker"/> into m.rkm, predicts the test set into m.scores; returns the test set as read back.</summary>
    private RankingDataset TrainAndPredict(string ranker, string pipeline, ulong seed)
    {
        var (train, valid, test) = SyntheticGenerator.GenerateSplits("small", 50, seed);
        DatasetWriter.Write(train.Data, P("train.txt"));
        DatasetWriter.Write(valid.Data, P("valid.txt"));
        DatasetWriter.Write(test.Data, P("test.txt"));
        string[] iterations = ["--epochs", ranker.StartsWith("linear", StringComparison.Ordinal) ? "3" : "25"];
        var trained = CliHarness.Run(["train", "--train", P("train.txt"), "--valid", P("valid.txt"), "--ranker", ranker, "--pipeline", pipeline,
            "--threads", "1", .. iterations, "--out", P("m.rkm")]);
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        var predicted = CliHarness.Run("predict", "--model", P("m.rkm"), "--data", P("test.txt"), "--out", P("m.scores"));
        Assert.True(predicted.ExitCode == 0, predicted.Stderr);
        return DatasetReader.Read(P("test.txt"), new DatasetReadOptions { FeatureCount = train.Data.FeatureCount });
    }
}
