using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ranking.Cli.Compare;

/// <summary>
/// results.json (schema "ranking-compare/1", documented in the README). Numbers are written with full double
/// precision; a value that does not exist (std over one fold, a metric no query defines) is null.
/// </summary>
internal static class ReportJson
{
    public static string Write(CompareReport report)
    {
        var best = report.Best;
        var root = new JsonObject
        {
            ["schema"] = CompareReport.SchemaId,
            ["title"] = report.Title,
            ["created"] = report.Created.ToString("O"),
            ["seed"] = report.Seed,
            ["metrics"] = new JsonArray(report.Metrics.Select(m => (JsonNode?)m).ToArray()),
            ["primaryMetric"] = report.PrimaryMetric,
            ["contract"] = report.Contract?.DeepClone() ?? new JsonObject(),
            ["contractText"] = report.ContractText,
            ["best"] = best?.Name,
            ["folds"] = new JsonArray(report.Folds.Select(f => (JsonNode?)new JsonObject
            {
                ["name"] = f.Name, ["train"] = f.Train, ["valid"] = f.Valid, ["test"] = f.Test,
                ["testQueries"] = f.TestQueries, ["testRows"] = f.TestRows,
            }).ToArray()),
            ["oracle"] = report.Oracle is null ? null : Numbers(report.Oracle),
            ["rankers"] = new JsonArray(report.Rankers.Select(r => (JsonNode?)Ranker(report, r)).ToArray()),
        };
        if (report.Notes is not null) root["notes"] = report.Notes;
        return CliJson.Format(root, indented: true);
    }

    private static JsonObject Ranker(CompareReport report, RankerReport r) => new()
    {
        ["name"] = r.Name,
        ["objective"] = r.Objective,
        ["modelFamily"] = r.ModelFamily,
        ["trainingSeconds"] = r.TrainingSeconds,
        ["mean"] = Numbers(report.Metrics.ToDictionary(m => m, r.Mean)),
        ["stdOverFolds"] = Numbers(report.Metrics.ToDictionary(m => m, r.StdOverFolds)),
        ["versusBest"] = r.VersusBest is not { } s ? null : new JsonObject
        {
            ["against"] = s.Against, ["metric"] = s.Metric, ["meanDifference"] = Number(s.MeanDifference),
            ["pValue"] = Number(s.PValue), ["ciLow"] = Number(s.CiLow), ["ciHigh"] = Number(s.CiHigh), ["queries"] = s.Queries,
        },
        ["folds"] = new JsonArray(r.Folds.Select(f => (JsonNode?)new JsonObject
        {
            ["fold"] = f.Fold,
            ["metrics"] = Numbers(f.Metrics),
            ["stdError"] = Numbers(f.StdError),
            ["trainingSeconds"] = f.TrainingSeconds,
            ["bestIteration"] = f.BestIteration,
            ["predictions"] = f.Predictions,
            ["learningCurve"] = new JsonArray(f.LearningCurve.Select(p => (JsonNode?)new JsonObject
            {
                ["iteration"] = p.Iteration, ["value"] = Number(p.Value),
            }).ToArray()),
        }).ToArray()),
    };

    private static JsonObject Numbers(IReadOnlyDictionary<string, double> values)
    {
        var o = new JsonObject();
        foreach (var (k, v) in values) o[k] = Number(v);
        return o;
    }

    private static JsonNode? Number(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
}
