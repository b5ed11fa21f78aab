using System.Text;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.LightGbm;

/// <summary>
/// A trained LightGBM model as a scorer. Its payload is LightGBM's own model text (entry
/// <see cref="PayloadEntry"/>), so a model file can also be read by any LightGBM tool, and `ranking predict`
/// treats it like every other ranker. The text is read and checked by managed code (<see cref="LightGbmEnsemble"/>)
/// and scored by it: loading and predicting need no native library, and LightGBM's native parser never sees a
/// model file. Scores are LightGBM's raw scores. Immutable after loading, so one instance may score from many
/// threads at once.
/// </summary>
public sealed class LightGbmModel : IScoringModel, Ranking.Onnx.IOnnxExportable, Ranking.Onnx.ITreeEnsembleModel
{
    /// <summary>The model family name in the manifest and the catalog.</summary>
    public const string Family = "gbdt";
    /// <summary>The payload entry holding LightGBM's model text.</summary>
    public const string PayloadEntry = "lightgbm-model.txt";

    /// <summary>Reads and checks LightGBM model text (as saved by a booster); a malformed text is an <see cref="InvalidDataException"/>.</summary>
    public LightGbmModel(string modelText)
    {
        ArgumentNullException.ThrowIfNull(modelText);
        ModelText = modelText;
        Ensemble = LightGbmEnsemble.Parse(modelText, PayloadEntry);
    }

    /// <summary>The parsed trees (for exporters and inspection).</summary>
    public LightGbmEnsemble Ensemble { get; }
    /// <inheritdoc/>
    public string ModelFamily => Family;
    /// <inheritdoc/>
    public int FeatureCount => Ensemble.FeatureCount;
    /// <summary>Boosting rounds the model holds (one tree per round).</summary>
    public int Iterations => Ensemble.Trees.Count;
    /// <summary>LightGBM's model text, as stored in the payload.</summary>
    public string ModelText { get; }

    /// <summary>Threads used to predict; 0 or -1 = all cores. Scores do not depend on it.</summary>
    public int PredictionThreads { get; set; }

    /// <inheritdoc/>
    public void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores) =>
        Ensemble.PredictRaw(features, rowCount, scores, PredictionThreads);

    /// <summary>The trees in the engine's neutral form (<see cref="LightGbmOnnx.ToTreeEnsemble"/>): what the JSON tree formats are written from.</summary>
    public Ranking.Onnx.TreeEnsemble ToTreeEnsemble() => LightGbmOnnx.ToTreeEnsemble(Ensemble);

    /// <summary>The trees as one ONNX-ML TreeEnsembleRegressor (see <see cref="LightGbmOnnx"/>).</summary>
    public void AddScoring(Ranking.Onnx.OnnxGraphBuilder graph, string features, string score)
    {
        ArgumentNullException.ThrowIfNull(graph);
        graph.AddTreeEnsemble(LightGbmOnnx.ToTreeEnsemble(Ensemble), features, score);
    }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, byte[]> SavePayload() =>
        new Dictionary<string, byte[]> { [PayloadEntry] = Encoding.UTF8.GetBytes(ModelText) };

    /// <summary>The <see cref="ModelPayloadLoader"/> registered for the gbdt family.</summary>
    public static IScoringModel Load(IReadOnlyDictionary<string, byte[]> payload)
    {
        if (!payload.TryGetValue(PayloadEntry, out var bytes))
            throw new InvalidDataException($"the gbdt model payload has no '{PayloadEntry}' entry.");
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw new InvalidDataException($"the gbdt model payload is not a LightGBM model: {PayloadEntry} is not UTF-8 text."); }
        try
        {
            return new LightGbmModel(text);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"the gbdt model payload is not a LightGBM model: {e.Message}", e);
        }
    }
}
