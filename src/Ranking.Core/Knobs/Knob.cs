using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;

namespace Ranking.Knobs;

/// <summary>
/// One declared knob (see <see cref="KnobAttribute"/>): its name, aliases, type, range, help, and how to parse,
/// check and print its values. Values are parsed the same way wherever they come from (the CLI, --param,
/// RankerOptions.Parameters, the factory's string knobs): numbers in invariant culture, booleans
/// true/false/1/0/yes/no/on/off, enums by their kebab-case names, lists comma-separated, and any type with a
/// static Parse(string) (e.g. a gain table) through that method.
/// </summary>
public sealed class Knob
{
    private readonly PropertyInfo[] _path;
    private readonly KnobAttribute _declaration;

    internal Knob(PropertyInfo[] path, KnobAttribute declaration)
    {
        _path = path;
        _declaration = declaration;
        var property = path[^1];
        Name = declaration.Name ?? KnobKey.KebabCase(property.Name);
        Aliases = (declaration.Aliases ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Type = property.PropertyType;
        ValueType = Nullable.GetUnderlyingType(Type) ?? Type;
        Choices = ValueType.IsEnum ? Enum.GetNames(ValueType).Select(KnobKey.KebabCase).ToArray() : null;
    }

    /// <summary>The knob's name, kebab-case (the form every caller's keys are normalised to: <see cref="KnobKey.Normalize"/>).</summary>
    public string Name { get; }

    /// <summary>Other accepted names.</summary>
    public IReadOnlyList<string> Aliases { get; }

    /// <summary>The declared property's type.</summary>
    public Type Type { get; }

    /// <summary>The help line.</summary>
    public string Help => _declaration.Help;

    /// <summary>How the user sets it.</summary>
    public KnobUse Use => _declaration.Use;

    /// <summary>True when <c>ranking train</c> has a flag of this name.</summary>
    public bool Flag => _declaration.Flag;

    /// <summary>The tag that must be asked for to include this knob (null = always included).</summary>
    public string? Only => _declaration.Only;

    /// <summary>The names of an enum knob's values, kebab-case, in declaration order; null for other types.</summary>
    public IReadOnlyList<string>? Choices { get; }

    /// <summary>The property name on its options type (for messages and docs).</summary>
    public string PropertyName => _path[^1].Name;

    private Type ValueType { get; }

    /// <summary>The range as text ("> 0", "[0, 0.99]", ">= 1"), the choices ("adam | sgd"), or "" when unbounded.</summary>
    public string RangeText
    {
        get
        {
            if (Choices is not null) return string.Join(" | ", Choices);
            double min = _declaration.Min, max = _declaration.Max;
            bool hasMin = !double.IsNaN(min), hasMax = !double.IsNaN(max);
            if (hasMin && hasMax)
                return (_declaration.MinExclusive ? "(" : "[") + Number(min) + ", " + Number(max) + (_declaration.MaxExclusive ? ")" : "]");
            if (hasMin) return (_declaration.MinExclusive ? "> " : ">= ") + Number(min);
            if (hasMax) return (_declaration.MaxExclusive ? "< " : "<= ") + Number(max);
            return "";
        }
    }

    /// <summary>True when <paramref name="key"/> (normalised) is this knob's name or one of its aliases.</summary>
    public bool Answers(string key)
    {
        string k = KnobKey.Normalize(key);
        return k == Name || Aliases.Contains(k);
    }

    /// <summary>The knob's value in <paramref name="options"/> (an instance of the declaring options type).</summary>
    public object? ValueIn(object options)
    {
        object? current = options;
        foreach (var p in _path)
        {
            if (current is null) return null;
            current = p.GetValue(current);
        }
        return current;
    }

    /// <summary>The value in <paramref name="options"/> as the user would type it (the attribute's DefaultText where the value has no text form).</summary>
    public string TextIn(object options)
    {
        object? value = ValueIn(options);
        if (value is null || (_declaration.DefaultText is not null && IsDefaultObject(value))) return _declaration.DefaultText ?? "";
        return Format(value);
    }

    // A computed default (e.g. LabelGain.Exponential) prints as DefaultText; a user's table prints itself.
    private bool IsDefaultObject(object value)
    {
        if (ValueType.IsPrimitive || ValueType.IsEnum || value is string || value is Array) return false;
        var fresh = Activator.CreateInstance(_path[0].ReflectedType!);
        return fresh is not null && Equals(ValueIn(fresh), value);
    }

    /// <summary>A value in the knob's text form: numbers shortest round-trip, booleans lower-case, enums kebab-case, lists comma-separated.</summary>
    public string Format(object? value) => value switch
    {
        null => "",
        bool b => b ? "true" : "false",
        float f => f.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString(CultureInfo.InvariantCulture),
        IFormattable n when n.GetType().IsPrimitive => n.ToString(null, CultureInfo.InvariantCulture),
        Enum e => KnobKey.KebabCase(e.ToString()),
        string s => s,
        System.Collections.IEnumerable list => string.Join(",", list.Cast<object>().Select(Format)),
        _ => value.ToString() ?? "",
    };

    /// <summary>The value as JSON for the model manifest: numbers stay numbers (a float is written as a float), enums their kebab-case names, lists arrays.</summary>
    public JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        float f => JsonValue.Create(f),
        double d => JsonValue.Create(d),
        Enum e => JsonValue.Create(KnobKey.KebabCase(e.ToString())),
        string s => JsonValue.Create(s),
        System.Collections.IEnumerable list => new JsonArray(list.Cast<object>().Select(ToJson).ToArray()),
        _ => JsonValue.Create(Format(value)),
    };

    /// <summary>Parses and range-checks <paramref name="text"/>; a bad value is an <see cref="ArgumentException"/> naming <paramref name="owner"/>, the knob and what it must be.</summary>
    public object? Parse(string text, string owner)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        if (ValueType.IsArray)
        {
            var element = ValueType.GetElementType()!;
            if (t.Length == 0 || (_declaration.EmptyText ?? "").Split('|').Contains(t, StringComparer.OrdinalIgnoreCase))
                return Array.CreateInstance(element, 0);
            var parts = t.Split(',', StringSplitOptions.TrimEntries);
            var array = Array.CreateInstance(element, parts.Length);
            for (int i = 0; i < parts.Length; i++) array.SetValue(ParseScalar(element, parts[i], text, owner, list: true), i);
            return array;
        }
        if (ValueType == typeof(IReadOnlyList<double>))
        {
            if (t.Length == 0) return null;
            return t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(p => (double)ParseScalar(typeof(double), p, text, owner, list: true)).ToArray();
        }
        return ParseScalar(ValueType, t, text, owner, list: false);
    }

    private object ParseScalar(Type type, string t, string original, string owner, bool list)
    {
        if (type == typeof(string)) return t;
        if (type == typeof(bool))
        {
            return t.ToLowerInvariant() switch
            {
                "" or "true" or "1" or "yes" or "on" => true,
                "false" or "0" or "no" or "off" => false,
                _ => throw Bad(owner, original, "true or false"),
            };
        }
        if (type.IsEnum)
        {
            string k = KnobKey.Normalize(t);
            foreach (var name in Enum.GetNames(type))
                if (KnobKey.KebabCase(name) == k) return Enum.Parse(type, name);
            throw Bad(owner, original, string.Join(" | ", Choices!));
        }
        if (type == typeof(int) || type == typeof(long))
        {
            if (!long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) || (type == typeof(int) && v is < int.MinValue or > int.MaxValue) || !InRange(v))
                throw Bad(owner, original, Expected("an integer", list));
            return type == typeof(int) ? (object)(int)v : v;
        }
        if (type == typeof(double) || type == typeof(float))
        {
            if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v) || !InRange(v))
                throw Bad(owner, original, Expected("a finite number", list));
            return type == typeof(float) ? (object)(float)v : v;
        }
        var parse = type.GetMethod("Parse", BindingFlags.Public | BindingFlags.Static, [typeof(string)]);
        if (parse is null || !type.IsAssignableFrom(parse.ReturnType))
            throw new InvalidOperationException($"knob '{Name}' has type {type.Name}, which has no static Parse(string).");
        try { return parse.Invoke(null, [t])!; }
        catch (TargetInvocationException ex) when (ex.InnerException is ArgumentException or FormatException)
        {
            throw new ArgumentException($"{owner}: knob '{Name}' = '{original}': {ex.InnerException.Message}", ex.InnerException);
        }
    }

    private bool InRange(double v)
    {
        double min = _declaration.Min, max = _declaration.Max;
        if (!double.IsNaN(min) && (_declaration.MinExclusive ? !(v > min) : !(v >= min))) return false;
        if (!double.IsNaN(max) && (_declaration.MaxExclusive ? !(v < max) : !(v <= max))) return false;
        return true;
    }

    private string Expected(string kind, bool list)
    {
        string range = RangeText;
        string one = range.Length == 0 ? kind : $"{kind} {(range.StartsWith('[') || range.StartsWith('(') ? "in " : "")}{range}";
        return list ? "a comma-separated list of " + (range.Length == 0 ? kind.Replace("an ", "").Replace("a ", "") + "s" : one) : one;
    }

    private ArgumentException Bad(string owner, string text, string expected)
        => new($"{owner}: knob '{Name}' = '{text}' is not {expected}.");

    /// <summary>Writes <paramref name="value"/> into <paramref name="root"/> along this knob's path (nested options are copied first, never shared).</summary>
    internal void SetIn(object root, object? value) => Set(root, 0, value);

    private void Set(object target, int depth, object? value)
    {
        var property = _path[depth];
        if (depth == _path.Length - 1)
        {
            property.SetValue(target, value);
            return;
        }
        object nested = property.GetValue(target) ?? Activator.CreateInstance(property.PropertyType)!;
        nested = KnobSet.ShallowCopy(nested);
        Set(nested, depth + 1, value);
        property.SetValue(target, nested);
    }

    /// <summary>"name: help (default X)" style line used by docs.</summary>
    public override string ToString() => $"{Name}: {Help}";

    private static string Number(double v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The one key normalisation: trimmed, leading dashes dropped, '_' read as '-', lower-case ("--Step_Epochs" is "step-epochs").</summary>
public static class KnobKey
{
    /// <summary>The canonical form of a knob key as a user or a caller typed it.</summary>
    public static string Normalize(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Trim().TrimStart('-').Replace('_', '-').ToLowerInvariant();
    }

    /// <summary>PascalCase to kebab-case: "PairsPerRow" is "pairs-per-row", "SemiHard" is "semi-hard".</summary>
    public static string KebabCase(string name)
    {
        var b = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0) b.Append('-');
            b.Append(char.ToLowerInvariant(c));
        }
        return b.ToString();
    }

    /// <summary>The manifest's spelling of a knob name: snake_case ("step-epochs" is "step_epochs").</summary>
    public static string SnakeCase(string knobName) => knobName.Replace('-', '_');
}
