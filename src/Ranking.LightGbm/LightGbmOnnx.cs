using Ranking.Onnx;

namespace Ranking.LightGbm;

/// <summary>
/// LightGBM trees as the engine's exportable <see cref="TreeEnsemble"/>. A numerical split keeps its double
/// threshold; where a NaN goes follows LightGBM's missing-value rule of the split: <c>NaN</c> type goes the
/// default way, <c>None</c> type reads NaN as 0 (so it goes left when 0 &lt;= threshold), and <c>Zero</c> type
/// sends 0 and NaN the default way, which one ONNX split can express only when the default way is where 0 goes
/// anyway. Categorical splits and linear trees have no ONNX tree form here and are refused.
/// One difference remains by design: LightGBM reads magnitudes up to 1e-35 as 0; ONNX compares them as they are,
/// which changes a row's path only for such denormal-sized feature values.
/// </summary>
public static class LightGbmOnnx
{
    /// <summary>The ensemble's trees as a <see cref="TreeEnsemble"/>; <see cref="NotSupportedException"/> for what ONNX cannot hold.</summary>
    public static TreeEnsemble ToTreeEnsemble(LightGbmEnsemble ensemble)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        var trees = new List<DecisionTree>(ensemble.Trees.Count);
        for (int t = 0; t < ensemble.Trees.Count; t++)
        {
            var tree = ensemble.Trees[t];
            if (tree.IsLinear) throw new NotSupportedException($"LightGBM tree {t} is a linear tree (linear_tree=true), which has no ONNX tree-ensemble form.");
            if (tree.HasCategoricalSplit) throw new NotSupportedException($"LightGBM tree {t} has a categorical split, which this ONNX export does not write; train without categorical_feature.");
            var splits = new TreeSplit[tree.InternalCount];
            for (int n = 0; n < splits.Length; n++)
            {
                double threshold = tree.Threshold[n];
                bool zeroGoesLeft = 0.0 <= threshold;
                bool missingLeft = tree.Missing(n) switch
                {
                    LightGbmMissingType.None => zeroGoesLeft,
                    LightGbmMissingType.NaN => tree.DefaultLeft(n),
                    _ when tree.DefaultLeft(n) == zeroGoesLeft => zeroGoesLeft,
                    _ => throw new NotSupportedException($"LightGBM tree {t}, split {n}: zero counts as missing and goes {(tree.DefaultLeft(n) ? "left" : "right")}, "
                        + $"against its threshold {threshold:R}; one ONNX split cannot express that (trained with zero_as_missing=true)."),
                };
                splits[n] = new TreeSplit(tree.SplitFeature[n], threshold, tree.LeftChild[n], tree.RightChild[n], missingLeft);
            }
            trees.Add(new DecisionTree(splits, [.. tree.LeafValue]));
        }
        var result = new TreeEnsemble(0.0, trees);
        result.Validate(ensemble.FeatureCount);
        return result;
    }
}
