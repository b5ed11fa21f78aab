using System.Text.Json.Nodes;
using Ranking.Cli.Compare;

namespace Ranking.Cli.Tests;

public class CompareReportTests
{
    internal static CompareReport SampleReport(int folds = 1)
    {
        var metrics = new[] { "ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "map" };
        RankerReport Ranker(string name, double level) => new()
        {
            Name = name, Objective = name, ModelFamily = "linear",
            Folds = Enumerable.Range(1, folds).Select(k => new FoldResult
            {
                Fold = $"Fold{k}",
                Metrics = metrics.ToDictionary(m => m, m => level + 0.01 * k),
                StdError = metrics.ToDictionary(m => m, _ => 0.02),
                TrainingSeconds = 1.5,
                BestIteration = 7,
                LearningCurve = Enumerable.Range(1, 10).Select(i => new CurvePoint(i, level - 0.3 / i)).ToList(),
                PerQueryPrimary = Enumerable.Range(0, 40).Select(q => Math.Clamp(level + Math.Sin(q * (level * 10)) * 0.3, 0, 1)).Append(double.NaN).ToArray(),
                Predictions = $"predictions/Fold{k}/{name}.txt",
            }).ToList(),
        };
        var rankers = new[] { Ranker("listnet", 0.45), Ranker("lambdamart", 0.52), Ranker("ranknet", 0.40) };
        rankers[0].VersusBest = new Significance("lambdamart", "ndcg@10", -0.07, 0.0123, -0.11, -0.03, 156);
        rankers[2].VersusBest = new Significance("lambdamart", "ndcg@10", -0.12, 2e-6, -0.16, -0.08, 156);
        return new CompareReport
        {
            Metrics = metrics,
            ContractText = "gain 2^rel-1, log2 discount, ties averaged, empty query = 1",
            Contract = new JsonObject { ["gain"] = "exponential" },
            Folds = Enumerable.Range(1, folds).Select(k => new FoldInfo($"Fold{k}", "train.txt", "vali.txt", "test.txt", 156, 2874)).ToList(),
            Rankers = rankers,
            Seed = 42,
        };
    }

    [Fact]
    public void BestIsTheHighestPrimaryMetricAndStdNeedsTwoFolds()
    {
        var one = SampleReport();
        Assert.Equal("lambdamart", one.Best!.Name);
        Assert.True(double.IsNaN(one.Rankers[0].StdOverFolds("ndcg@10")));
        Assert.Equal(0.02, one.Rankers[0].ErrorBar("ndcg@10"));
        var three = SampleReport(folds: 3);
        // Fold values level+0.01, +0.02, +0.03: mean level+0.02, sample std 0.01.
        Assert.Equal(0.47, three.Rankers[0].Mean("ndcg@10"), 12);
        Assert.Equal(0.01, three.Rankers[0].StdOverFolds("ndcg@10"), 12);
        Assert.Equal(0.01, three.Rankers[0].ErrorBar("ndcg@10"), 12);
    }

    [Fact]
    public void JsonCarriesEveryNumberAndNullsWhatDoesNotExist()
    {
        var report = SampleReport();
        var json = JsonNode.Parse(ReportJson.Write(report))!;
        Assert.Equal(CompareReport.SchemaId, (string?)json["schema"]);
        Assert.Equal("lambdamart", (string?)json["best"]);
        var listnet = json["rankers"]![0]!;
        Assert.Equal(0.46, (double)listnet["mean"]!["ndcg@10"]!, 12);
        Assert.Null(listnet["stdOverFolds"]!["ndcg@10"]);
        Assert.Equal(0.0123, (double)listnet["versusBest"]!["pValue"]!);
        Assert.Null(json["rankers"]![1]!["versusBest"]);
        Assert.Equal(10, listnet["folds"]![0]!["learningCurve"]!.AsArray().Count);
        Assert.Equal("predictions/Fold1/listnet.txt", (string?)listnet["folds"]![0]!["predictions"]);
    }

    [Fact]
    public void MarkdownHasTheTableTheContractAndTheSignificance()
    {
        string md = ReportMarkdown.Write(SampleReport(folds: 2), ["test-metrics.png", "test-metrics.svg"]);
        Assert.Contains("| ranker | model | ndcg@1 | ndcg@3 | ndcg@5 | ndcg@10 | map | train s |", md);
        Assert.Contains("| **lambdamart** |", md);
        Assert.Contains("0.5350 ± 0.0071", md);   // folds 0.53 and 0.54: mean 0.535, sample std 0.00707
        Assert.Contains("empty query = 1", md);
        Assert.Contains("| listnet | -0.0700 | 0.0123 | [-0.1100, -0.0300] | 156 |", md);
        Assert.Contains("2.0e-6", md);
        Assert.Contains("![test-metrics](test-metrics.png)", md);
        Assert.DoesNotContain("test-metrics.svg)", md);
    }

    [Fact]
    public void PlotsAreWrittenAsPngAndSvgWithTheirLabels()
    {
        using var tmp = new TempDir();
        var files = ReportPlots.Write(SampleReport(), tmp.Path);
        if (Environment.GetEnvironmentVariable("RANKING_KEEP_PLOTS") is { } keep)
            foreach (var f in files) File.Copy(tmp[f], Path.Combine(keep, f), overwrite: true);
        Assert.Equal(6, files.Count);
        foreach (var f in files) Assert.True(new FileInfo(tmp[f]).Length > 1000, f);
        byte[] png = File.ReadAllBytes(tmp["test-metrics.png"]);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        string svg = File.ReadAllText(tmp["learning-curves.svg"]);
        Assert.Contains("validation NDCG@10", svg);
        Assert.Contains("lambdamart", svg);
        Assert.Contains("better on", File.ReadAllText(tmp["per-query-scatter.svg"]));
    }
}
