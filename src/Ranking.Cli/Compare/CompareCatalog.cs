using Ranking.Data;
using Ranking.Metrics;
using Ranking.Training;

namespace Ranking.Cli.Compare;

/// <summary>The catalog and the training entry point compare and demo use.</summary>
internal static class CompareCatalog
{
    /// <summary>
    /// <see cref="CatalogFactory.CreateDefault"/>, plus the tree projects' rankers if that factory does not
    /// register them (yet): compare must see every ranker the build has.
    /// </summary>
    public static RankerCatalog Create()
    {
        var catalog = CatalogFactory.CreateDefault();
        var families = catalog.ModelFamilies.ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (!families.Contains("gbdt")) Ranking.LightGbm.LightGbmRankers.Register(catalog);
        if (!families.Contains("fasttree")) Ranking.MLNet.MLNetRankers.Register(catalog);
        return catalog;
    }

    /// <summary>Trains through <see cref="RankerTraining.Train"/> (pipeline fitted on train, evaluator-backed validation).</summary>
    public static TrainRanker Trainer(string? pipelineSpec) =>
        (ranker, train, valid, options, validMetrics, contract, progress) =>
        {
            try
            {
                var (model, result) = RankerTraining.Train(ranker, train, valid, options, pipelineSpec, validMetrics, contract, progress);
                // Test scores on the comparison's backend too (linear and MLP models score on the device).
                var compute = options.Compute;
                return new TrainedRanker(set => model.Predict(set, compute), result);
            }
            catch (ArgumentException ex)
            {
                // A knob or pipeline spec the ranker does not take: usage, not an internal fault.
                throw new UsageException($"{ranker.Name}: {ex.Message}");
            }
        };
}
