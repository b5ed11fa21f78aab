using Ranking.Training;

namespace Ranking.MLNet;

/// <summary>Registers ML.NET's rankers and model family with the catalog.</summary>
public static class MLNetRankers
{
    /// <summary>The name of the FastTree LambdaMART ranker.</summary>
    public const string LambdaMartFastTree = "lambdamart-fasttree";

    /// <summary>Model family "fasttree" (payload loader) and ranker "lambdamart-fasttree" (lambdarank + fasttree).</summary>
    public static void Register(RankerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        catalog.RegisterModelFamily(FastTreeModel.Family, payload => FastTreeModel.Load(payload));
        catalog.Register(new RankerDescriptor(
            LambdaMartFastTree,
            Objective: "lambdarank",
            ModelFamily: FastTreeModel.Family,
            Description: "LambdaMART by ML.NET's FastTree (Microsoft.ML.FastTree 5.0.1); FastTree's defaults",
            Knobs: FastTreeRankerTrainer.Knobs,
            CreateTrainer: options => new FastTreeRankerTrainer(options)) { KnobDeclarations = FastTreeRankerTrainer.KnobSet.Parameters.ToArray() });
    }
}
