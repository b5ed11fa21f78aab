using Ranking.Objectives;
using Ranking.Training;

namespace Ranking.LightGbm;

/// <summary>
/// Registers the gbdt model family: its payload loader and the rankers built on LightGBM's native
/// objectives. Their catalog objective names are LightGBM's ("lambdarank-native", "rank_xendcg",
/// "regression") so that `--objective lambdarank --model gbdt` means OUR lambdarank through the custom path.
/// A composer pairs every objective of <see cref="ObjectiveFactory"/> with the trees: `--objective listnet
/// --model gbdt` is ranker "gbdt-listnet", trained through LGBM_BoosterUpdateOneIterCustom with our gradients.
/// Every knob table comes from the declarations (<see cref="GbdtKnobs"/>, <see cref="LightGbmParameters"/>, the objective's options).
/// </summary>
public static class LightGbmRankers
{
    /// <summary>Registers the gbdt model family, the three native rankers and the gbdt composer.</summary>
    public static void Register(RankerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        catalog.RegisterModelFamily(LightGbmModel.Family, LightGbmModel.Load);
        catalog.Register(Native("lambdamart", "lambdarank-native", "lambdarank",
            "LambdaMART: LightGBM gradient-boosted trees with LightGBM's native lambdarank"));
        catalog.Register(Native("gbdt-xendcg", "rank_xendcg", "rank_xendcg", // rank_xendcg reads no gain table (gain 2^grade)
            "LightGBM gradient-boosted trees with LightGBM's native cross-entropy NDCG loss (rank_xendcg)"));
        catalog.Register(Native("gbdt-regression", "regression", "regression",
            "LightGBM gradient-boosted trees regressing the grades (L2)"));
        catalog.RegisterComposer(Compose);
    }

    private static RankerDescriptor Native(string name, string catalogObjective, string lightGbmObjective, string description)
    {
        var knobs = GbdtKnobs.KnobsFor(lightGbmObjective);
        return new RankerDescriptor(name, catalogObjective, LightGbmModel.Family, description,
            knobs.Describe(GbdtKnobs.Defaults(lightGbmObjective)), o => new LightGbmTrainer(lightGbmObjective, o))
        { KnobDeclarations = knobs.Parameters.ToArray() };
    }

    /// <summary>gbdt + one of our objectives (custom-objective path); null when the pair is not ours to build.</summary>
    public static RankerDescriptor? Compose(string objective, string modelFamily)
    {
        ArgumentNullException.ThrowIfNull(objective);
        if (!string.Equals(modelFamily, LightGbmModel.Family, StringComparison.OrdinalIgnoreCase)) return null;
        var entry = ObjectiveFactory.Describe().FirstOrDefault(d => string.Equals(d.Name, objective.Trim(), StringComparison.OrdinalIgnoreCase));
        if (entry.Name is null) return null;
        string name = entry.Name;
        var trees = GbdtKnobs.KnobsFor("none");
        var objectiveKnobs = ObjectiveFactory.KnobsOf(name);
        var table = trees.Describe(GbdtKnobs.Defaults("none"));
        foreach (var (k, v) in entry.Knobs) table[k] = v;
        return new RankerDescriptor($"gbdt-{name}", name, LightGbmModel.Family,
            $"LightGBM gradient-boosted trees on our {name} gradients and Hessians (custom objective): {entry.Description}",
            table, o => new LightGbmTrainer((parameters, seed) => ObjectiveFactory.Create(name, parameters, seed), o))
        { KnobDeclarations = trees.Parameters.Concat(objectiveKnobs.Parameters).ToArray() };
    }
}
