using System.Globalization;
using System.Runtime.CompilerServices;

namespace Ranking.Numerics;

/// <summary>The position discount of DCG. The values are also the discount codes kernels receive.</summary>
public enum DiscountKind
{
    /// <summary>1/log2(rank + 1) for a 1-based rank: the default of every tool.</summary>
    Log2,
    /// <summary>1/ln(rank + 1): ML.NET's reported DCG. NDCG is the same as with log2 (the base cancels).</summary>
    Natural,
    /// <summary>1/log10(rank + 1) (scikit-learn's dcg_score with log_base=10). NDCG as with log2.</summary>
    Log10,
    /// <summary>1/(rank + c) for a 1-based rank (TF-Ranking's custom rank_discount_fn, e.g. 1/rank with c = 0).</summary>
    Reciprocal,
}

/// <summary>
/// A DCG discount with its tables, written once: the CPU metric walks and LambdaRank read the tables, the
/// kernels compute the same values from <see cref="RankingMath.Discount(int, double, int)"/>. Log discounts
/// are all 1/log2 times a constant (<see cref="Scale"/>), so the walks use the log2 values and only reported
/// DCG is multiplied by the scale: NDCG does not depend on the base, to the last bit.
/// </summary>
public sealed class RankDiscount
{
    private const int Size = 1 << 16;
    private readonly double[] _discounts;
    private readonly double[] _cumulative;   // _cumulative[r] = sum of the discount over ranks < r

    private RankDiscount(DiscountKind kind, double offset)
    {
        Kind = kind;
        Offset = offset;
        Scale = RankingMath.DiscountScale((int)kind);
        _discounts = new double[Size + 1];
        _cumulative = new double[Size + 1];
        double sum = 0;
        for (int r = 0; r <= Size; r++)
        {
            _discounts[r] = RankingMath.Discount((int)kind, offset, r);
            _cumulative[r] = sum;
            sum += _discounts[r];
        }
    }

    /// <summary>1/log2(rank + 1) (1-based rank): the default.</summary>
    public static RankDiscount Log2 { get; } = new(DiscountKind.Log2, 0);

    /// <summary>1/ln(rank + 1).</summary>
    public static RankDiscount Natural { get; } = new(DiscountKind.Natural, 0, Log2);

    /// <summary>1/log10(rank + 1).</summary>
    public static RankDiscount Log10 { get; } = new(DiscountKind.Log10, 0, Log2);

    private RankDiscount(DiscountKind kind, double offset, RankDiscount log2Tables)
    {
        Kind = kind;
        Offset = offset;
        Scale = RankingMath.DiscountScale((int)kind);
        _discounts = log2Tables._discounts;
        _cumulative = log2Tables._cumulative;
    }

    /// <summary>1/(rank + c) for a 1-based rank; c &gt; -1 so every rank has a finite positive discount.</summary>
    public static RankDiscount Reciprocal(double c)
    {
        if (!double.IsFinite(c) || c <= -1) throw new ArgumentOutOfRangeException(nameof(c), "the reciprocal discount 1/(rank + c) needs a finite c > -1.");
        return new RankDiscount(DiscountKind.Reciprocal, c);
    }

    /// <summary>The discount of a kind (<paramref name="offset"/> is c of the reciprocal one).</summary>
    public static RankDiscount Of(DiscountKind kind, double offset = 0) => kind switch
    {
        DiscountKind.Log2 => Log2,
        DiscountKind.Natural => Natural,
        DiscountKind.Log10 => Log10,
        _ => Reciprocal(offset),
    };

    /// <summary>Which discount.</summary>
    public DiscountKind Kind { get; }

    /// <summary>c of the reciprocal discount; 0 otherwise.</summary>
    public double Offset { get; }

    /// <summary>Reported DCG = the walk's DCG times this (1 except for the ln and log10 discounts).</summary>
    public double Scale { get; }

    /// <summary>The walk's discount of a 0-based rank (log discounts in base 2; see <see cref="Scale"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double At(int rank) => (uint)rank < Size ? _discounts[rank] : RankingMath.Discount((int)Kind, Offset, rank);

    /// <summary>Sum of <see cref="At"/> over the 0-based ranks [from, to); 0 when empty.</summary>
    public double Sum(int from, int to)
    {
        if (to <= from) return 0;
        if (to <= Size) return _cumulative[to] - _cumulative[from];
        return RankingMath.DiscountSum((int)Kind, Offset, from, to);
    }

    /// <summary>
    /// For reports, with the 0-based rank as the rest of the report: "1/log2(rank+2)", "1/ln(rank+2)",
    /// "1/log10(rank+2)", "1/(rank+1.5)" (the reciprocal discount with c = 0.5).
    /// </summary>
    public string Describe() => Kind switch
    {
        DiscountKind.Log2 => "1/log2(rank+2)",
        DiscountKind.Natural => "1/ln(rank+2)",
        DiscountKind.Log10 => "1/log10(rank+2)",
        _ => "1/(rank+" + (1 + Offset).ToString("R", CultureInfo.InvariantCulture) + ")",
    };

    /// <summary>The contract key's value: log2, ln, log10, or rank+c.</summary>
    public string Key => Kind switch
    {
        DiscountKind.Log2 => "log2",
        DiscountKind.Natural => "ln",
        DiscountKind.Log10 => "log10",
        _ => "rank+" + Offset.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>Parses log2 | 2 | ln | e | log10 | 10 | rank | rank+C (1/(rank + C), 1-based rank).</summary>
    public static RankDiscount Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string s = text.Trim().ToLowerInvariant();
        switch (s)
        {
            case "log2" or "2": return Log2;
            case "ln" or "e" or "natural": return Natural;
            case "log10" or "10": return Log10;
            case "rank" or "reciprocal": return Reciprocal(0);
        }
        if (s.StartsWith("rank+", StringComparison.Ordinal) || s.StartsWith("rank-", StringComparison.Ordinal))
        {
            if (double.TryParse(s[4..], NumberStyles.Float, CultureInfo.InvariantCulture, out double c) && double.IsFinite(c) && c > -1)
                return Reciprocal(c);
            throw new ArgumentException($"discount '{text}': rank+C needs a number C > -1 (1/(rank + C), 1-based rank).");
        }
        throw new ArgumentException($"unknown discount '{text}' (log2, ln, log10, rank, rank+C).");
    }
}
