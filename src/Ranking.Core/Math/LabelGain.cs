using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ranking.Numerics;

/// <summary>How a relevance grade becomes a gain. The values are also the gain codes kernels receive.</summary>
public enum GainKind
{
    /// <summary>2^grade - 1.</summary>
    Exponential,
    /// <summary>The grade itself.</summary>
    Linear,
    /// <summary>An explicit table indexed by integer grade; a grade outside the table is an error.</summary>
    Table,
}

/// <summary>
/// The one grade-to-gain mapping of the engine, used by the metrics (<c>NdcgContract</c>), LambdaRank and
/// the GPU kernels (which receive <see cref="Kind"/> and <see cref="Table"/>): exponential 2^grade - 1
/// (LightGBM's default label_gain for integer grades), linear (scikit-learn), or an explicit table indexed
/// by integer grade (LightGBM's label_gain, ML.NET's 0,3,7,15,31). Integer grades 0..63 are a table lookup.
/// Immutable.
/// </summary>
public sealed class LabelGain
{
    private const int CachedGrades = 64;
    private readonly double[] _lookup;      // gain of integer grades 0..CachedGrades-1, or the explicit table
    private readonly double[]? _table;

    private LabelGain(GainKind kind, double[]? table)
    {
        Kind = kind;
        _table = table;
        if (table is not null)
        {
            _lookup = table;
        }
        else
        {
            _lookup = new double[CachedGrades];
            for (int i = 0; i < CachedGrades; i++)
                _lookup[i] = kind == GainKind.Exponential ? RankingMath.ExponentialGain(i) : RankingMath.LinearGain(i);
        }
        IsMonotone = true;
        for (int i = 1; i < _lookup.Length; i++)
            if (_lookup[i] < _lookup[i - 1]) IsMonotone = false;
    }

    /// <summary>2^grade - 1.</summary>
    public static LabelGain Exponential { get; } = new(GainKind.Exponential, null);

    /// <summary>The grade itself.</summary>
    public static LabelGain Linear { get; } = new(GainKind.Linear, null);

    /// <summary>The gain of <paramref name="kind"/>; a table needs <see cref="FromTable"/>.</summary>
    public static LabelGain Of(GainKind kind) => kind switch
    {
        GainKind.Exponential => Exponential,
        GainKind.Linear => Linear,
        _ => throw new ArgumentException("a table gain needs its entries (LabelGain.FromTable).", nameof(kind)),
    };

    /// <summary>An explicit table: gain of grade g is table[g]; grades must be integers in [0, table length).</summary>
    public static LabelGain FromTable(IReadOnlyList<double> table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Count == 0) throw new ArgumentException("a label-gain table needs at least one entry.", nameof(table));
        foreach (double g in table)
            if (!double.IsFinite(g)) throw new ArgumentException($"label-gain entry {g} is not finite.", nameof(table));
        return new LabelGain(GainKind.Table, table.ToArray());
    }

    /// <summary>2^i - 1 for i = 0..grades-1 as an explicit table (LightGBM's and XGBoost's default tables).</summary>
    public static LabelGain ExponentialTable(int grades) =>
        FromTable(Enumerable.Range(0, grades).Select(i => RankingMath.ExponentialGain(i)).ToArray());

    /// <summary>Parses "0,1,3,7" (the CLI's --label-gain).</summary>
    public static LabelGain Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new ArgumentException($"label-gain: '{parts[i]}' is not a number.");
        return FromTable(values);
    }

    /// <summary>Exponential, linear or an explicit table.</summary>
    public GainKind Kind { get; }

    /// <summary>True for an explicit table.</summary>
    public bool IsTable => _table is not null;

    /// <summary>The explicit table (grade g has gain Table[g]); null unless <see cref="Kind"/> is Table (uploaded by the GPU backends).</summary>
    public IReadOnlyList<double>? Table => _table;

    /// <summary>True when a higher integer grade never has a lower gain (lets ideal DCG count grades instead of sorting).</summary>
    public bool IsMonotone { get; }

    /// <summary>Number of leading integer grades whose gain is a table lookup.</summary>
    public int TabulatedGrades => _lookup.Length;

    /// <summary>Gain of a grade the caller validated (integer inside a table; finite otherwise).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Gain(float grade)
    {
        int g = (int)grade;
        if (g == grade && (uint)g < (uint)_lookup.Length) return _lookup[g];
        return GainSlow(grade);
    }

    private double GainSlow(float grade) =>
        Kind == GainKind.Exponential ? RankingMath.ExponentialGain(grade) : Kind == GainKind.Linear ? RankingMath.LinearGain(grade) : _lookup[(int)grade];

    /// <summary>
    /// The gain of a grade, or false when there is none: a non-finite grade, a negative one (unless
    /// <paramref name="allowNegative"/>; never with a table), a grade outside the table, an exponential gain
    /// that would overflow.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetGain(float grade, out double gain, bool allowNegative = false)
    {
        int g = (int)grade;
        if (g == grade && (uint)g < (uint)_lookup.Length)
        {
            gain = _lookup[g];
            return true;
        }
        return TryGetGainSlow(grade, allowNegative, out gain);
    }

    private bool TryGetGainSlow(float grade, bool allowNegative, out double gain)
    {
        gain = 0;
        if (Kind == GainKind.Table || !float.IsFinite(grade) || (grade < 0 && !allowNegative)) return false;
        if (Kind == GainKind.Exponential)
        {
            if (grade > 1000) return false;
            gain = RankingMath.ExponentialGain(grade);
            return true;
        }
        gain = RankingMath.LinearGain(grade);
        return true;
    }

    /// <summary>Why <see cref="TryGetGain"/> failed, for error messages; <paramref name="owner"/> names the contract or option.</summary>
    public string ExplainBadGrade(float grade, string owner, bool allowNegative = false)
    {
        string text = grade.ToString(CultureInfo.InvariantCulture);
        if (!float.IsFinite(grade)) return $"grade {text} is not a finite number";
        if (grade < 0 && !allowNegative) return $"grade {text} is negative (grades must be >= 0)";
        if (Kind == GainKind.Table)
            return $"grade {text} is not an integer in the gain table of {owner} " +
                   $"(grades 0..{_lookup.Length - 1}: {string.Join(",", _lookup.Select(g => g.ToString(CultureInfo.InvariantCulture)))})";
        return $"grade {text} is too large for an exponential gain (max 1000)";
    }

    /// <summary>Throws when a grade cannot be looked up (not finite; with a table, not an integer inside it), naming the row.</summary>
    public void Validate(float[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        for (int i = 0; i < labels.Length; i++)
        {
            float y = labels[i];
            if (!float.IsFinite(y)) throw new ArgumentException($"row {i}: grade {y} is not finite.");
            if (_table is not null && (y < 0 || y != MathF.Floor(y) || y >= _table.Length))
                throw new ArgumentException($"row {i}: grade {y} has no entry in the label-gain table of {_table.Length} entries (grades must be integers 0..{_table.Length - 1}).");
        }
    }

    /// <summary>True when the table is 2^i - 1 for every entry (for short descriptions).</summary>
    public bool IsExponentialTable()
    {
        if (_table is null) return false;
        for (int i = 0; i < _table.Length; i++)
            if (_table[i] != RankingMath.ExponentialGain(i)) return false;
        return true;
    }

    /// <summary>Short text for reports: "2^rel-1", "rel", "table 2^rel-1 (grades 0..30)" or "table[0,3,7]".</summary>
    public string Describe() => Kind switch
    {
        GainKind.Exponential => "2^rel-1",
        GainKind.Linear => "rel",
        _ => IsExponentialTable() && _lookup.Length > 5
            ? $"table 2^rel-1 (grades 0..{_lookup.Length - 1})"
            : "table[" + string.Join(",", _lookup.Select(g => g.ToString(CultureInfo.InvariantCulture))) + "]",
    };

    /// <summary>"2^grade-1" or the table's entries ("0,1,3,7"), as --label-gain takes them.</summary>
    public override string ToString() => _table is null
        ? (Kind == GainKind.Linear ? "grade" : "2^grade-1")
        : string.Join(",", _table.Select(g => g.ToString("R", CultureInfo.InvariantCulture)));
}
