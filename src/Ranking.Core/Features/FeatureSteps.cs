using System.Text.Json;
using Ranking.Data;
using Ranking.Onnx;

namespace Ranking.Features;

/// <summary>An unfitted step of a <see cref="FeaturePipeline"/>.</summary>
internal abstract class FeatureStep
{
    public abstract string SpecText { get; }
    public abstract FittedStep Fit(float[] features, int rows, int width, int[] offsets);
}

/// <summary>
/// A fitted step: parameters learned from the training set, applied unchanged to any data. Apply may
/// work in place (same width) and returns the array holding the result.
/// </summary>
internal abstract class FittedStep
{
    public abstract string Op { get; }
    public abstract int InputCount { get; }
    public virtual int OutputCount => InputCount;
    public abstract float[] Apply(float[] features, int rows, int width, int[]? offsets);
    public abstract void WriteParameters(Utf8JsonWriter json);

    /// <summary>
    /// Adds ONNX nodes computing this step on <paramref name="x"/> (float [N, <see cref="InputCount"/>]) and
    /// returns the name of the result (float [N, <see cref="OutputCount"/>]). Each step computes in double where
    /// <see cref="Apply"/> does and rounds to float once, so ONNX Runtime gives the same features.
    /// </summary>
    public abstract string AddOnnx(OnnxGraphBuilder graph, string x);

    protected static ParallelOptions Parallel => new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>Runs <paramref name="rowAction"/> over row ranges in parallel (each element is independent).</summary>
    protected static void ForRowBlocks(int rows, Action<int, int> rowAction)
    {
        const int blockRows = 2048;
        int blocks = (rows + blockRows - 1) / blockRows;
        // One block runs inline: Parallel.For's set-up cost (~10 us on a busy machine) dwarfs a small batch (a service
        // scoring one request), and ScoringBenchmarks measured it as most of a 1-row linear prediction.
        if (blocks <= 1)
        {
            if (rows > 0) rowAction(0, rows);
            return;
        }
        System.Threading.Tasks.Parallel.For(0, blocks, Parallel, b => rowAction(b * blockRows, Math.Min(rows, (b + 1) * blockRows)));
    }

    protected static void WriteArray(Utf8JsonWriter json, string name, double[] values)
    {
        json.WriteStartArray(name);
        foreach (double v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }

    protected static double[] ReadArray(JsonElement step, string name, int expected)
    {
        if (!step.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"feature pipeline JSON: step '{step.GetProperty("op").GetString()}' lacks the array '{name}'");
        var values = array.EnumerateArray().Select(e => e.GetDouble()).ToArray();
        int bad = Array.FindIndex(values, v => !double.IsFinite(v));
        if (bad >= 0) throw new InvalidDataException($"feature pipeline JSON: '{name}' value {bad} is not finite");
        if (expected >= 0 && values.Length != expected)
            throw new InvalidDataException($"feature pipeline JSON: '{name}' holds {values.Length} values, expected {expected}");
        return values;
    }
}

/// <summary>A step mapping every value of column j through its own parameters.</summary>
internal abstract class ColumnFitted : FittedStep
{
    protected abstract float Map(float x, int column);

    public override float[] Apply(float[] features, int rows, int width, int[]? offsets)
    {
        ForRowBlocks(rows, (from, to) =>
        {
            for (int r = from; r < to; r++)
            {
                var row = features.AsSpan(r * width, width);
                for (int j = 0; j < row.Length; j++) row[j] = Map(row[j], j);
            }
        });
        return features;
    }

    /// <summary>Mean and population sd per column in row order (deterministic), skipping NaN.</summary>
    public static (double[] Mean, double[] Sd) MeanSd(float[] features, int rows, int width)
    {
        var sum = new double[width];
        var count = new long[width];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < width; j++)
            {
                float x = features[r * width + j];
                if (!float.IsNaN(x)) { sum[j] += x; count[j]++; }
            }
        var mean = new double[width];
        for (int j = 0; j < width; j++) mean[j] = count[j] > 0 ? sum[j] / count[j] : 0;
        var squares = new double[width];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < width; j++)
            {
                float x = features[r * width + j];
                if (!float.IsNaN(x)) { double d = x - mean[j]; squares[j] += d * d; }
            }
        var sd = new double[width];
        for (int j = 0; j < width; j++) sd[j] = count[j] > 0 ? Math.Sqrt(squares[j] / count[j]) : 0;
        return (mean, sd);
    }
}

internal sealed class ZScoreStep : FeatureStep
{
    public override string SpecText => "zscore";
    public override FittedStep Fit(float[] features, int rows, int width, int[] offsets)
    {
        var (mean, sd) = ColumnFitted.MeanSd(features, rows, width);
        return new ZScoreFitted(mean, sd);
    }
}

internal sealed class ZScoreFitted(double[] mean, double[] sd) : ColumnFitted
{
    public override string Op => "zscore";
    public override int InputCount => mean.Length;
    protected override float Map(float x, int j) => (float)(sd[j] > 0 ? (x - mean[j]) / sd[j] : x - mean[j]);
    public override string AddOnnx(OnnxGraphBuilder g, string x) =>
        OnnxSteps.ShiftScale(g, x, mean, sd.Select(s => s > 0 ? s : 1).ToArray(), "zscore");
    public override void WriteParameters(Utf8JsonWriter json) { WriteArray(json, "mean", mean); WriteArray(json, "sd", sd); }
    public static ZScoreFitted Read(JsonElement e, int width) => new(ReadArray(e, "mean", width), ReadArray(e, "sd", width));
}

internal sealed class MinMaxStep : FeatureStep
{
    public override string SpecText => "minmax";
    public override FittedStep Fit(float[] features, int rows, int width, int[] offsets)
    {
        var min = Enumerable.Repeat(double.PositiveInfinity, width).ToArray();
        var max = Enumerable.Repeat(double.NegativeInfinity, width).ToArray();
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < width; j++)
            {
                float x = features[r * width + j];
                if (x < min[j]) min[j] = x;
                if (x > max[j]) max[j] = x;
            }
        for (int j = 0; j < width; j++) if (min[j] > max[j]) min[j] = max[j] = 0; // all NaN
        return new MinMaxFitted(min, max);
    }
}

internal sealed class MinMaxFitted(double[] min, double[] max) : ColumnFitted
{
    public override string Op => "minmax";
    public override int InputCount => min.Length;
    protected override float Map(float x, int j)
    {
        double range = max[j] - min[j];
        return (float)(range > 0 ? (x - min[j]) / range : x - min[j]);
    }
    public override string AddOnnx(OnnxGraphBuilder g, string x) =>
        OnnxSteps.ShiftScale(g, x, min, min.Select((lo, j) => max[j] - lo > 0 ? max[j] - lo : 1).ToArray(), "minmax");
    public override void WriteParameters(Utf8JsonWriter json) { WriteArray(json, "min", min); WriteArray(json, "max", max); }
    public static MinMaxFitted Read(JsonElement e, int width) => new(ReadArray(e, "min", width), ReadArray(e, "max", width));
}

internal sealed class Log1pStep : FeatureStep
{
    public override string SpecText => "log1p";
    public override FittedStep Fit(float[] features, int rows, int width, int[] offsets) => new Log1pFitted(width);
}

internal sealed class Log1pFitted(int width) : ColumnFitted
{
    public override string Op => "log1p";
    public override int InputCount => width;
    protected override float Map(float x, int j) => (float)SignedLog1p(x);
    public override void WriteParameters(Utf8JsonWriter json) { }
    public override string AddOnnx(OnnxGraphBuilder g, string x) => OnnxSteps.SignedLog1p(g, x);

    /// <summary>sign(x) * log(1 + |x|), accurate for tiny |x| (log1p by the Goldberg correction).</summary>
    public static double SignedLog1p(double x)
    {
        double a = Math.Abs(x);
        double u = 1 + a;
        double l = u == 1 ? a : Math.Log(u) * (a / (u - 1));
        return x < 0 ? -l : l;
    }
}

internal sealed class ClipStep : FeatureStep
{
    private readonly double[]? _fixed;
    public ClipStep(double[]? bounds = null) => _fixed = bounds;
    public static ClipStep Fixed(double[] bounds) =>
        bounds[0] <= bounds[1] ? new ClipStep(bounds) : throw new FormatException($"feature pipeline step clip({bounds[0]},{bounds[1]}): the low bound is above the high one");

    public override string SpecText => _fixed is null ? "clip" : FormattableString.Invariant($"clip({_fixed[0]:R},{_fixed[1]:R})");

    public override FittedStep Fit(float[] features, int rows, int width, int[] offsets)
    {
        var low = new double[width];
        var high = new double[width];
        if (_fixed is not null)
        {
            Array.Fill(low, _fixed[0]);
            Array.Fill(high, _fixed[1]);
            return new ClipFitted(low, high);
        }
        System.Threading.Tasks.Parallel.For(0, width, j =>
        {
            var column = new List<float>(rows);
            for (int r = 0; r < rows; r++) { float x = features[r * width + j]; if (!float.IsNaN(x)) column.Add(x); }
            if (column.Count == 0) { low[j] = double.MinValue; high[j] = double.MaxValue; return; }
            column.Sort();
            low[j] = column[(int)Math.Floor(0.001 * (column.Count - 1))];
            high[j] = column[(int)Math.Ceiling(0.999 * (column.Count - 1))];
        });
        return new ClipFitted(low, high);
    }
}

internal sealed class ClipFitted(double[] low, double[] high) : ColumnFitted
{
    public override string Op => "clip";
    public override int InputCount => low.Length;
    protected override float Map(float x, int j) => x < low[j] ? (float)low[j] : x > high[j] ? (float)high[j] : x;
    public override string AddOnnx(OnnxGraphBuilder g, string x) => OnnxSteps.Clip(g, x, low, high);
    public override void WriteParameters(Utf8JsonWriter json) { WriteArray(json, "low", low); WriteArray(json, "high", high); }
    public static ClipFitted Read(JsonElement e, int width) => new(ReadArray(e, "low", width), ReadArray(e, "high", width));
}

internal sealed class FillNaNStep : FeatureStep
{
    private readonly double? _value;
    public FillNaNStep(double? value = null) => _value = value;
    public static FillNaNStep Fixed(double value) => new(value);
    public override string SpecText => _value is null ? "fillnan" : FormattableString.Invariant($"fillnan({_value.Value:R})");

    public override FittedStep Fit(float[] features, int rows, int width, int[] offsets)
    {
        double[] values = _value is double v ? Enumerable.Repeat(v, width).ToArray() : ColumnFitted.MeanSd(features, rows, width).Mean;
        return new FillNaNFitted(values);
    }
}

internal sealed class FillNaNFitted(double[] values) : ColumnFitted
{
    public override string Op => "fillnan";
    public override int InputCount => values.Length;
    protected override float Map(float x, int j) => float.IsNaN(x) ? (float)values[j] : x;
    public override string AddOnnx(OnnxGraphBuilder g, string x) =>
        g.Node("Where", [g.Node("IsNaN", [x], "fillnan_isnan"), g.Floats("fillnan_value", values.Select(v => (float)v).ToArray(), 1, values.Length), x], "fillnan");
    public override void WriteParameters(Utf8JsonWriter json) => WriteArray(json, "value", values);
    public static FillNaNFitted Read(JsonElement e, int width) => new(ReadArray(e, "value", width));
}

internal sealed class SelectStep(int[] columns) : FeatureStep
{
    public override string SpecText => "select(" + Ranges(columns) + ")";

    /// <summary>1-based indices with ascending runs folded: 0,1,2,5 -> "1-3,6".</summary>
    private static string Ranges(int[] columns)
    {
        var parts = new List<string>();
        for (int i = 0; i < columns.Length;)
        {
            int j = i;
            while (j + 1 < columns.Length && columns[j + 1] == columns[j] + 1) j++;
            parts.Add(j > i ? $"{columns[i] + 1}-{columns[j] + 1}" : $"{columns[i] + 1}");
            i = j + 1;
        }
        return string.Join(",", parts);
    }
    public override FittedStep Fit(float[] features, int rows, int width, int[] offsets)
    {
        foreach (int c in columns)
            if (c >= width) throw new FormatException($"feature pipeline step {SpecText}: feature {c + 1} does not exist (the data has {width} features)");
        return new SelectFitted(width, columns);
    }
}

internal sealed class SelectFitted(int width, int[] columns) : FittedStep
{
    public override string Op => "select";
    public override int InputCount => width;
    public override int OutputCount => columns.Length;
    public override float[] Apply(float[] features, int rows, int inWidth, int[]? offsets)
    {
        int outWidth = columns.Length;
        var result = new float[(long)rows * outWidth];
        ForRowBlocks(rows, (from, to) =>
        {
            for (int r = from; r < to; r++)
                for (int k = 0; k < outWidth; k++) result[(long)r * outWidth + k] = features[(long)r * inWidth + columns[k]];
        });
        return result;
    }
    public override string AddOnnx(OnnxGraphBuilder g, string x) =>
        g.Node("Gather", [x, g.Int64s("select_columns", columns.Select(c => (long)c).ToArray(), columns.Length)], "select", OnnxGraphBuilder.Int("axis", 1));
    public override void WriteParameters(Utf8JsonWriter json)
    {
        json.WriteStartArray("columns");
        foreach (int c in columns) json.WriteNumberValue(c + 1);
        json.WriteEndArray();
    }
    public static SelectFitted Read(JsonElement e, int width)
    {
        var columns = ReadArray(e, "columns", -1).Select(v => (int)v - 1).ToArray();
        if (columns.Any(c => c < 0 || c >= width)) throw new InvalidDataException("feature pipeline JSON: select names a feature outside the input");
        return new SelectFitted(width, columns);
    }
}


internal sealed class QueryMinMaxStep() : FeatureStep
{
    public override string SpecText => "query-minmax";
    public override FittedStep Fit(float[] features, int rows, int width, int[] offsets) => new QueryNormFitted(width, false);
}

internal sealed class QueryZScoreStep() : FeatureStep
{
    public override string SpecText => "query-zscore";
    public override FittedStep Fit(float[] features, int rows, int width, int[] offsets) => new QueryNormFitted(width, true);
}

internal sealed class QueryNormFitted(int width, bool zscore) : FittedStep
{
    public override string Op => zscore ? "query-zscore" : "query-minmax";
    public override int InputCount => width;

    public override float[] Apply(float[] features, int rows, int w, int[]? offsets)
    {
        offsets ??= [0, rows];
        if (offsets[^1] != rows) throw new ArgumentException("group offsets do not end at the row count.", nameof(offsets));
        System.Threading.Tasks.Parallel.For(0, offsets.Length - 1, Parallel, q =>
        {
            int start = offsets[q], end = offsets[q + 1];
            for (int j = 0; j < w; j++)
            {
                double a = 0, b = 0; // zscore: mean, sd; minmax: min, range
                if (zscore)
                {
                    double sum = 0; int n = 0;
                    for (int r = start; r < end; r++) { float x = features[(long)r * w + j]; if (!float.IsNaN(x)) { sum += x; n++; } }
                    a = n > 0 ? sum / n : 0;
                    double sq = 0;
                    for (int r = start; r < end; r++) { float x = features[(long)r * w + j]; if (!float.IsNaN(x)) sq += (x - a) * (x - a); }
                    b = n > 0 ? Math.Sqrt(sq / n) : 0;
                }
                else
                {
                    double min = double.PositiveInfinity, max = double.NegativeInfinity;
                    for (int r = start; r < end; r++) { float x = features[(long)r * w + j]; if (x < min) min = x; if (x > max) max = x; }
                    a = min > max ? 0 : min;
                    b = min > max ? 0 : max - min;
                }
                for (int r = start; r < end; r++)
                {
                    ref float x = ref features[(long)r * w + j];
                    x = (float)(b > 0 ? (x - a) / b : x - a);
                }
            }
        });
        return features;
    }

    public override void WriteParameters(Utf8JsonWriter json) { }

    public override string AddOnnx(OnnxGraphBuilder g, string x) =>
        throw new NotSupportedException($"the feature pipeline step '{Op}' normalises each feature over the rows of a query, which a model scoring row by row cannot do; "
            + "train with a per-row pipeline (zscore, minmax, log1p, clip, fillnan, select; e.g. --pipeline zscore) to export to ONNX.");
}
