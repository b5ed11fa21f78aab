using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Ranking.Cli.Commands;
using Ranking.Data;

namespace Ranking.Cli.Tests;

public class CompareCommandTests
{
    /// <summary>Writes a set as LETOR text, the way a user would hand it to the CLI.</summary>
    internal static void WriteLetor(RankingDataset data, string path)
    {
        var sb = new StringBuilder();
        for (int q = 0; q < data.QueryCount; q++)
            for (int row = data.GroupOffsets[q]; row < data.GroupOffsets[q + 1]; row++)
            {
                sb.Append(data.Labels[row].ToString(CultureInfo.InvariantCulture)).Append(" qid:").Append(data.QueryIds[q]);
                var features = data.Row(row);
                for (int f = 0; f < features.Length; f++)
                    sb.Append(' ').Append(f + 1).Append(':').Append(features[f].ToString("R", CultureInfo.InvariantCulture));
                sb.Append('\n');
            }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, sb.ToString());
    }

    internal static void WriteSyntheticFold(string dir, int queries, ulong seed)
    {
        var (train, valid, test) = SyntheticGenerator.GenerateSplits("small", queries, seed);
        WriteLetor(train.Data, Path.Combine(dir, "train.txt"));
        WriteLetor(valid.Data, Path.Combine(dir, "vali.txt"));
        WriteLetor(test.Data, Path.Combine(dir, "test.txt"));
    }

    private const string Rankers = "lambdamart,lambdamart-fasttree";

    [Fact]
    public void CompareWritesTheReportAndItsNumbersEqualRankingEvalOnTheSavedPredictions()
    {
        using var tmp = new TempDir();
        WriteSyntheticFold(tmp["data"], 60, 7);
        var result = CliHarness.Run("compare", "--train", tmp["data/train.txt"], "--valid", tmp["data/vali.txt"], "--test", tmp["data/test.txt"],
            "--rankers", Rankers, "--iterations", "8", "--threads", "1", "--metrics", "ndcg@1,ndcg@5,map,err@10", "--out", tmp["out"]);
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        Assert.Contains("lambdamart-fasttree", result.Stdout);
        Assert.Contains("NDCG contract:", result.Stdout);
        foreach (var f in new[] { "report.md", "results.json", "learning-curves.png", "learning-curves.svg", "test-metrics.png", "test-metrics.svg", "per-query-scatter.png" })
            Assert.True(File.Exists(tmp[$"out/{f}"]), f);

        var json = JsonNode.Parse(File.ReadAllText(tmp["out/results.json"]))!;
        Assert.Equal("ranking-compare/1", (string?)json["schema"]);
        Assert.Equal(new[] { "ndcg@1", "ndcg@5", "map", "err@10", "ndcg@10" }, json["metrics"]!.AsArray().Select(m => (string)m!));
        string best = (string)json["best"]!;
        string bestPredictions = tmp["out/" + (string)json["rankers"]!.AsArray().First(r => (string)r!["name"]! == best)!["folds"]![0]!["predictions"]!];
        foreach (var ranker in json["rankers"]!.AsArray())
        {
            var fold = ranker!["folds"]![0]!;
            string predictions = tmp["out/" + (string)fold["predictions"]!];
            var eval = CliHarness.Run("eval", "--data", tmp["data/test.txt"], "--scores", predictions, "--metrics", "ndcg@1,ndcg@5,map,err@10,ndcg@10",
                "--baseline-scores", bestPredictions, "--json");
            Assert.True(eval.ExitCode == ExitCodes.Ok, eval.Stderr);
            var evalJson = JsonNode.Parse(eval.Stdout)!;
            foreach (var metric in json["metrics"]!.AsArray().Select(m => (string)m!))
            {
                Assert.Equal((double)evalJson["metrics"]![metric]!, (double)fold["metrics"]![metric]!);
                Assert.Equal((double)evalJson["metrics"]![metric]!, (double)ranker["mean"]![metric]!);
            }
            if ((string)ranker["name"]! == best) { Assert.Null(ranker["versusBest"]); continue; }
            var c = evalJson["comparison"]!["ndcg@10"]!;
            var s = ranker["versusBest"]!;
            foreach (var key in new[] { "meanDifference", "pValue", "ciLow", "ciHigh" })
                Assert.Equal((double)c[key]!, (double)s[key]!);
            Assert.True(fold["learningCurve"]!.AsArray().Count > 0);
        }
        string md = File.ReadAllText(tmp["out/report.md"]);
        Assert.Contains("| ranker | model | ndcg@1 | ndcg@5 | map | err@10 | ndcg@10 | train s |", md);
        Assert.Contains("empty=", md);
        Assert.Contains("![per-query-scatter](per-query-scatter.png)", md);
    }

    [Fact]
    public void FoldsGiveMeanAndStdAndPoolTheTestQueriesForSignificance()
    {
        using var tmp = new TempDir();
        WriteSyntheticFold(tmp["data/Fold1"], 50, 1);
        WriteSyntheticFold(tmp["data/Fold2"], 50, 2);
        var result = CliHarness.Run("compare", "--folds", tmp["data"], "--iterations", "5", "--threads", "1",
            "--out", tmp["out"], "--json", "--rankers", "lambdamart,gbdt-regression");
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        var json = JsonNode.Parse(result.Stdout)!;   // --json: stdout is exactly results.json
        Assert.Equal(2, json["folds"]!.AsArray().Count);
        int testQueries = json["folds"]!.AsArray().Sum(f => (int)f!["testQueries"]!);
        foreach (var ranker in json["rankers"]!.AsArray())
        {
            var perFold = ranker!["folds"]!.AsArray().Select(f => (double)f!["metrics"]!["ndcg@10"]!).ToArray();
            Assert.Equal(perFold.Average(), (double)ranker["mean"]!["ndcg@10"]!, 12);
            double std = Math.Abs(perFold[0] - perFold[1]) / Math.Sqrt(2);
            Assert.Equal(std, (double)ranker["stdOverFolds"]!["ndcg@10"]!, 12);
            if (ranker["versusBest"] is { } s) Assert.Equal(testQueries, (int)s["queries"]!);
        }
        Assert.Contains("mean ± standard deviation over 2 folds", File.ReadAllText(tmp["out/report.md"]));
    }

    [Fact]
    public void BadUsageIsExitCode2WithAClearMessage()
    {
        using var tmp = new TempDir();
        WriteSyntheticFold(tmp["data"], 20, 3);
        var unknown = CliHarness.Run("compare", "--train", tmp["data/train.txt"], "--test", tmp["data/test.txt"], "--rankers", "no-such-ranker", "--out", tmp["out"]);
        Assert.Equal(ExitCodes.BadInput, unknown.ExitCode);
        Assert.Contains("lambdamart", unknown.Stderr);
        Assert.False(Directory.Exists(tmp["out"]));
        var noTest = CliHarness.Run("compare", "--train", tmp["data/train.txt"], "--rankers", "lambdamart");
        Assert.Equal(ExitCodes.BadInput, noTest.ExitCode);
        Assert.Contains("--test", noTest.Stderr);
        var missing = CliHarness.Run("compare", "--folds", tmp["nowhere"], "--rankers", "lambdamart");
        Assert.Equal(ExitCodes.BadInput, missing.ExitCode);
    }

    [Fact]
    public void DiscoverFoldsOrdersFoldsNumericallyAndPrefersRkds()
    {
        using var tmp = new TempDir();
        foreach (var k in new[] { 1, 2, 10 }) WriteSyntheticFold(tmp[$"d/Fold{k}"], 10, (ulong)k);
        File.WriteAllText(tmp["d/Fold2/train.rkds"], "");
        var folds = CompareCommand.DiscoverFolds(tmp["d"]);
        Assert.Equal(new[] { "Fold1", "Fold2", "Fold10" }, folds.Select(f => f.Name));
        Assert.EndsWith("train.rkds", folds[1].TrainPath);
        Assert.EndsWith("vali.txt", folds[0].ValidPath);
    }
}
