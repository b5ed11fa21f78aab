using System.Buffers;
using System.Text;
using Ranking.Training;

namespace Ranking.LightGbm;

/// <summary>
/// A trained LightGBM booster as a scorer. Its payload is LightGBM's own model text (entry
/// <see cref="PayloadEntry"/>), so a model file can also be read by any LightGBM tool, and `ranking predict`
/// treats it like every other ranker. Scores are LightGBM's raw scores.
/// </summary>
public sealed class LightGbmModel : IScoringModel, IDisposable
{
    public const string Family = "gbdt";
    public const string PayloadEntry = "lightgbm-model.txt";

    private readonly LightGbmBooster _booster;

    /// <summary>Parses LightGBM model text (as saved by a booster).</summary>
    public LightGbmModel(string modelText)
    {
        ModelText = modelText;
        _booster = LightGbmBooster.LoadModelFromString(modelText);
        FeatureCount = _booster.FeatureCount;
        Iterations = _booster.CurrentIteration;
    }

    public string ModelFamily => Family;
    public int FeatureCount { get; }
    /// <summary>Boosting rounds the model holds.</summary>
    public int Iterations { get; }
    public string ModelText { get; }

    /// <summary>Threads LightGBM may use to predict; 0 = its default.</summary>
    public int PredictionThreads { get; set; }

    public void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores)
    {
        if (scores.Length < rowCount) throw new ArgumentException("one score per row is required.", nameof(scores));
        if ((long)rowCount * FeatureCount != features.Length)
            throw new ArgumentException($"the model expects {FeatureCount} features per row; got {features.Length} values for {rowCount} rows.", nameof(features));
        double[] raw = ArrayPool<double>.Shared.Rent(Math.Max(rowCount, 1));
        try
        {
            _booster.PredictForMat(features, rowCount, FeatureCount, raw.AsSpan(0, rowCount), threads: PredictionThreads);
            for (int i = 0; i < rowCount; i++) scores[i] = (float)raw[i];
        }
        finally
        {
            ArrayPool<double>.Shared.Return(raw);
        }
    }

    public IReadOnlyDictionary<string, byte[]> SavePayload() =>
        new Dictionary<string, byte[]> { [PayloadEntry] = Encoding.UTF8.GetBytes(ModelText) };

    /// <summary>The <see cref="ModelPayloadLoader"/> registered for the gbdt family.</summary>
    public static IScoringModel Load(IReadOnlyDictionary<string, byte[]> payload)
    {
        if (!payload.TryGetValue(PayloadEntry, out var bytes))
            throw new InvalidDataException($"the gbdt model payload has no '{PayloadEntry}' entry.");
        try
        {
            return new LightGbmModel(Encoding.UTF8.GetString(bytes));
        }
        catch (LightGbmException e)
        {
            throw new InvalidDataException($"the gbdt model payload is not a LightGBM model: {e.NativeMessage}", e);
        }
    }

    public void Dispose() => _booster.Dispose();
}
