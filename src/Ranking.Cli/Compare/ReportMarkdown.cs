using System.Globalization;
using System.Text;

namespace Ranking.Cli.Compare;

/// <summary>report.md: the comparison table, the contract, significance against the best ranker, the plots.</summary>
internal static class ReportMarkdown
{
    public static string Write(CompareReport report, IReadOnlyList<string>? plotFiles = null)
    {
        var md = new StringBuilder();
        var best = report.Best;
        bool folds = report.Folds.Count > 1;
        md.AppendLine($"# {report.Title}").AppendLine();
        md.AppendLine($"Created {report.Created:yyyy-MM-dd HH:mm} UTC, seed {report.Seed}. ");
        md.AppendLine($"NDCG contract: {report.ContractText}").AppendLine();
        md.AppendLine(folds
            ? $"Test metrics, mean ± standard deviation over {report.Folds.Count} folds ({string.Join(", ", report.Folds.Select(f => f.Name))})."
            : $"Test metrics on {report.Folds[0].Name} ({report.Folds[0].TestQueries} queries, {report.Folds[0].TestRows} rows); ± is the standard error over queries.");
        md.AppendLine();

        md.Append("| ranker | model | ");
        foreach (var m in report.Metrics) md.Append(m).Append(" | ");
        md.AppendLine("train s |");
        md.Append("|---|---|");
        foreach (var _ in report.Metrics) md.Append("---:|");
        md.AppendLine("---:|");
        foreach (var r in report.Rankers)
        {
            string name = r == best ? $"**{r.Name}**" : r.Name;
            md.Append($"| {name} | {r.ModelFamily} | ");
            foreach (var m in report.Metrics) md.Append(Cell(r.Mean(m), folds ? r.StdOverFolds(m) : r.ErrorBar(m))).Append(" | ");
            md.AppendLine($"{F(r.TrainingSeconds, 1)} |");
        }
        if (report.Oracle is { } oracle)
        {
            md.Append("| *oracle* | generator | ");
            foreach (var m in report.Metrics) md.Append(oracle.TryGetValue(m, out var v) ? F(v, 4) : "").Append(" | ");
            md.AppendLine(" |");
        }
        md.AppendLine();

        if (best is not null)
        {
            md.AppendLine($"## Against the best ranker ({best.Name}, {report.PrimaryMetric})").AppendLine();
            md.AppendLine("Paired over test queries" + (folds ? " (every fold's test queries pooled)" : "") +
                          ": mean difference (ranker − best), two-sided paired t-test p-value, bootstrap 95% confidence interval.").AppendLine();
            md.AppendLine("| ranker | difference | p-value | 95% CI | queries |");
            md.AppendLine("|---|---:|---:|---|---:|");
            foreach (var r in report.Rankers.Where(r => r != best))
                md.AppendLine(r.VersusBest is { } s
                    ? $"| {r.Name} | {F(s.MeanDifference, 4)} | {P(s.PValue)} | [{F(s.CiLow, 4)}, {F(s.CiHigh, 4)}] | {s.Queries} |"
                    : $"| {r.Name} | n/a | | | |");
            md.AppendLine();
        }

        md.AppendLine("## Training").AppendLine();
        md.AppendLine("| ranker | objective | fold | best iteration | train s | predictions |");
        md.AppendLine("|---|---|---|---:|---:|---|");
        foreach (var r in report.Rankers)
            foreach (var f in r.Folds)
                md.AppendLine($"| {r.Name} | {r.Objective} | {f.Fold} | {f.BestIteration} | {F(f.TrainingSeconds, 2)} | {(f.Predictions is null ? "" : $"`{f.Predictions}`")} |");
        md.AppendLine();

        if (plotFiles is { Count: > 0 })
        {
            md.AppendLine("## Plots").AppendLine();
            foreach (var png in plotFiles.Where(p => p.EndsWith(".png", StringComparison.Ordinal)))
                md.AppendLine($"![{Path.GetFileNameWithoutExtension(png)}]({png})").AppendLine();
        }
        if (report.Notes is not null) md.AppendLine(report.Notes).AppendLine();
        return md.ToString();
    }

    internal static string F(double v, int digits) =>
        double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "n/a";

    internal static string P(double p) =>
        !double.IsFinite(p) ? "n/a" : p < 1e-4 ? p.ToString("0.0e+0", CultureInfo.InvariantCulture) : p.ToString("F4", CultureInfo.InvariantCulture);

    internal static string Cell(double mean, double spread) =>
        double.IsFinite(spread) ? $"{F(mean, 4)} ± {F(spread, 4)}" : F(mean, 4);
}
