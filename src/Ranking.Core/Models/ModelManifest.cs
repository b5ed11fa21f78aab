using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ranking.Models;

/// <summary>
/// manifest.json of a model file: what the model is, how it was trained, how well it validated and under
/// which NDCG contract, and a SHA-256 of every other entry. Written with a fixed property order and
/// nothing time-dependent, so the same training gives a byte-identical file.
/// </summary>
public sealed class ModelManifest
{
    /// <summary>The format this build writes and reads. Bump on any incompatible change.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>The file's format version (<see cref="CurrentFormatVersion"/> when written by this build).</summary>
    public int FormatVersion { get; init; } = CurrentFormatVersion;
    /// <summary>The ranker's catalog name (e.g. "lambdamart", "ranknet").</summary>
    public required string Ranker { get; init; }
    /// <summary>The objective's name (e.g. "lambdarank").</summary>
    public required string Objective { get; init; }
    /// <summary>The model family (e.g. "linear", "mlp", "gbdt"): selects the payload loader.</summary>
    public required string ModelFamily { get; init; }
    /// <summary>Features the model consumes (after the pipeline).</summary>
    public required int FeatureCount { get; init; }
    /// <summary>Raw features the pipeline expects.</summary>
    public required int InputFeatureCount { get; init; }
    /// <summary>The pipeline spec that was fitted ("" for none).</summary>
    public string PipelineSpec { get; init; } = "";
    /// <summary>Training options: seed, threads, iterations, learning rate, early stopping and family knobs.</summary>
    public JsonObject Options { get; init; } = new();
    /// <summary>1-based iteration (epoch or tree count) whose model was kept: the best on the validation set, or the last without one.</summary>
    public int BestIteration { get; init; }
    /// <summary>Validation metric name -> value at the best iteration (empty without a validation set).</summary>
    public IReadOnlyDictionary<string, double> ValidMetrics { get; init; } = new Dictionary<string, double>();
    /// <summary>The NDCG contract the validation metrics were computed under (null without a validation set).</summary>
    public JsonObject? NdcgContract { get; init; }
    /// <summary>Entry name -> lower-case hex SHA-256 of its bytes; filled in by <see cref="ModelFile.Save"/>.</summary>
    public IReadOnlyDictionary<string, string> Entries { get; init; } = new Dictionary<string, string>();

    /// <summary>A copy with <see cref="Entries"/> replaced (the checksums computed while saving).</summary>
    public ModelManifest WithEntries(IReadOnlyDictionary<string, string> entries) => new()
    {
        FormatVersion = FormatVersion, Ranker = Ranker, Objective = Objective, ModelFamily = ModelFamily,
        FeatureCount = FeatureCount, InputFeatureCount = InputFeatureCount, PipelineSpec = PipelineSpec,
        Options = (JsonObject)Options.DeepClone(), BestIteration = BestIteration, ValidMetrics = ValidMetrics,
        NdcgContract = (JsonObject?)NdcgContract?.DeepClone(), Entries = entries,
    };

    /// <summary>The manifest as indented UTF-8 JSON, snake_case keys, in a fixed key order.</summary>
    public byte[] ToJsonBytes()
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("format_version", FormatVersion);
            w.WriteString("ranker", Ranker);
            w.WriteString("objective", Objective);
            w.WriteString("model_family", ModelFamily);
            w.WriteNumber("feature_count", FeatureCount);
            w.WriteNumber("input_feature_count", InputFeatureCount);
            w.WriteString("pipeline", PipelineSpec);
            w.WritePropertyName("options");
            Options.WriteTo(w);
            w.WriteNumber("best_iteration", BestIteration);
            w.WriteStartObject("validation");
            w.WriteStartObject("metrics");
            foreach (var (name, value) in ValidMetrics.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (double.IsFinite(value)) w.WriteNumber(name, value);
                else w.WriteNull(name);
            }
            w.WriteEndObject();
            w.WritePropertyName("ndcg_contract");
            if (NdcgContract is null) w.WriteNullValue();
            else NdcgContract.WriteTo(w);
            w.WriteEndObject();
            w.WriteStartObject("entries");
            foreach (var (name, hash) in Entries.OrderBy(p => p.Key, StringComparer.Ordinal)) w.WriteString(name, hash);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>Parses manifest.json; a malformed one is an <see cref="InvalidDataException"/> saying what is missing.</summary>
    public static ModelManifest FromJson(ReadOnlySpan<byte> json)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(Encoding.UTF8.GetString(json)); }
        catch (JsonException ex) { throw new InvalidDataException($"manifest.json is not valid JSON: {ex.Message}"); }
        if (root is not JsonObject o) throw new InvalidDataException("manifest.json is not a JSON object.");
        int version = Int(o, "format_version");
        if (version != CurrentFormatVersion)
            throw new InvalidDataException($"model format version {version.ToString(CultureInfo.InvariantCulture)}; this build reads version {CurrentFormatVersion} (retrain or use a matching build).");
        try
        {
        var metrics = new Dictionary<string, double>();
        var validation = o["validation"] as JsonObject;
        if (validation?["metrics"] is JsonObject m)
            foreach (var (name, value) in m) metrics[name] = value is null ? double.NaN : value.GetValue<double>();
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        if (o["entries"] is not JsonObject e) throw new InvalidDataException("manifest.json has no 'entries'.");
        foreach (var (name, value) in e) entries[name] = value?.GetValue<string>() ?? throw new InvalidDataException($"manifest.json: entry '{name}' has no checksum.");
        int features = Int(o, "feature_count"), inputs = Int(o, "input_feature_count");
        if (features < 1 || inputs < 1)
            throw new InvalidDataException($"manifest.json: feature_count {features} and input_feature_count {inputs} must be positive.");
            return new ModelManifest
            {
                FormatVersion = version,
                Ranker = Str(o, "ranker"),
                Objective = Str(o, "objective"),
                ModelFamily = Str(o, "model_family"),
                FeatureCount = features,
                InputFeatureCount = inputs,
                PipelineSpec = Str(o, "pipeline"),
                Options = o["options"] is JsonObject opts ? (JsonObject)opts.DeepClone() : new JsonObject(),
                BestIteration = Int(o, "best_iteration"),
                ValidMetrics = metrics,
                NdcgContract = validation?["ndcg_contract"] is JsonObject c ? (JsonObject)c.DeepClone() : null,
                Entries = entries,
            };
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"manifest.json has a field of the wrong type: {ex.Message}");
        }
    }

    private static string Str(JsonObject o, string name) =>
        o[name]?.GetValue<string>() ?? throw new InvalidDataException($"manifest.json has no '{name}'.");

    private static int Int(JsonObject o, string name)
    {
        var node = o[name] ?? throw new InvalidDataException($"manifest.json has no '{name}'.");
        try { return node.GetValue<int>(); }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        { throw new InvalidDataException($"manifest.json: '{name}' is not an integer."); }
    }
}
