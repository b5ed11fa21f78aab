using System.Globalization;
using Ranking.Numerics;

namespace Ranking.Metrics;

/// <summary>Which metric; the values are the walks' <see cref="MetricCode"/>s.</summary>
public enum MetricKind
{
    /// <summary>Normalised discounted cumulative gain.</summary>
    Ndcg = MetricCode.Ndcg,
    /// <summary>Discounted cumulative gain.</summary>
    Dcg = MetricCode.Dcg,
    /// <summary>Average precision (MAP as a mean over queries).</summary>
    Map = MetricCode.Map,
    /// <summary>Reciprocal rank of the first relevant row (MRR as a mean).</summary>
    Mrr = MetricCode.Mrr,
    /// <summary>Relevant rows in the top k / k.</summary>
    Precision = MetricCode.Precision,
    /// <summary>Relevant rows in the top k / relevant rows.</summary>
    Recall = MetricCode.Recall,
    /// <summary>Expected reciprocal rank (Chapelle et al. 2009).</summary>
    Err = MetricCode.Err,
    /// <summary>R-precision: relevant rows in the top R / R, R = the query's relevant rows (trec_eval's Rprec).</summary>
    RPrecision = MetricCode.RPrecision,
    /// <summary>Success@k / hit rate: 1 when a relevant row is in the top k (trec_eval's success, ranx's hit_rate).</summary>
    Success = MetricCode.Success,
    /// <summary>Average relevance position (TF-Ranking's ARP; lower is better).</summary>
    Arp = MetricCode.Arp,
    /// <summary>Ordered pair accuracy (TF-Ranking's OPA).</summary>
    Opa = MetricCode.Opa,
    /// <summary>bpref (trec_eval).</summary>
    Bpref = MetricCode.Bpref,
    /// <summary>alpha-NDCG (Clarke et al. 2008) over subtopic judgements, ndeval's greedy ideal.</summary>
    AlphaNdcg = MetricCode.AlphaNdcg,
    /// <summary>alpha-DCG, unnormalised (TF-Ranking's AlphaDCGMetric).</summary>
    AlphaDcg = MetricCode.AlphaDcg,
    /// <summary>Inferred AP (trec_eval's infAP): AP estimated when only a sample of the pool is judged.</summary>
    InfAp = MetricCode.InfAp,
}

/// <summary>
/// One metric to compute, parsed from text: <c>ndcg@10</c>, <c>dcg@5</c>, <c>map</c>, <c>map@10</c>,
/// <c>mrr@10</c>, <c>p@5</c> (or <c>precision@5</c>), <c>r@10</c> (or <c>recall@10</c>), <c>err@10</c>,
/// <c>rprec</c>, <c>success@5</c> (or <c>hit@5</c>), <c>arp</c>, <c>opa</c>, <c>bpref</c>, <c>infap</c>, and over subtopic
/// judgements <c>alpha-ndcg@10</c> and <c>alpha-dcg@10</c>.
/// Without "@k" the whole list counts (rprec, arp, opa, bpref and infap take no k).
/// Options after a colon: <c>map:rel=1</c> (binary metrics: relevant when the grade is greater than this;
/// default 0, or the contract's relevance level), <c>p@10:level=2</c> (relevant when the grade is at least
/// this: trec_eval's -l), <c>map@10:denom=all</c> (AP@k divides by min(k, R) = min, all R = all, or the
/// relevant rows found in the top k = hits; default: the contract's), <c>err@10:max=4</c> (ERR's maximum
/// grade; default: the largest grade in the evaluated data), <c>alpha-ndcg@10:alpha=0.5</c> (the redundancy
/// penalty in [0, 1]; default 0.5, ndeval's). <see cref="Name"/> is the canonical text
/// (lower case, options only when set).
/// </summary>
public sealed record MetricSpec
{
    /// <summary>A metric; the optional knobs are null or 0 when the contract's defaults apply.</summary>
    public MetricSpec(MetricKind kind, int k = 0, double relevanceThreshold = 0, double? errMaxGrade = null,
        double? relevanceLevel = null, ApDenominator? apDenominator = null, double alpha = DefaultAlpha)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), "k must be positive (0 = the whole list).");
        if (!double.IsFinite(relevanceThreshold)) throw new ArgumentOutOfRangeException(nameof(relevanceThreshold));
        if (errMaxGrade is { } m && (!double.IsFinite(m) || m < 0)) throw new ArgumentOutOfRangeException(nameof(errMaxGrade));
        if (relevanceLevel is { } l && !double.IsFinite(l)) throw new ArgumentOutOfRangeException(nameof(relevanceLevel));
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), "alpha must lie in [0, 1].");
        if (k > 0 && kind is MetricKind.RPrecision or MetricKind.Arp or MetricKind.Opa or MetricKind.Bpref or MetricKind.InfAp)
            throw new ArgumentException($"{kind} reads the whole list: it takes no cut-off.", nameof(k));
        Kind = kind;
        K = k;
        RelevanceThreshold = relevanceThreshold;
        ErrMaxGrade = errMaxGrade;
        RelevanceLevel = relevanceLevel;
        ApDenominator = apDenominator;
        Alpha = alpha;
        Name = BuildName();
    }

    /// <summary>Binary metrics: relevant when the grade is at least this (inclusive); null = see <see cref="RelevanceThreshold"/>.</summary>
    public double? RelevanceLevel { get; }

    /// <summary>What AP@k divides by; null = the contract's choice.</summary>
    public ApDenominator? ApDenominator { get; }

    /// <summary>True for the metrics that count relevant rows (a threshold or level applies).</summary>
    public bool IsBinary => Kind is MetricKind.Map or MetricKind.Mrr or MetricKind.Precision or MetricKind.Recall
        or MetricKind.RPrecision or MetricKind.Success or MetricKind.Bpref or MetricKind.InfAp;

    /// <summary>ndeval's default alpha.</summary>
    public const double DefaultAlpha = 0.5;

    /// <summary>alpha-NDCG / alpha-DCG: the redundancy penalty in [0, 1] (0 = plain subtopic counts, 1 = each subtopic counts once).</summary>
    public double Alpha { get; }

    /// <summary>True for the metrics that read subtopic judgements (alpha-NDCG, alpha-DCG).</summary>
    public bool IsDiversity => Kind is MetricKind.AlphaNdcg or MetricKind.AlphaDcg;

    /// <summary>Which metric.</summary>
    public MetricKind Kind { get; }
    /// <summary>Cut-off; 0 = the whole list.</summary>
    public int K { get; }
    /// <summary>Binary metrics (MAP, MRR, P, R): relevant means grade &gt; this.</summary>
    public double RelevanceThreshold { get; }
    /// <summary>ERR's maximum grade; null = the largest grade in the data.</summary>
    public double? ErrMaxGrade { get; }
    /// <summary>Canonical text, e.g. "ndcg@10", "map", "err@10:max=4".</summary>
    public string Name { get; }

    /// <summary>The metrics the CLI reports when none are asked for.</summary>
    public static IReadOnlyList<MetricSpec> DefaultSet { get; } = ParseList("ndcg@1,ndcg@3,ndcg@5,ndcg@10,map,mrr@10,err@10");

    /// <summary>The canonical name, e.g. "ndcg@10" (see <see cref="Name"/>).</summary>
    public override string ToString() => Name;

    /// <summary>Parses one metric, e.g. "ndcg@10", "map", "mrr@10", "p@5", "err@10", with optional ":options" after a colon; case and spaces are ignored; an unknown name or a bad cut-off is a <see cref="FormatException"/> saying which.</summary>
    public static MetricSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string s = text.Trim().ToLowerInvariant();
        if (s.Length == 0) throw new FormatException("empty metric name.");
        string? options = null;
        int colon = s.IndexOf(':');
        if (colon >= 0) { options = s[(colon + 1)..]; s = s[..colon]; }
        int k = 0;
        int at = s.IndexOf('@');
        string head = at >= 0 ? s[..at] : s;
        if (at >= 0)
        {
            string kText = s[(at + 1)..];
            if (!int.TryParse(kText, NumberStyles.None, CultureInfo.InvariantCulture, out k) || k <= 0)
                throw new FormatException($"metric '{text}': the cut-off after '@' must be a positive integer.");
        }
        MetricKind kind = head switch
        {
            "ndcg" => MetricKind.Ndcg,
            "dcg" => MetricKind.Dcg,
            "map" or "ap" => MetricKind.Map,
            "mrr" or "rr" => MetricKind.Mrr,
            "p" or "precision" or "prec" => MetricKind.Precision,
            "r" or "recall" => MetricKind.Recall,
            "err" => MetricKind.Err,
            "rprec" or "r-precision" or "rprecision" => MetricKind.RPrecision,
            "success" or "hit" or "hits" or "hitrate" or "hit_rate" or "hit-rate" => MetricKind.Success,
            "arp" => MetricKind.Arp,
            "opa" => MetricKind.Opa,
            "bpref" => MetricKind.Bpref,
            "alpha-ndcg" or "alpha_ndcg" or "alphandcg" or "a-ndcg" => MetricKind.AlphaNdcg,
            "alpha-dcg" or "alpha_dcg" or "alphadcg" or "a-dcg" => MetricKind.AlphaDcg,
            "infap" or "inf_ap" or "inf-ap" => MetricKind.InfAp,
            _ => throw new FormatException($"unknown metric '{text}'; known: ndcg@k, dcg@k, map, map@k, mrr@k, p@k, r@k, err@k, rprec, success@k, arp, opa, bpref, infap, alpha-ndcg@k, alpha-dcg@k."),
        };
        if (k > 0 && kind is MetricKind.RPrecision or MetricKind.Arp or MetricKind.Opa or MetricKind.Bpref or MetricKind.InfAp)
            throw new FormatException($"metric '{text}': {head} reads the whole list and takes no '@k'.");
        double threshold = 0, alpha = DefaultAlpha;
        double? errMax = null, level = null;
        ApDenominator? denominator = null;
        bool binary = kind is MetricKind.Map or MetricKind.Mrr or MetricKind.Precision or MetricKind.Recall
            or MetricKind.RPrecision or MetricKind.Success or MetricKind.Bpref or MetricKind.InfAp;
        if (options is not null)
        {
            foreach (string option in options.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = option.IndexOf('=');
                string key = eq > 0 ? option[..eq] : option;
                string value = eq > 0 ? option[(eq + 1)..] : "";
                if (key == "denom" && kind == MetricKind.Map)
                {
                    denominator = value switch
                    {
                        "min" => Numerics.ApDenominator.MinKRelevant,
                        "all" => Numerics.ApDenominator.AllRelevant,
                        "hits" => Numerics.ApDenominator.RelevantRetrieved,
                        _ => throw new FormatException($"metric '{text}': denom= takes min, all or hits."),
                    };
                    continue;
                }
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) || !double.IsFinite(number))
                    throw new FormatException($"metric '{text}': option '{option}' needs a number (rel=N, level=N, max=N or alpha=A).");
                if (key == "rel" && binary) threshold = number;
                else if (key == "level" && binary) level = number;
                else if (key == "max" && kind == MetricKind.Err && number >= 0) errMax = number;
                else if (key == "alpha" && kind is MetricKind.AlphaNdcg or MetricKind.AlphaDcg)
                {
                    if (number < 0 || number > 1) throw new FormatException($"metric '{text}': alpha must lie in [0, 1].");
                    alpha = number;
                }
                else throw new FormatException($"metric '{text}': option '{key}' does not apply (rel= and level= for map/mrr/p/r/rprec/success/bpref/infap, denom= for map, max= for err, alpha= for alpha-ndcg/alpha-dcg).");
            }
        }
        return new MetricSpec(kind, k, threshold, errMax, level, denominator, alpha);
    }

    /// <summary>Comma-separated list, e.g. "ndcg@1,map,err@10". Duplicates are removed, order kept.</summary>
    public static IReadOnlyList<MetricSpec> ParseList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var list = new List<MetricSpec>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var spec = Parse(part);
            if (!list.Contains(spec)) list.Add(spec);
        }
        if (list.Count == 0) throw new FormatException("no metric given.");
        return list;
    }

    private string BuildName()
    {
        string head = Kind switch
        {
            MetricKind.Ndcg => "ndcg",
            MetricKind.Dcg => "dcg",
            MetricKind.Map => "map",
            MetricKind.Mrr => "mrr",
            MetricKind.Precision => "p",
            MetricKind.Recall => "r",
            MetricKind.Err => "err",
            MetricKind.RPrecision => "rprec",
            MetricKind.Success => "success",
            MetricKind.Arp => "arp",
            MetricKind.Opa => "opa",
            MetricKind.AlphaNdcg => "alpha-ndcg",
            MetricKind.AlphaDcg => "alpha-dcg",
            MetricKind.InfAp => "infap",
            _ => "bpref",
        };
        string name = K > 0 ? $"{head}@{K}" : head;
        if (RelevanceThreshold != 0) name += ":rel=" + RelevanceThreshold.ToString("R", CultureInfo.InvariantCulture);
        if (RelevanceLevel is { } level) name += ":level=" + level.ToString("R", CultureInfo.InvariantCulture);
        if (ApDenominator is { } denominator)
            name += ":denom=" + denominator switch { Numerics.ApDenominator.MinKRelevant => "min", Numerics.ApDenominator.AllRelevant => "all", _ => "hits" };
        if (ErrMaxGrade is { } m) name += ":max=" + m.ToString("R", CultureInfo.InvariantCulture);
        if (Alpha != DefaultAlpha) name += ":alpha=" + Alpha.ToString("R", CultureInfo.InvariantCulture);
        return name;
    }

    /// <summary>
    /// This metric's knobs for <see cref="MetricWalks.Evaluate"/> under a contract; <paramref name="dataMaxGrade"/>
    /// is ERR's maximum grade when the metric names none.
    /// </summary>
    public MetricWalkSettings WalkSettings(NdcgContract contract, double dataMaxGrade)
    {
        ArgumentNullException.ThrowIfNull(contract);
        return new MetricWalkSettings
        {
            Metric = (int)Kind,
            K = K,
            Averaged = contract.Ties == TiePolicy.Averaged ? 1 : 0,
            Empty = contract.EmptyValue,
            RelevanceThreshold = RelevanceLevel is { } level ? ThresholdOfLevel(level)
                : RelevanceThreshold != 0 || contract.RelevanceLevel is null ? RelevanceThreshold
                : ThresholdOfLevel(contract.RelevanceLevel.Value),
            ErrMaxGrade = ErrMaxGrade ?? Math.Max(0.0, dataMaxGrade),
            DcgScale = contract.Discount.Scale,
            ApDenominator = (int)(ApDenominator ?? contract.ApDenominator),
        };
    }

    /// <summary>
    /// "grade &gt;= level" as the walks' "grade &gt; threshold": grades are float32, so the threshold is the
    /// float just below the level.
    /// </summary>
    private static double ThresholdOfLevel(double level) => MathF.BitDecrement((float)level);

    /// <summary>Two specs are equal when their canonical names are equal.</summary>
    public bool Equals(MetricSpec? other) => other is not null && other.Name == Name;
    /// <summary>The hash of the canonical name.</summary>
    public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);
}
