using Ranking.Data;

namespace Ranking.Cli.Compare;

/// <summary>Writes report.md, results.json and the plots of a finished comparison.</summary>
internal static class CompareOutput
{
    public static void Write(CompareReport report, string outDir)
    {
        Directory.CreateDirectory(outDir);
        var plots = ReportPlots.Write(report, outDir);
        AtomicFile.WriteAllText(Path.Combine(outDir, "results.json"), ReportJson.Write(report) + "\n");
        AtomicFile.WriteAllText(Path.Combine(outDir, "report.md"), ReportMarkdown.Write(report, plots));
    }
}
