using Ranking.Data;
using Ranking.Features;
using Ranking.Training;

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

    /// <summary>
    /// Loads a model file. A missing file is a <see cref="FileNotFoundException"/>; another format version,
    /// a truncated or corrupted file, a model family this build does not know, or a payload that does not
    /// match its manifest is a <see cref="RankingDataException"/> naming the file.
    /// </summary>
    public static RankingModel Load(string path, RankerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var (manifest, pipelineJson, payload) = ReadContainer(path);
        ModelPayloadLoader loader;
        try { loader = catalog.GetLoader(manifest.ModelFamily); }
        catch (ArgumentException ex) { throw new RankingDataException(path, 0, 0, ex.Message); }
        IScoringModel scorer;
        FittedPipeline pipeline;
        try
        {
            scorer = loader(payload);
            pipeline = FittedPipeline.FromJson(pipelineJson);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or ArgumentException or System.Text.Json.JsonException or RankingDataException)
        {
            throw new RankingDataException(path, 0, 0, $"cannot read the {manifest.ModelFamily} model inside: {ex.Message}");
        }
        if (scorer.FeatureCount != manifest.FeatureCount)
            throw new RankingDataException(path, 0, 0, $"the payload has {scorer.FeatureCount} features, the manifest {manifest.FeatureCount}.");
        return new RankingModel(pipeline, scorer, manifest);
    }
}
