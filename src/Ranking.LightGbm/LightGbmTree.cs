using System.Collections.ObjectModel;

namespace Ranking.LightGbm;

/// <summary>How a LightGBM split sends a missing value (bits 2-3 of its decision type).</summary>
public enum LightGbmMissingType
{
    /// <summary>No missing-value handling: NaN is read as 0 and compared with the threshold.</summary>
    None = 0,
    /// <summary>Zero (|x| &lt;= 1e-35, and NaN, which reads as 0) is missing and goes the default way.</summary>
    Zero = 1,
    /// <summary>NaN is missing and goes the default way.</summary>
    NaN = 2,
}

/// <summary>
/// One tree of a LightGBM model, as read and checked by <see cref="LightGbmEnsemble.Parse"/>. Internal nodes are
/// numbered 0..<see cref="InternalCount"/>-1 with the root at 0; a child reference c &gt;= 0 is internal node c, and
/// c &lt; 0 is leaf ~c (LightGBM's own encoding). A row goes left where <c>x &lt;= threshold</c> (numerical split) or
/// where its integer category is in the node's bitset (categorical split), after LightGBM's missing-value rules
/// (<see cref="Missing"/>, <see cref="DefaultLeft"/>). Every index has been checked on reading: each node and leaf
/// is reached exactly once from the root, every feature index is below the model's feature count, every number
/// is finite. Immutable, so safe to share between threads.
/// </summary>
public sealed class LightGbmTree
{
    /// <summary>LightGBM's <c>kZeroThreshold</c> (1e-35f widened to double): smaller magnitudes count as zero.</summary>
    public const double ZeroThreshold = 1e-35f;

    internal const int CategoricalMask = 1, DefaultLeftMask = 2;

    internal readonly int[] SplitFeatures, Lefts, Rights, CategoryBoundaries;
    internal readonly double[] Thresholds, LeafValues;
    internal readonly byte[] DecisionTypes;
    internal readonly uint[] CategoryBitset;
    internal readonly double[]? LeafConstants;
    internal readonly int[][]? LinearFeatures;
    internal readonly double[][]? LinearCoefficients;

    internal LightGbmTree(int leafCount, int[] splitFeatures, double[] thresholds, byte[] decisionTypes, int[] lefts, int[] rights,
        double[] leafValues, int[] categoryBoundaries, uint[] categoryBitset, double shrinkage,
        double[]? leafConstants, int[][]? linearFeatures, double[][]? linearCoefficients)
    {
        LeafCount = leafCount;
        SplitFeatures = splitFeatures;
        Thresholds = thresholds;
        DecisionTypes = decisionTypes;
        Lefts = lefts;
        Rights = rights;
        LeafValues = leafValues;
        CategoryBoundaries = categoryBoundaries;
        CategoryBitset = categoryBitset;
        Shrinkage = shrinkage;
        LeafConstants = leafConstants;
        LinearFeatures = linearFeatures;
        LinearCoefficients = linearCoefficients;
        for (int i = 0; i < decisionTypes.Length; i++) HasCategoricalSplit |= (decisionTypes[i] & CategoricalMask) != 0;
    }

    /// <summary>Leaves of the tree (1 for a constant tree).</summary>
    public int LeafCount { get; }
    /// <summary>Split (internal) nodes: <see cref="LeafCount"/> - 1.</summary>
    public int InternalCount => LeafCount - 1;
    /// <summary>The learning rate LightGBM applied to this tree (already folded into the leaf values).</summary>
    public double Shrinkage { get; }
    /// <summary>True when some split is categorical.</summary>
    public bool HasCategoricalSplit { get; }
    /// <summary>True for a linear tree (LightGBM's <c>linear_tree</c>): each leaf holds a linear model.</summary>
    public bool IsLinear => LeafConstants is not null;

    /// <summary>Feature (0-based column) read by each internal node.</summary>
    public IReadOnlyList<int> SplitFeature => Array.AsReadOnly(SplitFeatures);
    /// <summary>Numerical threshold of each internal node; for a categorical node, the index of its bitset.</summary>
    public IReadOnlyList<double> Threshold => Array.AsReadOnly(Thresholds);
    /// <summary>Left child of each internal node (c &gt;= 0: internal node c; c &lt; 0: leaf ~c).</summary>
    public IReadOnlyList<int> LeftChild => Array.AsReadOnly(Lefts);
    /// <summary>Right child of each internal node, encoded as <see cref="LeftChild"/>.</summary>
    public IReadOnlyList<int> RightChild => Array.AsReadOnly(Rights);
    /// <summary>Output of each leaf (for a linear tree, the output used when a leaf feature is NaN).</summary>
    public IReadOnlyList<double> LeafValue => Array.AsReadOnly(LeafValues);

    /// <summary>True when internal node <paramref name="node"/> splits on categories, not on a threshold.</summary>
    public bool IsCategorical(int node) => (DecisionTypes[node] & CategoricalMask) != 0;
    /// <summary>True when a missing value at <paramref name="node"/> goes left.</summary>
    public bool DefaultLeft(int node) => (DecisionTypes[node] & DefaultLeftMask) != 0;
    /// <summary>What counts as missing at <paramref name="node"/>.</summary>
    public LightGbmMissingType Missing(int node) => (LightGbmMissingType)((DecisionTypes[node] >> 2) & 3);

    /// <summary>The categories that go left at categorical node <paramref name="node"/> (bit c of word c / 32 set = category c).</summary>
    public ReadOnlyCollection<uint> CategoryBits(int node)
    {
        if (!IsCategorical(node)) throw new ArgumentException($"node {node} is a numerical split.", nameof(node));
        int set = (int)Thresholds[node];
        return Array.AsReadOnly(CategoryBitset[CategoryBoundaries[set]..CategoryBoundaries[set + 1]]);
    }

    /// <summary>Linear trees: the constant term of each leaf's model.</summary>
    public IReadOnlyList<double> LeafConstant => Array.AsReadOnly(LeafConstants ?? throw new InvalidOperationException("not a linear tree."));
    /// <summary>Linear trees: the features of leaf <paramref name="leaf"/>'s model.</summary>
    public IReadOnlyList<int> LeafFeatures(int leaf) => Array.AsReadOnly((LinearFeatures ?? throw new InvalidOperationException("not a linear tree."))[leaf]);
    /// <summary>Linear trees: the coefficients of leaf <paramref name="leaf"/>'s model, one per <see cref="LeafFeatures"/>.</summary>
    public IReadOnlyList<double> LeafCoefficients(int leaf) => Array.AsReadOnly((LinearCoefficients ?? throw new InvalidOperationException("not a linear tree."))[leaf]);

    /// <summary>A feature value as LightGBM's predictor sees it: widened to double, magnitudes up to 1e-35 read as 0.</summary>
    internal static double Value(float x)
    {
        double v = x;
        return Math.Abs(v) <= ZeroThreshold ? 0.0 : v;
    }

    /// <summary>The leaf a row (one value per model feature) lands in: LightGBM's <c>Tree::GetLeaf</c>.</summary>
    public int LeafIndex(ReadOnlySpan<float> row)
    {
        if (LeafCount == 1) return 0;
        int node = 0;
        while (node >= 0)
        {
            double x = Value(row[SplitFeatures[node]]);
            node = (DecisionTypes[node] & CategoricalMask) != 0 ? CategoricalNext(x, node) : NumericalNext(x, node);
        }
        return ~node;
    }

    private int NumericalNext(double x, int node)
    {
        int missing = (DecisionTypes[node] >> 2) & 3;
        if (double.IsNaN(x) && missing != (int)LightGbmMissingType.NaN) x = 0.0;
        if ((missing == (int)LightGbmMissingType.Zero && Math.Abs(x) <= ZeroThreshold) || (missing == (int)LightGbmMissingType.NaN && double.IsNaN(x)))
            return (DecisionTypes[node] & DefaultLeftMask) != 0 ? Lefts[node] : Rights[node];
        return x <= Thresholds[node] ? Lefts[node] : Rights[node];
    }

    private int CategoricalNext(double x, int node)
    {
        // NaN and negative categories go right; so does a category past the bitset. C++ truncates toward zero as (int) does;
        // values beyond int range saturate here (x86 C++ gives int.MinValue): both go right.
        if (double.IsNaN(x)) return Rights[node];
        int category = (int)x;
        if (category < 0) return Rights[node];
        int set = (int)Thresholds[node];
        int from = CategoryBoundaries[set], words = CategoryBoundaries[set + 1] - from, word = category / 32;
        if (word < words && ((CategoryBitset[from + word] >> (category % 32)) & 1) != 0) return Lefts[node];
        return Rights[node];
    }

    /// <summary>The tree's output for one row: LightGBM's <c>Tree::Predict</c> (leaf value, or the leaf's linear model).</summary>
    public double Output(ReadOnlySpan<float> row)
    {
        int leaf = LeafIndex(row);
        if (LeafConstants is null) return LeafValues[leaf];
        double output = LeafConstants[leaf];
        int[] features = LinearFeatures![leaf];
        double[] coefficients = LinearCoefficients![leaf];
        for (int i = 0; i < features.Length; i++)
        {
            double x = Value(row[features[i]]);
            if (double.IsNaN(x)) return LeafValues[leaf];
            output += coefficients[i] * x;
        }
        return output;
    }
}
