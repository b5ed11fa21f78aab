using Microsoft.ML.Trainers.FastTree;
using Ranking.Models;

namespace Ranking.MLNet;

/// <summary>
/// A FastTree ensemble flattened into arrays (read from ML.NET's public tree API), scored by our own walk.
/// Why: ML.NET scores one row per call through a data view, and has no way to score with the first t trees;
/// this walk scores a whole block of rows with no per-row allocation, and <see cref="AddTree"/> adds one
/// tree at a time so early stopping can read the validation metric after every boosting round.
/// It reproduces ML.NET's output: bias plus each tree's leaf value (times its weight) summed in double in
/// tree order, then rounded to float; a row goes left where feature &lt;= threshold (NaN goes right).
/// A test holds it equal to ML.NET's own scores.
/// </summary>
internal sealed class FastTreeEnsemble
{
    private readonly Tree[] _trees;

    /// <summary>One tree's arrays: n split nodes (children: a node index, or ~leaf), n + 1 leaf values, and the tree's weight.</summary>
    internal readonly record struct Tree(int[] Left, int[] Right, int[] Feature, float[] Threshold, double[] Leaf, double Weight);

    /// <summary>The trees of a model ML.NET built (a freshly trained one).</summary>
    public FastTreeEnsemble(TreeEnsemble<RegressionTree> ensemble, int featureCount)
        : this(ensemble.Bias, FromMLNet(ensemble), featureCount)
    {
    }

    /// <summary>The trees as read from a model file (<see cref="FastTreeModelReader"/>), checked before any row is scored.</summary>
    public FastTreeEnsemble(double bias, Tree[] trees, int featureCount)
    {
        if (!double.IsFinite(bias)) throw new InvalidDataException($"the FastTree bias is {bias}.");
        Bias = bias;
        FeatureCount = featureCount;
        _trees = trees;
        for (int t = 0; t < trees.Length; t++)
        {
            foreach (int f in trees[t].Feature)
                if ((uint)f >= (uint)featureCount)
                    throw new InvalidDataException($"a FastTree split reads feature {f} of {featureCount}.");
            CheckTree(t, trees[t]);
        }
    }

    private static Tree[] FromMLNet(TreeEnsemble<RegressionTree> ensemble)
    {
        var trees = new Tree[ensemble.Trees.Count];
        for (int t = 0; t < trees.Length; t++)
        {
            var tree = ensemble.Trees[t];
            if (tree.CategoricalSplitFlags.Any(flag => flag))
                throw new NotSupportedException("FastTree categorical splits are not supported; train with CategoricalSplit off.");
            trees[t] = new Tree(tree.LeftChild.ToArray(), tree.RightChild.ToArray(), tree.NumericalSplitFeatureIndexes.ToArray(),
                tree.NumericalSplitThresholds.ToArray(), tree.LeafValues.ToArray(), ensemble.TreeWeights[t]);
        }
        return trees;
    }

    /// <summary>
    /// The walk trusts these arrays, so they are checked once: array lengths agree (n split nodes, n + 1 leaves),
    /// every child is a node or leaf in range, each reached exactly once from the root (no cycle, which would make
    /// the walk loop forever), thresholds not NaN and leaf values, weight and bias finite.
    /// </summary>
    private void CheckTree(int index, in Tree tree)
    {
        int nodes = tree.Left.Length, leaves = tree.Leaf.Length;
        if (tree.Right.Length != nodes || tree.Feature.Length != nodes || tree.Threshold.Length != nodes || leaves != nodes + 1)
            throw new InvalidDataException($"FastTree tree {index}: {nodes} left children, {tree.Right.Length} right, {tree.Feature.Length} features, {tree.Threshold.Length} thresholds, {leaves} leaves do not agree.");
        if (!double.IsFinite(tree.Weight)) throw new InvalidDataException($"FastTree tree {index} has weight {tree.Weight}.");
        foreach (double v in tree.Leaf)
            if (!double.IsFinite(v)) throw new InvalidDataException($"FastTree tree {index} has a leaf value {v}.");
        foreach (float v in tree.Threshold)
            if (float.IsNaN(v)) throw new InvalidDataException($"FastTree tree {index} has a NaN threshold.");
        if (TreeStructure.Problem(tree.Left, tree.Right, leaves) is { } problem)
            throw new InvalidDataException($"FastTree tree {index}: {problem}");
    }

    public double Bias { get; }
    public int FeatureCount { get; }
    public int TreeCount => _trees.Length;

    /// <summary>Rows per parallel block; below two blocks scoring stays on the calling thread.</summary>
    private const int BlockRows = 512;

    /// <summary>
    /// Scores rows with every tree: what ML.NET's transformer gives for the same rows. Blocks of rows run in
    /// parallel; each row's sum is independent of the others, so the result does not depend on threads.
    /// </summary>
    public unsafe void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores)
    {
        CheckShape(features, rowCount, scores.Length);
        if (rowCount < 2 * BlockRows)
        {
            PredictRows(features, 0, rowCount, scores);
            return;
        }
        fixed (float* x = features)
        fixed (float* s = scores)
        {
            nint xs = (nint)x, ss = (nint)s;
            int length = features.Length;
            Parallel.For(0, (rowCount + BlockRows - 1) / BlockRows, block =>
            {
                int start = block * BlockRows, end = Math.Min(rowCount, start + BlockRows);
                PredictRows(new ReadOnlySpan<float>((float*)xs, length), start, end, new Span<float>((float*)ss, rowCount));
            });
        }
    }

    private void PredictRows(ReadOnlySpan<float> features, int start, int end, Span<float> scores)
    {
        for (int r = start; r < end; r++)
        {
            var row = features.Slice(r * FeatureCount, FeatureCount);
            double sum = Bias;
            for (int t = 0; t < _trees.Length; t++) sum += TreeOutput(t, row);
            scores[r] = (float)sum;
        }
    }

    /// <summary>
    /// The trees as an exportable <see cref="Ranking.Onnx.TreeEnsemble"/>: FastTree's bias as the base score, each
    /// leaf times its tree's weight, float thresholds widened exactly, NaN going right (the walk's rule).
    /// </summary>
    public Ranking.Onnx.TreeEnsemble ToTreeEnsemble()
    {
        var trees = _trees.Select(tree => new Ranking.Onnx.DecisionTree(
            tree.Left.Select((left, n) => new Ranking.Onnx.TreeSplit(tree.Feature[n], tree.Threshold[n], left, tree.Right[n], MissingGoesLeft: false)).ToArray(),
            tree.Leaf.Select(value => value * tree.Weight).ToArray())).ToArray();
        var ensemble = new Ranking.Onnx.TreeEnsemble(Bias, trees);
        ensemble.Validate(FeatureCount);
        return ensemble;
    }

    /// <summary>Starts running sums (double, like ML.NET's) for scoring tree by tree.</summary>
    public void InitSums(Span<double> sums) => sums.Fill(Bias);

    /// <summary>Adds tree <paramref name="tree"/>'s output to each row's running sum.</summary>
    public void AddTree(int tree, ReadOnlySpan<float> features, Span<double> sums)
    {
        CheckShape(features, sums.Length, sums.Length);
        for (int r = 0; r < sums.Length; r++)
            sums[r] += TreeOutput(tree, features.Slice(r * FeatureCount, FeatureCount));
    }

    private double TreeOutput(int t, ReadOnlySpan<float> row)
    {
        ref readonly var tree = ref _trees[t];
        // A tree of one leaf has no split nodes.
        int node = tree.Left.Length == 0 ? ~0 : 0;
        while (node >= 0)
            node = row[tree.Feature[node]] <= tree.Threshold[node] ? tree.Left[node] : tree.Right[node];
        return tree.Leaf[~node] * tree.Weight;
    }

    private void CheckShape(ReadOnlySpan<float> features, int rowCount, int scoreCount)
    {
        if (rowCount < 0 || (long)rowCount * FeatureCount > features.Length)
            throw new ArgumentException($"{features.Length} feature values hold fewer than {rowCount} rows of {FeatureCount}.");
        if (scoreCount < rowCount) throw new ArgumentException($"room for {scoreCount} scores, {rowCount} rows.");
    }
}
