using Ranking.Numerics;
using Ranking.Compute;

namespace Ranking.Objectives;

/// <summary>Small shared pieces of the per-query loops: stable score order, discounts, gains.</summary>
internal static class QueryOrder
{
    /// <summary>
    /// Row indices ordered by score descending, ties in input order (a stable sort, as LightGBM's
    /// std::stable_sort): packs (score, index) into one integer key and sorts the keys.
    /// </summary>
    public static void ByScoreDescending(ReadOnlySpan<float> scores, Span<int> order, Span<ulong> keys)
    {
        int n = scores.Length;
        for (int i = 0; i < n; i++) keys[i] = RankingMath.DescendingScoreKey(scores[i], i);
        keys[..n].Sort();
        for (int i = 0; i < n; i++) order[i] = RankingMath.KeyIndex(keys[i]);
    }

    private static readonly double[] s_discounts = BuildDiscounts(1 << 16);

    private static double[] BuildDiscounts(int n)
    {
        var d = new double[n];
        for (int r = 0; r < n; r++) d[r] = RankingMath.Discount(r);
        return d;
    }

    /// <summary>1 / log2(rank + 2), from a table for the first 65536 ranks.</summary>
    public static double Discount(int rank) => (uint)rank < (uint)s_discounts.Length ? s_discounts[rank] : RankingMath.Discount(rank);

    /// <summary>
    /// DCG of the best order cut at k: <paramref name="gains"/> is used as scratch and left sorted ascending.
    /// </summary>
    public static double MaxDcg(Span<double> gains, int k)
    {
        gains.Sort();
        double dcg = 0;
        int n = gains.Length, top = Math.Min(k, n);
        for (int r = 0; r < top; r++) dcg += gains[n - 1 - r] * Discount(r);
        return dcg;
    }
}

/// <summary>
/// A grade-to-gain mapping: exponential 2^grade - 1 by default (LightGBM's default label_gain for integer
/// grades), or an explicit table indexed by integer grade (LightGBM's label_gain).
/// </summary>
public sealed class LabelGain
{
    private readonly double[]? _table;

    private LabelGain(double[]? table) { _table = table; }

    public static LabelGain Exponential { get; } = new(null);

    /// <summary>An explicit table: gain of grade g is table[g]; grades must be integers in [0, table length).</summary>
    public static LabelGain FromTable(IReadOnlyList<double> table)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (table.Count == 0) throw new ArgumentException("a label-gain table needs at least one entry.", nameof(table));
        foreach (double g in table)
            if (!double.IsFinite(g)) throw new ArgumentException($"label-gain entry {g} is not finite.", nameof(table));
        return new LabelGain(table.ToArray());
    }

    /// <summary>Parses "0,1,3,7" (the CLI's --label-gain).</summary>
    public static LabelGain Parse(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out values[i]))
                throw new ArgumentException($"label-gain: '{parts[i]}' is not a number.");
        return FromTable(values);
    }

    public bool IsTable => _table is not null;

    /// <summary>The explicit table (grade g has gain Table[g]); null for 2^grade - 1 (read by the GPU backend).</summary>
    public IReadOnlyList<double>? Table => _table;

    public double Gain(float grade) => _table is null ? RankingMath.ExponentialGain(grade) : _table[(int)grade];

    /// <summary>Throws when a grade cannot be looked up (not an integer inside the table), naming the row.</summary>
    public void Validate(float[] labels)
    {
        for (int i = 0; i < labels.Length; i++)
        {
            float y = labels[i];
            if (!float.IsFinite(y)) throw new ArgumentException($"row {i}: grade {y} is not finite.");
            if (_table is not null && (y < 0 || y != MathF.Floor(y) || y >= _table.Length))
                throw new ArgumentException($"row {i}: grade {y} has no entry in the label-gain table of {_table.Length} entries (grades must be integers 0..{_table.Length - 1}).");
        }
    }

    public override string ToString() => _table is null ? "2^grade-1" : string.Join(",", _table.Select(g => g.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
}
