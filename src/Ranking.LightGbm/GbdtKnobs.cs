using System.Globalization;
using Ranking.Knobs;
using Ranking.Training;

namespace Ranking.LightGbm;

/// <summary>Which whole queries one machine of a data-parallel run trains on: every <see cref="Count"/>-th query starting at query <see cref="Index"/>.</summary>
public sealed record QueryShard(int Index, int Count)
{
    /// <summary>Parses "i/N" with 0 &lt;= i &lt; N.</summary>
    public static QueryShard Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && i < n)
            return new QueryShard(i, n);
        throw new ArgumentException($"shard '{text}' must be i/N with 0 <= i < N.");
    }

    /// <summary>"i/N".</summary>
    public override string ToString() => $"{Index.ToString(CultureInfo.InvariantCulture)}/{Count.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// The gbdt rankers' knobs, declared once here and on <see cref="LightGbmParameters"/> (<see cref="KnobAttribute"/>),
/// read out of <see cref="RankerOptions"/> by the one knob parser. Keys starting with "lightgbm." pass through to
/// LightGBM verbatim (e.g. lightgbm.lambda_l2=1). With a native objective any other key is an error; with one of
/// our objectives the remaining keys are that objective's knobs (truncation, sigmoid, ... are then its own).
/// </summary>
public sealed class GbdtKnobs
{
    /// <summary>Boosting rounds when neither --trees nor --epochs is given (LightGBM's num_iterations default).</summary>
    public const int DefaultTrees = 100;

    /// <summary>Keys with this prefix go to LightGBM as they are.</summary>
    public const string PassThroughPrefix = "lightgbm.";

    /// <summary>The knob tag of LightGBM's native lambdarank (its truncation, label gain and sigmoid).</summary>
    public const string NativeLambdaRank = "lambdarank";

    /// <summary>Boosting rounds.</summary>
    [Knob("boosting rounds (also --epochs)", Aliases = "iterations", Min = 1, Flag = true)]
    public int Trees { get; init; } = DefaultTrees;

    /// <summary>This machine's share of the queries (data-parallel training from one file), or null for all.</summary>
    [Knob("i/N: train on every N-th query starting at query i (one file for all machines)", DefaultText = "all queries")]
    public QueryShard? Shard { get; init; }

    /// <summary>LightGBM's parameters (their knobs are declared on <see cref="LightGbmParameters"/>).</summary>
    [KnobGroup]
    public LightGbmParameters Parameters { get; init; } = new();

    /// <summary>Rounds without a better validation metric before stopping; 0 = off.</summary>
    public int EarlyStoppingRounds { get; init; }

    /// <summary>Keys left for our objective (custom path only).</summary>
    public IReadOnlyDictionary<string, string> ObjectiveParameters { get; init; } = new Dictionary<string, string>();

    /// <summary>The knobs of a gbdt ranker on <paramref name="lightGbmObjective"/> (native lambdarank adds its own three).</summary>
    public static KnobSet KnobsFor(string lightGbmObjective)
        => lightGbmObjective == NativeLambdaRank ? KnobSet.Of<GbdtKnobs>(NativeLambdaRank) : KnobSet.Of<GbdtKnobs>();

    /// <summary>The defaults the knobs start from, as the catalog shows them.</summary>
    public static GbdtKnobs Defaults(string lightGbmObjective) => new() { Parameters = new LightGbmParameters { Objective = lightGbmObjective } };

    /// <param name="options">The user's options.</param>
    /// <param name="lightGbmObjective">lambdarank, rank_xendcg, regression, or none for our objectives.</param>
    public static GbdtKnobs Read(RankerOptions options, string lightGbmObjective)
    {
        ArgumentNullException.ThrowIfNull(options);
        bool custom = lightGbmObjective == "none";
        var defaults = new GbdtKnobs
        {
            Trees = options.Iterations ?? DefaultTrees,
            Parameters = new LightGbmParameters
            {
                Objective = lightGbmObjective,
                Seed = options.Seed,
                Threads = options.Threads <= 0 ? 0 : options.Threads,
                LearningRate = options.LearningRate ?? 0.1,
            },
        };
        var ours = options.Parameters.Where(p => !IsPassThrough(p.Key));
        var knobs = KnobsFor(lightGbmObjective);
        string owner = custom ? "gbdt" : $"LightGBM's {lightGbmObjective}";
        var bound = knobs.Bind(defaults, ours, owner, out var rest);
        if (!custom && rest.Count > 0)
            throw new ArgumentException($"knob '{rest.Keys.First()}' does not apply to LightGBM's {lightGbmObjective}; known: "
                + string.Join(", ", knobs.Parameters.Select(k => k.Name)) + $", {PassThroughPrefix}<LightGBM parameter>.");
        if (options.Iterations is { } epochs && bound.Trees != epochs)
            throw new ArgumentException($"trees ({bound.Trees}) and epochs ({epochs}) disagree; give one.");
        var p = bound.Parameters;
        foreach (var (rawKey, value) in options.Parameters.Where(kv => IsPassThrough(kv.Key)))
            p.Extra[rawKey.Trim()[PassThroughPrefix.Length..]] = value.Trim();
        if (p.NumMachines > 1 && p.Machines is null) throw new ArgumentException("num-machines > 1 needs machines host:port,host:port.");
        if (p.Machines is not null && p.NumMachines == 1) p.NumMachines = p.Machines.Split(',', StringSplitOptions.RemoveEmptyEntries).Length;
        p.Render(); // validates every value now, with our message, rather than at the first native call
        int early = options.EarlyStoppingRounds ?? 0;
        if (early < 0) throw new ArgumentException("early-stopping must be 0 (off) or positive.");
        return new GbdtKnobs { Parameters = p, Trees = bound.Trees, EarlyStoppingRounds = early, Shard = bound.Shard, ObjectiveParameters = rest };
    }

    private static bool IsPassThrough(string key)
    {
        string k = key.Trim().ToLowerInvariant();
        return k.StartsWith(PassThroughPrefix, StringComparison.Ordinal) && k.Length > PassThroughPrefix.Length;
    }
}
