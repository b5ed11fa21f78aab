namespace Ranking.Onnx;

/// <summary>
/// One split of a <see cref="DecisionTree"/>: a row goes to <see cref="Left"/> when its value of
/// <see cref="Feature"/> is at most <see cref="Threshold"/> (compared in double), else to <see cref="Right"/>; a
/// NaN value goes left when <see cref="MissingGoesLeft"/>. A child at or above 0 is a split index, a child
/// below 0 is leaf <c>~child</c> (LightGBM's and FastTree's own encoding).
/// </summary>
/// <param name="Feature">0-based index of the feature the split reads.</param>
/// <param name="Threshold">Values at or below it go left.</param>
/// <param name="Left">Where values at or below the threshold go.</param>
/// <param name="Right">Where values above the threshold go.</param>
/// <param name="MissingGoesLeft">Where NaN goes.</param>
public readonly record struct TreeSplit(int Feature, double Threshold, int Left, int Right, bool MissingGoesLeft);

/// <summary>A regression tree: its splits (split 0 is the root when there is one) and its leaf values.</summary>
/// <param name="Splits">The splits; empty for a tree of one leaf.</param>
/// <param name="Leaves">The leaf values, already multiplied by any tree weight or shrinkage.</param>
public sealed record DecisionTree(IReadOnlyList<TreeSplit> Splits, IReadOnlyList<double> Leaves);

/// <summary>An additive tree ensemble: the score of a row is <see cref="BaseScore"/> plus one leaf value per tree.</summary>
/// <param name="BaseScore">Added to every row's score (FastTree's bias; 0 for LightGBM).</param>
/// <param name="Trees">The trees, summed in this order.</param>
public sealed record TreeEnsemble(double BaseScore, IReadOnlyList<DecisionTree> Trees)
{
    /// <summary>The score of one row, summed in double in tree order: the reference the ONNX graph is held to.</summary>
    public double Score(ReadOnlySpan<float> row)
    {
        double sum = BaseScore;
        foreach (var tree in Trees)
        {
            int node = tree.Splits.Count == 0 ? ~0 : 0;
            while (node >= 0)
            {
                var split = tree.Splits[node];
                float x = row[split.Feature];
                node = float.IsNaN(x) ? (split.MissingGoesLeft ? split.Left : split.Right)
                    : x <= split.Threshold ? split.Left : split.Right;
            }
            sum += tree.Leaves[~node];
        }
        return sum;
    }

    /// <summary>Checks that every child points at a split or a leaf of its tree and that features are below <paramref name="featureCount"/>.</summary>
    public void Validate(int featureCount)
    {
        for (int t = 0; t < Trees.Count; t++)
        {
            var tree = Trees[t];
            if (tree.Leaves.Count != tree.Splits.Count + 1)
                throw new InvalidDataException($"tree {t}: {tree.Splits.Count} splits need {tree.Splits.Count + 1} leaves, found {tree.Leaves.Count}.");
            foreach (var split in tree.Splits)
            {
                if ((uint)split.Feature >= (uint)featureCount)
                    throw new InvalidDataException($"tree {t}: a split reads feature {split.Feature} of {featureCount}.");
                foreach (int child in new[] { split.Left, split.Right })
                    if (child >= tree.Splits.Count || ~child >= tree.Leaves.Count || child == 0)
                        throw new InvalidDataException($"tree {t}: a child {child} points outside the tree (or back at the root).");
            }
        }
    }
}
