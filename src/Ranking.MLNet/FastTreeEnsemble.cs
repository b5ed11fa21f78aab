using Microsoft.ML.Trainers.FastTree;

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

    private readonly record struct Tree(int[] Left, int[] Right, int[] Feature, float[] Threshold, double[] Leaf, double Weight);

    public FastTreeEnsemble(TreeEnsemble<RegressionTree> ensemble, int featureCount)
    {
        Bias = ensemble.Bias;
        FeatureCount = featureCount;
        _trees = new Tree[ensemble.Trees.Count];
        for (int t = 0; t < _trees.Length; t++)
        {
            var tree = ensemble.Trees[t];
            if (tree.CategoricalSplitFlags.Any(flag => flag))
                throw new NotSupportedException("FastTree categorical splits are not supported; train with CategoricalSplit off.");
            var features = tree.NumericalSplitFeatureIndexes.ToArray();
            foreach (int f in features)
                if ((uint)f >= (uint)featureCount)
                    throw new InvalidDataException($"a FastTree split reads feature {f} of {featureCount}.");
            _trees[t] = new Tree(tree.LeftChild.ToArray(), tree.RightChild.ToArray(), features,
                tree.NumericalSplitThresholds.ToArray(), tree.LeafValues.ToArray(), ensemble.TreeWeights[t]);
        }
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
