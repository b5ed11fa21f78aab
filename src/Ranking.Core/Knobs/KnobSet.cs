using System.Reflection;
using System.Text.Json.Nodes;

namespace Ranking.Knobs;

/// <summary>
/// The knobs an options type declares (<see cref="KnobAttribute"/> on its properties, in declaration order,
/// <see cref="KnobGroupAttribute"/> properties read in place), and the one parser that binds string knobs to
/// a copy of an options object. Every reader of knobs goes through here: the objective factory, the trainers'
/// option overlays, the catalog's knob tables, the CLI's flags, the manifest and the README check.
/// </summary>
public sealed class KnobSet
{
    private static readonly Dictionary<(Type, string), KnobSet> s_cache = [];
    private static readonly MethodInfo s_memberwiseClone = typeof(object).GetMethod("MemberwiseClone", BindingFlags.Instance | BindingFlags.NonPublic)!;

    private KnobSet(Type? optionsType, IReadOnlyList<Knob> knobs)
    {
        OptionsType = optionsType;
        Knobs = knobs;
    }

    /// <summary>No knobs (an objective without options).</summary>
    public static KnobSet Empty { get; } = new(null, []);

    /// <summary>The options type the knobs are declared on (null for <see cref="Empty"/>).</summary>
    public Type? OptionsType { get; }

    /// <summary>Every knob, in declaration order.</summary>
    public IReadOnlyList<Knob> Knobs { get; }

    /// <summary>The knobs a user sets by name (<see cref="KnobUse.Parameter"/>).</summary>
    public IEnumerable<Knob> Parameters => Knobs.Where(k => k.Use == KnobUse.Parameter);

    /// <summary>The knobs of <typeparamref name="T"/>; knobs tagged <see cref="KnobAttribute.Only"/> are included when their tag is in <paramref name="tags"/>.</summary>
    public static KnobSet Of<T>(params string[] tags) => Of(typeof(T), tags);

    /// <summary>The knobs of <paramref name="optionsType"/> (see <see cref="Of{T}"/>).</summary>
    public static KnobSet Of(Type optionsType, params string[] tags)
    {
        ArgumentNullException.ThrowIfNull(optionsType);
        string key = string.Join(",", tags.Order(StringComparer.Ordinal));
        lock (s_cache)
        {
            if (s_cache.TryGetValue((optionsType, key), out var known)) return known;
            var knobs = new List<Knob>();
            Collect(optionsType, [], tags, knobs);
            var duplicate = knobs.SelectMany(k => k.Aliases.Prepend(k.Name)).GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null) throw new InvalidOperationException($"{optionsType.Name} declares knob '{duplicate.Key}' twice.");
            return s_cache[(optionsType, key)] = new KnobSet(optionsType, knobs);
        }
    }

    private static void Collect(Type type, PropertyInfo[] prefix, string[] tags, List<Knob> into)
    {
        // MetadataToken order is declaration order: the manifest and the help tables keep the source's order.
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
        {
            PropertyInfo[] path = [.. prefix, property];
            if (property.GetCustomAttribute<KnobGroupAttribute>() is not null) Collect(property.PropertyType, path, tags, into);
            else if (property.GetCustomAttribute<KnobAttribute>() is { } knob && (knob.Only is null || tags.Contains(knob.Only)))
            {
                if (property.SetMethod is null) throw new InvalidOperationException($"knob {type.Name}.{property.Name} needs a setter or init accessor.");
                into.Add(new Knob(path, knob));
            }
        }
    }

    /// <summary>The knob named <paramref name="key"/> (any spelling <see cref="KnobKey.Normalize"/> accepts, or an alias), or null.</summary>
    public Knob? Find(string key)
    {
        string k = KnobKey.Normalize(key);
        return Knobs.FirstOrDefault(x => x.Name == k) ?? Knobs.FirstOrDefault(x => x.Aliases.Contains(k));
    }

    /// <summary>True when <paramref name="key"/> names a <see cref="KnobUse.Parameter"/> knob of this set.</summary>
    public bool Accepts(string key) => Find(key) is { Use: KnobUse.Parameter };

    /// <summary>
    /// A copy of <paramref name="defaults"/> with every value of <paramref name="values"/> parsed into its knob.
    /// A key that is not a parameter knob here is an <see cref="ArgumentException"/> listing the known ones;
    /// so is a knob given twice (e.g. as "step_epochs" and "step-epochs").
    /// </summary>
    public T Bind<T>(T defaults, IEnumerable<KeyValuePair<string, string>>? values, string owner) where T : class
    {
        var result = Bind(defaults, values, owner, out var rest);
        if (rest.Count > 0)
        {
            string key = rest.Keys.First();
            var known = Parameters.Select(k => k.Name).ToArray();
            throw new ArgumentException(known.Length == 0
                ? $"{owner} takes no knobs, got '{key}'."
                : $"{owner} has no knob '{key}'; known: {string.Join(", ", known)}.");
        }
        return result;
    }

    /// <summary>As <see cref="Bind{T}(T, IEnumerable{KeyValuePair{string, string}}?, string)"/>, returning the keys that are not knobs here (normalised) instead of failing on them.</summary>
    public T Bind<T>(T defaults, IEnumerable<KeyValuePair<string, string>>? values, string owner, out Dictionary<string, string> rest) where T : class
    {
        ArgumentNullException.ThrowIfNull(defaults);
        if (OptionsType is not null && !OptionsType.IsInstanceOfType(defaults))
            throw new ArgumentException($"knobs of {OptionsType.Name} cannot bind a {defaults.GetType().Name}.");
        rest = new Dictionary<string, string>(StringComparer.Ordinal);
        var result = (T)ShallowCopy(defaults);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (rawKey, value) in values ?? [])
        {
            string key = KnobKey.Normalize(rawKey);
            var knob = Find(key);
            if (knob is null || knob.Use != KnobUse.Parameter)
            {
                if (!rest.TryAdd(key, value)) throw new ArgumentException($"{owner}: knob '{key}' given twice.");
                continue;
            }
            if (!seen.Add(knob.Name)) throw new ArgumentException($"{owner}: knob '{knob.Name}' given twice.");
            knob.SetIn(result, knob.Parse(value, owner));
        }
        return result;
    }

    /// <summary>
    /// Checks every knob's value in <paramref name="options"/> against its declared range (the values a user
    /// did not type, and those set through shared options such as --epochs); throws naming the first bad one.
    /// </summary>
    public void Check(object options, string owner)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var knob in Knobs)
        {
            object? value = knob.ValueIn(options);
            if (value is null || value is string || knob.Type.IsEnum) continue;
            if (value is System.Collections.IEnumerable || value is bool || value.GetType().IsPrimitive)
                knob.Parse(knob.Format(value), owner);
        }
    }

    /// <summary>
    /// Checks <paramref name="options"/> against the ranges the knobs of its type declare (<see cref="Check"/>) and
    /// returns it: the one range check of an options object, so library callers who build options in code are held
    /// to the same declaration as the factory and the CLI. <paramref name="owner"/> names it in the message
    /// (e.g. "objective 'lambdarank'").
    /// </summary>
    public static T Checked<T>(T options, string owner) where T : class
    {
        ArgumentNullException.ThrowIfNull(options);
        Of(options.GetType()).Check(options, owner);
        return options;
    }

    /// <summary>Knob name -> "help (default X)" with the defaults of <paramref name="defaults"/>, aliases as "alias of NAME (default X)"; the table `ranking rankers NAME` prints.</summary>
    public Dictionary<string, string> Describe(object? defaults, Func<Knob, bool>? include = null)
    {
        var table = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var knob in Parameters)
        {
            if (include is not null && !include(knob)) continue;
            string value = defaults is null ? "" : knob.TextIn(defaults);
            table[knob.Name] = $"{knob.Help} (default {value})";
            foreach (var alias in knob.Aliases) table[alias] = $"alias of {knob.Name} (default {value})";
        }
        return table;
    }

    /// <summary>The knobs' values in <paramref name="options"/> as a JSON object in declaration order, names snake_case (the model manifest's form).</summary>
    public JsonObject ToJson(object options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var json = new JsonObject();
        foreach (var knob in Knobs) json[KnobKey.SnakeCase(knob.Name)] = knob.ToJson(knob.ValueIn(options));
        return json;
    }

    /// <summary>
    /// The README's table of these knobs: one row per parameter knob with its name, its default under each of
    /// <paramref name="defaults"/> (one column per titled defaults object), its range or choices, and its help.
    /// </summary>
    public string ToMarkdown(IReadOnlyList<(string Title, object Defaults)> defaults, Func<Knob, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        var b = new System.Text.StringBuilder();
        b.Append("| knob |");
        foreach (var (title, _) in defaults) b.Append(defaults.Count == 1 ? " default |" : $" default ({title}) |");
        b.Append(" range | meaning |\n|---|");
        foreach (var _ in defaults) b.Append("---|");
        b.Append("---|---|\n");
        foreach (var knob in Parameters)
        {
            if (include is not null && !include(knob)) continue;
            b.Append("| `").Append(knob.Name).Append('`');
            foreach (var alias in knob.Aliases) b.Append(" (`").Append(alias).Append("`)");
            b.Append(" |");
            foreach (var (_, d) in defaults) b.Append(' ').Append(Cell(knob.TextIn(d), "-")).Append(" |");
            b.Append(' ').Append(Cell(knob.RangeText, "")).Append(" | ").Append(Cell(knob.Help, "")).Append(" |\n");
        }
        return b.ToString();
    }

    /// <summary>The knobs and defaults in one line, "`sigma` 1, `truncation` 0" (enums list their choices): the objectives table's cell.</summary>
    public string Summary(object? defaults) => string.Join(", ", Parameters.Select(k =>
        "`" + k.Name + "` " + (k.Choices is { } choices ? string.Join("\\|", choices) : defaults is null ? "" : Cell(k.TextIn(defaults), "-")))).Replace("` ,", "`,").TrimEnd();

    private static string Cell(string text, string empty) => text.Length == 0 ? empty : text.Replace("|", "\\|", StringComparison.Ordinal);

    /// <summary>A shallow copy of an options object (records and plain classes alike), so binding never changes the defaults it starts from.</summary>
    internal static object ShallowCopy(object value) => s_memberwiseClone.Invoke(value, null)!;
}
