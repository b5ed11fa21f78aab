using Ranking.Numerics;
using System.Globalization;
using System.Text.Json.Nodes;
using Ranking.Compute;

namespace Ranking.Metrics;

/// <summary>How a relevance grade becomes a gain.</summary>
public enum GainKind
{
    /// <summary>2^grade - 1.</summary>
    Exponential,
    /// <summary>The grade itself.</summary>
    Linear,
    /// <summary>An explicit table indexed by integer grade; a grade outside the table is an error.</summary>
    Table,
}

/// <summary>How rows with equal scores are ordered.</summary>
public enum TiePolicy
{
    /// <summary>Stable sort by score: tied rows keep their input order (LightGBM, XGBoost, RankLib).</summary>
    InputOrder,
    /// <summary>Within a tie, lower grades first: the worst order for the labels (ML.NET).</summary>
    Pessimistic,
    /// <summary>Within a tie, higher grades first.</summary>
    Optimistic,
    /// <summary>The expected value over every order of each tie (McSherry and Najork 2008; scikit-learn).</summary>
    Averaged,
}

/// <summary>What a query whose metric has a zero denominator (ideal DCG = 0, no relevant row) counts as.</summary>
public enum EmptyQueryPolicy
{
    CountAsOne,
    CountAsZero,
    /// <summary>The query is left out of the mean (its per-query value is NaN).</summary>
    LeaveOut,
}

/// <summary>
/// The logarithm in the DCG discount. NDCG does not depend on it (it cancels); only reported DCG values do.
/// </summary>
public enum DcgLogBase
{
    Two,
    /// <summary>1/ln(rank + 2): ML.NET reports DCG with it.</summary>
    Natural,
}

/// <summary>
/// Every convention NDCG depends on, made explicit (ARCHITECTURE.md, "The NDCG contract"). Immutable.
/// The discount is always 1/log2(rank + 2) for a 0-based rank; NDCG@k = DCG@k / ideal DCG@k where the
/// ideal DCG sorts the WHOLE list by gain and cuts it at k. Tie and empty-query policies also apply to
/// the other metrics (MAP, MRR, precision, recall; see <see cref="RankingEvaluator"/>).
/// <para>
/// Presets, and where each tool's behaviour was checked (read in their source through the code search,
/// November 2026):
/// </para>
/// <list type="bullet">
/// <item><c>default</c>: exponential gain, averaged ties, empty query = 1.</item>
/// <item><c>lightgbm</c>: LightGBM src/metric/dcg_calculator.cpp + rank_metric.hpp. Gain from
/// <c>label_gain</c>, default table 2^i - 1 for i = 0..30 (a label beyond it is an error); DCG sorts
/// with <c>std::stable_sort</c> by score, so ties keep input order; ideal DCG from label counts over the
/// whole query cut at k; "if all doc in this query are all negative, let its NDCG=1" (empty = 1);
/// query weights give a weighted mean.</item>
/// <item><c>xgboost</c> / <c>xgboost-</c>: XGBoost ranking metrics (src/metric/rank_metric.cc,
/// common/ranking_utils.h, docs "ndcg-, map-"): exponential gain (<c>ndcg_exp_gain</c>, default true)
/// on integer relevance degrees below <c>ltr::MaxRel()</c> = 32 (so here a table 2^i - 1 for i = 0..31:
/// a grade beyond it is an error, as in XGBoost), predictions ordered by a stable ArgSort (input order),
/// a list with no relevant document scores 1, and with the "-" suffix 0.</item>
/// <item><c>sklearn</c>: sklearn/metrics/_ranking.py <c>ndcg_score</c>: the grade is the gain (linear),
/// <c>ignore_ties=False</c> averages ties (<c>_tie_averaged_dcg</c>), a sample whose ideal DCG is 0
/// scores 0 (<c>all_irrelevant</c>), ideal DCG = the true grades sorted, cut at k.</item>
/// <item><c>mlnet</c>: ML.NET src/Microsoft.ML.Data/Evaluators/RankingEvaluator.cs (RankingUtils):
/// <c>LabelGains = "0,3,7,15,31"</c> (labels index the table), ties broken by label ascending
/// (pessimistic), <c>maxDcg &gt; 0 ? dcg / maxDcg : 0</c> (empty = 0), discount 1/ln(rank + 2)
/// in the reported DCG (natural log).</item>
/// <item><c>ranklib</c>: RankLib ciir.umass.edu.metric.NDCGScorer / DCGScorer: gain 2^rel - 1,
/// discount 1/log2(rank + 2), ideal DCG from all labels sorted, cut at k, <c>ideal &lt;= 0 -&gt; 0</c>
/// (empty = 0); rankers order by <c>MergeSorter.sort(scores, false)</c>, a merge sort (input order
/// on ties).</item>
/// </list>
/// <para>The lightgbm, mlnet and sklearn presets are also pinned to numbers the tools produced themselves on
/// MQ2008 (tests/Ranking.Core.Tests/Metrics/ToolGoldenTests.cs).</para>
/// </summary>
public sealed class NdcgContract
{
    /// <summary>Preset names accepted by <see cref="FromPreset"/>.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["default", "lightgbm", "xgboost", "xgboost-", "sklearn", "mlnet", "ranklib"];

    /// <summary>Exponential gain, averaged ties, empty query = 1.</summary>
    public static NdcgContract Default { get; } = new(GainKind.Exponential, TiePolicy.Averaged, EmptyQueryPolicy.CountAsOne, name: "default");

    private const int CachedGrades = 64;
    private readonly double[] _gainTable;   // gain of integer grades 0..CachedGrades-1 (or the table)
    private readonly double[]? _explicitTable;

    public NdcgContract(
        GainKind gain,
        TiePolicy ties,
        EmptyQueryPolicy emptyQuery,
        IReadOnlyList<double>? gainTable = null,
        DcgLogBase dcgLogBase = DcgLogBase.Two,
        string name = "custom")
    {
        if (gain == GainKind.Table)
        {
            if (gainTable is null || gainTable.Count == 0)
                throw new ArgumentException("a table gain needs at least one entry.", nameof(gainTable));
            foreach (double g in gainTable)
                if (!double.IsFinite(g)) throw new ArgumentException("gain table entries must be finite.", nameof(gainTable));
            _explicitTable = gainTable.ToArray();
            _gainTable = _explicitTable;
        }
        else
        {
            if (gainTable is not null) throw new ArgumentException("a gain table is only used with GainKind.Table.", nameof(gainTable));
            _gainTable = new double[CachedGrades];
            for (int i = 0; i < CachedGrades; i++)
                _gainTable[i] = gain == GainKind.Exponential ? RankingMath.ExponentialGain(i) : RankingMath.LinearGain(i);
        }
        Gain = gain;
        Ties = ties;
        EmptyQuery = emptyQuery;
        DcgLogBase = dcgLogBase;
        Name = name;
        GainIsMonotone = true;
        for (int i = 1; i < _gainTable.Length; i++)
            if (_gainTable[i] < _gainTable[i - 1]) GainIsMonotone = false;
    }

    /// <summary>The preset name this contract came from, or "custom".</summary>
    public string Name { get; }
    public GainKind Gain { get; }
    /// <summary>The explicit gain table (grade i has gain GainTable[i]); null unless <see cref="Gain"/> is Table.</summary>
    public IReadOnlyList<double>? GainTable => _explicitTable;
    public TiePolicy Ties { get; }
    public EmptyQueryPolicy EmptyQuery { get; }
    public DcgLogBase DcgLogBase { get; }
    /// <summary>True when a higher integer grade never has a lower gain (lets ideal DCG count grades instead of sorting).</summary>
    internal bool GainIsMonotone { get; }

    /// <summary>Multiplier turning a log2-discounted DCG into the contract's reported DCG.</summary>
    internal double DcgScale => DcgLogBase == DcgLogBase.Natural ? 1.0 / Math.Log(2.0) : 1.0;

    public NdcgContract WithTies(TiePolicy ties) => new(Gain, ties, EmptyQuery, _explicitTable, DcgLogBase, "custom");
    public NdcgContract WithEmptyQuery(EmptyQueryPolicy empty) => new(Gain, Ties, empty, _explicitTable, DcgLogBase, "custom");
    public NdcgContract WithGain(GainKind gain, IReadOnlyList<double>? table = null) => new(gain, Ties, EmptyQuery, table, DcgLogBase, "custom");

    /// <summary>
    /// A preset: default | lightgbm | xgboost | xgboost- | sklearn | mlnet | ranklib (case-insensitive).
    /// </summary>
    public static NdcgContract FromPreset(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.Trim().ToLowerInvariant();
        return key switch
        {
            "default" => Default,
            "lightgbm" => new(GainKind.Table, TiePolicy.InputOrder, EmptyQueryPolicy.CountAsOne, ExponentialTable(31), name: "lightgbm"),
            "xgboost" => new(GainKind.Table, TiePolicy.InputOrder, EmptyQueryPolicy.CountAsOne, ExponentialTable(32), name: "xgboost"),
            "xgboost-" => new(GainKind.Table, TiePolicy.InputOrder, EmptyQueryPolicy.CountAsZero, ExponentialTable(32), name: "xgboost-"),
            "sklearn" => new(GainKind.Linear, TiePolicy.Averaged, EmptyQueryPolicy.CountAsZero, name: "sklearn"),
            "mlnet" => new(GainKind.Table, TiePolicy.Pessimistic, EmptyQueryPolicy.CountAsZero, [0, 3, 7, 15, 31], DcgLogBase.Natural, "mlnet"),
            "ranklib" => new(GainKind.Exponential, TiePolicy.InputOrder, EmptyQueryPolicy.CountAsZero, name: "ranklib"),
            _ => throw new ArgumentException($"unknown NDCG contract '{name}'; known: {string.Join(", ", PresetNames)}.", nameof(name)),
        };
    }

    private static double[] ExponentialTable(int grades) => Enumerable.Range(0, grades).Select(i => RankingMath.ExponentialGain(i)).ToArray();

    /// <summary>
    /// A preset optionally followed by overrides: <c>"sklearn"</c>, <c>"default,ties=input"</c>,
    /// <c>"lightgbm,empty=omit,gain=0;1;3;7;15"</c>. Keys: gain=exp|linear|TABLE (';'-separated numbers),
    /// ties=input|pessimistic|optimistic|averaged, empty=1|0|omit, dcglog=2|e.
    /// </summary>
    public static NdcgContract Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) throw new ArgumentException("empty NDCG contract.", nameof(text));
        NdcgContract c = FromPreset(parts[0]);
        if (parts.Length == 1) return c;
        GainKind gain = c.Gain;
        IReadOnlyList<double>? table = c._explicitTable;
        TiePolicy ties = c.Ties;
        EmptyQueryPolicy empty = c.EmptyQuery;
        DcgLogBase logBase = c.DcgLogBase;
        foreach (string part in parts.Skip(1))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"contract override '{part}' is not key=value.", nameof(text));
            string key = part[..eq].Trim().ToLowerInvariant(), value = part[(eq + 1)..].Trim().ToLowerInvariant();
            switch (key)
            {
                case "gain":
                    if (value is "exp" or "exponential") { gain = GainKind.Exponential; table = null; }
                    else if (value is "linear") { gain = GainKind.Linear; table = null; }
                    else
                    {
                        gain = GainKind.Table;
                        table = value.Split(';').Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
                            ? d : throw new ArgumentException($"gain table entry '{v}' is not a number.", nameof(text))).ToArray();
                    }
                    break;
                case "ties":
                    ties = value switch
                    {
                        "input" or "input-order" or "stable" => TiePolicy.InputOrder,
                        "pessimistic" => TiePolicy.Pessimistic,
                        "optimistic" => TiePolicy.Optimistic,
                        "averaged" or "average" => TiePolicy.Averaged,
                        _ => throw new ArgumentException($"unknown tie policy '{value}' (input, pessimistic, optimistic, averaged).", nameof(text)),
                    };
                    break;
                case "empty":
                    empty = value switch
                    {
                        "1" => EmptyQueryPolicy.CountAsOne,
                        "0" => EmptyQueryPolicy.CountAsZero,
                        "omit" or "leave-out" or "skip" => EmptyQueryPolicy.LeaveOut,
                        _ => throw new ArgumentException($"unknown empty-query policy '{value}' (1, 0, omit).", nameof(text)),
                    };
                    break;
                case "dcglog":
                    logBase = value switch
                    {
                        "2" => DcgLogBase.Two,
                        "e" or "ln" => DcgLogBase.Natural,
                        _ => throw new ArgumentException($"unknown DCG log base '{value}' (2, e).", nameof(text)),
                    };
                    break;
                default:
                    throw new ArgumentException($"unknown contract key '{key}' (gain, ties, empty, dcglog).", nameof(text));
            }
        }
        return new NdcgContract(gain, ties, empty, table, logBase, "custom");
    }

    /// <summary>
    /// The gain of a grade, or false when the contract cannot give one (negative or non-finite grade,
    /// a non-integer or out-of-range grade with a table, an exponential gain that would overflow).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool TryGetGain(float grade, out double gain)
    {
        int g = (int)grade;
        if (g == grade && (uint)g < (uint)_gainTable.Length)
        {
            gain = _gainTable[g];
            return true;
        }
        return TryGetGainSlow(grade, out gain);
    }

    private bool TryGetGainSlow(float grade, out double gain)
    {
        gain = 0;
        if (Gain == GainKind.Table || !float.IsFinite(grade) || grade < 0) return false;
        if (Gain == GainKind.Exponential)
        {
            if (grade > 1000) return false;
            gain = RankingMath.ExponentialGain(grade);
            return true;
        }
        gain = RankingMath.LinearGain(grade);
        return true;
    }

    /// <summary>Why <see cref="TryGetGain"/> failed, for error messages.</summary>
    public string ExplainBadGrade(float grade)
    {
        if (!float.IsFinite(grade)) return $"grade {grade.ToString(CultureInfo.InvariantCulture)} is not a finite number";
        if (grade < 0) return $"grade {grade.ToString(CultureInfo.InvariantCulture)} is negative (grades must be >= 0)";
        if (Gain == GainKind.Table)
            return $"grade {grade.ToString(CultureInfo.InvariantCulture)} is not an integer in the gain table of contract '{Name}' " +
                   $"(grades 0..{_gainTable.Length - 1}: {string.Join(",", _gainTable.Select(g => g.ToString(CultureInfo.InvariantCulture)))})";
        return $"grade {grade.ToString(CultureInfo.InvariantCulture)} is too large for an exponential gain (max 1000)";
    }

    /// <summary>Integer-grade gain without checks: the caller validated the grade (hot path).</summary>
    internal double GainOfValidGrade(float grade)
    {
        int g = (int)grade;
        if (g == grade && (uint)g < (uint)_gainTable.Length) return _gainTable[g];
        return Gain == GainKind.Exponential ? RankingMath.ExponentialGain(grade) : RankingMath.LinearGain(grade);
    }

    /// <summary>Number of leading integer grades whose gain is a table lookup.</summary>
    internal int TabulatedGrades => _gainTable.Length;

    /// <summary>One line, for reports: "default: gain=2^rel-1, discount=1/log2(rank+2), ties=averaged, empty=1".</summary>
    public string Describe()
    {
        string gain = Gain switch
        {
            GainKind.Exponential => "2^rel-1",
            GainKind.Linear => "rel",
            _ => IsExponentialTable()
                ? $"table 2^rel-1 (grades 0..{_gainTable.Length - 1})"
                : "table[" + string.Join(",", _gainTable.Select(g => g.ToString(CultureInfo.InvariantCulture))) + "]",
        };
        string discount = DcgLogBase == DcgLogBase.Two ? "1/log2(rank+2)" : "1/ln(rank+2) (DCG only)";
        return $"{Name}: gain={gain}, discount={discount}, ideal=whole list cut at k, ties={TieName(Ties)}, empty={EmptyName(EmptyQuery)}";
    }

    public override string ToString() => Describe();

    private bool IsExponentialTable()
    {
        for (int i = 0; i < _gainTable.Length; i++)
            if (_gainTable[i] != RankingMath.ExponentialGain(i)) return false;
        return _gainTable.Length > 5;
    }

    /// <summary>The contract as a JSON object for reports and model manifests.</summary>
    public JsonObject ToJsonObject()
    {
        var o = new JsonObject
        {
            ["name"] = Name,
            ["gain"] = Gain switch { GainKind.Exponential => "exponential", GainKind.Linear => "linear", _ => "table" },
        };
        if (_explicitTable is not null)
        {
            var arr = new JsonArray();
            foreach (double g in _explicitTable) arr.Add(g);
            o["gainTable"] = arr;
        }
        o["discount"] = DcgLogBase == DcgLogBase.Two ? "1/log2(rank+2)" : "1/ln(rank+2)";
        o["ideal"] = "whole list cut at k";
        o["ties"] = TieName(Ties);
        o["emptyQuery"] = EmptyName(EmptyQuery);
        o["description"] = Describe();
        return o;
    }

    private static string TieName(TiePolicy t) => t switch
    {
        TiePolicy.InputOrder => "input-order",
        TiePolicy.Pessimistic => "pessimistic",
        TiePolicy.Optimistic => "optimistic",
        _ => "averaged",
    };

    private static string EmptyName(EmptyQueryPolicy e) => e switch
    {
        EmptyQueryPolicy.CountAsOne => "1",
        EmptyQueryPolicy.CountAsZero => "0",
        _ => "omit",
    };
}
