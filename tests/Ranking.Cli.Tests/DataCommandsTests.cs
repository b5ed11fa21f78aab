using System.Text.Json;
using Ranking.Cli;

namespace Ranking.Cli.Tests;

public sealed class DataCommandsTests() : TempFolderTests("ranking-cli-data-")
{
    internal static string? SharedDatasets() => SharedData.Root;

    [SkippableFact]
    public void StatsOfMq2008Fold1TrainIsExactlyTheDocumentedJson()
    {
        string? shared = SharedDatasets();
        Skip.If(shared is null, "../shared/datasets is not present beside the repository");
        var result = CliHarness.Run("data", "stats", Path.Combine(shared, "mq2008", "Fold1", "train.txt"), "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal("{\"rows\":9630,\"queries\":471,\"features\":46,\"label_counts\":{\"0\":7820,\"1\":1223,\"2\":587},"
            + "\"docs_per_query\":{\"min\":5,\"mean\":20.45,\"max\":121},\"empty_queries\":132}\n", result.Stdout);
    }

    [SkippableFact]
    public void StatsOfTheLightGbmExampleUsesItsQueryFile()
    {
        string? shared = SharedDatasets();
        Skip.If(shared is null, "../shared/datasets is not present beside the repository");
        var result = CliHarness.Run("data", "stats", Path.Combine(shared, "lightgbm-lambdarank", "rank.train"), "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(3005, json.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(201, json.RootElement.GetProperty("queries").GetInt32());
    }

    [Fact]
    public void StatsTextNamesEveryFigure()
    {
        File.WriteAllText(P("a.txt"), "2 qid:1 1:1\n0 qid:1 1:2\n0 qid:2 1:3\n");
        var result = CliHarness.Run("data", "stats", P("a.txt"));
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("rows           3", result.Stdout);
        Assert.Contains("labels         0: 2  2: 1", result.Stdout);
        Assert.Contains("docs/query     min 1  mean 1.50  max 2", result.Stdout);
        Assert.Contains("empty queries  1", result.Stdout);
    }

    [Fact]
    public void GenerateIsByteIdenticalForTheSameSeedAndSplitsWithOracle()
    {
        Assert.Equal(0, CliHarness.Run("data", "generate", "--preset", "small", "--queries", "30", "--seed", "5", "--out", P("a.txt")).ExitCode);
        Assert.Equal(0, CliHarness.Run("data", "generate", "--preset", "small", "--queries", "30", "--seed", "5", "--out", P("b.txt")).ExitCode);
        Assert.Equal(File.ReadAllBytes(P("a.txt")), File.ReadAllBytes(P("b.txt")));
        Assert.Equal(0, CliHarness.Run("data", "generate", "--preset", "small", "--queries", "30", "--seed", "6", "--out", P("c.txt")).ExitCode);
        Assert.NotEqual(File.ReadAllBytes(P("a.txt")), File.ReadAllBytes(P("c.txt")));

        var result = CliHarness.Run("data", "generate", "--preset", "mslr-like", "--queries", "10", "--seed", "1", "--out", P("m.rkds"), "--split", "--oracle", "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(136, json.RootElement.GetProperty("features").GetInt32());
        var files = json.RootElement.GetProperty("files").EnumerateArray().ToArray();
        Assert.Equal([6, 2, 2], files.Select(f => f.GetProperty("queries").GetInt32()));
        foreach (string part in new[] { "train", "valid", "test" })
        {
            Assert.True(File.Exists(P($"m.{part}.rkds")));
            Assert.True(File.Exists(P($"m.{part}.rkds.oracle")));
        }
    }

    [Fact]
    public void ConvertRoundTripsTextThroughRkdsAndCsvByteForByte()
    {
        Assert.Equal(0, CliHarness.Run("data", "generate", "--queries", "20", "--seed", "3", "--out", P("g.txt")).ExitCode);
        var result = CliHarness.Run("data", "convert", P("g.txt"), P("g.rkds"), "--json");
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("\"format\":\"rkds\"", result.Stdout);
        Assert.Equal(0, CliHarness.Run("data", "convert", P("g.rkds"), P("back.txt")).ExitCode);
        Assert.Equal(File.ReadAllBytes(P("g.txt")), File.ReadAllBytes(P("back.txt")));
        Assert.Equal(0, CliHarness.Run("data", "convert", P("g.txt"), P("g.csv")).ExitCode);
        Assert.Equal(0, CliHarness.Run("data", "convert", P("g.csv"), P("back2.txt")).ExitCode);
        Assert.Equal(File.ReadAllBytes(P("g.txt")), File.ReadAllBytes(P("back2.txt")));
        Assert.Equal(0, CliHarness.Run("data", "convert", P("g.txt"), P("g.tsv")).ExitCode);
        Assert.StartsWith("label\tqid\tf1\t", File.ReadAllText(P("g.tsv")));
    }

    [Fact]
    public void ValidateJsonListsEveryProblemUpToTheLimit()
    {
        File.WriteAllText(P("bad.txt"), string.Concat(Enumerable.Range(0, 30).Select(i => $"1 qid:{i} 1:x{i}\n")));
        var result = CliHarness.Run("data", "validate", P("bad.txt"), "--json", "--max-errors", "5");
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.False(json.RootElement.GetProperty("valid").GetBoolean());
        var errors = json.RootElement.GetProperty("errors").EnumerateArray().ToArray();
        Assert.Equal(5, errors.Length);
        Assert.Equal([1L, 2, 3, 4, 5], errors.Select(e => e.GetProperty("line").GetInt64()));
        Assert.Equal(11, errors[0].GetProperty("column").GetInt32());

        var text = CliHarness.Run("data", "validate", P("bad.txt"));
        Assert.Equal(ExitCodes.BadInput, text.ExitCode);
        Assert.Equal(21, text.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void ReadFlagsReachTheReader()
    {
        File.WriteAllText(P("r.txt"), "1 qid:2 1:1 4:1\n0 qid:1 1:1\n1 qid:2 1:1\n");
        Assert.Equal(ExitCodes.BadInput, CliHarness.Run("data", "stats", P("r.txt")).ExitCode);
        var ok = CliHarness.Run("data", "stats", P("r.txt"), "--regroup", "--feature-count", "2", "--drop-extra-features", "--json");
        Assert.Equal(ExitCodes.Ok, ok.ExitCode);
        Assert.Contains("\"queries\":2,\"features\":2", ok.Stdout);
        var beyond = CliHarness.Run("data", "stats", P("r.txt"), "--regroup", "--feature-count", "2");
        Assert.Equal(ExitCodes.BadInput, beyond.ExitCode);
        Assert.Contains("r.txt:1:13: feature index 4 is beyond the feature count 2", beyond.Stderr);
    }

    [Theory]
    [InlineData("data", "stats", "/no/such/file.txt")]
    [InlineData("data", "validate", "/no/such/file.txt")]
    [InlineData("data", "generate", "--preset", "huge", "--out", "x.txt")]
    [InlineData("data", "generate", "--queries", "0", "--out", "x.txt")]
    [InlineData("data", "generate")]
    [InlineData("data", "stats", "a.txt", "--drop-extra-features")]
    public void UsageAndMissingFilesExitWith2AndOneMessage(params string[] args)
    {
        var result = CliHarness.Run(args);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.StartsWith("ranking: ", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void ConvertOntoItselfIsRefused()
    {
        File.WriteAllText(P("s.txt"), "1 qid:1 1:1\n");
        var result = CliHarness.Run("data", "convert", P("s.txt"), P("s.txt"));
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Equal("1 qid:1 1:1\n", File.ReadAllText(P("s.txt")));
    }
}
