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
/// ML.NET's scores, with no data view per call.
/// </summary>
public sealed class FastTreeModel : IScoringModel, Ranking.Onnx.IOnnxExportable
{
    /// <summary>The model family name in the manifest and the catalog.</summary>
    public const string Family = "fasttree";
    /// <summary>The payload entry holding ML.NET's model zip.</summary>
    public const string PayloadEntry = "fasttree.zip";

    private readonly byte[] _zip;
    private readonly FastTreeEnsemble _ensemble;

    private FastTreeModel(byte[] zip, ITransformer transformer, FastTreeRankingModelParameters parameters, int featureCount)
    {
        _zip = zip;
        Transformer = transformer;
        Parameters = parameters;
        FeatureCount = featureCount;
        _ensemble = new FastTreeEnsemble(parameters.TrainedTreeEnsemble, featureCount);
    }

    /// <inheritdoc/>
    public string ModelFamily => Family;
    /// <inheritdoc/>
    public int FeatureCount { get; }
    /// <summary>Trees in the ensemble.</summary>
    public int TreeCount => _ensemble.TreeCount;

    /// <summary>The ML.NET transformer (adds a Score column to a view with a Features column).</summary>
    public ITransformer Transformer { get; }

    /// <summary>ML.NET's model parameters (trees, feature weights).</summary>
    public FastTreeRankingModelParameters Parameters { get; }

    internal FastTreeEnsemble Ensemble => _ensemble;

    /// <inheritdoc/>
    public void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores)
        => _ensemble.Predict(features, rowCount, scores);

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
    /// Reads ML.NET's model zip (a FastTree ranking transformer saved with its input schema). ML.NET would inflate
    /// its entries unbounded, so the zip is first read through <see cref="BoundedZip"/> within
    /// <see cref="ModelReadLimits.InEffect"/> and ML.NET is handed a stored (uncompressed) copy of the checked entries:
    /// it can read no more bytes than the limits allow. The trees it builds are then checked
    /// (<see cref="FastTreeEnsemble"/>) before any row is scored.
    /// </summary>
    public static FastTreeModel FromZip(byte[] zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        byte[] checkedZip;
        try
        {
            var entries = BoundedZip.ReadAll(new MemoryStream(zip, writable: false), ModelReadLimits.InEffect);
            checkedZip = Stored(entries);
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException or ArgumentException)
        {
            throw new InvalidDataException($"the fasttree payload is not a readable zip: {e.Message}", e);
        }
        ITransformer transformer;
        DataViewSchema inputSchema;
        try
        {
            using var stream = new MemoryStream(checkedZip, writable: false);
            transformer = new MLContext().Model.Load(stream, out inputSchema);
        }
        catch (OutOfMemoryException e)
        {
            // ML.NET sizes some arrays by counts read from the stream; a crafted count fails this one allocation.
            throw new InvalidDataException($"the fasttree payload declares an array too large to allocate: {e.Message}", e);
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"the fasttree payload is not a readable ML.NET model: {e.Message}", e);
        }
        return FromTransformer(transformer, inputSchema, zip);
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
        using var stream = new MemoryStream();
        ml.Model.Save(transformer, inputSchema, stream);
        return FromTransformer(transformer, inputSchema, WithFixedTimestamps(stream.ToArray()));
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

    private static FastTreeModel FromTransformer(ITransformer transformer, DataViewSchema inputSchema, byte[] zip)
    {
        if (transformer is not RankingPredictionTransformer<FastTreeRankingModelParameters> ranking)
            throw new InvalidDataException($"the fasttree payload holds a {transformer.GetType().Name}, not a FastTree ranking model.");
        var featureType = inputSchema.GetColumnOrNull(ranking.FeatureColumnName)?.Type as VectorDataViewType;
        if (featureType is null || featureType.Size <= 0)
            throw new InvalidDataException($"the fasttree payload's schema has no fixed-size '{ranking.FeatureColumnName}' vector.");
        return new FastTreeModel(zip, ranking, ranking.Model, featureType.Size);
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
