using System.Text.Json.Nodes;
using Ranking.Data;
using Ranking.Features;
using Ranking.Models;

namespace Ranking.Embeddings;

/// <summary>
/// A trained encoder with the distance it was trained for: what <c>ranking embed encode|search|eval</c> load.
/// Saved in the engine's model file (zip + manifest.json with entry checksums, written atomically), model
/// family <see cref="Family"/>, the network under payload/<see cref="EmbeddingEncoder.PayloadEntry"/>. A two-tower
/// model (<see cref="ItemEncoder"/> set) holds a query tower (<see cref="Encoder"/>) and an item tower of the same
/// output dimension, normalisation and distance; its manifest says <c>"towers": 2</c> and names the payload entry of
/// each (<see cref="QueryTowerEntry"/>, <see cref="ItemTowerEntry"/>). Files without <c>"towers"</c> hold one encoder.
/// </summary>
public sealed class EmbeddingModel
{
    /// <summary>The model family name in the manifest.</summary>
    public const string Family = "embedding";
    /// <summary>The payload entry of a two-tower model's query tower.</summary>
    public const string QueryTowerEntry = "query-encoder.bin";
    /// <summary>The payload entry of a two-tower model's item tower.</summary>
    public const string ItemTowerEntry = "item-encoder.bin";

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

    /// <summary>The encoder: the one shared encoder, or the query tower of a two-tower model.</summary>
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

    /// <summary>
    /// The item tower of a two-tower model (same output dimension and normalisation as <see cref="Encoder"/>, its own
    /// weights and input width); null for one shared encoder.
    /// </summary>
    public EmbeddingEncoder? ItemEncoder
    {
        get => _itemEncoder;
        init
        {
            if (value is not null && (value.Dimension != Encoder.Dimension || value.Normalise != Encoder.Normalise))
                throw new ArgumentException($"the item tower ({value.Dimension}-dimensional, normalise {value.Normalise}) must match the query tower ({Encoder.Dimension}-dimensional, normalise {Encoder.Normalise}).");
            _itemEncoder = value;
        }
    }
    private readonly EmbeddingEncoder? _itemEncoder;

    /// <summary>True for a two-tower model (a query tower and an item tower).</summary>
    public bool IsTwoTower => _itemEncoder is not null;

    /// <summary>The encoder of <paramref name="tower"/>: the query or item tower, or the one shared encoder for either.</summary>
    public EmbeddingEncoder Tower(EmbeddingTower tower) => tower == EmbeddingTower.Item ? _itemEncoder ?? Encoder : Encoder;

    /// <summary>Embeds items (rows x Dimension, normalised when the encoder normalises). A two-tower model needs the tower: see the other overload.</summary>
    public float[] Encode(LabelledItems items, int threads = -1)
    {
        if (IsTwoTower) throw new InvalidOperationException("a two-tower model: say which tower embeds the items (Encode(items, tower)).");
        return Encode(items, EmbeddingTower.Query, threads);
    }

    /// <summary>Embeds items with one tower (either name means the shared encoder of a one-tower model); the items must have that tower's feature count.</summary>
    public float[] Encode(LabelledItems items, EmbeddingTower tower, int threads = -1)
    {
        ArgumentNullException.ThrowIfNull(items);
        var encoder = Tower(tower);
        if (items.Dimension != encoder.InputCount)
            throw new RankingDataException($"{(items.Source == "" ? "<input>" : items.Source)}: {items.Dimension} features, the model{(IsTwoTower ? $"'s {tower.Name()} tower" : "")} was trained on {encoder.InputCount}");
        return encoder.Encode(items.Features, items.Count, threads);
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
        if (_itemEncoder is not null)
        {
            o["towers"] = 2;
            o["query_encoder"] = QueryTowerEntry;
            o["item_encoder"] = ItemTowerEntry;
            o["item_features"] = _itemEncoder.InputCount;
            o["item_hidden"] = string.Join(",", _itemEncoder.Network.Hidden);
        }
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
        var payload = _itemEncoder is null
            ? new Dictionary<string, byte[]> { [EmbeddingEncoder.PayloadEntry] = Encoder.Network.ToBytes() }
            : new Dictionary<string, byte[]> { [QueryTowerEntry] = Encoder.Network.ToBytes(), [ItemTowerEntry] = _itemEncoder.Network.ToBytes() };
        if (Proxies is not null) payload[ClassProxies.PayloadEntry] = Proxies.ToBytes();
        ModelFile.WriteContainer(path, manifest, FittedPipeline.Identity(Encoder.InputCount).ToJson(), payload);
    }

    /// <summary>Reads a model file written by <see cref="Save"/>; anything else is a <see cref="RankingDataException"/> naming the file.</summary>
    public static EmbeddingModel Load(string path)
    {
        var (manifest, _, payload) = ModelFile.ReadContainer(path);
        if (manifest.ModelFamily != Family)
            throw new RankingDataException(path, 0, 0, $"a {manifest.ModelFamily} model, not an embedding model (train one with 'ranking embed train')");
        int towers;
        string queryEntry, itemEntry;
        try
        {
            towers = manifest.Options["towers"]?.GetValue<int>() ?? 1;
            queryEntry = towers == 2 ? manifest.Options["query_encoder"]?.GetValue<string>() ?? QueryTowerEntry : EmbeddingEncoder.PayloadEntry;
            itemEntry = manifest.Options["item_encoder"]?.GetValue<string>() ?? ItemTowerEntry;
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new RankingDataException(path, 0, 0, $"the manifest's tower entries are malformed: {ex.Message}");
        }
        if (towers is not (1 or 2)) throw new RankingDataException(path, 0, 0, $"the manifest says {towers} towers; an embedding model has 1 or 2");
        if (towers == 2 && queryEntry == itemEntry) throw new RankingDataException(path, 0, 0, $"the manifest names '{queryEntry}' for both towers");
        if (!payload.TryGetValue(queryEntry, out var bytes))
            throw new RankingDataException(path, 0, 0, $"the payload entry '{queryEntry}' is missing");
        byte[]? itemBytes = null;
        if (towers == 2 && !payload.TryGetValue(itemEntry, out itemBytes))
            throw new RankingDataException(path, 0, 0, $"the payload entry '{itemEntry}' of the item tower is missing");
        try
        {
            var network = DenseNetwork.FromBytes(bytes, queryEntry);
            var itemNetwork = itemBytes is null ? null : DenseNetwork.FromBytes(itemBytes, itemEntry);
            if (itemNetwork is not null && itemNetwork.OutputWidth != network.OutputWidth)
                throw new InvalidDataException($"{itemEntry}: a {itemNetwork.OutputWidth}-dimensional item tower for a {network.OutputWidth}-dimensional query tower.");
            var distance = EmbeddingDistances.Parse(manifest.Options["distance"]?.GetValue<string>() ?? "cosine");
            bool normalise = manifest.Options["normalise"]?.GetValue<bool>() ?? distance.NeedsNormalisedInput();
            bool collapsed = manifest.Options["collapsed"]?.GetValue<bool>() ?? false;
            var proxies = payload.TryGetValue(ClassProxies.PayloadEntry, out var proxyBytes) ? ClassProxies.FromBytes(proxyBytes, ClassProxies.PayloadEntry) : null;
            if (proxies is not null && proxies.Dimension != network.OutputWidth)
                throw new InvalidDataException($"{ClassProxies.PayloadEntry}: {proxies.Dimension}-dimensional proxies for a {network.OutputWidth}-dimensional encoder.");
            return new EmbeddingModel(new EmbeddingEncoder(network, normalise), distance, null, null, collapsed, manifest)
            {
                Proxies = proxies,
                ItemEncoder = itemNetwork is null ? null : new EmbeddingEncoder(itemNetwork, normalise),
            };
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new RankingDataException(path, 0, 0, $"cannot read the embedding model inside: {ex.Message}");
        }
    }
}
