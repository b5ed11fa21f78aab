using Ranking.Data;
using ScottPlot;

namespace Ranking.Cli.Compare;

/// <summary>
/// The plots of <c>ranking clicks experiment --out</c>, each as PNG and SVG: the propensity per display position,
/// true against every estimate (the check that propensity estimation recovered the examination curve), and
/// NDCG@10 against the number of sessions in the click log (log x axis: the learning curve in data size).
/// Text needs a system font as for compare's plots (fonts-dejavu-core on Debian).
/// </summary>
internal static class ClicksReportPlots
{
    private const int Width = 900, Height = 560;
    private static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    /// <summary>Writes the plots into <paramref name="outDir"/>; returns their file names.</summary>
    public static IReadOnlyList<string> Write(Commands.ClicksExperimentCommand.Result result, string outDir)
    {
        var files = new List<string>();
        files.AddRange(Save(Propensities(result), outDir, "propensities"));
        if (LearningCurve(result) is { } curve) files.AddRange(Save(curve, outDir, "learning-curve"));
        return files;
    }

    private static string[] Save(Plot plot, string outDir, string name)
    {
        AtomicFile.WriteAllBytes(Path.Combine(outDir, name + ".png"), plot.GetImage(Width, Height).GetImageBytes(ImageFormat.Png));
        AtomicFile.WriteAllText(Path.Combine(outDir, name + ".svg"), plot.GetSvgXml(Width, Height));
        return [name + ".png", name + ".svg"];
    }

    /// <summary>True propensities as a thick line, each estimate as markers on a thin line, relative to position 1.</summary>
    internal static Plot Propensities(Commands.ClicksExperimentCommand.Result result)
    {
        var plot = new Plot();
        double[] positions = Enumerable.Range(1, result.TruePropensities.Length).Select(p => (double)p).ToArray();
        var truth = plot.Add.Scatter(positions, result.TruePropensities);
        truth.LegendText = "true";
        truth.Color = Colors.Black;
        truth.LineWidth = 3;
        truth.MarkerSize = 0;
        int i = 0;
        foreach (var (name, values) in result.Estimated)
        {
            int n = Math.Min(values.Length, positions.Length);
            var line = plot.Add.Scatter(positions[..n], values[..n]);
            line.LegendText = name;
            line.Color = Palette.GetColor(i++);
            line.LineWidth = 1;
            line.MarkerSize = 7;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            positions.Select(p => new Tick(p, p.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray());
        plot.Title($"Examination propensity per position: true vs estimated ({result.Settings.Model.Kind}, eta {result.Settings.Model.Eta})");
        plot.XLabel("display position");
        plot.YLabel("propensity relative to position 1");
        plot.Axes.SetLimitsY(0, 1.05 * Math.Max(1.0, result.Estimated.Values.SelectMany(v => v).DefaultIfEmpty(1.0).Max()));
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>NDCG@10 per estimator against sessions on a log10 axis; null when the curve has fewer than two points.</summary>
    internal static Plot? LearningCurve(Commands.ClicksExperimentCommand.Result result)
    {
        if (result.Curve.Count < 2) return null;
        var plot = new Plot();
        double[] logSessions = result.Curve.Select(c => Math.Log10(c.Sessions)).ToArray();
        var series = result.Curve[0].Ndcg.Keys
            .Select(name => (Name: name, Values: result.Curve.Select(c => c.Ndcg[name]).ToArray())).ToList();
        for (int s = 0; s < series.Count; s++)
        {
            var line = plot.Add.Scatter(logSessions, series[s].Values);
            line.LegendText = series[s].Name;
            line.Color = Palette.GetColor(s);
            line.LineWidth = 2;
            line.MarkerSize = 6;
        }
        // Each skyline (trained on the true grades) as a horizontal reference line.
        int colour = series.Count;
        foreach (var row in result.Rows.Where(r => r.Estimator.StartsWith("skyline", StringComparison.Ordinal)))
        {
            var skyline = plot.Add.HorizontalLine(row.Means["ndcg@10"]);
            skyline.LegendText = row.Estimator;
            skyline.LinePattern = LinePattern.Dashed;
            skyline.Color = Palette.GetColor(colour++);
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            logSessions.Select(x => new Tick(x, Math.Pow(10, x).ToString("N0", System.Globalization.CultureInfo.InvariantCulture))).ToArray());
        plot.Title("Test NDCG@10 (true grades) against sessions in the click log");
        plot.XLabel("sessions (log scale)");
        plot.YLabel("test NDCG@10");
        plot.ShowLegend(Alignment.LowerRight);
        return plot;
    }
}
