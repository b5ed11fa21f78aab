using System.Globalization;
using System.Runtime.CompilerServices;
using Ranking.Clicks;
using Ranking.Data;
using Ranking.Training;

namespace Ranking.Cli.Compare;

/// <summary>
/// Where each ranker of a comparison learns from. The default (null in <see cref="CompareSettings.TrainingSets"/>):
/// every ranker on the fold's training set. <see cref="ClickCompare"/>: the learning-from-clicks comparison.
/// </summary>
internal interface ICompareTrainingSets
{
    /// <summary>The ranker a name of <c>--rankers</c> stands for (its <see cref="RankerDescriptor.Name"/> is that name).</summary>
    RankerDescriptor Resolve(RankerCatalog catalog, string name);

    /// <summary>The training and validation sets <paramref name="ranker"/> learns from on a fold; may add knobs to <paramref name="options"/>.</summary>
    (RankingDataset Train, RankingDataset? Valid) For(RankerDescriptor ranker, RankingDataset train, RankingDataset? valid, RankerOptions options);

    /// <summary>A ranker that is not trained by compare but given (the click protocol's production ranker); null for the others.</summary>
    TrainedRanker? Given(RankerDescriptor ranker, RankingDataset train);

    /// <summary>A line for the report on what the rankers learned from.</summary>
    string Notes { get; }
}

/// <summary>Settings of <c>ranking compare --simulate-clicks</c>.</summary>
internal sealed record ClickCompareSettings(int Sessions, ClickModel Model, int TopK, ClickIntervention Intervention, double ProductionFraction,
    double ProductionTemperature, double Clip, int Seed, int Threads);

/// <summary>
/// <c>ranking compare --simulate-clicks N</c>: each fold's training set is replaced by a click log simulated over it
/// (the ULTR protocol of <c>ranking clicks experiment</c>: a production ranker from a share of the fold's training
/// queries, its top k shown, clicks by the click model on the true grades); the test set keeps its true grades, so
/// compare's tables and paired tests rank the click estimators against each other and the skylines. Names:
/// <list type="bullet">
/// <item><c>production</c>: the production ranker that chose what the log shows (linear-ranknet on the production
/// queries' true grades, with its own defaults), scored as it is;</item>
/// <item><c>naive-F</c>, <c>ipw-F</c>, <c>policy-aware-F</c> (F = linear, mlp, gbdt): softmax on the per-query
/// click set (<see cref="ClickTrainingSet.BuildPerQuery"/>) with naive, position-IPW or policy-aware labels
/// (true propensities, clipped at the clip);</item>
/// <item><c>skyline-R</c>: catalog ranker R on the fold's true grades;</item>
/// <item><c>OBJECTIVE/F</c> (e.g. <c>unbiased-lambdarank/gbdt</c>, <c>ipw-ranknet/linear</c>) and any other catalog
/// ranker (e.g. <c>lambdamart</c>, which then fits LightGBM's position GAM): on the per-session click set with display
/// positions (<see cref="ClickTrainingSet.Build"/>).</item>
/// </list>
/// No click-trained ranker sees the judged validation set (no judged data picks a model); skylines keep it.
/// </summary>
internal sealed class ClickCompare(ClickCompareSettings settings) : ICompareTrainingSets
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly string[] Corrections = ["naive", "ipw", "policy-aware"];
    private readonly ConditionalWeakTable<RankingDataset, FoldClicks> _folds = [];

    /// <inheritdoc/>
    public string Notes =>
        $"Trained on simulated clicks: {settings.Sessions} sessions per fold, {settings.Model.Kind} eta={settings.Model.Eta.ToString(Inv)} " +
        $"noise={settings.Model.NoiseNegative.ToString(Inv)}/{settings.Model.NoisePositive.ToString(Inv)}, top {settings.TopK}, production ranker from " +
        $"{settings.ProductionFraction.ToString("P0", Inv)} of the training queries" +
        (settings.ProductionTemperature > 0 ? $" sampled at temperature {settings.ProductionTemperature.ToString(Inv)}" : " (deterministic)") +
        $", IPW clip {settings.Clip.ToString(Inv)}, seed {settings.Seed}; tested on the true grades.";

    /// <inheritdoc/>
    public RankerDescriptor Resolve(RankerCatalog catalog, string name)
    {
        if (name == "production") return catalog.Get("linear-ranknet") with { Name = name, Description = "the production ranker that chose what was shown" };
        if (name.StartsWith("skyline-", StringComparison.Ordinal))
        {
            var r = catalog.Get(name["skyline-".Length..]);
            return r with { Name = name, Description = r.Description + " (true grades)" };
        }
        foreach (var c in Corrections)
            if (name.StartsWith(c + "-", StringComparison.Ordinal) && name[(c.Length + 1)..] is "linear" or "mlp" or "gbdt")
                return catalog.Compose("ipw-softmax", name[(c.Length + 1)..]) with { Name = name, Description = $"softmax on per-query {c} click labels" };
        if (name.Split('/') is [var objective, var family])
            return catalog.Compose(objective, family) with { Name = name };
        return catalog.Get(name);
    }

    /// <inheritdoc/>
    public TrainedRanker? Given(RankerDescriptor ranker, RankingDataset train)
    {
        if (ranker.Name != "production") return null;
        var model = _folds.GetValue(train, t => new FoldClicks(t, settings)).Production;
        return new TrainedRanker(set => model.Predict(set), new TrainingResult(model.Model, 0, new Dictionary<string, double>(), [], TimeSpan.Zero));
    }

    /// <inheritdoc/>
    public (RankingDataset Train, RankingDataset? Valid) For(RankerDescriptor ranker, RankingDataset train, RankingDataset? valid, RankerOptions options)
    {
        var fold = _folds.GetValue(train, t => new FoldClicks(t, settings));
        string name = ranker.Name;
        if (name == "production") return (fold.ProductionQueries, null);
        if (name.StartsWith("skyline-", StringComparison.Ordinal)) return (train, valid);
        for (int c = 0; c < Corrections.Length; c++)
            if (name.StartsWith(Corrections[c] + "-", StringComparison.Ordinal) && name[(Corrections[c].Length + 1)..] is "linear" or "mlp" or "gbdt")
            {
                // The labels are corrected already: the softmax weighs each row by its label.
                options.Parameters["propensities"] = "1";
                options.Parameters["clip"] = "0";
                return (fold.PerQuery((ClickLabelCorrection)c), null);
            }
        if (ranker.Objective.StartsWith("ipw-", StringComparison.Ordinal) && !options.Parameters.ContainsKey("clip"))
            options.Parameters["clip"] = settings.Clip.ToString("R", Inv);
        return (fold.PerSession, null);
    }

    /// <summary>One fold's click log and the training sets built from it, each on first use.</summary>
    private sealed class FoldClicks
    {
        private readonly ClickCompareSettings _settings;
        private readonly ClickLog _log;
        private readonly RankingDataset?[] _perQuery = new RankingDataset?[3];
        private RankingDataset? _perSession;

        public FoldClicks(RankingDataset train, ClickCompareSettings settings)
        {
            _settings = settings;
            var (production, queries) = ProductionRanker.Train(train, settings.ProductionFraction, settings.Seed, threads: settings.Threads);
            Production = production;
            ProductionQueries = train.Materialize(queries);
            _log = ClickSimulator.Simulate(train, production.Predict(train), new ClickSimulationOptions
            {
                Sessions = settings.Sessions, TopK = settings.TopK, Model = settings.Model, Intervention = settings.Intervention,
                Seed = settings.Seed, Threads = settings.Threads, ProductionTemperature = settings.ProductionTemperature,
            });
        }

        /// <summary>The production ranker whose top k the log shows.</summary>
        public Ranking.Models.RankingModel Production { get; }

        /// <summary>The judged queries the production ranker learned from.</summary>
        public RankingDataset ProductionQueries { get; }

        /// <summary>One group per distinct session, clicks as labels, display positions.</summary>
        public RankingDataset PerSession => _perSession ??= ClickTrainingSet.Build(_log);

        /// <summary>One group per query with labels of the correction.</summary>
        public RankingDataset PerQuery(ClickLabelCorrection correction) =>
            _perQuery[(int)correction] ??= ClickTrainingSet.BuildPerQuery(_log, correction, _settings.Model.Propensities(_settings.TopK), _settings.Clip);
    }
}
