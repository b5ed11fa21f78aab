using BenchmarkDotNet.Running;

// Run with: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*'
// BenchmarkDotNet refuses Debug builds (and still exits 0): always pass -c Release and read the output.
// `-- embed-step-breakdown [steps] [threads]` prints where a SupCon training step's time goes (wall and CPU per phase).
// `-- cost-curve STAGE ROWS [FILE]` and `-- cost-curve-report TSV OUTDIR`: see CostCurves (benchmarks/cost-curves.sh).
// `-- embed-eval-time [queries]` times one evaluation of (10,000) queries x 60,000 references at k = 6,000 (wall and CPU).
// `-- semihard-cases` prints how crowded the semi-hard windows are in SemiHardMiningBenchmarks' two cases.
// `-- clicks-cpu-time [epochs]` prints ClickTrainingBenchmarks' epochs in process CPU time instead (a shared, loaded machine).
if (args is ["embed-step-breakdown", ..])
    Ranking.Benchmarks.EmbeddingBenchmarks.PrintStepBreakdown(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 200,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : -1);
else if (args is ["cost-curve", var stage, var rows, ..])
    Ranking.Benchmarks.CostCurves.Run(stage, int.Parse(rows, System.Globalization.CultureInfo.InvariantCulture), args.Length > 3 ? args[3] : null);
else if (args is ["cost-curve-report", var tsv, var outDir])
    Ranking.Benchmarks.CostCurves.Report(tsv, outDir);
else if (args is ["embed-eval-time", ..])
    Ranking.Benchmarks.EmbeddingSearchBenchmarks.PrintEvaluationTime(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10_000);
else if (args is ["semihard-cases"])
    Ranking.Benchmarks.SemiHardMiningBenchmarks.PrintCases();
else if (args is ["clicks-cpu-time", ..])
    Ranking.Benchmarks.ClickTrainingBenchmarks.PrintCpuTimes(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5);
else
    BenchmarkSwitcher.FromAssembly(typeof(Ranking.Benchmarks.BenchmarkData).Assembly).Run(args);
