using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Ranking.Benchmarks;

/// <summary>
/// A summary column of work per unit of time: the benchmark case's work per operation (flops, rows, ...) divided by its
/// mean time in nanoseconds, times <paramref name="perNanosecond"/> (1 gives giga-units per second, 1e9 units per second).
/// </summary>
internal sealed class RateColumn(string name, string legend, Func<BenchmarkCase, double> workPerOperation, double perNanosecond, string format) : IColumn
{
    public string Id => name;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        summary[benchmarkCase]?.ResultStatistics is { } stats
            ? (workPerOperation(benchmarkCase) / stats.Mean * perNanosecond).ToString(format, CultureInfo.InvariantCulture)
            : "n/a";
}
