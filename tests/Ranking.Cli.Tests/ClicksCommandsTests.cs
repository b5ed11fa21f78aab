using System.Text.Json;
using Ranking.Cli;

namespace Ranking.Cli.Tests;

public sealed class ClicksCommandsTests() : TempFolderTests("ranking-cli-clicks-")
{
    private string Generated()
    {
        var result = CliHarness.Run("data", "generate", "--preset", "small", "--queries", "60", "--seed", "3", "--out", P("set.txt"));
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        return P("set.txt");
    }

    [Fact]
    public void SimulateThenEstimatePropensitiesFromSwaps()
    {
        string data = Generated();
        var sim = CliHarness.Run("clicks", "simulate", "--data", data, "--sessions", "60000", "--intervention", "swap", "--production-fraction", "0.1",
            "--top-k", "5", "--seed", "4", "--out", P("log.tsv"), "--json");
        Assert.True(sim.ExitCode == ExitCodes.Ok, sim.Stderr);
        using (var json = JsonDocument.Parse(sim.Stdout))
        {
            Assert.Equal(60000, json.RootElement.GetProperty("sessions").GetInt32());
            var ctr = json.RootElement.GetProperty("click_rate_by_position").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(5, ctr.Length);
            Assert.True(ctr[0] > ctr[4]);
        }
        var again = CliHarness.Run("clicks", "simulate", "--data", data, "--sessions", "60000", "--intervention", "swap", "--production-fraction", "0.1",
            "--top-k", "5", "--seed", "4", "--out", P("log2.tsv"), "--threads", "1");
        Assert.Equal(ExitCodes.Ok, again.ExitCode);
        Assert.Equal(File.ReadAllBytes(P("log.tsv")), File.ReadAllBytes(P("log2.tsv")));

        var prop = CliHarness.Run("clicks", "propensity", "--data", data, "--log", P("log.tsv"), "--out", P("prop.tsv"), "--json");
        Assert.True(prop.ExitCode == ExitCodes.Ok, prop.Stderr);
        using var p = JsonDocument.Parse(prop.Stdout);
        var theta = p.RootElement.GetProperty("propensities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int k = 0; k < 5; k++) Assert.InRange(theta[k] * (k + 1), 0.8, 1.2);   // PBM eta = 1: theta_k = 1/k
        Assert.StartsWith("position\tpropensity\tsupport\n1\t1\t", File.ReadAllText(P("prop.tsv")));

        var agg = CliHarness.Run("clicks", "aggregate", "--data", data, "--log", P("log.tsv"), "--out", P("counts.tsv"));
        Assert.Equal(ExitCodes.Ok, agg.ExitCode);
        Assert.StartsWith("qid\tdoc\tposition\timpressions\tclicks\n", File.ReadAllText(P("counts.tsv")));
    }

    [Fact]
    public void BadLogsAndUsageExitWith2()
    {
        string data = Generated();
        File.WriteAllText(P("bad.tsv"), "session\tqid\tdoc\tposition\tclick\n0\t1\t0\t0\t1\n");
        var bad = CliHarness.Run("clicks", "propensity", "--data", data, "--log", P("bad.tsv"));
        Assert.Equal(ExitCodes.BadInput, bad.ExitCode);
        Assert.Contains("bad.tsv:2:", bad.Stderr);
        Assert.Contains("position 0", bad.Stderr);
        var noSwaps = CliHarness.Run("clicks", "simulate", "--data", data, "--sessions", "2000", "--out", P("plain.tsv"), "--production-fraction", "0.1");
        Assert.Equal(ExitCodes.Ok, noSwaps.ExitCode);
        var harvest = CliHarness.Run("clicks", "propensity", "--data", data, "--log", P("plain.tsv"));
        Assert.Equal(ExitCodes.BadInput, harvest.ExitCode);
        Assert.Contains("randomised swaps", harvest.Stderr);
        Assert.Equal(ExitCodes.BadInput, CliHarness.Run("clicks", "simulate", "--data", data, "--click-model", "nope", "--out", P("x.tsv")).ExitCode);
        Assert.Equal(ExitCodes.BadInput, CliHarness.Run("clicks", "simulate", "--data", data, "--noise", "0.9,0.1", "--out", P("x.tsv")).ExitCode);
        Assert.False(File.Exists(P("x.tsv")));
    }
}

public sealed class ClicksExperimentTests
{
    [Fact]
    public void ExperimentReportsEveryEstimatorOnTrueGradesAndThePropensities()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ranking-cli-clicks-exp-" + Guid.NewGuid().ToString("N"));
        try
        {
            var result = CliHarness.Run("clicks", "experiment", "--synthetic", "small", "--queries", "90", "--sessions", "2000,8000", "--swap-sessions", "20000",
                "--production-fraction", "0.1", "--epochs", "2", "--trees", "5", "--threads", "2", "--out", dir, "--json");
            Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
            using var json = JsonDocument.Parse(result.Stdout);
            var names = json.RootElement.GetProperty("estimators").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToArray();
            Assert.Contains("naive-softmax", names);
            Assert.Contains("ipw-softmax (true)", names);
            Assert.Contains("unbiased-lambdarank", names);
            Assert.Contains("lambdamart position GAM", names);
            Assert.Contains("skyline softmax", names);
            foreach (var e in json.RootElement.GetProperty("estimators").EnumerateArray())
                Assert.InRange(e.GetProperty("metrics").GetProperty("ndcg@10").GetDouble(), 0.0, 1.0);
            var truth = json.RootElement.GetProperty("propensities").GetProperty("true").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.Equal(10, truth.Length);
            Assert.Equal(0.5, truth[1], 12);
            Assert.Equal(2, json.RootElement.GetProperty("learning_curve").GetArrayLength());
            foreach (var point in json.RootElement.GetProperty("learning_curve").EnumerateArray())
                foreach (var key in new[] { "gbdt ipw-softmax (true)", "naive per query", "ipw per query", "gbdt ipw per query" })
                    Assert.InRange(point.GetProperty("ndcg@10").GetProperty(key).GetDouble(), 0.0, 1.0);
            Assert.True(File.Exists(Path.Combine(dir, "report.md")));
            foreach (var plot in new[] { "propensities", "learning-curve" })
            {
                Assert.True(new FileInfo(Path.Combine(dir, plot + ".png")).Length > 1000, plot);
                Assert.Contains($"![{plot}]({plot}.png)", File.ReadAllText(Path.Combine(dir, "report.md")));
            }
            string propensitySvg = File.ReadAllText(Path.Combine(dir, "propensities.svg"));
            foreach (var legend in new[] { "true", "interventions", "regression-em" }) Assert.Contains(legend, propensitySvg);
            Assert.Contains("sessions (log scale)", File.ReadAllText(Path.Combine(dir, "learning-curve.svg")));
            Assert.StartsWith("position\ttrue\tinterventions\tregression-em\tunbiased-lambdarank t+\n", File.ReadAllText(Path.Combine(dir, "propensities.tsv")));
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    [Fact]
    public void CurveOnlyTrainsTheCurveAndTheSkylinesAlone()
    {
        var result = CliHarness.Run("clicks", "experiment", "--synthetic", "small", "--queries", "60", "--sessions", "1000,3000",
            "--production-fraction", "0.1", "--epochs", "2", "--trees", "3", "--threads", "2", "--curve-only", "--json");
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var names = json.RootElement.GetProperty("estimators").EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToArray();
        Assert.Equal(new[] { "production", "skyline lambdamart", "skyline softmax", "naive per query (linear)", "gbdt naive per query", "ipw per query (linear)", "gbdt ipw per query",
            "ipw (interventions) per query (linear)", "gbdt ipw (interventions) per query", "limit: true P(click|examined), logged rows", "limit: true P(click|examined), all rows" }, names);
        // each per-query IPW run is tested against the naive run of its own model
        var ipwTrees = json.RootElement.GetProperty("estimators").EnumerateArray().First(e => e.GetProperty("name").GetString() == "gbdt ipw per query");
        Assert.Equal("gbdt naive per query", ipwTrees.GetProperty("versus_naive").GetProperty("baseline").GetString());
        var curve = json.RootElement.GetProperty("learning_curve").EnumerateArray().ToArray();
        Assert.Equal(new[] { 1000, 3000 }, curve.Select(c => c.GetProperty("sessions").GetInt32()));
        Assert.All(curve, c => Assert.InRange(c.GetProperty("ndcg@10").GetProperty("gbdt naive-softmax").GetDouble(), 0.0, 1.0));
    }

    [Fact]
    public void StochasticProductionRankerWithPerQuerySetsTrainsNaiveIpwAndPolicyAware()
    {
        var result = CliHarness.Run("clicks", "experiment", "--synthetic", "small", "--queries", "60", "--sessions", "1000,3000",
            "--production-fraction", "0.1", "--epochs", "2", "--trees", "3", "--threads", "2", "--curve-only", "--click-sets", "query",
            "--production-temperature", "1", "--json");
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        using var json = JsonDocument.Parse(result.Stdout);
        var point = json.RootElement.GetProperty("learning_curve")[1].GetProperty("ndcg@10");
        var keys = point.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(new[] { "naive per query", "gbdt naive per query", "ipw per query", "gbdt ipw per query", "policy-aware ipw per query", "gbdt policy-aware ipw per query" }, keys);
        var bad = CliHarness.Run("clicks", "experiment", "--synthetic", "small", "--queries", "60", "--sessions", "1000", "--click-sets", "rows");
        Assert.Equal(ExitCodes.BadInput, bad.ExitCode);
        Assert.Contains("--click-sets", bad.Stderr);
    }
}
