using System.Text.Json.Nodes;
using Ranking.Data;
using Ranking.Features;
using Ranking.Models;

namespace Ranking.Embeddings;

/// <summary>
/// A trained encoder with the distance it was trained for: what <c>ranking embed encode|search|eval</c> load.
/// Saved in the engine's model file (zip + manifest.json with entry checksums, written atomically), model
/// family <see cref="Family"/>, the network under payload/<see cref="EmbeddingEncoder.PayloadEntry"/>.
/// </summary>
public sealed class EmbeddingModel
{
    /// <summary>The model family name in the manifest.</summary>
    public const string Family = "embedding";

    /// <summary>A model from its parts.</summary>
    public EmbeddingModel(EmbeddingEncoder encoder, EmbeddingDistance distance, EmbeddingTrainerOptions? options = null,
        IReadOnlyList<EmbeddingTrainingEvent>? events = null, bool collapsed = false, ModelManifest? manifest = null)
    {
        Encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        Distance = distance;
        Options = options;
        Events = events ?? [];
        Collapsed = collapsed;
        Manifest = manifest;
    }

    /// <summary>The encoder.</summary>
    public EmbeddingEncoder Encoder { get; }
    /// <summary>The distance embeddings are compared with.</summary>
    public EmbeddingDistance Distance { get; }
    /// <summary>The training options (null for a loaded model: see <see cref="Manifest"/>).</summary>
    public EmbeddingTrainerOptions? Options { get; }
    /// <summary>The training's epoch and warning events.</summary>
    public IReadOnlyList<EmbeddingTrainingEvent> Events { get; }
    /// <summary>True when training stopped on collapse.</summary>
    public bool Collapsed { get; }
    /// <summary>The manifest a loaded model was read with.</summary>
    public ModelManifest? Manifest { get; }
    /// <summary>The class proxies a proxy loss trained (saved as payload/<see cref="ClassProxies.PayloadEntry"/>); null for other losses.</summary>
    public ClassProxies? Proxies { get; init; }

    /// <summary>Embeds items (rows x Dimension, normalised when the encoder normalises).</summary>
    public float[] Encode(LabelledItems items, int threads = -1)
    {
        if (items.Dimension != Encoder.InputCount)
            throw new RankingDataException($"{items.Source}: {items.Dimension} features, the model was trained on {Encoder.InputCount}");
        return Encoder.Encode(items.Features, items.Count, threads);
    }

    /// <summary>Writes the model file atomically.</summary>
    public void Save(string path)
    {
        var o = new JsonObject
        {
            ["distance"] = Distance.Name(),
            ["normalise"] = Encoder.Normalise,
            ["dim"] = Encoder.Dimension,
            ["hidden"] = string.Join(",", Encoder.Network.Hidden),
            ["collapsed"] = Collapsed,
        };
        if (Options is { } t)
        {
            o["loss"] = t.Loss.Loss; o["miner"] = t.Loss.Miner; o["reducer"] = t.Loss.EffectiveReducer.ToString();
            o["epochs"] = t.Epochs; o["batch"] = t.BatchSize; o["lr"] = t.LearningRate; o["seed"] = t.Seed; o["memory"] = t.Memory;
            o["margin"] = t.Loss.Margin; o["temperature"] = t.Loss.Temperature;
            if (t.Loss.IsProxyLoss) { o["proxy_negatives"] = t.Loss.ProxyNegatives; o["proxy_alpha"] = t.Loss.ProxyAlpha; }
        }
        if (Proxies is not null) o["proxies"] = Proxies.Count;
        var last = Events.LastOrDefault(e => e.Warning is null && !double.IsNaN(e.MapAtR));
        var manifest = new ModelManifest
        {
            Ranker = $"embed:{Options?.Loss.Loss ?? "unknown"}",
            Objective = Options?.Loss.Loss ?? "unknown",
            ModelFamily = Family,
            FeatureCount = Encoder.InputCount,
            InputFeatureCount = Encoder.InputCount,
            Options = o,
            BestIteration = Events.Count(e => e.Warning is null),
            ValidMetrics = last is null ? new Dictionary<string, double>() : new Dictionary<string, double> { ["map_at_r"] = last.MapAtR, ["precision_at_1"] = last.PrecisionAt1 },
        };
        var payload = new Dictionary<string, byte[]> { [EmbeddingEncoder.PayloadEntry] = Encoder.Network.ToBytes() };
        if (Proxies is not null) payload[ClassProxies.PayloadEntry] = Proxies.ToBytes();
        ModelFile.WriteContainer(path, manifest, FittedPipeline.Identity(Encoder.InputCount).ToJson(), payload);
    }

    /// <summary>Reads a model file written by <see cref="Save"/>; anything else is a <see cref="RankingDataException"/> naming the file.</summary>
    public static EmbeddingModel Load(string path)
    {
        var (manifest, _, payload) = ModelFile.ReadContainer(path);
        if (manifest.ModelFamily != Family)
            throw new RankingDataException(path, 0, 0, $"a {manifest.ModelFamily} model, not an embedding model (train one with 'ranking embed train')");
        if (!payload.TryGetValue(EmbeddingEncoder.PayloadEntry, out var bytes))
            throw new RankingDataException(path, 0, 0, $"the payload entry '{EmbeddingEncoder.PayloadEntry}' is missing");
        try
        {
            var network = DenseNetwork.FromBytes(bytes, EmbeddingEncoder.PayloadEntry);
            var distance = EmbeddingDistances.Parse(manifest.Options["distance"]?.GetValue<string>() ?? "cosine");
            bool normalise = manifest.Options["normalise"]?.GetValue<bool>() ?? distance.NeedsNormalisedInput();
            bool collapsed = manifest.Options["collapsed"]?.GetValue<bool>() ?? false;
            var proxies = payload.TryGetValue(ClassProxies.PayloadEntry, out var proxyBytes) ? ClassProxies.FromBytes(proxyBytes, ClassProxies.PayloadEntry) : null;
            if (proxies is not null && proxies.Dimension != network.OutputWidth)
                throw new InvalidDataException($"{ClassProxies.PayloadEntry}: {proxies.Dimension}-dimensional proxies for a {network.OutputWidth}-dimensional encoder.");
            return new EmbeddingModel(new EmbeddingEncoder(network, normalise), distance, null, null, collapsed, manifest) { Proxies = proxies };
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new RankingDataException(path, 0, 0, $"cannot read the embedding model inside: {ex.Message}");
        }
    }
}
