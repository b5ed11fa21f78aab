using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Ranking.Cli;
using Ranking.Data;
using Ranking.Models;

namespace Ranking.Cli.Tests;

public sealed class TrainCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ranking-train-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    /// <summary>A LETOR file whose grade follows features 1 and 3 (with noise), so a ranker has something to learn.</summary>
    private string WriteLetor(string name, int queries, int seed)
    {
        var random = new Random(seed);
        var sb = new StringBuilder();
        for (int q = 0; q < queries; q++)
            for (int i = 0, n = 4 + random.Next(8); i < n; i++)
            {
                double[] x = Enumerable.Range(0, 6).Select(_ => random.NextDouble()).ToArray();
                double t = 2 * x[0] - x[2] + 0.3 * random.NextDouble();
                int grade = t > 1.2 ? 2 : t > 0.5 ? 1 : 0;
                sb.Append(grade).Append(" qid:").Append(q + 1);
                for (int f = 0; f < x.Length; f++) sb.Append(' ').Append(f + 1).Append(':').Append(x[f].ToString("F4", CultureInfo.InvariantCulture));
                sb.Append('\n');
            }
        File.WriteAllText(P(name), sb.ToString());
        return P(name);
    }

    [Fact]
    public void RankersJsonListsTheCatalog()
    {
        var result = CliHarness.Run("rankers", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var rankers = JsonNode.Parse(result.Stdout)!["rankers"]!.AsArray();
        var names = rankers.Select(r => r!["name"]!.GetValue<string>()).ToList();
        foreach (string expected in new[] { "ranknet", "lambdarank", "listnet", "listmle", "approxndcg", "ranksvm", "triplet", "contrastive", "softmax", "sampled-softmax", "nce", "pointwise" })
            Assert.Contains(expected, names);
        var ranksvm = rankers.First(r => r!["name"]!.GetValue<string>() == "ranksvm")!;
        Assert.Equal("linear", ranksvm["model"]!.GetValue<string>());
        Assert.Equal("ranksvm", ranksvm["objective"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(ranksvm["description"]!.GetValue<string>()));

        var table = CliHarness.Run("rankers");
        Assert.Equal(ExitCodes.Ok, table.ExitCode);
        Assert.Contains("lambdarank", table.Stdout);
    }

    [Fact]
    public void RankersWithANameShowsItsKnobs()
    {
        var result = CliHarness.Run("rankers", "lambdarank", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        var knobs = JsonNode.Parse(result.Stdout)!["knobs"]!.AsObject();
        Assert.Contains("truncation", knobs.Select(k => k.Key));
        Assert.Contains("hidden", knobs.Select(k => k.Key));
        Assert.Contains("default", knobs["batch-queries"]!.GetValue<string>());
        Assert.Equal(ExitCodes.BadInput, CliHarness.Run("rankers", "no-such").ExitCode);
        Assert.Contains("weight-decay", CliHarness.Run("rankers", "ranksvm").Stdout);
    }

    [Fact]
    public void TrainJsonThenPredictGivesTheInMemoryScoresAndRepeatsBitForBit()
    {
        string train = WriteLetor("train.txt", 60, 1), valid = WriteLetor("valid.txt", 20, 2), test = WriteLetor("test.txt", 20, 3);
        string[] Args(string model) => ["train", "--train", train, "--valid", valid, "--ranker", "listnet", "--epochs", "8", "--hidden", "8",
            "--seed", "3", "--threads", "2", "--out", model, "--json"];

        var first = CliHarness.Run(Args(P("a.model")));
        Assert.True(first.ExitCode == ExitCodes.Ok, first.Stderr);
        var json = JsonNode.Parse(first.Stdout)!.AsObject();
        Assert.Equal(["ranker", "objective", "model", "best_iteration", "train_seconds", "valid_metrics"], json.Select(p => p.Key).ToArray());
        Assert.Equal("listnet", json["ranker"]!.GetValue<string>());
        Assert.Equal("mlp", json["model"]!.GetValue<string>());
        int best = json["best_iteration"]!.GetValue<int>();
        Assert.InRange(best, 1, 8);
        double ndcg = json["valid_metrics"]!["ndcg@10"]!.GetValue<double>();
        Assert.InRange(ndcg, 0.5, 1.0);

        var second = CliHarness.Run(Args(P("b.model")));
        Assert.Equal(ExitCodes.Ok, second.ExitCode);
        Assert.Equal(File.ReadAllBytes(P("a.model")), File.ReadAllBytes(P("b.model")));

        var predicted = CliHarness.Run("predict", "--model", P("a.model"), "--data", test, "--out", P("a.scores"));
        Assert.True(predicted.ExitCode == ExitCodes.Ok, predicted.Stderr);
        var again = CliHarness.Run("predict", "--model", P("b.model"), "--data", test, "--out", P("b.scores"));
        Assert.Equal(ExitCodes.Ok, again.ExitCode);
        Assert.Equal(File.ReadAllBytes(P("a.scores")), File.ReadAllBytes(P("b.scores")));

        var data = DatasetReader.Read(test);
        float[] fromFile = ScoresFile.Read(P("a.scores"), data.RowCount);
        var model = RankingModel.Load(P("a.model"), CatalogFactory.CreateDefault());
        Assert.Equal(model.Predict(data), fromFile);
        Assert.Equal(best, model.Manifest.BestIteration);
        Assert.Equal(ndcg, model.Manifest.ValidMetrics["ndcg@10"]);
    }

    [Fact]
    public void TrainWithProgressPrintsTheTableAndObjectiveModelPairsWork()
    {
        string train = WriteLetor("train.txt", 30, 4), valid = WriteLetor("valid.txt", 10, 5);
        var result = CliHarness.Run("train", "--train", train, "--valid", valid, "--objective", "ranknet", "--model", "linear",
            "--epochs", "3", "--out", P("l.model"), "--metric", "ndcg@5,map");
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        Assert.Contains("linear-ranknet", result.Stdout);
        Assert.Contains("valid ndcg@5", result.Stdout);
        Assert.True(File.Exists(P("l.model")));
    }

    [Theory]
    [InlineData("--ranker", "no-such-ranker")]
    [InlineData("--param", "no-such-knob=1")]
    [InlineData("--leaves", "31")]
    [InlineData("--hidden", "8,x")]
    [InlineData("--objective", "listnet")]
    public void BadUsageIsExitCode2WithOneLine(string flag, string value)
    {
        string train = WriteLetor("train.txt", 10, 6);
        var args = new List<string> { "train", "--train", train, "--out", P("x.model"), flag, value };
        if (flag != "--ranker" && flag != "--objective") args.AddRange(["--ranker", "listnet"]);
        var result = CliHarness.Run([.. args]);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.StartsWith("ranking: ", result.Stderr);
        Assert.False(File.Exists(P("x.model")));
    }

    [Fact]
    public void CorruptedOrMissingModelFilesAreClearErrors()
    {
        string data = WriteLetor("d.txt", 10, 7);
        var missing = CliHarness.Run("predict", "--model", P("none.model"), "--data", data, "--out", P("s.txt"));
        Assert.Equal(ExitCodes.BadInput, missing.ExitCode);
        Assert.Contains("none.model", missing.Stderr);

        Assert.Equal(ExitCodes.Ok, CliHarness.Run("train", "--train", data, "--ranker", "ranksvm", "--epochs", "2", "--out", P("m.model"), "--json").ExitCode);
        byte[] bytes = File.ReadAllBytes(P("m.model"));
        File.WriteAllBytes(P("cut.model"), bytes[..(bytes.Length * 2 / 3)]);
        var truncated = CliHarness.Run("predict", "--model", P("cut.model"), "--data", data, "--out", P("s.txt"));
        Assert.Equal(ExitCodes.BadInput, truncated.ExitCode);
        Assert.Contains("cut.model", truncated.Stderr);
        Assert.Contains("truncated", truncated.Stderr);
        Assert.False(File.Exists(P("s.txt")));
    }
}

/// <summary><c>train --stream</c>: the gbdt rankers learn from the file in chunks and write the model the in-memory run writes.</summary>
public sealed class TrainStreamCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ranking-train-stream-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void StreamedLambdamartWritesTheSameModelAsTheInMemoryRun()
    {
        var set = SyntheticGenerator.Generate(new SyntheticOptions { Preset = "small", Queries = 60, Seed = 3 }).Data;
        DatasetWriter.WriteSvmLight(set, P("train.txt"), sparse: true);
        string[] common = ["train", "--train", P("train.txt"), "--ranker", "lambdamart", "--pipeline", "none", "--trees", "12", "--threads", "1", "--json"];
        var memory = CliHarness.Run([.. common, "--out", P("memory.rkm")]);
        var streamed = CliHarness.Run([.. common, "--out", P("stream.rkm"), "--stream"]);
        Assert.Equal(ExitCodes.Ok, memory.ExitCode);
        Assert.Equal(ExitCodes.Ok, streamed.ExitCode);
        var catalog = Ranking.Cli.CatalogFactory.CreateDefault();
        var a = RankingModel.Load(P("memory.rkm"), catalog);
        var b = RankingModel.Load(P("stream.rkm"), catalog);
        Assert.Equal(a.Predict(set), b.Predict(set));

        var needsNone = CliHarness.Run("train", "--train", P("train.txt"), "--ranker", "lambdamart", "--stream", "--out", P("x.rkm"));
        Assert.Equal(ExitCodes.BadInput, needsNone.ExitCode);
        Assert.Contains("--pipeline none", needsNone.Stderr);
        var notTrees = CliHarness.Run("train", "--train", P("train.txt"), "--ranker", "listnet", "--pipeline", "none", "--stream", "--out", P("y.rkm"));
        Assert.Equal(ExitCodes.BadInput, notTrees.ExitCode);
        Assert.Contains("cannot train from a stream", notTrees.Stderr);
    }
}
