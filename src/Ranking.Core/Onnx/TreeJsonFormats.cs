using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ranking.Onnx;

/// <summary>A scorer that is an additive tree ensemble: what the JSON tree formats (and the ONNX tree operator) are written from.</summary>
public interface ITreeEnsembleModel
{
    /// <summary>The model's trees with their double thresholds and where NaN goes at each split; <see cref="NotSupportedException"/> for trees the neutral form cannot hold.</summary>
    TreeEnsemble ToTreeEnsemble();
}

/// <summary>
/// LightGBM's JSON model dump (<c>booster.dump_model()</c>, <c>LGBM_BoosterDumpModel</c>): the format Vespa's
/// LightGBM ranking expressions read. Written from a <see cref="TreeEnsemble"/>: every split is numerical
/// (<c>decision_type</c> "&lt;="), with <c>missing_type</c> "NaN" and <c>default_left</c> saying where NaN goes, so a
/// reader needs no knowledge of LightGBM's zero-as-missing rules; an infinite threshold (LightGBM's split of NaN against
/// every number) is written as +-1e300, as LightGBM's own dump does; a non-zero base score becomes a last tree of one leaf.
/// <see cref="Read"/> takes LightGBM's own dumps as well (missing types None, NaN and Zero as LightGBM applies them).
/// </summary>
public static class LightGbmJsonDump
{
    /// <summary>What LightGBM's dump writes for an infinite threshold; read back as infinity.</summary>
    private const double InfinityStandIn = 1e300;

    /// <summary>
    /// The dump of <paramref name="ensemble"/> over <paramref name="featureCount"/> features as JSON text;
    /// <paramref name="featureNames"/> (default Column_0, Column_1, ... as LightGBM names them) and
    /// <paramref name="objective"/> are written for the reader's information.
    /// </summary>
    public static string Write(TreeEnsemble ensemble, int featureCount, IReadOnlyList<string>? featureNames = null, string objective = "lambdarank")
    {
        var trees = TreeJson.TreesToWrite(ensemble, featureCount, featureNames);
        return TreeJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("name", "tree");
            w.WriteString("version", "v4");
            w.WriteNumber("num_class", 1);
            w.WriteNumber("num_tree_per_iteration", 1);
            w.WriteNumber("label_index", 0);
            w.WriteNumber("max_feature_idx", featureCount - 1);
            w.WriteString("objective", objective);
            w.WriteBoolean("average_output", false);
            w.WriteStartArray("feature_names");
            for (int f = 0; f < featureCount; f++) w.WriteStringValue(featureNames?[f] ?? $"Column_{f}");
            w.WriteEndArray();
            w.WriteStartArray("monotone_constraints");
            w.WriteEndArray();
            w.WriteStartArray("tree_info");
            for (int t = 0; t < trees.Count; t++)
            {
                var tree = trees[t];
                w.WriteStartObject();
                w.WriteNumber("tree_index", t);
                w.WriteNumber("num_leaves", tree.Leaves.Count);
                w.WriteNumber("num_cat", 0);
                w.WriteNumber("shrinkage", 1);
                w.WritePropertyName("tree_structure");
                WriteNode(w, tree, tree.Splits.Count == 0 ? ~0 : 0);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private static void WriteNode(Utf8JsonWriter w, DecisionTree tree, int node)
    {
        w.WriteStartObject();
        if (node < 0)
        {
            if (tree.Splits.Count > 0) w.WriteNumber("leaf_index", ~node);
            w.WriteNumber("leaf_value", tree.Leaves[~node]);
        }
        else
        {
            var split = tree.Splits[node];
            w.WriteNumber("split_index", node);
            w.WriteNumber("split_feature", split.Feature);
            // JSON has no infinity: LightGBM writes its infinite thresholds (a split of NaN against every number) as
            // +-1e300 in dumps (AvoidInf), and Read maps them back.
            w.WriteNumber("threshold", Math.Clamp(split.Threshold, -InfinityStandIn, InfinityStandIn));
            w.WriteString("decision_type", "<=");
            w.WriteBoolean("default_left", split.MissingGoesLeft);
            w.WriteString("missing_type", "NaN");
            w.WritePropertyName("left_child");
            WriteNode(w, tree, split.Left);
            w.WritePropertyName("right_child");
            WriteNode(w, tree, split.Right);
        }
        w.WriteEndObject();
    }

    /// <summary>
    /// Reads a LightGBM JSON dump (ours or LightGBM's) back into a <see cref="TreeEnsemble"/> and its feature count
    /// (max_feature_idx + 1). Categorical splits, linear trees, multi-class models and a zero-as-missing split whose
    /// default way differs from where 0 goes are a <see cref="NotSupportedException"/>; malformed JSON is an
    /// <see cref="InvalidDataException"/> naming <paramref name="source"/>.
    /// </summary>
    public static (TreeEnsemble Ensemble, int FeatureCount) Read(string json, string source = "LightGBM JSON dump")
    {
        ArgumentNullException.ThrowIfNull(json);
        return TreeJson.Parse(json, source, root =>
        {
            if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{source}: the dump is not a JSON object.");
            int featureCount = TreeJson.Int(root, "max_feature_idx", source) + 1;
            if (root.TryGetProperty("num_tree_per_iteration", out var perIteration) && perIteration.GetInt32() != 1)
                throw new NotSupportedException($"{source}: {perIteration.GetInt32()} trees per iteration (a multi-class model); a ranker has one.");
            var trees = new List<DecisionTree>();
            foreach (var info in TreeJson.Array(root, "tree_info", source).EnumerateArray())
            {
                int index = trees.Count;
                if (info.TryGetProperty("num_cat", out var cats) && cats.GetInt32() != 0)
                    throw new NotSupportedException($"{source}: tree {index} has categorical splits.");
                var splits = new List<TreeSplit>();
                var leaves = new SortedDictionary<int, double>();
                if (!info.TryGetProperty("tree_structure", out var structure)) throw new InvalidDataException($"{source}: tree {index} has no tree_structure.");
                if (structure.TryGetProperty("leaf_value", out var single) && !structure.TryGetProperty("leaf_index", out _))
                {
                    trees.Add(new DecisionTree([], [single.GetDouble()]));
                    continue;
                }
                ReadNode(structure, splits, leaves, index, source);
                if (leaves.Count != splits.Count + 1 || leaves.Keys.Last() != splits.Count)
                    throw new InvalidDataException($"{source}: tree {index} has {splits.Count} splits and leaves {string.Join(",", leaves.Keys)}; expected leaves 0..{splits.Count}.");
                trees.Add(new DecisionTree(splits, [.. leaves.Values]));
            }
            var ensemble = new TreeEnsemble(0.0, trees);
            ensemble.Validate(featureCount);
            return (Ensemble: ensemble, FeatureCount: featureCount);
        });
    }

    /// <summary>Adds the node (and its subtree) to the lists; returns its child code (split index, or ~leaf index).</summary>
    private static int ReadNode(JsonElement node, List<TreeSplit> splits, SortedDictionary<int, double> leaves, int tree, string source)
    {
        if (node.TryGetProperty("leaf_value", out var value))
        {
            int leaf = TreeJson.Int(node, "leaf_index", source);
            if (!leaves.TryAdd(leaf, value.GetDouble())) throw new InvalidDataException($"{source}: tree {tree} has leaf {leaf} twice.");
            return ~leaf;
        }
        if (node.TryGetProperty("linear", out _) || node.TryGetProperty("leaf_coeff", out _))
            throw new NotSupportedException($"{source}: tree {tree} is a linear tree.");
        int index = TreeJson.Int(node, "split_index", source);
        string decision = node.GetProperty("decision_type").GetString() ?? "";
        if (decision != "<=") throw new NotSupportedException($"{source}: tree {tree}, split {index}: decision type '{decision}' (categorical) is not a numerical split.");
        double threshold = node.GetProperty("threshold").GetDouble();
        if (Math.Abs(threshold) >= InfinityStandIn) threshold = threshold > 0 ? double.PositiveInfinity : double.NegativeInfinity;
        bool defaultLeft = node.GetProperty("default_left").GetBoolean();
        string missing = node.TryGetProperty("missing_type", out var m) ? m.GetString() ?? "None" : "None";
        bool zeroGoesLeft = 0.0 <= threshold;
        bool missingLeft = missing switch
        {
            "None" => zeroGoesLeft,                  // NaN is read as 0
            "NaN" => defaultLeft,
            "Zero" when defaultLeft == zeroGoesLeft => zeroGoesLeft,
            "Zero" => throw new NotSupportedException($"{source}: tree {tree}, split {index}: zero counts as missing and goes {(defaultLeft ? "left" : "right")} against its threshold {threshold:R}."),
            _ => throw new InvalidDataException($"{source}: tree {tree}, split {index}: unknown missing_type '{missing}'."),
        };
        while (splits.Count <= index) splits.Add(default);
        int left = ReadNode(node.GetProperty("left_child"), splits, leaves, tree, source);
        int right = ReadNode(node.GetProperty("right_child"), splits, leaves, tree, source);
        splits[index] = new TreeSplit(TreeJson.Int(node, "split_feature", source), threshold, left, right, missingLeft);
        return index;
    }
}

/// <summary>
/// XGBoost's JSON tree dump (<c>booster.get_dump(dump_format="json")</c>): a JSON array of trees, each node
/// <c>{"nodeid", "depth", "split", "split_condition", "yes", "no", "missing", "children"}</c> or <c>{"nodeid", "leaf"}</c>,
/// the model definition the Elasticsearch and OpenSearch Learning-to-Rank plugins read (<c>model/xgboost+json</c>).
/// XGBoost goes to "yes" when value &lt; split_condition (a float), so each double threshold t is written as the
/// smallest float above the largest float not above t: for every float value, value &lt;= t and value &lt; condition agree.
/// Leaf values are written as floats, as XGBoost holds them. Features are named f0, f1, ... (XGBoost's names for
/// unnamed features) unless names are given; a non-zero base score becomes a last tree of one leaf.
/// </summary>
public static class XgboostJsonDump
{
    /// <summary>The dump of <paramref name="ensemble"/> as JSON text; <paramref name="featureNames"/> name the splits' features (default f0, f1, ...).</summary>
    public static string Write(TreeEnsemble ensemble, int featureCount, IReadOnlyList<string>? featureNames = null)
    {
        var trees = TreeJson.TreesToWrite(ensemble, featureCount, featureNames);
        return TreeJson.Write(w =>
        {
            w.WriteStartArray();
            foreach (var tree in trees) WriteNode(w, tree, tree.Splits.Count == 0 ? ~0 : 0, 0, featureNames);
            w.WriteEndArray();
        });
    }

    /// <summary>The float condition c with value &lt; c exactly when value &lt;= <paramref name="threshold"/>, for every float value.</summary>
    public static float StrictCondition(double threshold)
    {
        float below = (float)threshold;
        if (below > threshold) below = MathF.BitDecrement(below);
        float condition = MathF.BitIncrement(below);
        // JSON has no infinity: a threshold at or past float's largest value sends every finite value left either way.
        return float.IsPositiveInfinity(condition) ? float.MaxValue : condition;
    }

    private static int NodeId(DecisionTree tree, int child) => child >= 0 ? child : tree.Splits.Count + ~child;

    private static void WriteNode(Utf8JsonWriter w, DecisionTree tree, int node, int depth, IReadOnlyList<string>? names)
    {
        w.WriteStartObject();
        w.WriteNumber("nodeid", NodeId(tree, node));
        if (node < 0)
        {
            w.WriteNumber("leaf", (float)tree.Leaves[~node]);
            w.WriteEndObject();
            return;
        }
        var split = tree.Splits[node];
        int yes = NodeId(tree, split.Left), no = NodeId(tree, split.Right);
        w.WriteNumber("depth", depth);
        w.WriteString("split", names?[split.Feature] ?? $"f{split.Feature}");
        w.WriteNumber("split_condition", StrictCondition(split.Threshold));
        w.WriteNumber("yes", yes);
        w.WriteNumber("no", no);
        w.WriteNumber("missing", split.MissingGoesLeft ? yes : no);
        w.WriteStartArray("children");
        WriteNode(w, tree, split.Left, depth + 1, names);
        WriteNode(w, tree, split.Right, depth + 1, names);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// Reads an XGBoost JSON dump back into a <see cref="TreeEnsemble"/> over <paramref name="featureCount"/> features:
    /// split features named f&lt;index&gt;, or by position in <paramref name="featureNames"/>. Each float condition c
    /// becomes the threshold "at most the float below c". Malformed input is an <see cref="InvalidDataException"/>.
    /// </summary>
    public static TreeEnsemble Read(string json, int featureCount, IReadOnlyList<string>? featureNames = null, string source = "XGBoost JSON dump")
    {
        ArgumentNullException.ThrowIfNull(json);
        var byName = featureNames?.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        return TreeJson.Parse(json, source, root =>
        {
            if (root.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{source}: the dump is not a JSON array of trees.");
            var trees = new List<DecisionTree>();
            foreach (var rootNode in root.EnumerateArray())
            {
                int index = trees.Count;
                var nodes = new Dictionary<int, JsonElement>();
                Collect(rootNode, nodes, index, source);
                // Splits keep their node order; leaves follow in node order too.
                var splitIds = nodes.Where(n => !n.Value.TryGetProperty("leaf", out _)).Select(n => n.Key).Order().ToArray();
                var leafIds = nodes.Where(n => n.Value.TryGetProperty("leaf", out _)).Select(n => n.Key).Order().ToArray();
                int rootId = TreeJson.Int(rootNode, "nodeid", source);
                if (splitIds.Length > 0 && splitIds[0] != rootId)
                    splitIds = [rootId, .. splitIds.Where(id => id != rootId)];
                var splitIndex = splitIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
                var leafIndex = leafIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
                int Child(int id) => splitIndex.TryGetValue(id, out int s) ? s
                    : leafIndex.TryGetValue(id, out int l) ? ~l
                    : throw new InvalidDataException($"{source}: tree {index} points at node {id}, which it does not hold.");
                var splits = new TreeSplit[splitIds.Length];
                foreach (int id in splitIds)
                {
                    var node = nodes[id];
                    string name = node.GetProperty("split").GetString() ?? "";
                    int feature = byName is not null && byName.TryGetValue(name, out int f) ? f
                        : Regex.Match(name, "^f([0-9]+)$") is { Success: true } match ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
                        : throw new InvalidDataException($"{source}: tree {index}, node {id}: unknown feature '{name}'.");
                    float condition = node.GetProperty("split_condition").GetSingle();
                    int yes = TreeJson.Int(node, "yes", source), no = TreeJson.Int(node, "no", source);
                    int missing = node.TryGetProperty("missing", out var m) ? m.GetInt32() : yes;
                    if (missing != yes && missing != no) throw new InvalidDataException($"{source}: tree {index}, node {id}: missing goes to {missing}, neither yes ({yes}) nor no ({no}).");
                    splits[splitIndex[id]] = new TreeSplit(feature, MathF.BitDecrement(condition), Child(yes), Child(no), missing == yes);
                }
                trees.Add(new DecisionTree(splits, leafIds.Select(id => nodes[id].GetProperty("leaf").GetDouble()).ToArray()));
            }
            var ensemble = new TreeEnsemble(0.0, trees);
            ensemble.Validate(featureCount);
            return ensemble;
        });
    }

    private static void Collect(JsonElement node, Dictionary<int, JsonElement> nodes, int tree, string source)
    {
        int id = TreeJson.Int(node, "nodeid", source);
        if (!nodes.TryAdd(id, node)) throw new InvalidDataException($"{source}: tree {tree} has node {id} twice.");
        if (node.TryGetProperty("children", out var children))
            foreach (var child in children.EnumerateArray()) Collect(child, nodes, tree, source);
    }
}

/// <summary>JSON plumbing the tree formats share.</summary>
internal static class TreeJson
{
    /// <summary>
    /// The ensemble's trees as both formats write them, checked against the feature count and names. Neither format has
    /// a base score, so a non-zero one becomes a last tree of one leaf (the sum is the same).
    /// </summary>
    public static List<DecisionTree> TreesToWrite(TreeEnsemble ensemble, int featureCount, IReadOnlyList<string>? featureNames)
    {
        ArgumentNullException.ThrowIfNull(ensemble);
        ensemble.Validate(featureCount);
        if (featureNames is not null && featureNames.Count != featureCount)
            throw new ArgumentException($"{featureNames.Count} feature names for {featureCount} features.", nameof(featureNames));
        var trees = ensemble.Trees.ToList();
        if (ensemble.BaseScore != 0) trees.Add(new DecisionTree([], [ensemble.BaseScore]));
        return trees;
    }

    public static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        // Relaxed escaping: "<=" stays readable rather than \u003C=.
        var options = new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var writer = new Utf8JsonWriter(buffer, options)) write(writer);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static T Parse<T>(string json, string source, Func<JsonElement, T> read)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4096 });
            return read(document.RootElement);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{source}: not valid JSON: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{source}: {ex.Message}", ex);
        }
    }

    public static int Int(JsonElement node, string name, string source) =>
        node.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int result) ? result
            : throw new InvalidDataException($"{source}: a node has no integer '{name}'.");

    public static JsonElement Array(JsonElement node, string name, string source) =>
        node.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array ? value
            : throw new InvalidDataException($"{source}: no '{name}' array.");
}
