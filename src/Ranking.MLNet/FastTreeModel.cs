using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.MLNet;

/// <summary>
/// A trained ML.NET FastTree LambdaMART model as one of our scorers. Its payload in our model file is
/// ML.NET's own model zip (entry <see cref="PayloadEntry"/>), so the same bytes also load straight into ML.NET
/// (<c>mlContext.Model.Load</c>). Scoring walks the trees itself (<see cref="FastTreeEnsemble"/>), equal to
/// ML.NET's scores, with no data view per call. A model file's trees are read by our own checked reader
/// (<see cref="FastTreeModelReader"/>), never by ML.NET's loader, which can hang on a crafted file.
/// </summary>
public sealed class FastTreeModel : IScoringModel, Ranking.Onnx.IOnnxExportable, Ranking.Onnx.ITreeEnsembleModel
{
    /// <summary>The model family name in the manifest and the catalog.</summary>
    public const string Family = "fasttree";
    /// <summary>The payload entry holding ML.NET's model zip.</summary>
    public const string PayloadEntry = "fasttree.zip";

    private readonly byte[] _zip;
    private readonly FastTreeEnsemble _ensemble;
    private readonly Lazy<RankingPredictionTransformer<FastTreeRankingModelParameters>> _transformer;

    private FastTreeModel(byte[] zip, FastTreeEnsemble ensemble, Lazy<RankingPredictionTransformer<FastTreeRankingModelParameters>> transformer)
    {
        _zip = zip;
        _ensemble = ensemble;
        _transformer = transformer;
    }

    /// <inheritdoc/>
    public string ModelFamily => Family;
    /// <inheritdoc/>
    public int FeatureCount => _ensemble.FeatureCount;
    /// <summary>Trees in the ensemble.</summary>
    public int TreeCount => _ensemble.TreeCount;

    /// <summary>
    /// The ML.NET transformer (adds a Score column to a view with a Features column). For a loaded model it is built
    /// by ML.NET's loader on first use, from the payload's entries as they were checked for size. ML.NET's loader
    /// trusts what it reads (a crafted file can make it loop forever), so use this only on model files you trust;
    /// <see cref="Predict"/> never needs it.
    /// </summary>
    public ITransformer Transformer => _transformer.Value;

    /// <summary>ML.NET's model parameters (trees, feature weights); loaded as <see cref="Transformer"/> is.</summary>
    public FastTreeRankingModelParameters Parameters => _transformer.Value.Model;

    internal FastTreeEnsemble Ensemble => _ensemble;

    /// <inheritdoc/>
    public void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores)
        => _ensemble.Predict(features, rowCount, scores);

    /// <summary>The trees in the engine's neutral form, FastTree's bias as the base score: what the JSON tree formats are written from.</summary>
    public Ranking.Onnx.TreeEnsemble ToTreeEnsemble() => _ensemble.ToTreeEnsemble();

    /// <summary>The trees as one ONNX-ML TreeEnsembleRegressor (FastTree's bias as its base value).</summary>
    public void AddScoring(Ranking.Onnx.OnnxGraphBuilder graph, string features, string score)
    {
        ArgumentNullException.ThrowIfNull(graph);
        graph.AddTreeEnsemble(_ensemble.ToTreeEnsemble(), features, score);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, byte[]> SavePayload() => new Dictionary<string, byte[]> { [PayloadEntry] = _zip };

    /// <summary>The payload loader registered for family "fasttree".</summary>
    public static FastTreeModel Load(IReadOnlyDictionary<string, byte[]> payload)
    {
        if (!payload.TryGetValue(PayloadEntry, out var zip))
            throw new InvalidDataException($"a fasttree model needs the entry '{PayloadEntry}'; found {string.Join(", ", payload.Keys)}.");
        return FromZip(zip);
    }

    /// <summary>
    /// Reads ML.NET's model zip (a FastTree ranking transformer saved with its input schema). The zip is read through
    /// <see cref="BoundedZip"/> within <see cref="ModelReadLimits.InEffect"/>, and the trees by
    /// <see cref="FastTreeModelReader"/>, which checks every count against the bytes present before allocating and
    /// every tree before any row is scored (<see cref="FastTreeEnsemble"/>). ML.NET's loader is not run here.
    /// </summary>
    public static FastTreeModel FromZip(byte[] zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        var limits = ModelReadLimits.InEffect;
        IReadOnlyList<(string Name, byte[] Bytes)> entries;
        try
        {
            entries = BoundedZip.ReadAll(new MemoryStream(zip, writable: false), limits);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException or ArgumentException)
        {
            throw new InvalidDataException($"the fasttree payload is not a readable zip: {e.Message}", e);
        }
        var ensemble = FastTreeModelReader.Read(entries);
        // The inflated entries are not kept for ML.NET: a model scored only by our walk holds just its zip, and the
        // rare Transformer request inflates it again within the same limits.
        return new FastTreeModel(zip, ensemble, new Lazy<RankingPredictionTransformer<FastTreeRankingModelParameters>>(
            () => LoadWithMLNet(BoundedZip.ReadAll(new MemoryStream(zip, writable: false), limits))));
    }

    /// <summary>ML.NET's own loader over the checked entries, stored uncompressed (sizes true by construction).</summary>
    private static RankingPredictionTransformer<FastTreeRankingModelParameters> LoadWithMLNet(IReadOnlyList<(string Name, byte[] Bytes)> entries)
    {
        ITransformer transformer;
        try
        {
            using var stream = new MemoryStream(Stored(entries), writable: false);
            transformer = new MLContext().Model.Load(stream, out _);
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"the fasttree payload is not a readable ML.NET model: {e.Message}", e);
        }
        return transformer as RankingPredictionTransformer<FastTreeRankingModelParameters>
            ?? throw new InvalidDataException($"the fasttree payload holds a {transformer.GetType().Name}, not a FastTree ranking model.");
    }

    /// <summary>The entries again, stored without compression: sizes that are true by construction.</summary>
    private static byte[] Stored(IReadOnlyList<(string Name, byte[] Bytes)> entries)
    {
        using var output = new MemoryStream();
        using (var archive = new System.IO.Compression.ZipArchive(output, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in entries)
            {
                var entry = archive.CreateEntry(name, System.IO.Compression.CompressionLevel.NoCompression);
                using var to = entry.Open();
                to.Write(bytes);
            }
        }
        return output.ToArray();
    }

    /// <summary>Wraps a freshly trained transformer, saving it to ML.NET's zip for the payload.</summary>
    internal static FastTreeModel FromTrained(MLContext ml, ITransformer transformer, DataViewSchema inputSchema)
    {
        if (transformer is not RankingPredictionTransformer<FastTreeRankingModelParameters> ranking)
            throw new InvalidOperationException($"FastTree training gave a {transformer.GetType().Name}, not a ranking transformer.");
        var featureType = inputSchema.GetColumnOrNull(ranking.FeatureColumnName)?.Type as VectorDataViewType;
        if (featureType is null || featureType.Size <= 0)
            throw new InvalidOperationException($"the training schema has no fixed-size '{ranking.FeatureColumnName}' vector.");
        using var stream = new MemoryStream();
        ml.Model.Save(transformer, inputSchema, stream);
        var ensemble = new FastTreeEnsemble(ranking.Model.TrainedTreeEnsemble, featureType.Size);
        return new FastTreeModel(WithFixedTimestamps(stream.ToArray()), ensemble, new Lazy<RankingPredictionTransformer<FastTreeRankingModelParameters>>(() => ranking));
    }

    /// <summary>
    /// ML.NET stamps each zip entry with the current time, so the same training gave different model-file
    /// bytes a second later. The entries are copied in order with a fixed time (ML.NET still loads it).
    /// </summary>
    internal static byte[] WithFixedTimestamps(byte[] zip)
    {
        var fixedTime = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var input = new System.IO.Compression.ZipArchive(new MemoryStream(zip), System.IO.Compression.ZipArchiveMode.Read);
        using var output = new MemoryStream();
        using (var rewritten = new System.IO.Compression.ZipArchive(output, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in input.Entries)
            {
                var copy = rewritten.CreateEntry(entry.FullName, System.IO.Compression.CompressionLevel.Optimal);
                copy.LastWriteTime = fixedTime;
                using var from = entry.Open();
                using var to = copy.Open();
                from.CopyTo(to);
            }
        }
        return output.ToArray();
    }

    /// <summary>Scores through ML.NET's transformer, the reference our tree walk is held to.</summary>
    internal float[] PredictWithMLNet(float[] features, int rowCount)
    {
        var scored = Transformer.Transform(new RankingDataView(features, FeatureCount, rowCount));
        var scoreColumn = scored.Schema[RankingColumns.Score];
        var scores = new float[rowCount];
        using var cursor = scored.GetRowCursor([scoreColumn]);
        var get = cursor.GetGetter<float>(scoreColumn);
        int r = 0;
        while (cursor.MoveNext()) get(ref scores[r++]);
        return scores;
    }
}
