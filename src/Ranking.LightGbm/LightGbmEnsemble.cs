using System.Globalization;
using Ranking.Models;

namespace Ranking.LightGbm;

/// <summary>
/// A LightGBM model read from its text format (what <c>LGBM_BoosterSaveModelToString</c> writes) by managed code,
/// checked as it is read, and scored by managed code: LightGBM's native library is not needed to predict, and its
/// parser never sees a model file. Why: the native parser trusts the text (a negative feature index or a huge
/// <c>num_leaves</c> aborts the process), and the parsed trees are what an exporter (e.g. ONNX) needs.
/// <para>
/// <see cref="Parse"/> refuses, with an <see cref="InvalidDataException"/> naming the line, anything it cannot
/// score exactly as LightGBM would: more than one tree per iteration (multiclass), unknown decision-type bits,
/// array lengths that differ from the counts the tree declares, feature indices at or past
/// <c>max_feature_idx + 1</c>, child references that do not form one tree, non-finite numbers, and
/// <c>tree_sizes</c> that do not match the trees' byte lengths. Memory is allocated by what the text holds,
/// never by a count it declares.
/// </para>
/// <para>
/// <see cref="PredictRaw(ReadOnlySpan{float})"/> reproduces LightGBM's raw score (<c>C_API_PREDICT_RAW_SCORE</c>
/// on float32 rows): each value widened to double, magnitudes up to 1e-35 read as 0, each tree's output summed in
/// double in tree order; numerical and categorical splits, missing-value rules and linear trees as in LightGBM's
/// <c>Tree::Predict</c>. Tests hold it equal to the native booster on real and synthetic data. Immutable and safe to
/// share between threads.
/// </para>
/// </summary>
public sealed class LightGbmEnsemble
{
    /// <summary>LightGBM's largest <c>num_leaves</c>; a tree declaring more is refused.</summary>
    public const int MaxLeaves = 131072;

    private readonly LightGbmTree[] _trees;

    private LightGbmEnsemble(int featureCount, string objective, string[] featureNames, LightGbmTree[] trees)
    {
        FeatureCount = featureCount;
        Objective = objective;
        FeatureNames = Array.AsReadOnly(featureNames);
        _trees = trees;
    }

    /// <summary>Features a row must hold: LightGBM's <c>max_feature_idx</c> + 1.</summary>
    public int FeatureCount { get; }
    /// <summary>The objective line of the model ("lambdarank", "custom", ...); empty when absent.</summary>
    public string Objective { get; }
    /// <summary>LightGBM's feature names (one per feature).</summary>
    public IReadOnlyList<string> FeatureNames { get; }
    /// <summary>The trees in boosting order (one per iteration).</summary>
    public IReadOnlyList<LightGbmTree> Trees => Array.AsReadOnly(_trees);

    /// <summary>The raw score of one row: the sum of every tree's output, in double.</summary>
    public double PredictRaw(ReadOnlySpan<float> row)
    {
        if (row.Length < FeatureCount) throw new ArgumentException($"the model reads {FeatureCount} features; the row holds {row.Length}.", nameof(row));
        double sum = 0;
        foreach (var tree in _trees) sum += tree.Output(row);
        return sum;
    }

    /// <summary>Rows per parallel block; below two blocks scoring stays on the calling thread.</summary>
    private const int BlockRows = 256;

    /// <summary>
    /// Raw scores (rounded to float) of <paramref name="rowCount"/> row-major rows of <see cref="FeatureCount"/>
    /// values. Blocks of rows run in parallel (<paramref name="threads"/>: -1 or 0 = all cores); each row's sum is
    /// independent of the others, so the scores do not depend on the thread count.
    /// </summary>
    public void PredictRaw(ReadOnlySpan<float> features, int rowCount, Span<float> scores, int threads = -1)
    {
        if (rowCount < 0 || (long)rowCount * FeatureCount != features.Length)
            throw new ArgumentException($"the model expects {FeatureCount} features per row; got {features.Length} values for {rowCount} rows.", nameof(features));
        if (scores.Length < rowCount) throw new ArgumentException("one score per row is required.", nameof(scores));
        int blocks = (rowCount + BlockRows - 1) / BlockRows;
        if (blocks < 2 || threads == 1)
        {
            ScoreRows(features, 0, rowCount, scores);
            return;
        }
        unsafe
        {
            fixed (float* x = features)
            fixed (float* s = scores)
            {
                nint xs = (nint)x, ss = (nint)s;
                int length = features.Length;
                var options = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : -1 };
                Parallel.For(0, blocks, options, block =>
                {
                    int start = block * BlockRows, end = Math.Min(rowCount, start + BlockRows);
                    ScoreRows(new ReadOnlySpan<float>((float*)xs, length), start, end, new Span<float>((float*)ss, rowCount));
                });
            }
        }
    }

    private void ScoreRows(ReadOnlySpan<float> features, int start, int end, Span<float> scores)
    {
        for (int r = start; r < end; r++)
        {
            var row = features.Slice(r * FeatureCount, FeatureCount);
            double sum = 0;
            foreach (var tree in _trees) sum += tree.Output(row);
            scores[r] = (float)sum;
        }
    }

    /// <summary>
    /// Reads and checks LightGBM model text. <paramref name="source"/> names the text in error messages
    /// (e.g. the model file's entry). Throws <see cref="InvalidDataException"/> "SOURCE line N: what is wrong".
    /// </summary>
    public static LightGbmEnsemble Parse(string modelText, string source = "LightGBM model text")
    {
        ArgumentNullException.ThrowIfNull(modelText);
        return new ModelTextReader(modelText, source).Read();
    }

    /// <summary>A line scanner over the text that keeps line numbers and byte offsets for messages and tree_sizes.</summary>
    private sealed class ModelTextReader(string text, string source)
    {
        private int _position, _lineNumber;
        private int _lineStart;

        private InvalidDataException Bad(string what) => new($"{source} line {_lineNumber.ToString(CultureInfo.InvariantCulture)}: {what}");

        /// <summary>The next line without its line break, or null at the end.</summary>
        private string? NextLine()
        {
            if (_position >= text.Length) return null;
            _lineStart = _position;
            _lineNumber++;
            int end = text.IndexOf('\n', _position);
            if (end < 0) end = text.Length;
            _position = Math.Min(text.Length, end + 1);
            int stop = end > _lineStart && text[end - 1] == '\r' ? end - 1 : end;
            return text[_lineStart..stop];
        }

        public LightGbmEnsemble Read()
        {
            string? first = NextLine();
            if (first != "tree") throw Bad($"not LightGBM model text (first line '{Shorten(first ?? "")}', expected 'tree').");
            var header = new Dictionary<string, string>(StringComparer.Ordinal);
            string? line;
            while ((line = NextLine()) is not null && !line.StartsWith("Tree=", StringComparison.Ordinal))
            {
                if (line.Length == 0) continue;
                if (line == "end of trees") break;
                int eq = line.IndexOf('=');
                string key = eq < 0 ? line : line[..eq];
                if (!header.TryAdd(key, eq < 0 ? "" : line[(eq + 1)..])) throw Bad($"'{Shorten(key)}' appears twice in the header.");
            }

            int numClass = HeaderInt(header, "num_class");
            int perIteration = header.ContainsKey("num_tree_per_iteration") ? HeaderInt(header, "num_tree_per_iteration") : numClass;
            if (numClass != 1 || perIteration != 1)
                throw Bad($"num_class={numClass}, num_tree_per_iteration={perIteration}: only models with one tree per iteration (ranking, regression, binary) are supported.");
            int maxFeature = HeaderInt(header, "max_feature_idx");
            if (maxFeature < 0 || maxFeature >= int.MaxValue / 2) throw Bad($"max_feature_idx={maxFeature} is out of range.");
            int featureCount = maxFeature + 1;
            if (!header.TryGetValue("feature_names", out var namesText)) throw Bad("the header has no feature_names.");
            string[] names = namesText.Split(' ');
            if (names.Length != featureCount) throw Bad($"feature_names holds {names.Length} names, max_feature_idx={maxFeature} says {featureCount}.");
            if (!header.TryGetValue("feature_infos", out var infos)) throw Bad("the header has no feature_infos.");
            if (infos.Split(' ').Length != featureCount) throw Bad($"feature_infos does not hold {featureCount} entries.");
            long[]? treeSizes = null;
            if (header.TryGetValue("tree_sizes", out var sizesText))
            {
                var parts = sizesText.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                treeSizes = new long[parts.Length];
                for (int i = 0; i < parts.Length; i++)
                    if (!long.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out treeSizes[i]) || treeSizes[i] <= 0)
                        throw Bad($"tree_sizes value '{Shorten(parts[i])}' is not a positive integer.");
            }

            var trees = new List<LightGbmTree>();
            var treeStarts = new List<int>();
            while (line is not null && line != "end of trees")
            {
                if (line.Length == 0) { line = NextLine(); continue; }
                string expected = "Tree=" + trees.Count.ToString(CultureInfo.InvariantCulture);
                if (line != expected) throw Bad($"expected '{expected}', found '{Shorten(line)}'.");
                treeStarts.Add(_lineStart);
                trees.Add(ReadTree(trees.Count, featureCount));
                line = NextLine();
            }
            if (line is null) throw Bad("the text ends before 'end of trees' (truncated).");
            if (trees.Count == 0) throw Bad("the model holds no tree.");
            if (treeSizes is not null)
            {
                if (treeSizes.Length != trees.Count) throw Bad($"tree_sizes lists {treeSizes.Length} trees, the text holds {trees.Count}.");
                treeStarts.Add(_lineStart);
                for (int i = 0; i < trees.Count; i++)
                    if (treeStarts[i + 1] - treeStarts[i] != treeSizes[i])
                        throw Bad($"tree_sizes says Tree={i} is {treeSizes[i]} bytes; it is {treeStarts[i + 1] - treeStarts[i]}.");
            }
            return new LightGbmEnsemble(featureCount, header.GetValueOrDefault("objective", ""), names, [.. trees]);
        }

        private int HeaderInt(Dictionary<string, string> header, string key)
        {
            if (!header.TryGetValue(key, out var value)) throw Bad($"the header has no {key}.");
            if (!int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n))
                throw Bad($"{key}='{Shorten(value)}' is not an integer.");
            return n;
        }

        private LightGbmTree ReadTree(int index, int featureCount)
        {
            var fields = new Dictionary<string, (string Value, int Line)>(StringComparer.Ordinal);
            string? line;
            while ((line = NextLine()) is not null && line.Length > 0)
            {
                int eq = line.IndexOf('=');
                if (eq <= 0) throw Bad($"Tree={index}: '{Shorten(line)}' is not a key=value line.");
                if (!fields.TryAdd(line[..eq], (line[(eq + 1)..], _lineNumber))) throw Bad($"Tree={index}: '{Shorten(line[..eq])}' appears twice.");
            }
            var tree = new TreeFields(this, index, fields);
            int leaves = tree.Int("num_leaves");
            if (leaves < 1 || leaves > MaxLeaves) throw tree.Bad("num_leaves", $"num_leaves={leaves} is outside 1..{MaxLeaves}.");
            int categoricalSets = tree.Int("num_cat");
            if (categoricalSets < 0 || categoricalSets > leaves - 1) throw tree.Bad("num_cat", $"num_cat={categoricalSets} is outside 0..{leaves - 1}.");
            double[] leafValues = tree.Doubles("leaf_value", leaves);
            double shrinkage = fields.ContainsKey("shrinkage") ? tree.Doubles("shrinkage", 1)[0] : 1.0;
            bool linear = fields.ContainsKey("is_linear") && tree.Int("is_linear") switch
            {
                0 => false,
                1 => true,
                int v => throw tree.Bad("is_linear", $"is_linear={v} is neither 0 nor 1."),
            };

            int internals = leaves - 1;
            int[] features = [], lefts = [], rights = [], boundaries = [0];
            double[] thresholds = [];
            byte[] decisions = [];
            uint[] bitset = [];
            if (internals > 0)
            {
                features = tree.Ints("split_feature", internals);
                for (int n = 0; n < internals; n++)
                    if ((uint)features[n] >= (uint)featureCount)
                        throw tree.Bad("split_feature", $"node {n} splits on feature {features[n]}; the model has {featureCount} (0..{featureCount - 1}).");
                thresholds = tree.Doubles("threshold", internals, allowInfinite: true);
                int[] types = fields.ContainsKey("decision_type") ? tree.Ints("decision_type", internals) : new int[internals];
                decisions = new byte[internals];
                for (int n = 0; n < internals; n++)
                {
                    int t = types[n];
                    if (t < 0 || t > 15 || ((t >> 2) & 3) == 3)
                        throw tree.Bad("decision_type", $"node {n} has decision type {t} (known bits: 1 categorical, 2 default left, 4/8 missing type 1 or 2).");
                    decisions[n] = (byte)t;
                }
                lefts = tree.Ints("left_child", internals);
                rights = tree.Ints("right_child", internals);
                if (TreeStructure.Problem(lefts, rights, leaves) is { } problem) throw tree.Bad("left_child", problem);
                if (categoricalSets > 0)
                {
                    boundaries = tree.Ints("cat_boundaries", categoricalSets + 1);
                    if (boundaries[0] != 0) throw tree.Bad("cat_boundaries", "cat_boundaries does not start at 0.");
                    for (int i = 1; i < boundaries.Length; i++)
                        if (boundaries[i] < boundaries[i - 1]) throw tree.Bad("cat_boundaries", "cat_boundaries decreases.");
                    bitset = tree.UInts("cat_threshold", boundaries[^1]);
                }
                for (int n = 0; n < internals; n++)
                {
                    if ((decisions[n] & LightGbmTree.CategoricalMask) == 0) continue;
                    double set = thresholds[n];
                    if (categoricalSets == 0 || set != Math.Floor(set) || set < 0 || set >= categoricalSets)
                        throw tree.Bad("threshold", $"categorical node {n} names category set {set.ToString(CultureInfo.InvariantCulture)}; the tree has {categoricalSets}.");
                }
            }

            double[]? constants = null;
            int[][]? linearFeatures = null;
            double[][]? coefficients = null;
            if (linear)
            {
                constants = tree.Doubles("leaf_const", leaves);
                int[] counts = tree.Ints("num_features", leaves);
                long total = 0;
                foreach (int c in counts)
                {
                    if (c < 0 || c > featureCount) throw tree.Bad("num_features", $"a leaf model with {c} features; the model has {featureCount}.");
                    total += c;
                }
                if (total > int.MaxValue / 8) throw tree.Bad("num_features", "the leaf models are too large.");
                int[] allFeatures = total == 0 ? [] : tree.Ints("leaf_features", (int)total);
                double[] allCoefficients = total == 0 ? [] : tree.Doubles("leaf_coeff", (int)total);
                linearFeatures = new int[leaves][];
                coefficients = new double[leaves][];
                for (int leaf = 0, at = 0; leaf < leaves; at += counts[leaf], leaf++)
                {
                    linearFeatures[leaf] = allFeatures[at..(at + counts[leaf])];
                    coefficients[leaf] = allCoefficients[at..(at + counts[leaf])];
                    foreach (int f in linearFeatures[leaf])
                        if ((uint)f >= (uint)featureCount) throw tree.Bad("leaf_features", $"leaf {leaf}'s model reads feature {f}; the model has {featureCount}.");
                }
            }
            return new LightGbmTree(leaves, features, thresholds, decisions, lefts, rights, leafValues, boundaries, bitset, shrinkage,
                constants, linearFeatures, coefficients);
        }

        /// <summary>The key=value lines of one tree, read into arrays whose length is checked against the declared count.</summary>
        private sealed class TreeFields(ModelTextReader reader, int index, Dictionary<string, (string Value, int Line)> fields)
        {
            public InvalidDataException Bad(string key, string what)
            {
                int line = fields.TryGetValue(key, out var f) ? f.Line : reader._lineNumber;
                return new InvalidDataException($"{reader.Source} line {line.ToString(CultureInfo.InvariantCulture)}: Tree={index}: {what}");
            }

            private string[] Tokens(string key, int expected)
            {
                if (!fields.TryGetValue(key, out var f)) throw Bad(key, $"Tree={index} has no {key}.");
                var tokens = f.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (tokens.Length != expected) throw Bad(key, $"{key} holds {tokens.Length} values; the tree's counts call for {expected}.");
                return tokens;
            }

            public int Int(string key) => Ints(key, 1)[0];

            public int[] Ints(string key, int expected)
            {
                var tokens = Tokens(key, expected);
                var values = new int[tokens.Length];
                for (int i = 0; i < tokens.Length; i++)
                    if (!int.TryParse(tokens[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out values[i]))
                        throw Bad(key, $"{key} value {i} '{Shorten(tokens[i])}' is not an integer.");
                return values;
            }

            public uint[] UInts(string key, int expected)
            {
                var tokens = Tokens(key, expected);
                var values = new uint[tokens.Length];
                for (int i = 0; i < tokens.Length; i++)
                    if (!uint.TryParse(tokens[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
                        throw Bad(key, $"{key} value {i} '{Shorten(tokens[i])}' is not an unsigned 32-bit integer.");
                return values;
            }

            /// <summary>
            /// Numbers of a line; <paramref name="allowInfinite"/> also takes LightGBM's "inf" / "-inf" (a split on a
            /// feature with NaN in training may put every number on one side: threshold inf). NaN is always refused.
            /// </summary>
            public double[] Doubles(string key, int expected, bool allowInfinite = false)
            {
                var tokens = Tokens(key, expected);
                var values = new double[tokens.Length];
                for (int i = 0; i < tokens.Length; i++)
                {
                    bool parsed = double.TryParse(tokens[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]);
                    if (!parsed && allowInfinite && tokens[i] is "inf" or "+inf" or "-inf")
                    {
                        values[i] = tokens[i][0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
                        parsed = true;
                    }
                    if (!parsed || double.IsNaN(values[i]) || (!allowInfinite && !double.IsFinite(values[i])))
                        throw Bad(key, $"{key} value {i} '{Shorten(tokens[i])}' is not a {(allowInfinite ? "number" : "finite number")}.");
                }
                return values;
            }
        }

        private string Source => source;

        private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "...";
    }
}
