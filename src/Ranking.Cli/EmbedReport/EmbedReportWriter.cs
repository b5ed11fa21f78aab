using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Ranking.Data;
using Ranking.Embeddings;
using ScottPlot;

namespace Ranking.Cli.EmbedReport;

/// <summary>
/// The experiment's report in a folder: report.md (the final table, mean ± standard deviation over seeds, with
/// each recipe paired over test queries against the best recipe and against raw features; the collapse
/// warnings; the plots), results.json, map-at-r-per-epoch.png/.svg (test MAP@R per epoch per recipe, mean over
/// seeds) and projection.png/.svg (the best recipe's test embeddings on their first two principal axes,
/// coloured by class). Text in the PNGs needs a system font (fonts-dejavu-core on Debian).
/// </summary>
internal static class EmbedReportWriter
{
    private const int Width = 900, Height = 560;

    /// <summary>The best recipe: the highest mean MAP@R.</summary>
    public static EmbedRecipeResult Best(IReadOnlyList<EmbedRecipeResult> results) => results.MaxBy(r => r.MapAtR)!;

    /// <summary>Writes every file of the report; returns the names written.</summary>
    public static IReadOnlyList<string> Write(string outDir, string title, IReadOnlyList<EmbedRecipeResult> results, RetrievalReport raw,
        LabelledItems test, EmbedExperimentSettings settings)
    {
        Directory.CreateDirectory(outDir);
        var files = new List<string>();
        files.AddRange(Save(EpochPlot(results), outDir, "map-at-r-per-epoch"));
        var best = Best(results);
        files.AddRange(Save(ProjectionPlot(best, test), outDir, "projection"));
        AtomicFile.WriteAllText(Path.Combine(outDir, "results.json"), Json(title, results, raw, settings).ToJsonString(new() { WriteIndented = true }));
        files.Add("results.json");
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.md"), Markdown(title, results, raw, test, settings, files));
        files.Add("report.md");
        return files;
    }

    /// <summary>The comparisons of a recipe: with the best recipe (none for the best itself) and with raw features.</summary>
    public static (PairedDifference? VersusBest, PairedDifference VersusRaw) Compare(EmbedRecipeResult r, IReadOnlyList<EmbedRecipeResult> results, RetrievalReport raw)
    {
        var best = Best(results);
        var perQuery = r.PerQueryMapAtR();
        return (r == best ? null : PairedDifference.Of(best.Recipe.Name, perQuery, best.PerQueryMapAtR()),
            PairedDifference.Of("raw features", perQuery, raw.PerQueryMapAtR));
    }

    /// <summary>report.md's text.</summary>
    public static string Markdown(string title, IReadOnlyList<EmbedRecipeResult> results, RetrievalReport raw, LabelledItems test,
        EmbedExperimentSettings settings, IReadOnlyList<string> plots)
    {
        var t = settings.Training;
        var md = new StringBuilder();
        md.AppendLine($"# {title}").AppendLine();
        md.AppendLine(Invariant($"Encoder {t.Hidden.Count switch { 0 => "linear", _ => "MLP " + string.Join("-", t.Hidden) }} -> {t.Dimension}, {t.Optimizer} at {t.LearningRate:G4}, batch {t.BatchSize}, {t.Epochs} epochs, {t.Loss.Distance.Name()} distance{(t.Memory > 0 ? $", memory {t.Memory}" : "")}; seeds {string.Join(", ", settings.Seeds)}. "));
        md.AppendLine(Invariant($"Test: {test.Count} items of {test.ClassCount} classes ({test.Source}), leave-one-out, k = {raw.K}. Raw features: MAP@R {raw.MapAtR:F4}, R-precision {raw.RPrecision:F4}, P@1 {raw.PrecisionAt1:F4}.")).AppendLine();

        var best = Best(results);
        bool targets = settings.Targets.Count > 0;
        md.AppendLine("MAP@R, R-precision and P@1: mean over seeds (± standard deviation over seeds). The comparisons are paired over the test " +
                      "queries (each query's MAP@R averaged over the seeds): mean difference, t statistic, two-sided p-value.").AppendLine();
        md.Append("| recipe | MAP@R | R-precision | P@1 |");
        if (targets) md.Append(" target | gap |");
        md.AppendLine(" vs best: diff (t, p) | vs raw: diff (t, p) | samples/s | collapsed |");
        md.Append("|---|---:|---:|---:|");
        if (targets) md.Append("---:|---:|");
        md.AppendLine("---|---|---:|---:|");
        foreach (var r in results)
        {
            var (versusBest, versusRaw) = Compare(r, results, raw);
            string name = r == best ? $"**{r.Recipe.Name}**" : r.Recipe.Name;
            md.Append(Invariant($"| {name} | {r.MapAtR:F4}{(double.IsNaN(r.MapAtRStd) ? "" : $" ± {r.MapAtRStd:F4}")} | {r.RPrecision:F4} | {r.PrecisionAt1:F4} |"));
            if (targets)
                md.Append(settings.Targets.TryGetValue(r.Recipe.Name, out double target) ? Invariant($" {target:F3} | {r.MapAtR - target:+0.0000;-0.0000} |") : " | |");
            md.AppendLine(Invariant($" {Cell(versusBest)} | {Cell(versusRaw)} | {r.SamplesPerSecond:F0} | {r.Collapsed}/{r.Runs.Count} |"));
        }
        md.AppendLine();
        md.AppendLine("## Per seed").AppendLine();
        md.AppendLine("| recipe | seed | MAP@R per epoch | final MAP@R | loss per epoch | distance spread per epoch |");
        md.AppendLine("|---|---:|---|---:|---|---|");
        foreach (var r in results)
            foreach (var run in r.Runs)
                md.AppendLine(Invariant($"| {r.Recipe.Name} | {run.Seed} | {Join(run.EpochMapAtR, "F4")}{(run.Warning is null ? "" : $" (collapse: stopped at epoch {run.EpochsTrained:F2})")} | {run.MapAtR:F4} | {Join(run.EpochLoss, "F4")} | {Join(run.EpochSpread, "G3")} |"));
        md.AppendLine();
        var warnings = results.SelectMany(r => r.Runs.Where(x => x.Warning is not null).Select(x => (r.Recipe.Name, x.Seed, x.Warning))).ToList();
        if (warnings.Count > 0)
        {
            md.AppendLine("## Collapse warnings").AppendLine();
            foreach (var (name, seed, warning) in warnings) md.AppendLine($"- {name}, seed {seed}: {warning}");
            md.AppendLine();
        }
        md.AppendLine("## Plots").AppendLine();
        foreach (string png in plots.Where(p => p.EndsWith(".png", StringComparison.Ordinal)))
            md.AppendLine($"![{Path.GetFileNameWithoutExtension(png)}]({png})").AppendLine();
        md.AppendLine(Invariant($"The projection shows {best.Recipe.Name} (seed {best.Runs[0].Seed}), the best recipe, on its first two principal axes. ") +
                      "A run stopped by a collapse keeps the parameters of its best epoch when an epoch had finished (here judged on the test items), else the collapsed ones.");
        return md.ToString();
    }

    private static string Cell(PairedDifference? p) => p is null ? "best" : Invariant($"{p.MeanDifference:+0.0000;-0.0000} (t {p.T:F1}, p {PValue(p.PValue)})");

    private static string PValue(double p) => double.IsNaN(p) ? "n/a" : p < 1e-4 ? "< 1e-4" : p.ToString("G2", CultureInfo.InvariantCulture);

    private static string Join(double[] values, string format) => string.Join(" ", values.Select(v => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-"));

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>results.json: the settings, raw features, and per recipe its means, comparisons and runs (projections left out).</summary>
    public static JsonObject Json(string title, IReadOnlyList<EmbedRecipeResult> results, RetrievalReport raw, EmbedExperimentSettings settings)
    {
        static JsonNode? N(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;
        static JsonObject? Pair(PairedDifference? p) => p is null ? null : new JsonObject
        {
            ["against"] = p.Against, ["mean_difference"] = N(p.MeanDifference), ["t"] = N(p.T), ["p_value"] = N(p.PValue), ["queries"] = p.Queries,
        };
        var t = settings.Training;
        return new JsonObject
        {
            ["title"] = title,
            ["hidden"] = string.Join(",", t.Hidden), ["dim"] = t.Dimension, ["lr"] = t.LearningRate, ["batch"] = t.BatchSize, ["epochs"] = t.Epochs,
            ["distance"] = t.Loss.Distance.Name(), ["memory"] = t.Memory, ["seeds"] = new JsonArray(settings.Seeds.Select(s => (JsonNode?)s).ToArray()),
            ["raw"] = new JsonObject { ["map_at_r"] = raw.MapAtR, ["r_precision"] = raw.RPrecision, ["precision_at_1"] = raw.PrecisionAt1, ["k"] = raw.K },
            ["best"] = Best(results).Recipe.Name,
            ["recipes"] = new JsonArray(results.Select(r =>
            {
                var (versusBest, versusRaw) = Compare(r, results, raw);
                var runs = new JsonArray(r.Runs.Select(run =>
                {
                    var o = run.ToJson();
                    o.Remove("projection");
                    o.Remove("per_query_map_at_r");
                    return (JsonNode?)o;
                }).ToArray());
                return (JsonNode?)new JsonObject
                {
                    ["recipe"] = r.Recipe.Name, ["map_at_r"] = r.MapAtR, ["map_at_r_std"] = N(r.MapAtRStd), ["r_precision"] = r.RPrecision,
                    ["precision_at_1"] = r.PrecisionAt1, ["samples_per_second"] = r.SamplesPerSecond, ["collapsed"] = r.Collapsed,
                    ["target"] = settings.Targets.TryGetValue(r.Recipe.Name, out double target) ? JsonValue.Create(target) : null,
                    ["versus_best"] = Pair(versusBest), ["versus_raw"] = Pair(versusRaw),
                    ["epoch_map_at_r"] = new JsonArray(r.EpochMapAtR().Select(N).ToArray()), ["runs"] = runs,
                };
            }).ToArray()),
        };
    }

    private static string[] Save(Plot plot, string outDir, string name)
    {
        AtomicFile.WriteAllBytes(Path.Combine(outDir, name + ".png"), plot.GetImage(Width, Height).GetImageBytes(ImageFormat.Png));
        AtomicFile.WriteAllText(Path.Combine(outDir, name + ".svg"), plot.GetSvgXml(Width, Height));
        return [name + ".png", name + ".svg"];
    }

    /// <summary>
    /// Test MAP@R per epoch, one line per recipe (mean over seeds); a run stopped by a collapse is a + at the
    /// (fractional) epoch where it stopped and the MAP@R of the model it returned.
    /// </summary>
    internal static Plot EpochPlot(IReadOnlyList<EmbedRecipeResult> results)
    {
        var plot = new Plot();
        IPalette palette = results.Count <= 10 ? new ScottPlot.Palettes.Category10() : new ScottPlot.Palettes.Category20();
        int epochs = 1;
        for (int i = 0; i < results.Count; i++)
        {
            double[] y = results[i].EpochMapAtR();
            epochs = Math.Max(epochs, y.Length);
            var keep = Enumerable.Range(0, y.Length).Where(e => double.IsFinite(y[e])).ToArray();
            string name = results[i].Recipe.Name;
            if (keep.Length > 0)
            {
                var line = plot.Add.Scatter(keep.Select(e => e + 1.0).ToArray(), keep.Select(e => y[e]).ToArray());
                line.LegendText = name;
                line.Color = palette.GetColor(i);
                line.LineWidth = 2;
                line.MarkerSize = 6;
                name = "";
            }
            var stopped = results[i].Runs.Where(r => r.Warning is not null).ToList();
            if (stopped.Count == 0) continue;
            var crosses = plot.Add.ScatterPoints(stopped.Select(r => r.EpochsTrained).ToArray(), stopped.Select(r => r.MapAtR).ToArray());
            crosses.Color = palette.GetColor(i);
            crosses.MarkerShape = MarkerShape.Cross;
            crosses.MarkerSize = 12;
            crosses.LegendText = name.Length > 0 ? $"{name} (stopped: collapse)" : "";
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, epochs + 1).Select(e => (double)e).ToArray(), Enumerable.Range(0, epochs + 1).Select(e => e.ToString(CultureInfo.InvariantCulture)).ToArray());
        plot.Title("Test MAP@R per epoch (mean over seeds; +: stopped by a collapse)");
        plot.XLabel("epoch");
        plot.YLabel("MAP@R");
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>The best recipe's first run: test items on the first two principal axes of their embeddings, one colour per class.</summary>
    internal static Plot ProjectionPlot(EmbedRecipeResult best, LabelledItems test)
    {
        var plot = new Plot();
        var run = best.Runs[0];
        int classes = test.ClassCount;
        IPalette palette = classes <= 10 ? new ScottPlot.Palettes.Category10() : new ScottPlot.Palettes.Category20();
        for (int c = 0; c < classes; c++)
        {
            var members = Enumerable.Range(0, test.Count).Where(i => test.Classes[i] == c).ToArray();
            if (members.Length == 0) continue;
            var points = plot.Add.ScatterPoints(members.Select(i => run.Projection[2 * i]).ToArray(), members.Select(i => run.Projection[2 * i + 1]).ToArray());
            points.Color = palette.GetColor(c % palette.Colors.Length).WithAlpha(0.6);
            points.MarkerSize = 3;
            if (c < 20) points.LegendText = test.ClassNames[c];
        }
        plot.Title($"Test embeddings of {best.Recipe.Name} (seed {run.Seed}), first two principal axes, coloured by class");
        plot.XLabel("principal axis 1");
        plot.YLabel("principal axis 2");
        plot.ShowLegend(Edge.Right);
        return plot;
    }
}
