namespace Ranking.Knobs;

/// <summary>
/// Declares a knob on a property of an options type: the one place its name, type (the property's),
/// default (the property's initial value in a new instance, or the ranker's defaults object), range and
/// help live. The objective factory, the ranker catalog, <c>ranking rankers NAME</c>, the CLI's flags and
/// validation, the model manifest and the README's tables all read it through <see cref="KnobSet"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class KnobAttribute(string help) : Attribute
{
    /// <summary>What the knob does, one line (shown by <c>ranking rankers NAME</c> and the README).</summary>
    public string Help { get; } = help;

    /// <summary>The knob's name (kebab-case); null = the property name in kebab-case.</summary>
    public string? Name { get; init; }

    /// <summary>Other names accepted for it, comma-separated (e.g. LightGBM's "sigmoid" for sigma).</summary>
    public string? Aliases { get; init; }

    /// <summary>Smallest allowed value (numbers, and each element of a list); NaN = no bound.</summary>
    public double Min { get; init; } = double.NaN;

    /// <summary>Largest allowed value; NaN = no bound.</summary>
    public double Max { get; init; } = double.NaN;

    /// <summary>True when <see cref="Min"/> itself is not allowed (e.g. a temperature must be &gt; 0).</summary>
    public bool MinExclusive { get; init; }

    /// <summary>True when <see cref="Max"/> itself is not allowed.</summary>
    public bool MaxExclusive { get; init; }

    /// <summary>How the default reads where its value does not say it well (e.g. "2^i-1" for a computed gain table).</summary>
    public string? DefaultText { get; init; }

    /// <summary>Words that mean "empty" for a list knob, '|'-separated (e.g. "none|0" for no hidden layer).</summary>
    public string? EmptyText { get; init; }

    /// <summary>How a user sets it; see <see cref="KnobUse"/>.</summary>
    public KnobUse Use { get; init; } = KnobUse.Parameter;

    /// <summary>True when <c>ranking train</c> offers it as its own flag (--NAME) besides --param NAME=VALUE.</summary>
    public bool Flag { get; init; }

    /// <summary>
    /// Only for the knob sets that ask for this tag (e.g. "lambdarank": LightGBM reads the knob only for its
    /// native lambdarank); null = always part of the type's knobs.
    /// </summary>
    public string? Only { get; init; }
}

/// <summary>How a declared knob is set.</summary>
public enum KnobUse
{
    /// <summary>By name: <c>--param NAME=VALUE</c>, RankerOptions.Parameters, the factory's string knobs.</summary>
    Parameter,

    /// <summary>By a typed member of RankerOptions shared by every ranker (--epochs, --lr, --early-stopping, --seed); recorded, not a --param.</summary>
    Shared,

    /// <summary>Decided by the ranker itself (its model family); recorded in the manifest, never set by the user.</summary>
    Fixed,
}

/// <summary>Marks a property whose type declares knobs of its own, read as if declared here (e.g. a pairwise loss's PairSelection).</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = true)]
public sealed class KnobGroupAttribute : Attribute;
