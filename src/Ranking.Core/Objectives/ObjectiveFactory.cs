using Ranking.Numerics;
using System.Globalization;

namespace Ranking.Objectives;

/// <summary>
/// Every objective by name, with its knobs as strings (kebab-case, the way the CLI and RankerOptions pass
/// them). An unknown name or knob is an <see cref="ArgumentException"/> that lists the known ones.
/// </summary>
public static class ObjectiveFactory
{
    private sealed record Knob(string Name, string Default, string Help);

    private sealed record Entry(string Name, ObjectiveFamily Family, string Description, Knob[] Knobs, Func<KnobReader, int, IRankingObjective> Build);

    private static readonly Knob Sigma = new("sigma", "1", "RankNet's sigma, the steepness of the pair sigmoid (alias: sigmoid)");
    private static readonly Knob PairTruncation = new("truncation", "0", "only pairs whose better-scored row ranks above k; 0 = every pair");
    private static readonly Knob PairsPerRow = new("pairs-per-row", "0", "sample this many partners per row (seeded) instead of every pair; 0 = every pair");
    private static readonly Knob Margin = new("margin", "1", "hinge margin");
    private static readonly Knob Negatives = new("negatives", "5", "k: negatives (or noise rows) drawn or mined per positive");
    private static readonly Knob Threshold = new("threshold", "0", "a row is relevant (positive) when its grade is above this");

    private static readonly Knob Propensities = new("propensities", "eta:1", "examination propensity per position: eta:X for (1/k)^eta, or a list 1,0.5,0.33,... (position 1 first)");
    private static readonly Knob Clip = new("clip", "0.01", "weights divide by max(propensity, clip): clipped IPW");
    private static readonly Knob IpwTruncation = new("truncation", "0", "only pairs with a row in the top k by score, O(k n); 0 = every pair of a clicked row");

    private static readonly Entry[] Entries =
    [
        new("mse", ObjectiveFamily.Pointwise, "squared error on the grade, (s - y)^2 / 2", [],
            (k, seed) => new SquaredErrorObjective { Seed = seed }),
        new("sigmoid-ce", ObjectiveFamily.Pointwise, "sigmoid cross-entropy on relevant (grade > threshold) vs not", [Threshold],
            (k, seed) => new SigmoidCrossEntropyObjective(new SigmoidCrossEntropyOptions { Threshold = k.Double(Threshold) }) { Seed = seed }),
        new("ranknet", ObjectiveFamily.Pairwise, "logistic loss on score differences of pairs with different grades", [Sigma, PairTruncation, PairsPerRow],
            (k, seed) => new RankNetObjective(new RankNetOptions { Sigma = k.Double(Sigma), Pairs = k.Pairs(PairTruncation, PairsPerRow) }) { Seed = seed }),
        new("ranksvm", ObjectiveFamily.Pairwise, "hinge max(0, margin - (s_high - s_low)) on pairs with different grades", [Margin, PairTruncation, PairsPerRow],
            (k, seed) => new RankSvmObjective(new RankSvmOptions { Margin = k.Double(Margin), Pairs = k.Pairs(PairTruncation, PairsPerRow) }) { Seed = seed }),
        new("lambdarank", ObjectiveFamily.Pairwise, "RankNet weighted by |delta NDCG| of a swap, as LightGBM computes it",
            [Sigma, new("truncation", "30", "only pairs whose better-ranked row is above this rank; maxDCG cut here"),
             new("norm", "true", "LightGBM's lambdarank_norm (score-gap division and log2(1+S)/S rescaling)"),
             new("label-gain", "2^i-1", "comma-separated gain per integer grade, e.g. 0,1,3,7,15")],
            (k, seed) => new LambdaRankObjective(new LambdaRankOptions
            {
                Sigma = k.Double(Sigma), Truncation = k.Int("truncation", 30), Normalize = k.Bool("norm", true),
                LabelGain = k.Has("label-gain") ? LabelGain.Parse(k.String("label-gain")) : LabelGain.Exponential,
            }) { Seed = seed }),
        new("triplet", ObjectiveFamily.MetricLearning, "triplet margin loss max(0, margin - (s_pos - s_neg)) with online negative mining inside each query",
            [Margin, new("mining", "all", "all | random | hard | semi-hard: which negatives each positive meets"),
             Negatives, new("pairing", "threshold", "threshold (positives above it, negatives at or below) | graded (any pair with different grades)"), Threshold],
            (k, seed) => new TripletObjective(new TripletOptions
            {
                Margin = k.Double(Margin), Negatives = k.Int(Negatives.Name, 5), Threshold = k.Double(Threshold),
                Mining = k.Choice("mining", "all", ["all", "random", "hard", "semi-hard"]) switch
                {
                    "random" => NegativeMining.Random, "hard" => NegativeMining.Hard, "semi-hard" => NegativeMining.SemiHard, _ => NegativeMining.All,
                },
                Pairing = k.Choice("pairing", "threshold", ["threshold", "graded"]) == "graded" ? TripletPairing.Graded : TripletPairing.Threshold,
            }) { Seed = seed }),
        new("contrastive", ObjectiveFamily.MetricLearning, "contrastive loss on (query, document) with distance D = softplus(-s): relevant pay D^2/2, others max(0, margin - D)^2/2",
            [Margin, Threshold],
            (k, seed) => new ContrastiveObjective(new ContrastiveOptions { Margin = k.Double(Margin), Threshold = k.Double(Threshold) }) { Seed = seed }),
        new("contrastive-pairs", ObjectiveFamily.MetricLearning, "contrastive loss on document pairs: equal grades pulled together, better grade pushed a margin above", [Margin, PairTruncation, PairsPerRow],
            (k, seed) => new ContrastivePairsObjective(new ContrastivePairsOptions { Margin = k.Double(Margin), Pairs = k.Pairs(PairTruncation, PairsPerRow) }) { Seed = seed }),
        new("listnet", ObjectiveFamily.Listwise, "ListNet top-1: cross-entropy of softmax(grades) against softmax(scores / T)",
            [new("temperature", "1", "scores are divided by T before the softmax"), new("target", "grade", "grade | gain: softmax of the grades or of 2^grade - 1")],
            (k, seed) => new ListNetObjective(new ListNetOptions
            {
                Temperature = k.Double("temperature", 1.0),
                Target = k.Choice("target", "grade", ["grade", "gain"]) == "gain" ? ListNetTarget.Gain : ListNetTarget.Grade,
            }) { Seed = seed }),
        new("listmle", ObjectiveFamily.Listwise, "negative log Plackett-Luce likelihood of the order by grade (ties in seeded random order)",
            [new("truncation", "0", "top-k ListMLE: only the first k factors; 0 = the full list")],
            (k, seed) => new ListMleObjective(new ListMleOptions { Truncation = k.Int("truncation", 0) }) { Seed = seed }),
        new("approxndcg", ObjectiveFamily.Listwise, "1 - ApproxNDCG: NDCG with ranks smoothed by sigmoids of score differences",
            [new("temperature", "0.1", "T in sigmoid((s_j - s_i) / T)"),
             new("exact-limit", "1024", "queries up to this length use every pair, O(n^2)"),
             new("samples", "256", "longer queries estimate each smooth rank from this many drawn partners, O(samples n)")],
            (k, seed) => new ApproxNdcgObjective(new ApproxNdcgOptions
            {
                Temperature = k.Double("temperature", 0.1), ExactLimit = k.Int("exact-limit", 1024), Samples = k.Int("samples", 256),
            }) { Seed = seed }),
        new("softmax", ObjectiveFamily.Listwise, "softmax cross-entropy: each relevant row against the full list, weighted by its share of the gain", [Threshold],
            (k, seed) => new SoftmaxObjective(new SoftmaxOptions { Threshold = k.Double(Threshold) }) { Seed = seed }),
        new("sampled-softmax", ObjectiveFamily.Listwise, "each positive against k negatives drawn from its query, logits corrected by log(k q)",
            [Negatives, new("sampling", "uniform", "uniform | scores: draw negatives uniformly or in proportion to exp(score)"), Threshold],
            (k, seed) => new SampledSoftmaxObjective(new SampledSoftmaxOptions
            {
                Negatives = k.Int(Negatives.Name, 5), Threshold = k.Double(Threshold),
                Sampling = k.Choice("sampling", "uniform", ["uniform", "scores"]) == "scores" ? NegativeSampling.Scores : NegativeSampling.Uniform,
            }) { Seed = seed }),
        new("nce", ObjectiveFamily.Listwise, "noise-contrastive estimation: relevant rows vs k noise rows per real row, logistic on s - log(k p_noise)",
            [Negatives, new("noise", "uniform", "uniform over the query's rows (other noise distributions: NceObjective.ComputeWithNoise)"), Threshold],
            (k, seed) =>
            {
                k.Choice("noise", "uniform", ["uniform"]);
                return new NceObjective(new NceOptions { Negatives = k.Int(Negatives.Name, 5), Threshold = k.Double(Threshold) }) { Seed = seed };
            }),
        new("ipw-ranknet", ObjectiveFamily.Pairwise, "clicks: RankNet of each clicked row against every other shown row, weighted by 1 / propensity of its position (IPW)",
            [Sigma, Propensities, Clip, IpwTruncation],
            (k, seed) => new Ranking.Clicks.IpwRankNetObjective(k.Ipw(Sigma)) { Seed = seed }),
        new("ipw-lambdarank", ObjectiveFamily.Pairwise, "clicks: IPW RankNet with each pair weighted by the change in discount of swapping it (IPW LambdaRank)",
            [Sigma, Propensities, Clip, IpwTruncation],
            (k, seed) => new Ranking.Clicks.IpwLambdaRankObjective(k.Ipw(Sigma)) { Seed = seed }),
        new("ipw-softmax", ObjectiveFamily.Listwise, "clicks: softmax cross-entropy of each clicked row, weighted by 1 / propensity of its position (IPW ListNet top-1)",
            [Propensities, Clip],
            (k, seed) => new Ranking.Clicks.IpwSoftmaxObjective(k.Ipw(Sigma)) { Seed = seed }),
        new("unbiased-lambdarank", ObjectiveFamily.Pairwise, "clicks: unbiased LambdaMART (Hu et al. 2019, XGBoost's lambdarank_unbiased): lambdas divided by learned click and non-click position biases",
            [Sigma, new("truncation", "30", "only pairs whose better-ranked row is above this rank; maxDCG cut here"),
             new("norm", "true", "LightGBM's lambdarank_norm (score-gap division and log2(1+S)/S rescaling)"),
             new("bias-norm", "1", "p of the bias update t = (L_k / L_1)^(1/(1+p)) (XGBoost's lambdarank_bias_norm)"),
             new("bias-decay", "0.9", "memory of the position-cost sums across calls (0 = each call alone, as XGBoost per round)"),
             new("max-position", "32", "positions 1..this are debiased and tracked"),
             new("learn-bias", "true", "re-estimate the biases after every call; false keeps them at 'propensities'"),
             new("propensities", "1", "starting biases t+ = t- per position: eta:X or a list (1 = none)")],
            (k, seed) => new Ranking.Clicks.UnbiasedLambdaRankObjective(new Ranking.Clicks.UnbiasedLambdaRankOptions
            {
                Sigma = k.Double(Sigma), Truncation = k.Int("truncation", 30), Normalize = k.Bool("norm", true),
                BiasNorm = k.Double("bias-norm", 1.0), BiasDecay = k.Double("bias-decay", 0.9), MaxPosition = k.Int("max-position", 32),
                LearnBias = k.Bool("learn-bias", true),
                InitialPropensities = Ranking.Clicks.PropensityTable.Parse(k.Has("propensities") ? k.String("propensities") : "1", clip: 0),
            }) { Seed = seed }),
    ];

    /// <summary>Knob aliases: names other tools (LightGBM, the CLI's --sigmoid) use for ours.</summary>
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.OrdinalIgnoreCase) { ["sigmoid"] = "sigma" };

    /// <summary>The known objective names, in catalogue order.</summary>
    public static IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

    /// <summary>Name, family, one-line description and knobs (name -> "help (default X)") of every objective.</summary>
    public static IReadOnlyList<(string Name, ObjectiveFamily Family, string Description, IReadOnlyDictionary<string, string> Knobs)> Describe()
        => Entries.Select(e => (e.Name, e.Family, e.Description, (IReadOnlyDictionary<string, string>)KnobTable(e))).ToArray();

    /// <summary>True when <paramref name="knob"/> (or an alias of it) is a knob of objective <paramref name="name"/>; lets callers split mixed parameter sets.</summary>
    public static bool IsKnob(string name, string knob)
    {
        var entry = Find(name);
        string canonical = Canonical(knob);
        return entry.Knobs.Any(k => k.Name.Equals(canonical, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Builds objective <paramref name="name"/> with knobs from <paramref name="parameters"/> (others at their defaults); <paramref name="seed"/> seeds every draw.</summary>
    public static IRankingObjective Create(string name, IReadOnlyDictionary<string, string>? parameters = null, int seed = 0)
    {
        var entry = Find(name);
        var reader = new KnobReader(entry.Name, parameters, entry.Knobs.Select(k => k.Name).ToArray());
        return entry.Build(reader, seed);
    }

    private static Entry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Entries.FirstOrDefault(e => e.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown objective '{name}'; known: {string.Join(", ", Entries.Select(e => e.Name))}.", nameof(name));
    }

    private static Dictionary<string, string> KnobTable(Entry e)
    {
        var table = e.Knobs.ToDictionary(k => k.Name, k => $"{k.Help} (default {k.Default})", StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, target) in Aliases)
            if (e.Knobs.FirstOrDefault(k => k.Name == target) is { } knob) table[alias] = $"alias of {target} (default {knob.Default})";
        return table;
    }

    private static string Canonical(string knob)
    {
        string key = knob.Trim().TrimStart('-').Replace('_', '-');
        return Aliases.TryGetValue(key, out var alias) ? alias : key;
    }

    /// <summary>Typed, checked access to the string knobs of one objective.</summary>
    private sealed class KnobReader
    {
        private readonly string _objective;
        private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

        public KnobReader(string objective, IReadOnlyDictionary<string, string>? parameters, string[] known)
        {
            _objective = objective;
            if (parameters is null) return;
            foreach (var (rawKey, value) in parameters)
            {
                string key = Canonical(rawKey);
                if (!known.Contains(key, StringComparer.OrdinalIgnoreCase))
                    throw new ArgumentException(known.Length == 0
                        ? $"objective '{objective}' takes no knobs, got '{rawKey}'."
                        : $"objective '{objective}' has no knob '{rawKey}'; known: {string.Join(", ", known)}.");
                if (!_values.TryAdd(key, value)) throw new ArgumentException($"objective '{objective}': knob '{key}' given twice.");
            }
        }

        public bool Has(string name) => _values.ContainsKey(name);
        public string String(string name) => _values[name];
        public double Double(Knob knob) => Double(knob.Name, double.Parse(knob.Default, CultureInfo.InvariantCulture));

        public double Double(string name, double fallback)
        {
            if (!_values.TryGetValue(name, out var text)) return fallback;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)) return v;
            throw Bad(name, text, "a finite number");
        }

        public int Int(string name, int fallback)
        {
            if (!_values.TryGetValue(name, out var text)) return fallback;
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)) return v;
            throw Bad(name, text, "an integer");
        }

        public bool Bool(string name, bool fallback)
        {
            if (!_values.TryGetValue(name, out var text)) return fallback;
            return text.Trim().ToLowerInvariant() switch
            {
                "true" or "1" or "yes" or "on" => true,
                "false" or "0" or "no" or "off" => false,
                _ => throw Bad(name, text, "true or false"),
            };
        }

        public string Choice(string name, string fallback, string[] allowed)
        {
            if (!_values.TryGetValue(name, out var text)) return fallback;
            string v = text.Trim().ToLowerInvariant();
            return allowed.Contains(v) ? v : throw Bad(name, text, string.Join(" | ", allowed));
        }

        public Ranking.Clicks.IpwOptions Ipw(Knob sigma) => new()
        {
            Sigma = Double(sigma),
            Truncation = Int("truncation", 0),
            Propensities = Ranking.Clicks.PropensityTable.Parse(Has("propensities") ? String("propensities") : "eta:1", Double("clip", 0.01)),
        };

        public PairSelection Pairs(Knob truncation, Knob pairsPerRow)
            => new() { Truncation = Int(truncation.Name, 0), PairsPerRow = Int(pairsPerRow.Name, 0) };

        private ArgumentException Bad(string name, string text, string expected)
            => new($"objective '{_objective}': knob '{name}' = '{text}' is not {expected}.");
    }
}
