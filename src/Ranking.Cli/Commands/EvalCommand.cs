using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ranking.Compute;
using Ranking.Data;
using Ranking.Metrics;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>ranking eval --data FILE --scores SCORES [--metrics LIST] [--contract NAME] [--per-query OUT.csv] [--json]
/// [--baseline-scores B] [--subtopics QRELS]</c>: metrics of one score per row (the LightGBM/XGBoost prediction format) under an
/// explicit NDCG contract; with a baseline, the paired comparison (mean difference, t-test p, bootstrap CI).
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Dataset file (LETOR/SVMlight, LightGBM with .query, CSV/TSV, .rkds).", Required = true };
        var scores = new Option<string>("--scores") { Description = "Scores: one number per line, one line per row of the data.", Required = true };
        var metrics = new Option<string>("--metrics")
        {
            Description = "Comma-separated metrics: ndcg@k, dcg@k, map, map@k, mrr@k, p@k, r@k, err@k, rprec, success@k, arp, opa, bpref, infap, " +
                "alpha-ndcg@k, alpha-dcg@k (options: map:rel=1, p@10:level=2, map@10:denom=min|all|hits, err@10:max=4, alpha-ndcg@10:alpha=0.5).",
            DefaultValueFactory = _ => "ndcg@1,ndcg@3,ndcg@5,ndcg@10,map,mrr@10,err@10",
        };
        var contract = new Option<string>("--contract")
        {
            Description = "NDCG contract: default|lightgbm|xgboost|xgboost-|sklearn|mlnet|ranklib|trec|tfr|torchmetrics|ranx, optionally with overrides " +
                "(\"default,ties=input,empty=omit,discount=log10,apdenom=all,level=1,negative=allow,unjudged=-1,judged=only\").",
            DefaultValueFactory = _ => "default",
        };
        var perQuery = new Option<string?>("--per-query") { Description = "Write per-query values to this CSV file." };
        var json = SharedOptions.Json();
        var baseline = new Option<string?>("--baseline-scores") { Description = "Scores of a baseline on the same rows: adds the paired comparison." };
        var seed = SharedOptions.Seed("Seed of the bootstrap confidence interval.");
        var resamples = new Option<int>("--resamples") { Description = "Bootstrap resamples.", DefaultValueFactory = _ => RankingEvaluator.DefaultResamples };
        var threads = SharedOptions.Threads();
        var backend = BackendOption.Create();
        var maxMemory = ResourceOptions.MaxMemory();
        var docWeights = new Option<string?>("--doc-weights")
        {
            Description = "Per-document weights (one number per line, one line per row) multiplying each row's gain in DCG and NDCG (TF-Ranking's item weights).",
        };

        var subtopics = new Option<string?>("--subtopics")
        {
            Description = "Subtopic judgements for alpha-ndcg/alpha-dcg: a TREC diversity qrels file ('topic subtopic docno judgment' per line), " +
                "joined to the rows by query id and document id (LETOR '# docid = X' comment or a docno column).",
        };

        var command = new Command("eval", "Evaluate scores against a dataset's grades: NDCG, MAP, MRR, ERR, ... under an explicit NDCG contract.")
        {
            data, scores, metrics, contract, perQuery, json, baseline, seed, resamples, threads, backend, maxMemory, docWeights, subtopics,
        };
        command.SetAction(parse => Run(
            parse.GetValue(data)!, parse.GetValue(scores)!, parse.GetValue(metrics)!, parse.GetValue(contract)!,
            parse.GetValue(perQuery), parse.GetValue(json), parse.GetValue(baseline), parse.GetValue(seed),
            parse.GetValue(resamples), parse.GetValue(threads), parse.GetValue(backend)!,
            ResourceOptions.ParseMaxMemory(parse.GetValue(maxMemory)), parse.GetValue(docWeights), parse.GetValue(subtopics)));
        return command;
    }

    private static int Run(string dataPath, string scoresPath, string metricsText, string contractText, string? perQueryPath,
        bool asJson, string? baselinePath, int seed, int resamples, int threads, string backendText = "cpu", long? maxMemoryBytes = null,
        string? documentWeightsPath = null, string? subtopicsPath = null)
    {
        using IComputeBackend backend = BackendOption.Resolve(backendText);
        IReadOnlyList<MetricSpec> metricList;
        NdcgContract contract;
        try
        {
            metricList = MetricSpec.ParseList(metricsText);
            contract = NdcgContract.Parse(contractText);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException(ex.Message);
        }
        if (resamples < 1) throw new UsageException("--resamples must be at least 1.");
        if (!File.Exists(dataPath)) throw new FileNotFoundException($"{dataPath}: data file not found", dataPath);

        // Row comments hold the document ids (LETOR "# docid = X", a docno column) that the docno tie policy and
        // the subtopic join need.
        bool keepIds = contract.Ties == TiePolicy.DocIdDescending || subtopicsPath is not null;
        RankingDataset dataset = DatasetReader.Read(dataPath, new DatasetReadOptions { AllowNaN = true, KeepComments = keepIds, Threads = threads, MaxMemoryBytes = maxMemoryBytes });
        float[] scoreValues = ScoresFile.Read(scoresPath, dataset.RowCount);
        float[]? weights = documentWeightsPath is null ? null : ScoresFile.Read(documentWeightsPath, dataset.RowCount);
        float[]? baselineValues = baselinePath is null ? null : ScoresFile.Read(baselinePath, dataset.RowCount);
        SubtopicJudgements? judgements = subtopicsPath is null ? null : SubtopicJudgements.Read(subtopicsPath, dataset);

        EvaluationReport report = backend.Kind == ComputeBackendKind.Gpu
            ? RankingEvaluator.Evaluate(backend.Metrics, dataset, scoreValues, metricList, contract, weights, judgements)
            : RankingEvaluator.Evaluate(dataset, scoreValues, metricList, contract, threads, weights, judgements);
        ComparisonReport? comparison = null;
        if (baselineValues is not null)
        {
            EvaluationReport baseReport = backend.Kind == ComputeBackendKind.Gpu
                ? RankingEvaluator.Evaluate(backend.Metrics, dataset, baselineValues, metricList, contract, weights, judgements)
                : RankingEvaluator.Evaluate(dataset, baselineValues, metricList, contract, threads, weights, judgements);
            comparison = RankingEvaluator.Compare(report, baseReport, seed, resamples);
        }

        if (perQueryPath is not null) WritePerQuery(perQueryPath, dataset, report, comparison?.Baseline);
        Console.Out.Write(asJson ? ToJson(report, comparison, judgements) + "\n" : ToTable(report, comparison, judgements));
        return ExitCodes.Ok;
    }

    private static string F(double v, string format = "F4") =>
        double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

    private static string Signed(double v) => double.IsNaN(v) ? "n/a" : (v >= 0 ? "+" : "") + F(v);

    internal static string ToTable(EvaluationReport report, ComparisonReport? comparison, SubtopicJudgements? subtopics = null)
    {
        var sb = new StringBuilder();
        sb.Append("contract: ").Append(report.Contract.Describe()).Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"queries: {report.QueryCount}  rows: {report.RowCount}\n");
        if (subtopics is not null)
            sb.Append(CultureInfo.InvariantCulture, $"subtopics: {subtopics.JudgedQueries.Count(j => j)} queries judged (others left out of alpha metrics); ")
              .Append(CultureInfo.InvariantCulture, $"{subtopics.DocumentsNotInData} relevant documents not in the data (ideal only); {subtopics.TopicsNotInData} topics not in the data (ignored)\n");
        int width = Math.Max(8, report.Metrics.Max(m => m.Name.Length) + 2);
        if (comparison is null)
        {
            sb.Append("metric".PadRight(width)).Append("value\n");
            for (int m = 0; m < report.Metrics.Count; m++)
                sb.Append(report.Metrics[m].Name.PadRight(width)).Append(F(report.MeanValues[m])).Append('\n');
            return sb.ToString();
        }
        sb.Append(CultureInfo.InvariantCulture, $"comparison: scores - baseline; paired t-test; bootstrap 95% CI ({comparison.Resamples} resamples, seed {comparison.Seed})\n");
        sb.Append("metric".PadRight(width)).Append("scores    baseline  diff      p-value   95% CI\n");
        foreach (MetricComparison c in comparison.Metrics)
        {
            sb.Append(c.Metric.Name.PadRight(width))
              .Append(F(c.Mean).PadRight(10)).Append(F(c.BaselineMean).PadRight(10)).Append(Signed(c.MeanDifference).PadRight(10))
              .Append(FormatP(c.PValue).PadRight(10))
              .Append('[').Append(Signed(c.CiLow)).Append(", ").Append(Signed(c.CiHigh)).Append("]\n");
        }
        return sb.ToString();
    }

    private static string FormatP(double p) => double.IsNaN(p) ? "n/a" : p < 1e-4 ? p.ToString("0.0E+0", CultureInfo.InvariantCulture) : F(p);

    private static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    internal static string ToJson(EvaluationReport report, ComparisonReport? comparison, SubtopicJudgements? subtopics = null)
    {
        var metrics = new JsonObject();
        for (int m = 0; m < report.Metrics.Count; m++) metrics[report.Metrics[m].Name] = Number(report.MeanValues[m]);
        var root = new JsonObject
        {
            ["contract"] = report.Contract.ToJsonObject(),
            ["queries"] = report.QueryCount,
            ["rows"] = report.RowCount,
            ["metrics"] = metrics,
        };
        if (subtopics is not null)
            root["subtopics"] = new JsonObject
            {
                ["judgedQueries"] = subtopics.JudgedQueries.Count(j => j),
                ["documentsNotInData"] = subtopics.DocumentsNotInData,
                ["topicsNotInData"] = subtopics.TopicsNotInData,
            };
        if (comparison is not null)
        {
            var baseMetrics = new JsonObject();
            var compare = new JsonObject();
            foreach (MetricComparison c in comparison.Metrics)
            {
                baseMetrics[c.Metric.Name] = Number(c.BaselineMean);
                compare[c.Metric.Name] = new JsonObject
                {
                    ["meanDifference"] = Number(c.MeanDifference),
                    ["pValue"] = Number(c.PValue),
                    ["ciLow"] = Number(c.CiLow),
                    ["ciHigh"] = Number(c.CiHigh),
                    ["queries"] = c.Queries,
                };
            }
            root["baseline"] = new JsonObject { ["metrics"] = baseMetrics };
            root["comparison"] = compare;
            root["bootstrap"] = new JsonObject { ["resamples"] = comparison.Resamples, ["seed"] = comparison.Seed, ["level"] = 0.95 };
        }
        return CliJson.Format(root);
    }

    /// <summary>query_id, rows, weight, then one column per metric (and per baseline metric); empty where left out.</summary>
    private static void WritePerQuery(string path, RankingDataset data, EvaluationReport report, EvaluationReport? baseline)
    {
        var sb = new StringBuilder();
        sb.Append("query_id,rows,weight");
        foreach (var m in report.Metrics) sb.Append(',').Append(Csv(m.Name));
        if (baseline is not null) foreach (var m in report.Metrics) sb.Append(',').Append(Csv("baseline:" + m.Name));
        sb.Append('\n');
        for (int q = 0; q < report.QueryCount; q++)
        {
            sb.Append(data.QueryIds[q].ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(data.QueryLength(q).ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(data.QueryWeight(q).ToString("R", CultureInfo.InvariantCulture));
            for (int m = 0; m < report.Metrics.Count; m++) sb.Append(',').Append(Cell(report.PerQuery[m][q]));
            if (baseline is not null)
                for (int m = 0; m < report.Metrics.Count; m++) sb.Append(',').Append(Cell(baseline.PerQuery[m][q]));
            sb.Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static string Cell(double v) => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);

    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
