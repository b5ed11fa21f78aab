using Microsoft.ML;
using Microsoft.ML.Data;
using Ranking.Features;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.MLNet;

/// <summary>
/// One of our trained rankers as an ML.NET transformer: adds a Single <c>Score</c> column computed from the
/// <c>Features</c> vector, so <c>mlContext.Ranking.Evaluate(scored)</c> and any later ML.NET stage can use it.
/// Streaming (see <see cref="ScoredDataView"/>). Wraps any <see cref="IScoringModel"/> (features already through
/// the feature pipeline), or any <see cref="BlockScorer"/>, e.g. a whole RankingModel whose pipeline needs a
/// query's rows together: give the group column and each block is one query.
/// </summary>
/// <remarks>
/// It cannot be saved inside an ML.NET model zip (ML.NET loads only types it registered); save the ranker
/// with our model file and wrap it again after loading.
/// </remarks>
public sealed class RankerScoringTransformer : ITransformer
{
    private readonly BlockScorer _scorer;

    /// <summary>Scores with a model that takes pipeline-transformed features, row by row in chunks.</summary>
    public RankerScoringTransformer(IScoringModel model, string featureColumnName = RankingColumns.Features, string scoreColumnName = RankingColumns.Score)
        : this(model?.FeatureCount ?? throw new ArgumentNullException(nameof(model)),
            (features, rows, _, scores) => model.Predict(features, rows, scores), featureColumnName, groupColumnName: null, scoreColumnName)
    {
        Model = model;
    }

    /// <summary>
    /// Scores raw features: each query's rows go through the fitted pipeline, then the model, as a saved
    /// ranker predicts. Per-query steps (query-minmax, query-zscore) need the group column; blocks are queries.
    /// </summary>
    public RankerScoringTransformer(FittedPipeline pipeline, IScoringModel model, string featureColumnName = RankingColumns.Features,
        string groupColumnName = RankingColumns.GroupId, string scoreColumnName = RankingColumns.Score)
        : this(CheckedInputCount(pipeline, model), PipelineScorer(pipeline, model), featureColumnName, groupColumnName, scoreColumnName)
    {
        Model = model;
    }

    /// <summary>Scores raw features with a trained or loaded <see cref="RankingModel"/> (its pipeline, then its model).</summary>
    public RankerScoringTransformer(RankingModel model, string featureColumnName = RankingColumns.Features,
        string groupColumnName = RankingColumns.GroupId, string scoreColumnName = RankingColumns.Score)
        : this((model ?? throw new ArgumentNullException(nameof(model))).Pipeline, model.Model, featureColumnName, groupColumnName, scoreColumnName)
    {
        RankingModel = model;
    }

    /// <summary>The whole ranker (pipeline, model, manifest), when made from one.</summary>
    public RankingModel? RankingModel { get; }

    private static int CheckedInputCount(FittedPipeline pipeline, IScoringModel model)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        ArgumentNullException.ThrowIfNull(model);
        if (pipeline.OutputFeatureCount != model.FeatureCount)
            throw new ArgumentException($"the pipeline gives {pipeline.OutputFeatureCount} features, the model takes {model.FeatureCount}.");
        return pipeline.InputFeatureCount;
    }

    private static BlockScorer PipelineScorer(FittedPipeline pipeline, IScoringModel model)
        => (features, rows, offsets, scores) =>
        {
            // One query per block: the pipeline allocates per call anyway, so a per-block buffer adds little.
            var transformed = new float[rows * pipeline.OutputFeatureCount];
            pipeline.Transform(features, rows, offsets, transformed);
            model.Predict(transformed, rows, scores);
        };

    /// <summary>
    /// Scores with any block scorer. With <paramref name="groupColumnName"/> each block is exactly one query's
    /// rows (the input must keep a query's rows together); without it, blocks are chunks of rows.
    /// </summary>
    public RankerScoringTransformer(int featureCount, BlockScorer scorer, string featureColumnName = RankingColumns.Features,
        string? groupColumnName = null, string scoreColumnName = RankingColumns.Score)
    {
        if (featureCount <= 0) throw new ArgumentOutOfRangeException(nameof(featureCount));
        FeatureCount = featureCount;
        _scorer = scorer ?? throw new ArgumentNullException(nameof(scorer));
        FeatureColumnName = featureColumnName;
        GroupColumnName = groupColumnName;
        ScoreColumnName = scoreColumnName;
    }

    /// <summary>The wrapped model, when made from one.</summary>
    public IScoringModel? Model { get; }
    /// <summary>Features per row the model reads.</summary>
    public int FeatureCount { get; }
    /// <summary>The input's feature vector column.</summary>
    public string FeatureColumnName { get; }
    /// <summary>The input's query column (each scored block is one query), or null.</summary>
    public string? GroupColumnName { get; }
    /// <summary>The score column it adds.</summary>
    public string ScoreColumnName { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => false;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        Check(inputSchema);
        return ScoredDataView.AppendScore(inputSchema, ScoreColumnName);
    }

    /// <inheritdoc/>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (features, group) = Check(input.Schema);
        return new ScoredDataView(input, features, group, FeatureCount, _scorer, ScoreColumnName);
    }

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema)
        => throw new NotSupportedException("this transformer scores blocks of rows, not one row at a time; use Transform.");

    void ICanSaveModel.Save(ModelSaveContext ctx)
        => throw new NotSupportedException("an ML.NET model zip cannot hold our rankers; save the ranker with ModelFile and wrap it again after loading.");

    private (DataViewSchema.Column Features, DataViewSchema.Column? Group) Check(DataViewSchema schema)
    {
        var features = schema.GetColumnOrNull(FeatureColumnName)
            ?? throw new ArgumentException($"no column '{FeatureColumnName}'; columns are {string.Join(", ", schema.Select(c => c.Name))}.");
        if (features.Type is not VectorDataViewType { ItemType: var item, Size: var size } || item != NumberDataViewType.Single || size != FeatureCount)
            throw new ArgumentException($"column '{FeatureColumnName}' is {features.Type}; the ranker takes a vector of {FeatureCount} Single.");
        if (GroupColumnName is null) return (features, null);
        var group = schema.GetColumnOrNull(GroupColumnName)
            ?? throw new ArgumentException($"no column '{GroupColumnName}'; columns are {string.Join(", ", schema.Select(c => c.Name))}.");
        var raw = group.Type.RawType;
        if (raw != typeof(uint) && raw != typeof(ulong) && raw != typeof(int) && raw != typeof(long))
            throw new ArgumentException($"group column '{GroupColumnName}' is {group.Type}; a key or integer is needed.");
        return (features, group);
    }
}

/// <summary>The estimator half: nothing to learn (the ranker is trained already); Fit checks the schema.</summary>
public sealed class RankerScoringEstimator(RankerScoringTransformer transformer) : IEstimator<RankerScoringTransformer>
{
    /// <summary>An estimator that adds a score column from <paramref name="model"/>.</summary>
    public RankerScoringEstimator(IScoringModel model, string featureColumnName = RankingColumns.Features, string scoreColumnName = RankingColumns.Score)
        : this(new RankerScoringTransformer(model, featureColumnName, scoreColumnName))
    {
    }

    /// <inheritdoc/>
    public RankerScoringTransformer Fit(IDataView input)
    {
        transformer.GetOutputSchema(input.Schema);
        return transformer;
    }

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
        => OutputShape(inputSchema, transformer.FeatureColumnName, transformer.ScoreColumnName);

    /// <summary>The input shape plus a Single score column, after checking the features column.</summary>
    internal static SchemaShape OutputShape(SchemaShape inputSchema, string featureColumnName, string scoreColumnName)
    {
        var features = inputSchema.FirstOrDefault(c => c.Name == featureColumnName);
        if (features.Name is null)
            throw new ArgumentException($"no column '{featureColumnName}'.");
        if (features.Kind != SchemaShape.Column.VectorKind.Vector || features.ItemType != NumberDataViewType.Single)
            throw new ArgumentException($"column '{featureColumnName}' must be a fixed-size vector of Single.");
        return new SchemaShape(inputSchema.Where(c => c.Name != scoreColumnName).Append(ScoreShape(scoreColumnName)));
    }

    /// <summary>
    /// The shape of a Single score column. SchemaShape.Column has no public constructor and SchemaShape.Create
    /// is internal, so the shape is taken from what ML.NET's own custom-mapping estimator says it would add.
    /// </summary>
    private static SchemaShape.Column ScoreShape(string name)
    {
        var output = Microsoft.ML.Data.SchemaDefinition.Create(typeof(ScoreRow));
        output[0].ColumnName = name;
        var mapping = new MLContext().Transforms.CustomMapping<NoInput, ScoreRow>((_, _) => { }, contractName: null, outputSchemaDefinition: output);
        return mapping.GetOutputSchema(new SchemaShape([])).Single(c => c.Name == name);
    }

    private sealed class NoInput;

    private sealed class ScoreRow
    {
        public float Score { get; set; }
    }
}

/// <summary>Entry points in ML.NET's catalog style: <c>mlContext.Ranking.ScoreWith(model)</c>.</summary>
public static class RankerScoringCatalogExtensions
{
    /// <summary>Adds a score column computed by <paramref name="model"/> from the feature column.</summary>
    public static RankerScoringEstimator ScoreWith(this RankingCatalog catalog, IScoringModel model,
        string featureColumnName = RankingColumns.Features, string scoreColumnName = RankingColumns.Score)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new RankerScoringEstimator(model, featureColumnName, scoreColumnName);
    }

    /// <summary>A saved or trained ranker on raw features (its pipeline applied query by query).</summary>
    public static RankerScoringEstimator ScoreWith(this RankingCatalog catalog, RankingModel model,
        string featureColumnName = RankingColumns.Features, string groupColumnName = RankingColumns.GroupId, string scoreColumnName = RankingColumns.Score)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new RankerScoringEstimator(new RankerScoringTransformer(model, featureColumnName, groupColumnName, scoreColumnName));
    }
}
