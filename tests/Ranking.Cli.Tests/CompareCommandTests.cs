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

    /// <summary>
    /// alpha-NDCG in compare: each fold's test set is joined to a TREC diversity qrels file by query id and docno, under
    /// the trec contract (docno ties, so valid and test keep their document ids), and compare's numbers equal
    /// <c>ranking eval --subtopics</c> on the saved predictions.
    /// </summary>
    [Fact]
    public void Compare_takes_subtopic_judgements_for_alpha_ndcg_and_agrees_with_eval()
    {
        using var tmp = new TempDir();
        WriteSyntheticFold(tmp["data"], 40, 11);
        // The test rows get document ids (LETOR comments); every third row of a query covers one or two of 3 subtopics.
        var lines = File.ReadAllLines(tmp["data/test.txt"]);
        var qrels = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            string qid = lines[i].Split(' ')[1]["qid:".Length..];
            lines[i] += $" # docid = D{i}";
            if (i % 3 == 0) qrels.Append(CultureInfo.InvariantCulture, $"{qid} {1 + i % 2} D{i} 1\n");
            if (i % 5 == 0) qrels.Append(CultureInfo.InvariantCulture, $"{qid} 3 D{i} 1\n");
        }
        File.WriteAllLines(tmp["data/test.txt"], lines);
        File.WriteAllText(tmp["qrels.txt"], qrels.ToString());
        // The trec contract's docno ties apply to the validation metric too, so the validation rows carry ids as well.
        File.WriteAllLines(tmp["data/vali.txt"], File.ReadAllLines(tmp["data/vali.txt"]).Select((line, i) => $"{line} # docid = V{i}"));

        var result = CliHarness.Run("compare", "--train", tmp["data/train.txt"], "--valid", tmp["data/vali.txt"], "--test", tmp["data/test.txt"],
            "--rankers", "linear-ranknet,ranknet", "--iterations", "3", "--threads", "1", "--contract", "trec",
            "--metrics", "alpha-ndcg@5,alpha-ndcg@10:alpha=0.8,ndcg@10", "--subtopics", tmp["qrels.txt"], "--out", tmp["out"], "--json");
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        var json = JsonNode.Parse(File.ReadAllText(tmp["out/results.json"]))!;
        foreach (var ranker in json["rankers"]!.AsArray())
        {
            var fold = ranker!["folds"]![0]!;
            var eval = CliHarness.Run("eval", "--data", tmp["data/test.txt"], "--scores", tmp["out/" + (string)fold["predictions"]!], "--contract", "trec",
                "--metrics", "alpha-ndcg@5,alpha-ndcg@10:alpha=0.8,ndcg@10", "--subtopics", tmp["qrels.txt"], "--json");
            Assert.True(eval.ExitCode == ExitCodes.Ok, eval.Stderr);
            var evalJson = JsonNode.Parse(eval.Stdout)!;
            foreach (var metric in new[] { "alpha-ndcg@5", "alpha-ndcg@10:alpha=0.8", "ndcg@10" })
                Assert.Equal((double)evalJson["metrics"]![metric]!, (double)fold["metrics"]![metric]!);
            double alpha5 = (double)fold["metrics"]!["alpha-ndcg@5"]!;
            Assert.True(alpha5 > 0 && alpha5 < 1.5, $"alpha-ndcg@5 = {alpha5}");
        }

        // Without judgements an alpha metric is a clear usage error, and a qrels line that is not four fields names its line.
        var none = CliHarness.Run("compare", "--train", tmp["data/train.txt"], "--test", tmp["data/test.txt"], "--rankers", "linear-ranknet",
            "--iterations", "1", "--metrics", "alpha-ndcg@5", "--out", tmp["out2"]);
        Assert.Equal(2, none.ExitCode);
        File.WriteAllText(tmp["bad.txt"], "1 1 D0 1\n1 D1 1\n");
        var bad = CliHarness.Run("compare", "--train", tmp["data/train.txt"], "--test", tmp["data/test.txt"], "--rankers", "linear-ranknet",
            "--iterations", "1", "--metrics", "alpha-ndcg@5", "--subtopics", tmp["bad.txt"], "--out", tmp["out3"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("bad.txt:2", bad.Stderr);
    }
}

public class CompareClicksTests
{
    [Fact]
    public void SimulatedClicksTrainTheEstimatorsAndTheSkylineMatchesAPlainCompare()
    {
        using var tmp = new TempDir();
        CompareCommandTests.WriteSyntheticFold(tmp["data"], 60, 7);
        string[] common = ["--train", tmp["data/train.txt"], "--valid", tmp["data/vali.txt"], "--test", tmp["data/test.txt"], "--iterations", "4", "--threads", "1"];
        var clicks = CliHarness.Run(["compare", .. common, "--simulate-clicks", "3000", "--production-fraction", "0.1", "--out", tmp["clicks"],
            "--rankers", "production,naive-linear,ipw-linear,policy-aware-gbdt,lambdamart,unbiased-lambdarank/gbdt,skyline-lambdamart"]);
        Assert.True(clicks.ExitCode == ExitCodes.Ok, clicks.Stderr);
        var json = JsonNode.Parse(File.ReadAllText(tmp["clicks/results.json"]))!;
        var names = json["rankers"]!.AsArray().Select(r => (string)r!["name"]!).ToArray();
        Assert.Equal(new[] { "production", "naive-linear", "ipw-linear", "policy-aware-gbdt", "lambdamart", "unbiased-lambdarank/gbdt", "skyline-lambdamart" }, names);
        Assert.Contains("Trained on simulated clicks: 3000 sessions", File.ReadAllText(tmp["clicks/report.md"]));

        // The skyline learns from the true grades as a plain compare does; lambdamart on clicks does not.
        var plain = CliHarness.Run(["compare", .. common, "--rankers", "lambdamart", "--out", tmp["plain"]]);
        Assert.True(plain.ExitCode == ExitCodes.Ok, plain.Stderr);
        string Predictions(string dir, string ranker)
        {
            var root = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!;
            var fold = root["rankers"]!.AsArray().First(r => (string)r!["name"]! == ranker)!["folds"]![0]!;
            return File.ReadAllText(Path.Combine(dir, (string)fold["predictions"]!));
        }
        Assert.Equal(Predictions(tmp["plain"], "lambdamart"), Predictions(tmp["clicks"], "skyline-lambdamart"));
        Assert.NotEqual(Predictions(tmp["plain"], "lambdamart"), Predictions(tmp["clicks"], "lambdamart"));
        Assert.NotEqual(Predictions(tmp["clicks"], "naive-linear"), Predictions(tmp["clicks"], "ipw-linear"));

        // "production" is the very ranker that chose what the log shows, not one retrained with compare's settings.
        var trainSet = DatasetReader.Read(tmp["data/train.txt"]);
        var testSet = DatasetReader.Read(tmp["data/test.txt"], new DatasetReadOptions { FeatureCount = trainSet.FeatureCount });
        var (production, _) = Ranking.Clicks.ProductionRanker.Train(trainSet, 0.1, 42, threads: 1);
        var expected = production.Predict(testSet);
        var written = Predictions(tmp["clicks"], "production").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(t => float.Parse(t, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(expected.Length, written.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], written[i], 1e-5f);

        var zero = CliHarness.Run(["compare", .. common, "--simulate-clicks", "0", "--rankers", "naive-linear", "--out", tmp["bad"]]);
        Assert.Equal(ExitCodes.BadInput, zero.ExitCode);
        Assert.Contains("--simulate-clicks", zero.Stderr);
    }
}
