using Ranking.Data;
using Ranking.Features;

namespace Ranking.Models;

public static partial class ModelFile
{
    /// <summary>Saves a trained model: manifest, pipeline and the scorer's payload, atomically.</summary>
    public static void Save(RankingModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Model.FeatureCount != model.Manifest.FeatureCount)
            throw new ArgumentException($"the manifest says {model.Manifest.FeatureCount} features, the model has {model.Model.FeatureCount}.");
        WriteContainer(path, model.Manifest, model.Pipeline.ToJson(), model.Model.SavePayload());
    }

    /// <summary>Loads a model file within the default <see cref="ModelReadLimits"/>; see <see cref="Load(string, IModelLoaders, ModelReadLimits)"/>.</summary>
    public static RankingModel Load(string path, IModelLoaders catalog) => Load(path, catalog, ModelReadLimits.Default);

    /// <summary>
    /// Loads a model file. A missing file is a <see cref="FileNotFoundException"/>; another format version,
    /// a truncated or corrupted file, a file over <paramref name="limits"/>, a model family this build does not
    /// know, or a payload that is malformed or does not match its manifest (feature counts, array lengths,
    /// indices, non-finite numbers) is a <see cref="RankingDataException"/> naming the file. Payload loaders that
    /// open nested containers (FastTree's zip) read the same limits from <see cref="ModelReadLimits.InEffect"/>.
    /// </summary>
    public static RankingModel Load(string path, IModelLoaders catalog, ModelReadLimits limits)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(limits);
        var (manifest, pipelineJson, payload) = ReadContainer(path, limits);
        ModelPayloadLoader loader;
        try { loader = catalog.GetLoader(manifest.ModelFamily); }
        catch (ArgumentException ex) { throw new RankingDataException(path, 0, 0, ex.Message); }
        IScoringModel scorer;
        FittedPipeline pipeline;
        var outer = ModelReadLimits.Ambient.Value;
        ModelReadLimits.Ambient.Value = limits;
        try
        {
            pipeline = FittedPipeline.FromJson(pipelineJson);
            if (pipeline.InputFeatureCount != manifest.InputFeatureCount || pipeline.OutputFeatureCount != manifest.FeatureCount)
                throw new InvalidDataException($"the pipeline maps {pipeline.InputFeatureCount} features to {pipeline.OutputFeatureCount}; the manifest says {manifest.InputFeatureCount} to {manifest.FeatureCount}.");
            scorer = loader(payload);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or ArgumentException or System.Text.Json.JsonException or RankingDataException or OverflowException)
        {
            throw new RankingDataException(path, 0, 0, $"cannot read the {manifest.ModelFamily} model inside: {ex.Message}");
        }
        finally
        {
            ModelReadLimits.Ambient.Value = outer;
        }
        if (scorer.FeatureCount != manifest.FeatureCount)
            throw new RankingDataException(path, 0, 0, $"the payload has {scorer.FeatureCount} features, the manifest {manifest.FeatureCount}.");
        return new RankingModel(pipeline, scorer, manifest);
    }
}
