using Ranking.Data;
using Ranking.Features;

namespace Ranking.Models;

/// <summary>
/// What a user trains, saves, loads and applies: the fitted feature pipeline, the scorer, and the manifest
/// that says what it is and how it validated. <see cref="Predict"/> takes raw rows (as read from a file)
/// and runs them through the same pipeline the model was trained behind.
/// </summary>
public sealed class RankingModel(FittedPipeline pipeline, IScoringModel model, ModelManifest manifest)
{
    /// <summary>The fitted feature pipeline that turns raw rows into the model's features.</summary>
    public FittedPipeline Pipeline { get; } = pipeline;
    /// <summary>The scorer (linear, MLP, LightGBM, FastTree, ...).</summary>
    public IScoringModel Model { get; } = model;
    /// <summary>What was trained and how: ranker, objective, options, validation metrics, entry checksums.</summary>
    public ModelManifest Manifest { get; } = manifest;

    /// <summary>
    /// One score per row of <paramref name="raw"/>, in its row order. With a GPU <paramref name="compute"/>
    /// backend, linear and MLP models score on the device (the pipeline still runs on the CPU); other
    /// models, and the CPU backend, score with the managed code.
    /// </summary>
    public float[] Predict(RankingDataset raw, IDenseNetworkScorer? compute = null)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (raw.FeatureCount != Manifest.InputFeatureCount)
            throw new RankingDataException(raw.Source, 0, 0,
                $"the data has {raw.FeatureCount} features, the model was trained on {Manifest.InputFeatureCount} (read it with DatasetReadOptions.FeatureCount = {Manifest.InputFeatureCount}).");
        var transformed = Pipeline.Apply(raw);
        if (Model is IDenseNetworkModel && !ReferenceEquals(transformed, raw))
        {
            // Finite rows can leave a pipeline as infinities when its parameters are extreme (a crafted or damaged
            // model file: a mean of 1e308); a network would turn them into NaN scores, so they are refused here.
            int bad = FirstNonFinite(transformed.Features);
            if (bad >= 0)
                throw new RankingDataException(raw.Source, 0, 0,
                    $"row {bad / transformed.FeatureCount + 1}: feature {bad % transformed.FeatureCount + 1} is {transformed.Features[bad]} after the model's pipeline '{Pipeline.Spec}' (its parameters overflow float); the {Model.ModelFamily} model cannot score it.");
        }
        var scores = new float[raw.RowCount];
        // The device path takes an array (a mapped set is copied for it); the managed scorers read the span.
        if (!(compute is not null && Model is IDenseNetworkModel dense && compute.TryPredictDense(dense.Network, transformed.Features, transformed.RowCount, scores)))
            Model.Predict(transformed.FeatureSpan, transformed.RowCount, scores);
        // Finite parameters can still overflow (a crafted model: weights near float.MaxValue, leaves of +-1e308);
        // +-Inf scores rank, NaN ones cannot, so they are refused here rather than handed to an evaluator.
        int nan = Array.FindIndex(scores, float.IsNaN);
        if (nan >= 0)
            throw new RankingDataException(raw.Source, 0, 0,
                $"row {nan + 1}: the {Model.ModelFamily} model's score is NaN (its parameters overflow on this row); the model cannot rank it.");
        return scores;
    }

    private static int FirstNonFinite(float[] values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>Writes the model file (atomic); see <see cref="ModelFile"/>.</summary>
    public void Save(string path) => ModelFile.Save(this, path);

    /// <summary>Reads a model file; the catalog supplies the payload loader of its model family.</summary>
    public static RankingModel Load(string path, IModelLoaders catalog) => ModelFile.Load(path, catalog);
}
