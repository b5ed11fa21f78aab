using Ranking.Data;
using Ranking.Onnx;

namespace Ranking.LightGbm.Tests;

/// <summary>
/// The JSON tree formats serving engines read, against LightGBM itself: LightGBM's own JSON dump
/// (<c>LGBM_BoosterDumpModel</c>) read by <see cref="LightGbmJsonDump.Read"/> gives the trees of the model text and the
/// native booster's scores; our <see cref="LightGbmJsonDump"/> and <see cref="XgboostJsonDump"/> read back into the
/// same trees and the same scores, including NaN routing and feature values on every threshold's float boundary.
/// </summary>
public class TreeJsonFormatTests
{
    private sealed record Trained(double[] Native, TreeEnsemble Trees, RankingDataset Probe, string NativeDump, int FeatureCount);

    /// <summary>30 trees of up to 15 leaves on data with NaN in feature 1 (NaN missing type) and zeros in feature 2.</summary>
    private static Trained Train(int seed)
    {
        var data = TinyData.WithMissing(TinyData.Make(60, 12, 6, seed), seed);
        string parameters = new LightGbmParameters { Objective = "lambdarank", NumLeaves = 15, MinDataInLeaf = 5, Threads = 1, Seed = 3 }.Render();
        using var dataset = LightGbmDataset.Create(data, parameters);
        using var booster = LightGbmBooster.Create(dataset, parameters);
        for (int i = 0; i < 30; i++) booster.UpdateOneIter();
        var trees = LightGbmOnnx.ToTreeEnsemble(LightGbmEnsemble.Parse(booster.SaveModelToString()));
        var probe = Probe(data, trees, seed);
        var native = new double[probe.RowCount];
        booster.PredictForMat(probe.Features, probe.RowCount, probe.FeatureCount, native);
        return new Trained(native, trees, probe, booster.DumpModel(), data.FeatureCount);
    }

    [Fact]
    public void LightGbmsOwnDumpReadsIntoTheTreesOfItsModelTextAndScoresAsTheBooster()
    {
        var t = Train(seed: 5);
        var (read, features) = LightGbmJsonDump.Read(t.NativeDump, "native dump");
        Assert.Equal(t.FeatureCount, features);
        AssertSameTrees(t.Trees, read);
        AssertScores(t.Native, read, t.Probe, tolerance: 0);
    }

    [Fact]
    public void OurLightGbmDumpReadsBackIntoTheSameTreesAndScores()
    {
        var t = Train(seed: 6);
        string json = LightGbmJsonDump.Write(t.Trees, t.FeatureCount);
        Assert.Contains("\"decision_type\":\"<=\"", json);
        var (read, features) = LightGbmJsonDump.Read(json);
        Assert.Equal(t.FeatureCount, features);
        AssertSameTrees(t.Trees, read);
        AssertScores(t.Native, read, t.Probe, tolerance: 0);
    }

    [Fact]
    public void XgboostDumpReadsBackIntoTheSamePathsAndScores()
    {
        var t = Train(seed: 7);
        string json = XgboostJsonDump.Write(t.Trees, t.FeatureCount);
        Assert.StartsWith("[{\"nodeid\":0,", json);
        var read = XgboostJsonDump.Read(json, t.FeatureCount);
        Assert.Equal(t.Trees.Trees.Count, read.Trees.Count);
        // Every probe row (NaN, and values on each threshold's float boundary) takes the same leaf in every tree.
        for (int r = 0; r < t.Probe.RowCount; r++)
        {
            var row = t.Probe.Features.AsSpan(r * t.FeatureCount, t.FeatureCount);
            for (int k = 0; k < read.Trees.Count; k++)
                Assert.True(Leaf(t.Trees.Trees[k], row) == Leaf(read.Trees[k], row), $"row {r}, tree {k}: the XGBoost dump takes another leaf");
        }
        // Leaves are floats in XGBoost: the sums agree to float rounding.
        AssertScores(t.Native, read, t.Probe, tolerance: 1e-6);
    }

    [Fact]
    public void ABaseScoreBecomesATreeOfOneLeafInBothFormats()
    {
        var trees = new TreeEnsemble(0.75, [new DecisionTree([new TreeSplit(1, 0.5, ~0, ~1, MissingGoesLeft: false)], [-1.0, 2.0])]);
        var rows = new RankingDataset([0f, 0.5f, 0f, 0.50000006f, 0f, float.NaN], 2, new float[3], [0, 3]);
        double[] expected = [0.75 - 1.0, 0.75 + 2.0, 0.75 + 2.0];
        AssertScores(expected, LightGbmJsonDump.Read(LightGbmJsonDump.Write(trees, 2)).Ensemble, rows, tolerance: 0);
        var xgboost = XgboostJsonDump.Read(XgboostJsonDump.Write(trees, 2, ["a", "b"]), 2, ["a", "b"]);
        Assert.Equal(2, xgboost.Trees.Count);
        AssertScores(expected, xgboost, rows, tolerance: 0);
    }

    [Fact]
    public void StrictConditionsAgreeWithAtMostForEveryFloatAroundTheThreshold()
    {
        foreach (double threshold in new[] { 0.5, 0.1, -0.1, 1e-30, -3.0000001, 0.0, 123456.789, 1e38 })
        {
            float c = XgboostJsonDump.StrictCondition(threshold);
            float start = (float)threshold;
            float x = start;
            for (int i = 0; i < 4; i++) x = MathF.BitDecrement(x);
            for (int i = 0; i < 9; i++, x = MathF.BitIncrement(x))
                Assert.True((x <= threshold) == (x < c), $"threshold {threshold:R}, value {x:R}, condition {c:R}");
        }
    }

    [Fact]
    public void UnsupportedAndMalformedDumpsAreClearErrors()
    {
        const string categorical = """{"max_feature_idx":1,"tree_info":[{"num_leaves":2,"num_cat":1,"tree_structure":{"split_index":0,"split_feature":0,"threshold":"1||2","decision_type":"==","default_left":true,"missing_type":"None","left_child":{"leaf_index":0,"leaf_value":1},"right_child":{"leaf_index":1,"leaf_value":2}}}]}""";
        Assert.Contains("categorical", Assert.Throws<NotSupportedException>(() => LightGbmJsonDump.Read(categorical)).Message);
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => LightGbmJsonDump.Read("{\"tree_info\": [")).Message);
        var noFeature = Assert.Throws<InvalidDataException>(() => XgboostJsonDump.Read("""[{"nodeid":0,"split":"height","split_condition":1,"yes":1,"no":2,"missing":1,"children":[{"nodeid":1,"leaf":1},{"nodeid":2,"leaf":2}]}]""", 3));
        Assert.Contains("unknown feature 'height'", noFeature.Message);
        var outside = Assert.Throws<InvalidDataException>(() => XgboostJsonDump.Read("""[{"nodeid":0,"split":"f7","split_condition":1,"yes":1,"no":2,"missing":1,"children":[{"nodeid":1,"leaf":1},{"nodeid":2,"leaf":2}]}]""", 3));
        Assert.Contains("feature 7 of 3", outside.Message);
    }

    private static void AssertSameTrees(TreeEnsemble expected, TreeEnsemble actual)
    {
        Assert.Equal(expected.BaseScore, actual.BaseScore);
        Assert.Equal(expected.Trees.Count, actual.Trees.Count);
        for (int k = 0; k < expected.Trees.Count; k++)
        {
            Assert.Equal(expected.Trees[k].Splits, actual.Trees[k].Splits);
            Assert.Equal(expected.Trees[k].Leaves, actual.Trees[k].Leaves);
        }
    }

    private static void AssertScores(double[] expected, TreeEnsemble trees, RankingDataset rows, double tolerance)
    {
        for (int r = 0; r < rows.RowCount; r++)
        {
            double score = trees.Score(rows.Features.AsSpan(r * rows.FeatureCount, rows.FeatureCount));
            double error = Math.Abs(score - expected[r]) / Math.Max(1, Math.Abs(expected[r]));
            Assert.True(error <= tolerance, $"row {r}: expected {expected[r]:R}, read back {score:R} (relative error {error:E2})");
        }
    }

    /// <summary>The leaf a row reaches in one tree.</summary>
    private static int Leaf(DecisionTree tree, ReadOnlySpan<float> row)
    {
        var one = new TreeEnsemble(0, [new DecisionTree(tree.Splits, Enumerable.Range(0, tree.Leaves.Count).Select(i => (double)i).ToArray())]);
        return (int)one.Score(row);
    }

    /// <summary>The train rows, plus rows holding NaN and each split threshold's float neighbours in its feature.</summary>
    private static RankingDataset Probe(RankingDataset data, TreeEnsemble trees, int seed)
    {
        var rng = new Random(seed);
        var rows = new List<float[]>();
        for (int r = 0; r < data.RowCount; r++) rows.Add(data.Features.AsSpan(r * data.FeatureCount, data.FeatureCount).ToArray());
        foreach (var split in trees.Trees.SelectMany(t => t.Splits))
        {
            float below = (float)split.Threshold;
            if (below > split.Threshold) below = MathF.BitDecrement(below);
            foreach (float value in new[] { below, MathF.BitDecrement(below), MathF.BitIncrement(below), float.NaN })
            {
                // LightGBM reads magnitudes up to 1e-35 as 0 (a documented difference of the exported forms): not probed.
                if (value != 0 && Math.Abs(value) <= 1e-35f) continue;
                var row = rows[rng.Next(data.RowCount)].ToArray();
                row[split.Feature] = value;
                rows.Add(row);
            }
        }
        return new RankingDataset(rows.SelectMany(r => r).ToArray(), data.FeatureCount, new float[rows.Count], [0, rows.Count]);
    }

}
