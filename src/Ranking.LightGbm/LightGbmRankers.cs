using Ranking.Objectives;
using Ranking.Training;

namespace Ranking.LightGbm;

/// <summary>
/// Registers the gbdt model family: its payload loader and the rankers built on LightGBM's native
/// objectives. Their catalog objective names are LightGBM's ("lambdarank-native", "rank_xendcg",
/// "regression") so that `--objective lambdarank --model gbdt` means OUR lambdarank through the custom path.
/// A composer pairs every objective of <see cref="ObjectiveFactory"/> with the trees: `--objective listnet
/// --model gbdt` is ranker "gbdt-listnet", trained through LGBM_BoosterUpdateOneIterCustom with our gradients.
/// </summary>
public static class LightGbmRankers
{
    /// <summary>Registers the gbdt model family, the native LightGBM rankers and the gbdt composer with <paramref name="catalog"/>.</summary>
    public static void Register(RankerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        catalog.RegisterModelFamily(LightGbmModel.Family, LightGbmModel.Load);
        var rankKnobs = Merge(GbdtKnobs.TreeKnobs, GbdtKnobs.NativeRankKnobs);
        catalog.Register(new RankerDescriptor("lambdamart", "lambdarank-native", LightGbmModel.Family,
            "LambdaMART: LightGBM gradient-boosted trees with LightGBM's native lambdarank",
            rankKnobs, o => new LightGbmTrainer("lambdarank", o)));
        catalog.Register(new RankerDescriptor("gbdt-xendcg", "rank_xendcg", LightGbmModel.Family,
            "LightGBM gradient-boosted trees with LightGBM's native cross-entropy NDCG loss (rank_xendcg)",
            GbdtKnobs.TreeKnobs, o => new LightGbmTrainer("rank_xendcg", o))); // rank_xendcg reads no gain table (gain 2^grade)
        catalog.Register(new RankerDescriptor("gbdt-regression", "regression", LightGbmModel.Family,
            "LightGBM gradient-boosted trees regressing the grades (L2)",
            GbdtKnobs.TreeKnobs, o => new LightGbmTrainer("regression", o)));
        catalog.RegisterComposer(Compose);
    }

    /// <summary>gbdt + one of our objectives (custom-objective path); null when the pair is not ours to build.</summary>
    public static RankerDescriptor? Compose(string objective, string modelFamily)
    {
        if (!string.Equals(modelFamily, LightGbmModel.Family, StringComparison.OrdinalIgnoreCase)) return null;
        var entry = ObjectiveFactory.Describe().FirstOrDefault(d => string.Equals(d.Name, objective.Trim(), StringComparison.OrdinalIgnoreCase));
        if (entry.Name is null) return null;
        string name = entry.Name;
        return new RankerDescriptor($"gbdt-{name}", name, LightGbmModel.Family,
            $"LightGBM gradient-boosted trees on our {name} gradients and Hessians (custom objective): {entry.Description}",
            Merge(GbdtKnobs.TreeKnobs, entry.Knobs),
            o => new LightGbmTrainer((parameters, seed) => ObjectiveFactory.Create(name, parameters, seed), o));
    }

    internal static IReadOnlyDictionary<string, string> Merge(params IReadOnlyDictionary<string, string>[] parts)
    {
        var all = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in parts)
            foreach (var (k, v) in part) all[k] = v;
        return all;
    }
}
