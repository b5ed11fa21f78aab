namespace Ranking.Objectives;

/// <summary>
/// The one seam every loss sits behind: the scores of each query in, a loss, one gradient and one
/// diagonal Hessian entry per row out. Any model that takes gradients (linear, MLP, boosted trees)
/// learns from any objective through this interface.
/// </summary>
public interface IRankingObjective
{
    /// <summary>Catalog name, e.g. "lambdarank", "listnet".</summary>
    string Name { get; }

    /// <summary>Pointwise, pairwise, listwise or metric-learning.</summary>
    ObjectiveFamily Family { get; }

    /// <summary>
    /// Computes the loss summed over the batch's queries (each times its weight), writes d loss / d score
    /// to <paramref name="gradients"/> and a positive diagonal Hessian to <paramref name="hessians"/>
    /// (row order of <paramref name="batch"/>). Runs parallel over queries; results do not depend on the
    /// thread count. Finite scores always give finite output.
    /// </summary>
    double Compute(in ObjectiveBatch batch, float[] gradients, float[] hessians);
}

/// <summary>The four kinds of ranking loss, by how many rows one term of the loss reads.</summary>
public enum ObjectiveFamily
{
    /// <summary>One row at a time: the loss compares a row's score with its own grade.</summary>
    Pointwise,
    /// <summary>Pairs of rows of one query: the loss penalises a worse-graded row scored above a better one.</summary>
    Pairwise,
    /// <summary>A query's whole list at once (ListNet, ListMLE, ApproxNDCG, softmax, sampled softmax, NCE).</summary>
    Listwise,
    /// <summary>Scores as negated distances: relevant rows pulled close, irrelevant ones pushed past a margin (triplet, contrastive).</summary>
    MetricLearning,
}

/// <summary>
/// The inputs of one gradient computation: rows grouped by query (offsets into the arrays below),
/// their grades, the model's current scores, optional query weights, and an iteration number that
/// seeds any sampling (same iteration + same seed = same draws, on every thread count and on the GPU).
/// </summary>
public readonly struct ObjectiveBatch
{
    /// <summary>A batch over the given arrays (by reference, not copied): one score per label, offsets ending at the row count; <paramref name="maxDegreeOfParallelism"/> -1 = all cores.</summary>
    public ObjectiveBatch(float[] labels, float[] scores, int[] groupOffsets, float[]? queryWeights = null, int iteration = 0, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(groupOffsets);
        if (scores.Length != labels.Length) throw new ArgumentException("one score per row is required.", nameof(scores));
        if (groupOffsets.Length < 1 || groupOffsets[^1] != labels.Length) throw new ArgumentException("group offsets must end at the row count.", nameof(groupOffsets));
        Labels = labels;
        Scores = scores;
        GroupOffsets = groupOffsets;
        QueryWeights = queryWeights;
        Iteration = iteration;
        MaxDegreeOfParallelism = maxDegreeOfParallelism;
    }

    /// <summary>Grade of each row (usually 0..4).</summary>
    public float[] Labels { get; }
    /// <summary>The model's current score of each row.</summary>
    public float[] Scores { get; }
    /// <summary>queryCount + 1 offsets: query q owns rows [GroupOffsets[q], GroupOffsets[q + 1]).</summary>
    public int[] GroupOffsets { get; }
    /// <summary>Weight of each query (its loss and gradients are multiplied by it); null = every query weighs 1.</summary>
    public float[]? QueryWeights { get; }
    /// <summary>Training iteration (epoch or boosting round): with the objective's seed and the query index it seeds any sampling.</summary>
    public int Iteration { get; }
    /// <summary>-1 = all cores.</summary>
    public int MaxDegreeOfParallelism { get; }
    /// <summary>Number of queries in the batch.</summary>
    public int QueryCount => GroupOffsets.Length - 1;
    /// <summary>Number of rows in the batch.</summary>
    public int RowCount => Labels.Length;

    /// <summary>
    /// Optional display position (1 = top) of each row, from <see cref="Ranking.Data.RankingDataset.Positions"/>:
    /// what the position-bias objectives (<c>ipw-*</c>, <c>unbiased-lambdarank</c>) weigh by. Null: every row
    /// is taken to sit at its place in its query (row i of a query at position i + 1). Other objectives ignore it.
    /// </summary>
    public int[]? Positions { get; init; }

    /// <summary>The display position of row <paramref name="row"/> (the <c>in-query index + 1</c> when none were given).</summary>
    public int PositionOf(int row, int queryStart) => Positions is { } p ? p[row] : row - queryStart + 1;

    /// <summary>
    /// The checks every objective makes before computing: a gradient and a Hessian slot per row, and one
    /// weight per query when weights are given (ArgumentException naming what is wrong).
    /// </summary>
    public void CheckOutputs(float[] gradients, float[] hessians)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentNullException.ThrowIfNull(hessians);
        if (gradients.Length < RowCount) throw new ArgumentException("one gradient slot per row is required.", nameof(gradients));
        if (hessians.Length < RowCount) throw new ArgumentException("one Hessian slot per row is required.", nameof(hessians));
        if (QueryWeights is { } w && w.Length != QueryCount)
            throw new ArgumentException($"{w.Length} query weights for {QueryCount} queries.", "batch");
        if (Positions is { } p && p.Length != RowCount)
            throw new ArgumentException($"{p.Length} positions for {RowCount} rows.", "batch");
    }
}
