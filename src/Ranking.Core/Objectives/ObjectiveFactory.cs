using Ranking.Knobs;

namespace Ranking.Objectives;

/// <summary>
/// Every objective by name, with its knobs as strings (kebab-case, the way the CLI and RankerOptions pass
/// them). An objective's knobs are the <see cref="KnobAttribute"/>s of its options type, read through
/// <see cref="KnobSet"/>: registering an objective is one line here, and its knobs are declared only on its
/// options. An unknown name or knob is an <see cref="ArgumentException"/> that lists the known ones.
/// </summary>
public static class ObjectiveFactory
{
    private sealed record Entry(string Name, ObjectiveFamily Family, string Description, Type? OptionsType, Func<object?, int, IRankingObjective> Build)
    {
        public KnobSet Knobs => OptionsType is null ? KnobSet.Empty : KnobSet.Of(OptionsType);
    }

    /// <summary>One registration: name, family, description, and how to build it from its options and a seed.</summary>
    private static Entry Objective<TOptions>(string name, ObjectiveFamily family, string description, Func<TOptions, int, IRankingObjective> build)
        where TOptions : class, new()
        => new(name, family, description, typeof(TOptions), (options, seed) => build((TOptions)options!, seed));

    private static readonly Entry[] Entries =
    [
        new("mse", ObjectiveFamily.Pointwise, "squared error on the grade, (s - y)^2 / 2", null, (_, seed) => new SquaredErrorObjective { Seed = seed }),
        Objective<SigmoidCrossEntropyOptions>("sigmoid-ce", ObjectiveFamily.Pointwise, "sigmoid cross-entropy on relevant (grade > threshold) vs not", (o, seed) => new SigmoidCrossEntropyObjective(o) { Seed = seed }),
        Objective<RankNetOptions>("ranknet", ObjectiveFamily.Pairwise, "logistic loss on score differences of pairs with different grades", (o, seed) => new RankNetObjective(o) { Seed = seed }),
        Objective<RankSvmOptions>("ranksvm", ObjectiveFamily.Pairwise, "hinge max(0, margin - (s_high - s_low)) on pairs with different grades", (o, seed) => new RankSvmObjective(o) { Seed = seed }),
        Objective<LambdaRankOptions>("lambdarank", ObjectiveFamily.Pairwise, "RankNet weighted by |delta NDCG| of a swap, as LightGBM computes it", (o, seed) => new LambdaRankObjective(o) { Seed = seed }),
        Objective<TripletOptions>("triplet", ObjectiveFamily.MetricLearning, "triplet margin loss max(0, margin - (s_pos - s_neg)) with online negative mining inside each query", (o, seed) => new TripletObjective(o) { Seed = seed }),
        Objective<ContrastiveOptions>("contrastive", ObjectiveFamily.MetricLearning, "contrastive loss on (query, document) with distance D = softplus(-s): relevant pay D^2/2, others max(0, margin - D)^2/2", (o, seed) => new ContrastiveObjective(o) { Seed = seed }),
        Objective<ContrastivePairsOptions>("contrastive-pairs", ObjectiveFamily.MetricLearning, "contrastive loss on document pairs: equal grades pulled together, better grade pushed a margin above", (o, seed) => new ContrastivePairsObjective(o) { Seed = seed }),
        Objective<ListNetOptions>("listnet", ObjectiveFamily.Listwise, "ListNet top-1: cross-entropy of softmax(grades) against softmax(scores / T)", (o, seed) => new ListNetObjective(o) { Seed = seed }),
        Objective<ListMleOptions>("listmle", ObjectiveFamily.Listwise, "negative log Plackett-Luce likelihood of the order by grade (ties in seeded random order)", (o, seed) => new ListMleObjective(o) { Seed = seed }),
        Objective<ApproxNdcgOptions>("approxndcg", ObjectiveFamily.Listwise, "1 - ApproxNDCG: NDCG with ranks smoothed by sigmoids of score differences", (o, seed) => new ApproxNdcgObjective(o) { Seed = seed }),
        Objective<SoftmaxOptions>("softmax", ObjectiveFamily.Listwise, "softmax cross-entropy: each relevant row against the full list, weighted by its share of the gain", (o, seed) => new SoftmaxObjective(o) { Seed = seed }),
        Objective<SampledSoftmaxOptions>("sampled-softmax", ObjectiveFamily.Listwise, "each positive against k negatives drawn from its query, logits corrected by log(k q)", (o, seed) => new SampledSoftmaxObjective(o) { Seed = seed }),
        Objective<NceOptions>("nce", ObjectiveFamily.Listwise, "noise-contrastive estimation: relevant rows vs k noise rows per real row, logistic on s - log(k p_noise)", (o, seed) => new NceObjective(o) { Seed = seed }),
        Objective<NdcgLoss2PlusPlusOptions>("ndcg-loss2pp", ObjectiveFamily.Pairwise, "LambdaLoss's NDCG-Loss2++: RankNet pairs weighted by |delta NDCG| + mu x NDCG-Loss2's weight (Wang et al. 2018)", (o, seed) => new NdcgLoss2PlusPlusObjective(o) { Seed = seed }),
        Objective<IpwOptions>("ipw-ranknet", ObjectiveFamily.Pairwise, "clicks: RankNet of each clicked row against every other shown row, weighted by 1 / propensity of its position (IPW)", (o, seed) => new IpwRankNetObjective(o) { Seed = seed }),
        Objective<IpwOptions>("ipw-lambdarank", ObjectiveFamily.Pairwise, "clicks: IPW RankNet with each pair weighted by the change in discount of swapping it (IPW LambdaRank)", (o, seed) => new IpwLambdaRankObjective(o) { Seed = seed }),
        Objective<IpwSoftmaxOptions>("ipw-softmax", ObjectiveFamily.Listwise, "clicks: softmax cross-entropy of each clicked row, weighted by 1 / propensity of its position (IPW ListNet top-1)", (o, seed) => new IpwSoftmaxObjective(o) { Seed = seed }),
        Objective<UnbiasedLambdaRankOptions>("unbiased-lambdarank", ObjectiveFamily.Pairwise, "clicks: unbiased LambdaMART (Hu et al. 2019, XGBoost's lambdarank_unbiased): lambdas divided by learned click and non-click position biases", (o, seed) => new UnbiasedLambdaRankObjective(o) { Seed = seed }),
    ];

    /// <summary>The known objective names, in catalogue order.</summary>
    public static IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

    /// <summary>Name, family, one-line description and knobs (name -> "help (default X)") of every objective.</summary>
    public static IReadOnlyList<(string Name, ObjectiveFamily Family, string Description, IReadOnlyDictionary<string, string> Knobs)> Describe()
        => Entries.Select(e => (e.Name, e.Family, e.Description, (IReadOnlyDictionary<string, string>)e.Knobs.Describe(DefaultOptions(e)))).ToArray();

    /// <summary>The declared knobs of objective <paramref name="name"/> (empty for an objective without options).</summary>
    public static KnobSet KnobsOf(string name) => Find(name).Knobs;

    /// <summary>A new default options object of objective <paramref name="name"/> (null when it has none): the values its knobs start from.</summary>
    public static object? DefaultOptionsOf(string name) => DefaultOptions(Find(name));

    /// <summary>True when <paramref name="knob"/> (or an alias of it) is a knob of objective <paramref name="name"/>; lets callers split mixed parameter sets.</summary>
    public static bool IsKnob(string name, string knob) => Find(name).Knobs.Accepts(knob);

    /// <summary>Builds objective <paramref name="name"/> with knobs from <paramref name="parameters"/> (others at their defaults); <paramref name="seed"/> seeds every draw.</summary>
    public static IRankingObjective Create(string name, IReadOnlyDictionary<string, string>? parameters = null, int seed = 0)
    {
        var entry = Find(name);
        object? options = DefaultOptions(entry);
        if (options is not null) options = entry.Knobs.Bind(options, parameters, $"objective '{entry.Name}'");
        else if (parameters is { Count: > 0 }) throw new ArgumentException($"objective '{entry.Name}' takes no knobs, got '{parameters.Keys.First()}'.");
        return entry.Build(options, seed);
    }

    private static object? DefaultOptions(Entry entry) => entry.OptionsType is null ? null : Activator.CreateInstance(entry.OptionsType);

    private static Entry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Entries.FirstOrDefault(e => e.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown objective '{name}'; known: {string.Join(", ", Entries.Select(e => e.Name))}.", nameof(name));
    }
}
