using Ranking.Knobs;
using Ranking.Models;
using Ranking.Objectives;

namespace Ranking.Training;

/// <summary>
/// Core's rankers: every objective of <see cref="ObjectiveFactory"/> on a linear or MLP scorer, trained by
/// the <see cref="GradientTrainer"/>. The classics get short names (ranknet = mlp + ranknet, ranksvm =
/// linear + hinge, pointwise = mlp + mse, ...); "linear-X" / "mlp-X" name the other pairings, and a composer
/// builds any objective x {linear, mlp} on demand (--objective O --model M).
/// Defaults were tuned on MQ2008 Fold1 (README "Training and models"): a small MLP, Adam, whole-query
/// batches, early stopping on the validation metric.
/// </summary>
public static class CoreRankers
{
    /// <summary>Defaults shared by the MLP rankers; individual rankers override a few fields.</summary>
    public static GradientTrainerOptions MlpDefaults { get; } = new()
    {
        ModelFamily = MlpModel.Family, Hidden = [32], Epochs = 40, LearningRate = 2e-3, BatchQueries = 8,
        EarlyStopping = 10, WeightDecay = 1e-4, ClipNorm = 10,
    };

    /// <summary>Defaults shared by the linear rankers: Adam, 40 epochs, learning rate 0.01, batches of 8 queries, no weight decay.</summary>
    public static GradientTrainerOptions LinearDefaults { get; } = new()
    {
        ModelFamily = LinearModel.Family, Hidden = [], Epochs = 40, LearningRate = 1e-2, BatchQueries = 8,
        EarlyStopping = 10, ClipNorm = 10,
    };

    private sealed record Spec(string Name, string Objective, GradientTrainerOptions Defaults, string Description);

    private static IEnumerable<Spec> Specs()
    {
        var mlp = MlpDefaults;
        var linear = LinearDefaults;
        yield return new("ranknet", "ranknet", mlp, "RankNet: MLP on the logistic loss of score differences of pairs");
        yield return new("lambdarank", "lambdarank", mlp, "LambdaRank: MLP on RankNet pairs weighted by |delta NDCG|");
        yield return new("listnet", "listnet", mlp, "ListNet: MLP on top-1 softmax cross-entropy against the grade distribution");
        yield return new("listmle", "listmle", mlp, "ListMLE: MLP on the Plackett-Luce likelihood of the ideal order");
        yield return new("approxndcg", "approxndcg", mlp, "ApproxNDCG: MLP maximising NDCG with smooth (sigmoid) ranks");
        yield return new("ranksvm", "ranksvm", linear, "RankSVM: linear scorer on the pairwise hinge loss");
        yield return new("triplet", "triplet", mlp, "Triplet margin loss with negatives mined from the same query, MLP");
        yield return new("contrastive", "contrastive", mlp, "Contrastive loss (relevant pulled close, irrelevant pushed beyond a margin), MLP");
        yield return new("softmax", "softmax", mlp, "Softmax cross-entropy of each relevant row against its whole list, MLP");
        yield return new("sampled-softmax", "sampled-softmax", mlp, "Sampled softmax: each positive against a few sampled negatives, MLP");
        yield return new("nce", "nce", mlp, "Noise-contrastive estimation: real vs noise rows as logistic regression, MLP");
        yield return new("pointwise", "mse", mlp, "Pointwise regression of the grade (squared error), MLP");
        yield return new("linear-ranknet", "ranknet", linear, "RankNet on a linear scorer");
        yield return new("linear-lambdarank", "lambdarank", linear, "LambdaRank on a linear scorer");
        yield return new("linear-listnet", "listnet", linear, "ListNet on a linear scorer");
        yield return new("linear-listmle", "listmle", linear, "ListMLE on a linear scorer");
        yield return new("linear-softmax", "softmax", linear, "Softmax cross-entropy on a linear scorer");
        yield return new("linear-pointwise", "mse", linear, "Squared-error regression of the grade on a linear scorer");
        yield return new("mlp-ranksvm", "ranksvm", mlp, "RankSVM's pairwise hinge on an MLP");
    }

    /// <summary>Registers the model families "linear" and "mlp", the named rankers and the objective x {linear, mlp} composer.</summary>
    public static void Register(RankerCatalog catalog)
    {
        catalog.RegisterModelFamily(LinearModel.Family, payload => LinearModel.Load(payload));
        catalog.RegisterModelFamily(MlpModel.Family, payload => MlpModel.Load(payload));
        foreach (var spec in Specs()) catalog.Register(Describe(spec.Name, spec.Objective, spec.Defaults, spec.Description));
        catalog.RegisterComposer((objective, family) =>
        {
            if (!ObjectiveFactory.Names.Contains(objective, StringComparer.OrdinalIgnoreCase)) return null;
            var defaults = family.ToLowerInvariant() switch
            {
                LinearModel.Family => LinearDefaults,
                MlpModel.Family => MlpDefaults,
                _ => null,
            };
            if (defaults is null) return null;
            string name = $"{family.ToLowerInvariant()}-{objective.ToLowerInvariant()}";
            return Describe(name, objective.ToLowerInvariant(), defaults, $"{objective} on a {family} scorer (composed)");
        });
    }

    /// <summary>A descriptor whose trainer resolves the user's options against <paramref name="defaults"/>.</summary>
    public static RankerDescriptor Describe(string name, string objective, GradientTrainerOptions defaults, string description)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        bool linear = defaults.ModelFamily == LinearModel.Family;
        bool Applies(Knob k) => !(linear && k.Name == "hidden");
        var objectiveKnobs = ObjectiveFactory.KnobsOf(objective);
        var knobs = GradientTrainerOptions.Knobs.Describe(defaults, Applies);
        foreach (var (knob, help) in objectiveKnobs.Describe(ObjectiveFactory.DefaultOptionsOf(objective))) knobs[knob] = help;
        var declared = GradientTrainerOptions.Knobs.Parameters.Where(Applies).Concat(objectiveKnobs.Parameters).ToArray();
        return new RankerDescriptor(name, objective, defaults.ModelFamily, description, knobs, options =>
        {
            var resolved = defaults.Apply(options, out var objectiveParameters);
            foreach (var key in objectiveParameters.Keys)
                if (!objectiveKnobs.Accepts(key))
                    throw new ArgumentException($"ranker '{name}' has no knob '{key}'; known: {string.Join(", ", declared.Select(k => k.Name))}.");
            // Build the objective once now so a bad knob value fails before any training.
            ObjectiveFactory.Create(objective, objectiveParameters, resolved.Seed);
            return new GradientTrainer(resolved, seed => ObjectiveFactory.Create(objective, objectiveParameters, seed), objectiveParameters);
        }) { KnobDeclarations = declared };
    }
}
