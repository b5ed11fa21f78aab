using Ranking.Training;
using Spectre.Console;

namespace Ranking.Cli.Compare;

/// <summary>
/// The console side of compare: live progress bars (one per ranker and fold) on a terminal, one line per
/// finished ranker on stderr otherwise (stdout stays clean for the table or --json), and the result table.
/// </summary>
internal sealed class CompareConsole : ICompareObserver
{
    private readonly ProgressContext? _live;
    private readonly TextWriter _log;
    private readonly string _primary;
    private ProgressTask? _current;

    private CompareConsole(ProgressContext? live, TextWriter log, string primary)
    {
        _live = live;
        _log = log;
        _primary = primary;
    }

    /// <summary>Runs <paramref name="work"/> with live progress when stdout is a terminal and not --json.</summary>
    public static T Observe<T>(bool quiet, string primary, Func<ICompareObserver, T> work)
    {
        if (ConsoleOutput.IsTerminal && !quiet)
        {
            T result = default!;
            ConsoleOutput.Create().Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx => result = work(new CompareConsole(ctx, Console.Error, primary)));
            return result;
        }
        return work(new CompareConsole(null, Console.Error, primary));
    }

    public IProgress<TrainingEvent>? RankerStarted(string fold, string ranker)
    {
        if (_live is null) return null;
        var task = _live.AddTask(Markup.Escape($"{fold} {ranker}"), maxValue: 1);
        _current = task;
        return new Progress(task);
    }

    public void RankerFinished(string fold, string ranker, FoldResult result)
    {
        if (_current is { } task)
        {
            task.Value = task.MaxValue;
            task.Description = Markup.Escape($"{fold} {ranker}: {_primary} {result.Metrics.GetValueOrDefault(_primary):F4}");
            task.StopTask();
        }
        else
            _log.WriteLine($"{fold} {ranker}: test {_primary} {result.Metrics.GetValueOrDefault(_primary):F4} ({result.TrainingSeconds:F1} s)");
    }

    /// <summary>Synchronous: Progress&lt;T&gt; would post to a context that a console app does not pump.</summary>
    private sealed class Progress(ProgressTask task) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent e)
        {
            if (e.TotalIterations > 0) task.MaxValue = e.TotalIterations;
            task.Value = Math.Min(e.Iteration, task.MaxValue);
        }
    }

    /// <summary>The comparison table (the same numbers as report.md).</summary>
    public static void WriteTable(CompareReport report, string outDir)
    {
        var console = ConsoleOutput.Create();
        bool folds = report.Folds.Count > 1;
        var table = new Table().Title(Markup.Escape(report.Title));
        // Names never wrap. The model family stays in report.md: without it five metrics fit 80 columns.
        table.AddColumn(new TableColumn("ranker").NoWrap());
        foreach (var m in report.Metrics) table.AddColumn(new TableColumn(m).RightAligned());
        table.AddColumn(new TableColumn("train s").RightAligned());
        var best = report.Best;
        foreach (var r in report.Rankers)
        {
            var cells = new List<string> { r == best ? $"[bold]{Markup.Escape(r.Name)}[/]" : Markup.Escape(r.Name) };
            cells.AddRange(report.Metrics.Select(m => ReportMarkdown.Cell(r.Mean(m), folds ? r.StdOverFolds(m) : double.NaN)));
            cells.Add(ReportMarkdown.F(r.TrainingSeconds, 1));
            table.AddRow(cells.ToArray());
        }
        if (report.Oracle is { } oracle)
        {
            var cells = new List<string> { "[italic]oracle[/]" };
            cells.AddRange(report.Metrics.Select(m => oracle.TryGetValue(m, out var v) ? ReportMarkdown.F(v, 4) : ""));
            cells.Add("");
            table.AddRow(cells.ToArray());
        }
        console.Write(table);
        console.MarkupLine(Markup.Escape($"NDCG contract: {report.ContractText}"));
        if (folds) console.MarkupLine(Markup.Escape($"mean ± std over {report.Folds.Count} folds"));
        if (best is not null)
        {
            console.MarkupLine(Markup.Escape($"best by {report.PrimaryMetric}: {best.Name}"));
            foreach (var r in report.Rankers.Where(r => r.VersusBest is not null))
            {
                var s = r.VersusBest!;
                console.MarkupLine(Markup.Escape(
                    $"  {r.Name} vs {best.Name}: {ReportMarkdown.F(s.MeanDifference, 4)} (p {ReportMarkdown.P(s.PValue)}, 95% CI [{ReportMarkdown.F(s.CiLow, 4)}, {ReportMarkdown.F(s.CiHigh, 4)}])"));
            }
        }
        console.MarkupLine(Markup.Escape($"report: {Path.Combine(outDir, "report.md")}"));
    }
}
