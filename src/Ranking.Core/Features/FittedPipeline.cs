using System.Text;
using System.Text.Json;
using Ranking.Data;
using Ranking.Onnx;

namespace Ranking.Features;

/// <summary>
/// A feature pipeline fitted on a training set: applied unchanged to validation, test and prediction
/// data, and saved inside model files. <see cref="ToJson"/> / <see cref="FromJson"/> keep every
/// parameter bit for bit (shortest round-trip numbers), so a reloaded pipeline gives bit-identical
/// features on the same machine. (log1p goes through Math.Log, whose last bit may differ between
/// platforms; the other steps use only IEEE-exact arithmetic.)
/// </summary>
public sealed class FittedPipeline
{
    private const string FormatName = "ranking-feature-pipeline";
    private const int FormatVersion = 1;
    private readonly IReadOnlyList<FittedStep> _steps;

    internal FittedPipeline(int inputFeatureCount, IReadOnlyList<FittedStep> steps, string spec)
    {
        InputFeatureCount = inputFeatureCount;
        Spec = steps.Count == 0 ? "none" : spec;
        _steps = steps;
        OutputFeatureCount = steps.Count == 0 ? inputFeatureCount : steps[^1].OutputCount;
    }

    /// <summary>A pipeline that changes nothing, for data of <paramref name="featureCount"/> features.</summary>
    public static FittedPipeline Identity(int featureCount) => new(featureCount, [], "none");

    /// <summary>Features per raw row the pipeline expects.</summary>
    public int InputFeatureCount { get; }
    /// <summary>Features per row after the pipeline (fewer than the input when a select step drops some).</summary>
    public int OutputFeatureCount { get; }
    /// <summary>True when the pipeline has no step: features pass unchanged.</summary>
    public bool IsIdentity => _steps.Count == 0;

    /// <summary>The spec it was fitted from, canonical ("none" when empty).</summary>
    public string Spec { get; }

    /// <summary>The dataset with transformed features (a new array); labels, groups, ids and comments are shared.</summary>
    public RankingDataset Apply(RankingDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.FeatureCount != InputFeatureCount)
            throw new RankingDataException(data.Source, 0, 0,
                $"has {data.FeatureCount} features but the feature pipeline was fitted on {InputFeatureCount} (read it with the training set's feature count)");
        if (IsIdentity) return data;
        float[] features = Run(data.FeatureSpan.ToArray(), data.RowCount, data.GroupOffsets);
        return new RankingDataset(features, OutputFeatureCount, data.Labels, data.GroupOffsets, data.QueryIds, data.QueryWeights, data.RowComments, data.Source, data.Positions);
    }

    /// <summary>
    /// Transforms raw rows (rows x <see cref="InputFeatureCount"/>) into <paramref name="output"/>
    /// (rows x <see cref="OutputFeatureCount"/>). <paramref name="groupOffsets"/> delimits queries for
    /// per-query steps; null treats all rows as one query.
    /// </summary>
    public void Transform(ReadOnlySpan<float> features, int rows, int[]? groupOffsets, Span<float> output)
    {
        if (features.Length != (long)rows * InputFeatureCount)
            throw new ArgumentException($"expected {rows} x {InputFeatureCount} values, got {features.Length}.", nameof(features));
        if (output.Length != (long)rows * OutputFeatureCount)
            throw new ArgumentException($"output must hold {rows} x {OutputFeatureCount} values.", nameof(output));
        float[] result = Run(features.ToArray(), rows, groupOffsets);
        result.AsSpan().CopyTo(output);
    }

    /// <summary>
    /// Adds the ONNX nodes of every step to <paramref name="graph"/>, from <paramref name="input"/> (raw
    /// features, float [N, <see cref="InputFeatureCount"/>]); returns the name of the transformed features.
    /// Per-query steps throw <see cref="NotSupportedException"/>.
    /// </summary>
    internal string AddOnnxNodes(OnnxGraphBuilder graph, string input)
    {
        string x = input;
        foreach (var step in _steps) x = step.AddOnnx(graph, x);
        return x;
    }

    private float[] Run(float[] work, int rows, int[]? offsets)
    {
        int width = InputFeatureCount;
        foreach (var step in _steps)
        {
            work = step.Apply(work, rows, width, offsets);
            width = step.OutputCount;
        }
        return work;
    }

    /// <summary>The fitted pipeline as indented JSON (the model file's pipeline.json): the spec, feature counts and each step's fitted parameters as shortest round-trip numbers.</summary>
    public string ToJson()
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("format", FormatName);
            json.WriteNumber("version", FormatVersion);
            json.WriteString("spec", Spec);
            json.WriteNumber("input_features", InputFeatureCount);
            json.WriteNumber("output_features", OutputFeatureCount);
            json.WriteStartArray("steps");
            foreach (var step in _steps)
            {
                json.WriteStartObject();
                json.WriteString("op", step.Op);
                step.WriteParameters(json);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Reads <see cref="ToJson"/>'s output; anything else throws <see cref="InvalidDataException"/> saying what is wrong.</summary>
    public static FittedPipeline FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.GetString() != FormatName)
                throw new InvalidDataException($"feature pipeline JSON: not a {FormatName} document");
            int version = root.GetProperty("version").GetInt32();
            if (version != FormatVersion)
                throw new InvalidDataException($"feature pipeline JSON: version {version} is not supported (this build reads {FormatVersion})");
            int input = root.GetProperty("input_features").GetInt32();
            if (input < 0) throw new InvalidDataException("feature pipeline JSON: input_features is negative");
            var steps = new List<FittedStep>();
            int width = input;
            foreach (var e in root.GetProperty("steps").EnumerateArray())
            {
                string op = e.GetProperty("op").GetString() ?? "";
                FittedStep step = op switch
                {
                    "zscore" => ZScoreFitted.Read(e, width),
                    "minmax" => MinMaxFitted.Read(e, width),
                    "clip" => ClipFitted.Read(e, width),
                    "fillnan" => FillNaNFitted.Read(e, width),
                    "log1p" => new Log1pFitted(width),
                    "select" => SelectFitted.Read(e, width),
                    "query-minmax" => new QueryNormFitted(width, false),
                    "query-zscore" => new QueryNormFitted(width, true),
                    _ => throw new InvalidDataException($"feature pipeline JSON: unknown step '{op}'"),
                };
                steps.Add(step);
                width = step.OutputCount;
            }
            string spec = root.TryGetProperty("spec", out var specText) ? specText.GetString() ?? "" : string.Join(",", steps.Select(s => s.Op));
            var pipeline = new FittedPipeline(input, steps, spec);
            if (root.TryGetProperty("output_features", out var output) && output.GetInt32() != pipeline.OutputFeatureCount)
                throw new InvalidDataException($"feature pipeline JSON: output_features {output.GetInt32()} does not match its steps ({pipeline.OutputFeatureCount})");
            return pipeline;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"feature pipeline JSON: {ex.Message}", ex);
        }
    }
}
