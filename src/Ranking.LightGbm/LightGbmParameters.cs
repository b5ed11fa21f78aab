using System.Globalization;
using System.Text;
using Ranking.Knobs;

namespace Ranking.LightGbm;

/// <summary>
/// LightGBM's training parameters as a typed object, rendered to the "key=value key=value" string the C API
/// parses. Defaults are LightGBM's own (100 rounds are counted by the trainer, not here), except that
/// runs are made deterministic (deterministic=true, force_row_wise=true, a fixed seed) and quiet
/// (verbosity=-1), because this engine promises the same model for the same seed and thread count and
/// LightGBM's banner would corrupt the CLI's output.
/// </summary>
public sealed class LightGbmParameters
{
    /// <summary>lambdarank, rank_xendcg, regression, or none (gradients come from our objective).</summary>
    public string Objective { get; set; } = "lambdarank";
    /// <summary>Leaves per tree (num_leaves).</summary>
    [Knob("leaves per tree", Name = "leaves", Min = 2, Flag = true)]
    public int NumLeaves { get; set; } = 31;
    /// <summary>Shrinkage per tree (--lr).</summary>
    public double LearningRate { get; set; } = 0.1;
    /// <summary>Minimum rows per leaf (min_data_in_leaf).</summary>
    [Knob("minimum rows per leaf", Name = "min-data", Min = 0, Flag = true)]
    public int MinDataInLeaf { get; set; } = 20;
    /// <summary>Smallest Hessian sum in a leaf (min_sum_hessian_in_leaf).</summary>
    public double MinSumHessianInLeaf { get; set; } = 1e-3;
    /// <summary>Features sampled per tree.</summary>
    [Knob("features sampled per tree", Min = 0, MinExclusive = true, Max = 1, Flag = true)]
    public double FeatureFraction { get; set; } = 1.0;
    /// <summary>Below 1 turns bagging on every iteration (LightGBM ignores the fraction while bagging_freq is 0).</summary>
    [Knob("rows sampled per round (1 = off)", Min = 0, MinExclusive = true, Max = 1, Flag = true)]
    public double BaggingFraction { get; set; } = 1.0;
    /// <summary>Bag whole queries rather than rows (LightGBM 4.x bagging_by_query).</summary>
    [Knob("bag whole queries", Flag = true)]
    public bool BaggingByQuery { get; set; }
    /// <summary>Histogram bins per feature.</summary>
    [Knob("histogram bins per feature", Min = 2, Flag = true)]
    public int MaxBin { get; set; } = 255;
    /// <summary>lambdarank_truncation_level: pairs are only formed with the top-K documents.</summary>
    [Knob("lambdarank: pairs only with the top-K documents", Name = "truncation", Min = 1, Only = GbdtKnobs.NativeLambdaRank, Flag = true)]
    public int TruncationLevel { get; set; } = 30;
    /// <summary>Gain of each grade (label_gain); null = LightGBM's 2^g - 1.</summary>
    [Knob("gain of each grade, e.g. 0,1,3,7,15", Name = "label-gain", DefaultText = "2^g-1", Min = 0, Only = GbdtKnobs.NativeLambdaRank, Flag = true)]
    public IReadOnlyList<double>? LabelGain { get; set; }
    /// <summary>The sigmoid's slope in lambdarank's pair probability.</summary>
    [Knob("lambdarank: slope of the pair sigmoid", Min = 0, MinExclusive = true, Only = GbdtKnobs.NativeLambdaRank, Flag = true)]
    public double Sigmoid { get; set; } = 1.0;
    /// <summary>Seed of every random choice LightGBM makes (seed).</summary>
    public int Seed { get; set; } = 42;
    /// <summary>OpenMP threads; 0 = LightGBM's default (all cores).</summary>
    public int Threads { get; set; }
    /// <summary>LightGBM's deterministic mode (deterministic): the same seed and threads give the same trees.</summary>
    public bool Deterministic { get; set; } = true;

    /// <summary>Data-parallel training: "host:port,host:port" of every machine, this one included; null = one machine.</summary>
    [Knob("data-parallel training: host:port,host:port of every machine", DefaultText = "none", Flag = true)]
    public string? Machines { get; set; }
    /// <summary>This machine's listening port in a data-parallel run.</summary>
    [Knob("this machine's listening port", Name = "local-port", Min = 1, Max = 65535, Flag = true)]
    public int LocalListenPort { get; set; } = 12400;
    /// <summary>Machines in the data-parallel run.</summary>
    [Knob("machines in the data-parallel run", Min = 1, Flag = true)]
    public int NumMachines { get; set; } = 1;

    /// <summary>Further LightGBM parameters passed through verbatim (name -> value), e.g. lambda_l2.</summary>
    public Dictionary<string, string> Extra { get; } = new(StringComparer.Ordinal);

    /// <summary>True when more than one machine trains.</summary>
    public bool IsDistributed => NumMachines > 1;

    /// <summary>The parameter string for LGBM_DatasetCreateFromMat and LGBM_BoosterCreate.</summary>
    public string Render()
    {
        Validate();
        var p = new List<(string Key, string Value)>
        {
            ("objective", Objective),
            ("boosting", "gbdt"),
            ("num_leaves", I(NumLeaves)),
            ("learning_rate", D(LearningRate)),
            ("min_data_in_leaf", I(MinDataInLeaf)),
            ("min_sum_hessian_in_leaf", D(MinSumHessianInLeaf)),
            ("feature_fraction", D(FeatureFraction)),
            ("bagging_fraction", D(BaggingFraction)),
            ("bagging_freq", BaggingFraction < 1.0 ? "1" : "0"),
            ("max_bin", I(MaxBin)),
            ("metric", "None"),
            ("seed", I(Seed)),
            ("num_threads", I(Threads)),
            ("deterministic", Deterministic ? "true" : "false"),
            ("force_row_wise", "true"),
            ("verbosity", "-1"),
        };
        if (BaggingByQuery) p.Add(("bagging_by_query", "true"));
        if (Objective == "lambdarank")
        {
            p.Add(("lambdarank_truncation_level", I(TruncationLevel)));
            p.Add(("sigmoid", D(Sigmoid)));
        }
        if (LabelGain is { Count: > 0 } && Objective == "lambdarank")
            p.Add(("label_gain", string.Join(",", LabelGain.Select(D))));
        if (IsDistributed)
        {
            p.Add(("tree_learner", "data"));
            p.Add(("num_machines", I(NumMachines)));
            p.Add(("machines", Machines!));
            p.Add(("local_listen_port", I(LocalListenPort)));
            p.Add(("pre_partition", "true"));
        }
        foreach (var (key, value) in Extra.OrderBy(e => e.Key, StringComparer.Ordinal)) p.Add((key, value));

        var text = new StringBuilder();
        foreach (var (key, value) in p)
        {
            if (text.Length > 0) text.Append(' ');
            text.Append(key).Append('=').Append(value);
        }
        return text.ToString();
    }

    private void Validate()
    {
        if (Objective is not ("lambdarank" or "rank_xendcg" or "regression" or "none"))
            throw new ArgumentException($"LightGBM objective '{Objective}' is not one of lambdarank, rank_xendcg, regression, none.");
        // The declared knobs (leaves, min-data, fractions, max-bin, lambdarank's truncation, label gains and sigmoid,
        // the port) are checked against their declarations; what no knob declares is checked here.
        KnobSet.Of<LightGbmParameters>(GbdtKnobs.NativeLambdaRank).Check(this, "LightGBM parameters");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), "the learning rate must be positive");
        Require(Threads >= 0, "threads must be 0 (all cores) or positive");
        if (IsDistributed)
        {
            Require(!string.IsNullOrWhiteSpace(Machines), "machines (host:port,host:port) is required when num-machines > 1");
            Require(Machines!.Split(',').Length == NumMachines, $"machines lists {Machines.Split(',').Length} entries but num-machines is {NumMachines}");
        }
        foreach (var (key, value) in Extra)
            Require(key.Length > 0 && !key.Any(c => char.IsWhiteSpace(c) || c == '=') && value.Length > 0 && !value.Any(char.IsWhiteSpace),
                $"LightGBM parameter '{key}={value}' must be one key=value without spaces");
    }

    private static void Require(bool ok, string message)
    {
        if (!ok) throw new ArgumentException(message + ".");
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
    private static string D(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
