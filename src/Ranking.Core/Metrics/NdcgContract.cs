using System.Globalization;
using System.Text.Json.Nodes;
using Ranking.Numerics;

namespace Ranking.Metrics;

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
    /// <summary>
    /// Within a tie, the larger document id first (ordinal comparison), as trec_eval sorts a run: the rows need
    /// document ids (a LETOR "# docid = X" comment or a docno column).
    /// </summary>
    DocIdDescending,
}

/// <summary>What a query whose metric has a zero denominator (ideal DCG = 0, no relevant row) counts as.</summary>
public enum EmptyQueryPolicy
{
    /// <summary>The query counts as 1 (LightGBM's and XGBoost's convention: nothing to get wrong is a perfect ranking).</summary>
    CountAsOne,
    /// <summary>The query counts as 0 (scikit-learn, ML.NET, RankLib).</summary>
    CountAsZero,
    /// <summary>The query is left out of the mean (its per-query value is NaN).</summary>
    LeaveOut,
}

/// <summary>
/// Every convention NDCG depends on, made explicit (ARCHITECTURE.md, "The NDCG contract"). Immutable.
/// The discount is 1/log2(rank + 1) for a 1-based rank unless the contract names another
/// (<see cref="RankDiscount"/>); NDCG@k = DCG@k / ideal DCG@k where the
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
    public static IReadOnlyList<string> PresetNames { get; } = ["default", "lightgbm", "xgboost", "xgboost-", "sklearn", "mlnet", "ranklib", "trec", "tfr", "torchmetrics", "ranx"];

    /// <summary>Exponential gain, averaged ties, empty query = 1.</summary>
    public static NdcgContract Default { get; } = new(GainKind.Exponential, TiePolicy.Averaged, EmptyQueryPolicy.CountAsOne, name: "default");

    /// <summary>A contract from a gain kind (with <paramref name="gainTable"/> when <paramref name="gain"/> is Table), tie and empty-query policies, and a discount (null = 1/log2(rank + 1)); <paramref name="name"/> is shown in reports.</summary>
    public NdcgContract(
        GainKind gain,
        TiePolicy ties,
        EmptyQueryPolicy emptyQuery,
        IReadOnlyList<double>? gainTable = null,
        RankDiscount? discount = null,
        string name = "custom")
        : this(GainOf(gain, gainTable), ties, emptyQuery, discount, name)
    {
    }

    /// <summary>A contract over a gain of <see cref="Ranking.Numerics.LabelGain"/> (the type LambdaRank shares).</summary>
    public NdcgContract(LabelGain gain, TiePolicy ties, EmptyQueryPolicy emptyQuery, RankDiscount? discount = null, string name = "custom")
    {
        ArgumentNullException.ThrowIfNull(gain);
        LabelGain = gain;
        Ties = ties;
        EmptyQuery = emptyQuery;
        Discount = discount ?? RankDiscount.Log2;
        Name = name;
    }

    private static LabelGain GainOf(GainKind gain, IReadOnlyList<double>? table)
    {
        if (gain == GainKind.Table)
        {
            if (table is null || table.Count == 0)
                throw new ArgumentException("a table gain needs at least one entry.", nameof(table));
            foreach (double g in table)
                if (!double.IsFinite(g)) throw new ArgumentException("gain table entries must be finite.", nameof(table));
            return LabelGain.FromTable(table);
        }
        if (table is not null) throw new ArgumentException("a gain table is only used with GainKind.Table.", nameof(table));
        return LabelGain.Of(gain);
    }

    /// <summary>The preset name this contract came from, or "custom".</summary>
    public string Name { get; }
    /// <summary>The grade-to-gain mapping.</summary>
    public LabelGain LabelGain { get; }
    /// <summary>Exponential, linear or table (<see cref="LabelGain"/>'s kind).</summary>
    public GainKind Gain => LabelGain.Kind;
    /// <summary>The explicit gain table (grade i has gain GainTable[i]); null unless <see cref="Gain"/> is Table.</summary>
    public IReadOnlyList<double>? GainTable => LabelGain.Table;
    /// <summary>How rows with equal scores are ordered: input order, pessimistic, optimistic, or averaged over their orders.</summary>
    public TiePolicy Ties { get; }
    /// <summary>What a query with no relevant row (ideal DCG = 0) counts as.</summary>
    public EmptyQueryPolicy EmptyQuery { get; }
    /// <summary>The DCG discount (log2 unless the contract names another; a log base changes reported DCG only).</summary>
    public RankDiscount Discount { get; }

    /// <summary>What a query with a zero denominator counts as in a walk: 1, 0 or NaN (left out).</summary>
    internal double EmptyValue => EmptyQuery switch
    {
        EmptyQueryPolicy.CountAsOne => 1.0,
        EmptyQueryPolicy.CountAsZero => 0.0,
        _ => double.NaN,
    };

    /// <summary>The same contract with another tie policy.</summary>
    public NdcgContract WithTies(TiePolicy ties) => new(LabelGain, ties, EmptyQuery, Discount, "custom") { Knobs = Knobs };
    /// <summary>The same contract with another empty-query policy.</summary>
    public NdcgContract WithEmptyQuery(EmptyQueryPolicy empty) => new(LabelGain, Ties, empty, Discount, "custom") { Knobs = Knobs };
    /// <summary>The same contract with another gain.</summary>
    public NdcgContract WithGain(GainKind gain, IReadOnlyList<double>? table = null) => new(GainOf(gain, table), Ties, EmptyQuery, Discount, "custom") { Knobs = Knobs };
    /// <summary>The same contract with another DCG discount.</summary>
    public NdcgContract WithDiscount(RankDiscount discount) => new(LabelGain, Ties, EmptyQuery, discount, "custom") { Knobs = Knobs };

    /// <summary>What AP@k divides by unless the metric names it (default min(k, relevant rows)).</summary>
    public ApDenominator ApDenominator { get; init; }

    /// <summary>
    /// Binary metrics count a row relevant when its grade is at least this (trec_eval's -l, TF-Ranking's
    /// labels &gt;= 1); null = grade &gt; the metric's threshold (0 unless the metric names one).
    /// </summary>
    public double? RelevanceLevel { get; init; }

    /// <summary>Negative grades are taken (scikit-learn's dcg_score; linear or exponential gain); refused by default.</summary>
    public bool AllowNegativeGrades { get; init; }

    /// <summary>The grade that marks a row as unjudged (e.g. -1); null = every row is judged.</summary>
    public double? UnjudgedGrade { get; init; }

    /// <summary>
    /// With <see cref="UnjudgedGrade"/>: true removes unjudged rows before ranking (ir_measures' judged_only);
    /// false keeps them as non-relevant rows of grade 0 (trec_eval).
    /// </summary>
    public bool JudgedOnly { get; init; }

    /// <summary>The knobs beyond gain, ties, empty queries and discount, copied by the With methods.</summary>
    private (ApDenominator, double?, bool, double?, bool) Knobs
    {
        get => (ApDenominator, RelevanceLevel, AllowNegativeGrades, UnjudgedGrade, JudgedOnly);
        init => (ApDenominator, RelevanceLevel, AllowNegativeGrades, UnjudgedGrade, JudgedOnly) = value;
    }

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
            "mlnet" => new(GainKind.Table, TiePolicy.Pessimistic, EmptyQueryPolicy.CountAsZero, [0, 3, 7, 15, 31], RankDiscount.Natural, "mlnet"),
            "ranklib" => new(GainKind.Exponential, TiePolicy.InputOrder, EmptyQueryPolicy.CountAsZero, name: "ranklib"),
            "trec" => new(GainKind.Linear, TiePolicy.DocIdDescending, EmptyQueryPolicy.CountAsZero, name: "trec")
            {
                ApDenominator = ApDenominator.AllRelevant, RelevanceLevel = 1,
            },
            "tfr" => new(GainKind.Exponential, TiePolicy.InputOrder, EmptyQueryPolicy.CountAsZero, name: "tfr")
            {
                ApDenominator = ApDenominator.AllRelevant, RelevanceLevel = 1,
            },
            "torchmetrics" => new(GainKind.Linear, TiePolicy.Averaged, EmptyQueryPolicy.CountAsZero, name: "torchmetrics")
            {
                ApDenominator = ApDenominator.RelevantRetrieved,
            },
            "ranx" => new(GainKind.Linear, TiePolicy.DocIdDescending, EmptyQueryPolicy.CountAsZero, name: "ranx")
            {
                ApDenominator = ApDenominator.AllRelevant, RelevanceLevel = 1,
            },
            _ => throw new ArgumentException($"unknown NDCG contract '{name}'; known: {string.Join(", ", PresetNames)}.", nameof(name)),
        };
    }

    private static IReadOnlyList<double> ExponentialTable(int grades) => LabelGain.ExponentialTable(grades).Table!;

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
        IReadOnlyList<double>? table = c.GainTable;
        TiePolicy ties = c.Ties;
        EmptyQueryPolicy empty = c.EmptyQuery;
        RankDiscount discount = c.Discount;
        var knobs = c.Knobs;
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
                        "docno" or "docid" => TiePolicy.DocIdDescending,
                        _ => throw new ArgumentException($"unknown tie policy '{value}' (input, pessimistic, optimistic, averaged, docno).", nameof(text)),
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
                    // The older key: the log base of reported DCG.
                    discount = value switch
                    {
                        "2" => RankDiscount.Log2,
                        "e" or "ln" => RankDiscount.Natural,
                        _ => throw new ArgumentException($"unknown DCG log base '{value}' (2, e).", nameof(text)),
                    };
                    break;
                case "discount":
                    discount = RankDiscount.Parse(value);
                    break;
                case "apdenom":
                    knobs.Item1 = value switch
                    {
                        "min" => ApDenominator.MinKRelevant,
                        "all" => ApDenominator.AllRelevant,
                        "hits" => ApDenominator.RelevantRetrieved,
                        _ => throw new ArgumentException($"unknown AP@k denominator '{value}' (min, all, hits).", nameof(text)),
                    };
                    break;
                case "level":
                    knobs.Item2 = value is "none" ? null : Number(key, value);
                    break;
                case "negative":
                    knobs.Item3 = value switch
                    {
                        "allow" or "yes" or "true" => true,
                        "refuse" or "no" or "false" => false,
                        _ => throw new ArgumentException($"negative= takes allow or refuse, not '{value}'.", nameof(text)),
                    };
                    break;
                case "unjudged":
                    knobs.Item4 = value is "none" ? null : Number(key, value);
                    break;
                case "judged":
                    knobs.Item5 = value switch
                    {
                        "only" => true,
                        "all" => false,
                        _ => throw new ArgumentException($"judged= takes only or all, not '{value}'.", nameof(text)),
                    };
                    break;
                default:
                    throw new ArgumentException($"unknown contract key '{key}' (gain, ties, empty, discount, apdenom, level, negative, unjudged, judged, dcglog).", nameof(text));
            }
        }
        if (knobs.Item5 && knobs.Item4 is null)
            throw new ArgumentException("judged=only needs the grade that marks unjudged rows (unjudged=G).", nameof(text));
        return new NdcgContract(gain, ties, empty, table, discount, "custom") { Knobs = knobs };

        static double Number(string key, string value) =>
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)
                ? d : throw new ArgumentException($"contract key {key}= needs a number, not '{value}'.");
    }

    /// <summary>
    /// The gain of a grade, or false when the contract cannot give one (negative or non-finite grade,
    /// a non-integer or out-of-range grade with a table, an exponential gain that would overflow).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool TryGetGain(float grade, out double gain) => LabelGain.TryGetGain(grade, out gain, AllowNegativeGrades);

    /// <summary>Why <see cref="TryGetGain"/> failed, for error messages.</summary>
    public string ExplainBadGrade(float grade) =>
        LabelGain.ExplainBadGrade(grade, $"contract '{Name}'", AllowNegativeGrades) + (grade < 0 && !AllowNegativeGrades && LabelGain.Kind != GainKind.Table ? "; negative=allow takes them" : "");

    /// <summary>One line, for reports: "default: gain=2^rel-1, discount=1/log2(rank+2), ties=averaged, empty=1".</summary>
    public string Describe() =>
        $"{Name}: gain={LabelGain.Describe()}, discount={DiscountText()}, ideal=whole list cut at k, ties={TieName(Ties)}, empty={EmptyName(EmptyQuery)}" + KnobText();

    /// <summary>The knobs that differ from the defaults, for <see cref="Describe"/>.</summary>
    private string KnobText()
    {
        var parts = new List<string>();
        if (ApDenominator != ApDenominator.MinKRelevant) parts.Add("ap@k/" + ApDenominatorName(ApDenominator));
        if (RelevanceLevel is { } level) parts.Add("relevant=grade>=" + level.ToString("R", CultureInfo.InvariantCulture));
        if (AllowNegativeGrades) parts.Add("negative grades allowed");
        if (UnjudgedGrade is { } u) parts.Add($"unjudged=grade {u.ToString("R", CultureInfo.InvariantCulture)} ({(JudgedOnly ? "removed" : "non-relevant")})");
        return parts.Count == 0 ? "" : ", " + string.Join(", ", parts);
    }

    private static string ApDenominatorName(ApDenominator d) => d switch
    {
        ApDenominator.MinKRelevant => "min(k,R)",
        ApDenominator.AllRelevant => "R",
        _ => "relevant in top k",
    };

    private string DiscountText() => Discount.Kind is DiscountKind.Natural or DiscountKind.Log10 ? Discount.Describe() + " (DCG only)" : Discount.Describe();

    /// <summary>The contract in words, as reports print it (see <see cref="Describe"/>).</summary>
    public override string ToString() => Describe();

    /// <summary>The contract as a JSON object for reports and model manifests.</summary>
    public JsonObject ToJsonObject()
    {
        var o = new JsonObject
        {
            ["name"] = Name,
            ["gain"] = Gain switch { GainKind.Exponential => "exponential", GainKind.Linear => "linear", _ => "table" },
        };
        if (GainTable is { } table)
        {
            var arr = new JsonArray();
            foreach (double g in table) arr.Add(g);
            o["gainTable"] = arr;
        }
        o["discount"] = Discount.Describe();
        o["ideal"] = "whole list cut at k";
        o["ties"] = TieName(Ties);
        o["emptyQuery"] = EmptyName(EmptyQuery);
        if (ApDenominator != ApDenominator.MinKRelevant) o["apDenominator"] = ApDenominatorName(ApDenominator);
        if (RelevanceLevel is { } level) o["relevanceLevel"] = level;
        if (AllowNegativeGrades) o["negativeGrades"] = "allowed";
        if (UnjudgedGrade is { } unjudged)
        {
            o["unjudgedGrade"] = unjudged;
            o["judgedOnly"] = JudgedOnly;
        }
        o["description"] = Describe();
        return o;
    }

    private static string TieName(TiePolicy t) => t switch
    {
        TiePolicy.InputOrder => "input-order",
        TiePolicy.Pessimistic => "pessimistic",
        TiePolicy.Optimistic => "optimistic",
        TiePolicy.DocIdDescending => "docno-descending",
        _ => "averaged",
    };

    private static string EmptyName(EmptyQueryPolicy e) => e switch
    {
        EmptyQueryPolicy.CountAsOne => "1",
        EmptyQueryPolicy.CountAsZero => "0",
        _ => "omit",
    };
}
