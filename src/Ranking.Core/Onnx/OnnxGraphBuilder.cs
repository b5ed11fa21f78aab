using Google.Protobuf;
using Ranking.Onnx.Proto;

namespace Ranking.Onnx;

/// <summary>
/// Builds the graph of an exported model: named initializers (constants), nodes and the tree-ensemble
/// operator. <see cref="Ranking.Models.OnnxExport"/> creates one per export, adds the feature pipeline's nodes, and hands it to
/// the scorer (<see cref="IOnnxExportable.AddScoring"/>), which adds the nodes from the pipeline's output to the
/// score. Every name it returns is unique in the graph.
/// </summary>
public sealed class OnnxGraphBuilder
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    internal OnnxGraphBuilder() { }

    internal GraphProto Graph { get; } = new() { Name = "ranking" };

    /// <summary>True once a node of the ai.onnx.ml domain (the tree ensemble) is in the graph.</summary>
    internal bool UsesMLDomain { get; private set; }

    /// <summary>A name not used yet in the graph, built from <paramref name="hint"/>.</summary>
    public string NewName(string hint)
    {
        string name = hint;
        for (int i = 1; !_names.Add(name); i++) name = $"{hint}_{i}";
        return name;
    }

    /// <summary>Reserves a name given from outside (the graph's input and output).</summary>
    internal void Reserve(string name)
    {
        if (!_names.Add(name)) throw new InvalidOperationException($"the name '{name}' is already used in the graph.");
    }

    internal string Floats(string hint, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = NewName(hint), DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    internal string Doubles(string hint, double[] values, params long[] dims)
    {
        var tensor = DoubleTensor(values, dims);
        tensor.Name = NewName(hint);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    internal string Int64s(string hint, long[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = NewName(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.AddRange(dims);
        tensor.Int64Data.AddRange(values);
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    internal static TensorProto DoubleTensor(double[] values, params long[] dims)
    {
        var tensor = new TensorProto { DataType = (int)TensorProto.Types.DataType.Double };
        tensor.Dims.AddRange(dims);
        tensor.DoubleData.AddRange(values);
        return tensor;
    }

    /// <summary>Adds a node of the default domain with one output, named from <paramref name="outputHint"/>.</summary>
    internal string Node(string op, string[] inputs, string outputHint, params AttributeProto[] attributes) =>
        NodeTo(op, inputs, NewName(outputHint), "", attributes);

    internal string NodeTo(string op, string[] inputs, string output, string domain, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = NewName("node_" + op), Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        if (domain == OnnxFormat.MLDomain) UsesMLDomain = true;
        return output;
    }

    internal static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
    internal static AttributeProto Text(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };
    internal static AttributeProto Tensor(string name, TensorProto value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    internal static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    internal static AttributeProto Texts(string name, IEnumerable<string> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        attribute.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return attribute;
    }

    /// <summary>x cast to double (ONNX Cast to DOUBLE).</summary>
    internal string ToDouble(string x) => Node("Cast", [x], x + "_f64", Int("to", (long)TensorProto.Types.DataType.Double));

    /// <summary>x cast to float (ONNX Cast to FLOAT).</summary>
    internal string ToFloat(string x, string hint) => Node("Cast", [x], hint, Int("to", (long)TensorProto.Types.DataType.Float));

    /// <summary>
    /// Adds an ONNX-ML TreeEnsembleRegressor that sums the trees of <paramref name="ensemble"/> over
    /// <paramref name="features"/> (float [N, F]) and writes the sum to <paramref name="score"/> (float [N]).
    /// The features are cast to double and thresholds, leaf values and the base score written as double tensors
    /// (opset 3's *_as_tensor attributes; ONNX Runtime takes double attributes only with double input), so each
    /// float feature is compared with the exact double threshold and the trees are summed in double, as LightGBM
    /// and FastTree do; the sum is rounded to float once.
    /// </summary>
    public void AddTreeEnsemble(TreeEnsemble ensemble, string features, string score)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        var treeIds = new List<long>();
        var nodeIds = new List<long>();
        var featureIds = new List<long>();
        var modes = new List<string>();
        var thresholds = new List<double>();
        var trueIds = new List<long>();
        var falseIds = new List<long>();
        var missingTracksTrue = new List<long>();
        var targetTree = new List<long>();
        var targetNode = new List<long>();
        var targetWeights = new List<double>();
        for (int t = 0; t < ensemble.Trees.Count; t++)
        {
            var tree = ensemble.Trees[t];
            int splits = tree.Splits.Count;
            // Node ids: splits 0..S-1 in their own order, then leaf k as S + k.
            long Id(int child) => child >= 0 ? child : splits + ~child;
            for (int s = 0; s < splits; s++)
            {
                var split = tree.Splits[s];
                treeIds.Add(t); nodeIds.Add(s); featureIds.Add(split.Feature); modes.Add("BRANCH_LEQ");
                thresholds.Add(split.Threshold); trueIds.Add(Id(split.Left)); falseIds.Add(Id(split.Right));
                missingTracksTrue.Add(split.MissingGoesLeft ? 1 : 0);
            }
            for (int leaf = 0; leaf < tree.Leaves.Count; leaf++)
            {
                treeIds.Add(t); nodeIds.Add(splits + leaf); featureIds.Add(0); modes.Add("LEAF");
                thresholds.Add(0); trueIds.Add(0); falseIds.Add(0); missingTracksTrue.Add(0);
                targetTree.Add(t); targetNode.Add(splits + leaf); targetWeights.Add(tree.Leaves[leaf]);
            }
        }
        string sum = NewName("tree_sum");
        NodeTo("TreeEnsembleRegressor", [ToDouble(features)], sum, OnnxFormat.MLDomain,
            Int("n_targets", 1),
            Text("aggregate_function", "SUM"),
            Text("post_transform", "NONE"),
            Tensor("base_values_as_tensor", DoubleTensor([ensemble.BaseScore], 1)),
            Ints("nodes_treeids", treeIds),
            Ints("nodes_nodeids", nodeIds),
            Ints("nodes_featureids", featureIds),
            Texts("nodes_modes", modes),
            Tensor("nodes_values_as_tensor", DoubleTensor([.. thresholds], thresholds.Count)),
            Ints("nodes_truenodeids", trueIds),
            Ints("nodes_falsenodeids", falseIds),
            Ints("nodes_missing_value_tracks_true", missingTracksTrue),
            Ints("target_treeids", targetTree),
            Ints("target_nodeids", targetNode),
            Ints("target_ids", targetTree.Select(_ => 0L)),
            Tensor("target_weights_as_tensor", DoubleTensor([.. targetWeights], targetWeights.Count)));
        Flatten(sum, score);
    }

    /// <summary>Reshapes a [N, 1] tensor to the [N] output <paramref name="score"/>.</summary>
    internal void Flatten(string column, string score) =>
        NodeTo("Reshape", [column, Int64s("score_shape", [-1], 1)], score, "");
}
