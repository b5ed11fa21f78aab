using System.Runtime.CompilerServices;
using Ranking.Data;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.Core.Tests.Training;

/// <summary>
/// README "Training and models" shows a library example; the same lines run here, and a second test checks
/// that every line of the README's block appears in this file, so the README cannot drift from code that runs.
/// </summary>
public class ReadmeExampleTests
{
    [SkippableFact]
    public void TheReadmeLibraryExampleRuns()
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        string dir = SharedData.Path("mq2008", "Fold1");
        string modelPath = Path.Combine(Path.GetTempPath(), $"readme-{Environment.ProcessId}.model");
        try
        {
            // README example begins
            var train = DatasetReader.Read(Path.Combine(dir, "train.txt"));
            var sameShape = new DatasetReadOptions { FeatureCount = train.FeatureCount };
            var valid = DatasetReader.Read(Path.Combine(dir, "vali.txt"), sameShape);
            var test = DatasetReader.Read(Path.Combine(dir, "test.txt"), sameShape);

            var catalog = new RankerCatalog();
            CoreRankers.Register(catalog);
            var options = new RankerOptions { Seed = 42, Iterations = 30 };
            options.Parameters["hidden"] = "64,32";

            var (model, result) = RankerTraining.Train(catalog.Get("listnet"), train, valid, options,
                "query-minmax", MetricSpec.ParseList("ndcg@10"), NdcgContract.Default);

            float[] scores = model.Predict(test);
            var report = RankingEvaluator.Evaluate(test, scores, MetricSpec.ParseList("ndcg@10,map"), NdcgContract.Default);
            Console.WriteLine($"best epoch {result.BestIteration}, test NDCG@10 {report.Means["ndcg@10"]:F4}");

            model.Save(modelPath);
            var loaded = RankingModel.Load(modelPath, catalog);
            float[] again = loaded.Predict(test); // the same scores, bit for bit
            // README example ends

            Assert.Equal(scores, again);
            Assert.True(report.Means["ndcg@10"] >= 0.77, $"test NDCG@10 {report.Means["ndcg@10"]}");
            Assert.InRange(result.BestIteration, 1, 30);
        }
        finally
        {
            File.Delete(modelPath);
        }
    }

    [SkippableFact]
    public void TheReadmeBlockIsTheCodeThatRuns()
    {
        string thisFile = ThisFile();
        string? readme = null;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null && readme is null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Ranking.sln"))) readme = Path.Combine(d.FullName, "README.md");
        Skip.If(readme is null || !File.Exists(thisFile), "README.md or this source file is not beside the test binaries");
        string text = File.ReadAllText(readme!);
        int start = text.IndexOf("// README example begins", StringComparison.Ordinal);
        int end = text.IndexOf("// README example ends", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md has no library example block");
        string source = File.ReadAllText(thisFile);
        var lines = text[start..end].Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("```", StringComparison.Ordinal)).ToList();
        Assert.True(lines.Count > 10);
        foreach (string line in lines) Assert.Contains(line, source);
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
