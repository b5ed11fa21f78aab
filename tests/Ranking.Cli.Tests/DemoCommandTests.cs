using System.Diagnostics;
using System.Text.Json.Nodes;
using Ranking.Cli.Commands;
using Ranking.Cli.Compare;

namespace Ranking.Cli.Tests;

public class DemoCommandTests
{
    [Fact]
    public void DemoNeedsNoFilesPrintsTheTableWithTheOracleAndWritesTheReport()
    {
        using var tmp = new TempDir();
        var clock = Stopwatch.StartNew();
        var result = CliHarness.Run("demo", "--out", tmp["demo"]);
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"demo took {clock.Elapsed}");
        Assert.Contains("oracle", result.Stdout);
        Assert.Contains("ndcg@10", result.Stdout);
        var json = JsonNode.Parse(File.ReadAllText(tmp["demo/results.json"]))!;
        var chosen = DemoCommand.Choose(CompareCatalog.Create());
        Assert.Equal(chosen.Select(c => c.Ranker), json["rankers"]!.AsArray().Select(r => (string)r!["name"]!));
        // The oracle knows the hidden score: no ranker beats it by more than noise.
        double oracle = (double)json["oracle"]!["ndcg@10"]!;
        Assert.All(json["rankers"]!.AsArray(), r => Assert.True((double)r!["mean"]!["ndcg@10"]! < oracle + 0.02));
        Assert.True(File.Exists(tmp["demo/test-metrics.png"]));
        Assert.Contains("synthetic", File.ReadAllText(tmp["demo/report.md"]));
    }

    [Fact]
    public void DemoChoosesOneRankerPerRegisteredFamily()
    {
        var chosen = DemoCommand.Choose(CompareCatalog.Create());
        Assert.Equal(chosen.Count, chosen.Select(c => c.Family).Distinct().Count());
        Assert.Contains(chosen, c => c.Family == "gradient-boosted trees");
    }

    [Fact]
    public void DemoQueriesSetsTheSizeOfTheGeneratedSet()
    {
        using var tmp = new TempDir();
        var result = CliHarness.Run("demo", "--queries", "40", "--out", tmp["demo"], "--json");
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        var json = JsonNode.Parse(result.Stdout)!;
        int expected = Ranking.Data.SyntheticGenerator.GenerateSplits("small", 40, 42).Test.Data.QueryCount;
        Assert.Equal(expected, (int)json["folds"]![0]!["testQueries"]!);
        Assert.InRange(expected, 1, 39);
    }

    [Fact]
    public void DemoRefusesTooFewQueries()
    {
        using var tmp = new TempDir();
        var result = CliHarness.Run("demo", "--queries", "5", "--out", tmp["demo"]);
        Assert.Equal(ExitCodes.BadInput, result.ExitCode);
        Assert.Contains("--queries must be at least", result.Stderr);
        Assert.False(Directory.Exists(tmp["demo"]));
    }

    [SkippableFact]
    public void DemoRunsOnALetorFold()
    {
        Skip.If(DatasetsTestData.Root is null, DatasetsTestData.Missing);
        using var tmp = new TempDir();
        var result = CliHarness.Run("demo", "--data", DatasetsTestData.Mq2008Fold1, "--out", tmp["demo"], "--json");
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        var json = JsonNode.Parse(result.Stdout)!;
        Assert.Equal(156, (int)json["folds"]![0]!["testQueries"]!);
        Assert.Null(json["oracle"]);
    }
}
