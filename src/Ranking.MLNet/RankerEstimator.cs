using Microsoft.ML;
using Ranking.Data;
using Ranking.Features;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.MLNet;

/// <summary>
/// Any ranker of our catalog as an ML.NET trainer: <c>Fit</c> reads the view into a <see cref="RankingDataset"/>,
/// fits our feature pipeline on it, trains the ranker on the transformed set and returns a
/// <see cref="RankerScoringTransformer"/> that scores raw features through the same pipeline, query by query.
/// So a LightGBM ranker with our ListNet objective, or an MLP, can sit in an ML.NET pipeline and be scored by
/// <c>mlContext.Ranking.Evaluate</c>.
/// </summary>
public sealed class RankerEstimator : IEstimator<RankerScoringTransformer>
{
    private readonly RankerDescriptor _ranker;
    private readonly RankerOptions _options;
    private readonly string? _pipelineSpec;
    private readonly IReadOnlyList<MetricSpec> _validMetrics;
    private readonly NdcgContract _contract;
    private readonly string _label, _group, _features;

    /// <summary>An ML.NET estimator that trains <paramref name="ranker"/> when fitted.</summary>
    /// <param name="ranker">The catalog ranker to train.</param>
    /// <param name="options">Seed, threads, iterations and knobs; null = defaults.</param>
    /// <param name="pipelineSpec">Our feature pipeline spec ("zscore,log1p", "none"); null = the library default
    /// (<see cref="RankerTraining.DefaultPipeline"/>).</param>
    /// <param name="validMetrics">Validation metrics when a validation view is given; the first drives early stopping.</param>
    /// <param name="contract">The NDCG contract of the validation metrics; null = the default contract.</param>
    /// <param name="labelColumnName">The view's label column.</param>
    /// <param name="groupColumnName">The view's query (group id) column.</param>
    /// <param name="featureColumnName">The view's feature vector column.</param>
    public RankerEstimator(RankerDescriptor ranker, RankerOptions? options = null, string? pipelineSpec = null,
        string validMetrics = "ndcg@10", NdcgContract? contract = null,
        string labelColumnName = RankingColumns.Label, string groupColumnName = RankingColumns.GroupId, string featureColumnName = RankingColumns.Features)
    {
        _ranker = ranker ?? throw new ArgumentNullException(nameof(ranker));
        _options = options ?? new RankerOptions();
        FeaturePipeline.Parse(pipelineSpec); // a bad spec fails here, not at Fit
        _pipelineSpec = pipelineSpec;
        _validMetrics = MetricSpec.ParseList(validMetrics);
        _contract = contract ?? NdcgContract.Default;
        (_label, _group, _features) = (labelColumnName, groupColumnName, featureColumnName);
    }

    /// <summary>What the last <see cref="Fit(IDataView, IDataView?)"/> trained: model, best round, learning curve.</summary>
    public TrainingResult? LastTraining { get; private set; }

    /// <summary>The ranker the last Fit made (pipeline, model, manifest): save it with <c>ModelFile.Save</c>.</summary>
    public RankingModel? LastModel { get; private set; }

    /// <summary>Reads the view, fits our pipeline, trains the ranker and returns the scoring transformer.</summary>
    public RankerScoringTransformer Fit(IDataView input) => Fit(input, null);

    /// <summary>
    /// Trains on <paramref name="train"/> through <see cref="RankerTraining.Train"/> (the library's one training
    /// entry point); with <paramref name="valid"/>, validates (and early-stops) on it.
    /// </summary>
    public RankerScoringTransformer Fit(IDataView train, IDataView? valid)
    {
        ArgumentNullException.ThrowIfNull(train);
        var rawTrain = train.ToRankingDataset(_label, _group, _features, source: "training view");
        var rawValid = valid?.ToRankingDataset(_label, _group, _features, source: "validation view");
        var (model, result) = RankerTraining.Train(_ranker, rawTrain, rawValid, _options, _pipelineSpec, _validMetrics, _contract);
        LastTraining = result;
        LastModel = model;
        return new RankerScoringTransformer(model, _features, _group);
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => RankerScoringEstimator.OutputShape(inputSchema, _features, RankingColumns.Score);
}

/// <summary>Catalog-style entry: <c>mlContext.Ranking.Trainers.Ranker(catalog.Get("listnet"), options, "zscore")</c>.</summary>
public static class RankerEstimatorCatalogExtensions
{
    /// <summary>Any catalog ranker as an ML.NET trainer: <c>mlContext.Ranking.Trainers.Ranker(...)</c>.</summary>
    public static RankerEstimator Ranker(this RankingCatalog.RankingTrainers trainers, RankerDescriptor ranker,
        RankerOptions? options = null, string? pipelineSpec = null, string validMetrics = "ndcg@10", NdcgContract? contract = null)
    {
        ArgumentNullException.ThrowIfNull(trainers);
        return new RankerEstimator(ranker, options, pipelineSpec, validMetrics, contract);
    }
}
