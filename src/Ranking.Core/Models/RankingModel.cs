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
    public FittedPipeline Pipeline { get; } = pipeline;
    public IScoringModel Model { get; } = model;
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
        var scores = new float[raw.RowCount];
        if (compute is not null && Model is IDenseNetworkModel dense && compute.TryPredictDense(dense.Network, transformed.Features, transformed.RowCount, scores))
            return scores;
        Model.Predict(transformed.Features, transformed.RowCount, scores);
        return scores;
    }

    /// <summary>Writes the model file (atomic); see <see cref="ModelFile"/>.</summary>
    public void Save(string path) => ModelFile.Save(this, path);

    /// <summary>Reads a model file; the catalog supplies the payload loader of its model family.</summary>
    public static RankingModel Load(string path, IModelLoaders catalog) => ModelFile.Load(path, catalog);
}
