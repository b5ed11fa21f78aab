using Ranking.Data;
using ScottPlot;

namespace Ranking.Cli.Compare;

/// <summary>
/// The comparison's plots, each as PNG and SVG: validation learning curves, a bar chart of test NDCG@k per
/// ranker with error bars, and a per-query scatter of the two best rankers. Text needs a system font
/// (fonts-dejavu-core on Debian); without one ScottPlot draws no text in the PNG, while the SVG still
/// carries it for the viewer to draw.
/// </summary>
internal static class ReportPlots
{
    private const int Width = 900, Height = 560;
    private static readonly IPalette Few = new ScottPlot.Palettes.Category10();
    private static readonly IPalette Many = new ScottPlot.Palettes.Category20();

    /// <summary>Ten distinct colours while they suffice, twenty beyond (no two rankers share a colour up to 20).</summary>
    private static Color ColorOf(CompareReport report, int ranker) =>
        (report.Rankers.Count <= 10 ? Few : Many).GetColor(ranker);

    /// <summary>Writes the plots into <paramref name="outDir"/>; returns their file names (relative).</summary>
    public static IReadOnlyList<string> Write(CompareReport report, string outDir)
    {
        var files = new List<string>();
        if (LearningCurves(report) is { } curves) files.AddRange(Save(curves, outDir, "learning-curves"));
        if (MetricBars(report) is { } bars) files.AddRange(Save(bars, outDir, "test-metrics"));
        if (PerQueryScatter(report) is { } scatter) files.AddRange(Save(scatter, outDir, "per-query-scatter"));
        return files;
    }

    private static string[] Save(Plot plot, string outDir, string name)
    {
        byte[] png = plot.GetImage(Width, Height).GetImageBytes(ImageFormat.Png);
        AtomicFile.WriteAllBytes(Path.Combine(outDir, name + ".png"), png);
        AtomicFile.WriteAllText(Path.Combine(outDir, name + ".svg"), plot.GetSvgXml(Width, Height));
        return [name + ".png", name + ".svg"];
    }

    internal static Plot? LearningCurves(CompareReport report)
    {
        var plot = new Plot();
        int drawn = 0;
        for (int i = 0; i < report.Rankers.Count; i++)
        {
            var r = report.Rankers[i];
            var curve = r.Folds.FirstOrDefault()?.LearningCurve;
            if (curve is null || curve.Count == 0) continue;
            var line = plot.Add.Scatter(curve.Select(p => (double)p.Iteration).ToArray(), curve.Select(p => p.Value).ToArray());
            line.LegendText = r.Name;
            line.Color = ColorOf(report, i);
            line.LineWidth = 2;
            line.MarkerSize = curve.Count <= 30 ? 5 : 0;
            drawn++;
        }
        if (drawn == 0) return null;
        string fold = report.Folds.Count > 1 ? $" ({report.Folds[0].Name})" : "";
        plot.Title($"Learning curves: validation {Label(report.PrimaryMetric)} per iteration{fold}");
        plot.XLabel("iteration (epoch or boosting round)");
        plot.YLabel($"validation {Label(report.PrimaryMetric)}");
        plot.ShowLegend(Edge.Right);   // beside the data, never over a curve
        return plot;
    }

    internal static Plot? MetricBars(CompareReport report)
    {
        var metrics = report.Metrics.Where(m => m.StartsWith("ndcg@", StringComparison.OrdinalIgnoreCase)).Take(6).ToList();
        if (metrics.Count == 0) metrics = report.Metrics.Take(4).ToList();
        if (metrics.Count == 0 || report.Rankers.Count == 0) return null;
        var plot = new Plot();
        int n = report.Rankers.Count;
        var bars = new List<Bar>();
        var centers = new double[metrics.Count];
        for (int g = 0; g < metrics.Count; g++)
        {
            double start = g * (n + 1);
            centers[g] = start + (n - 1) / 2.0;
            for (int i = 0; i < n; i++)
            {
                var r = report.Rankers[i];
                double error = r.ErrorBar(metrics[g]);
                bars.Add(new Bar
                {
                    Position = start + i,
                    Value = Finite(r.Mean(metrics[g])),
                    Error = double.IsFinite(error) ? error : 0,
                    FillColor = ColorOf(report, i),
                });
            }
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(centers, metrics.Select(Label).ToArray());
        for (int i = 0; i < n; i++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = report.Rankers[i].Name, FillColor = ColorOf(report, i) });
        plot.ShowLegend(Edge.Right);
        plot.Axes.Margins(bottom: 0, top: 0.05);
        string spread = report.Folds.Count > 1 ? $"error bars: std over {report.Folds.Count} folds" : "error bars: std error over queries";
        plot.Title($"Test metrics per ranker ({spread})");
        plot.XLabel("metric");
        plot.YLabel("mean over test queries");
        return plot;
    }

    internal static Plot? PerQueryScatter(CompareReport report)
    {
        var ranked = report.Rankers.Where(r => r.Folds.All(f => f.PerQueryPrimary.Length > 0))
                                   .OrderByDescending(r => Finite(r.Mean(report.PrimaryMetric))).Take(2).ToList();
        if (ranked.Count < 2) return null;
        double[] a = ranked[0].Folds.SelectMany(f => f.PerQueryPrimary).ToArray();
        double[] b = ranked[1].Folds.SelectMany(f => f.PerQueryPrimary).ToArray();
        if (a.Length != b.Length) return null;
        var xs = new List<double>();
        var ys = new List<double>();
        for (int q = 0; q < a.Length; q++)
            if (double.IsFinite(a[q]) && double.IsFinite(b[q])) { xs.Add(b[q]); ys.Add(a[q]); }
        var plot = new Plot();
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.Color = Colors.Gray;
        var points = plot.Add.ScatterPoints(xs.ToArray(), ys.ToArray());
        points.Color = Few.GetColor(0).WithAlpha(0.55);
        points.MarkerSize = 6;
        int above = xs.Zip(ys).Count(p => p.Second > p.First), below = xs.Zip(ys).Count(p => p.Second < p.First);
        plot.Title($"Per-query test {Label(report.PrimaryMetric)}: {ranked[0].Name} better on {above}, {ranked[1].Name} on {below} of {xs.Count}");
        plot.XLabel($"{ranked[1].Name} {Label(report.PrimaryMetric)}");
        plot.YLabel($"{ranked[0].Name} {Label(report.PrimaryMetric)}");
        plot.Axes.SetLimits(-0.03, 1.03, -0.03, 1.03);
        return plot;
    }

    private static double Finite(double v) => double.IsFinite(v) ? v : 0;

    /// <summary>"ndcg@10" -> "NDCG@10", "map" -> "MAP".</summary>
    internal static string Label(string metric) => metric.ToUpperInvariant();
}
