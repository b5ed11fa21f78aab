using Ranking.Data;

namespace Ranking.LightGbm.Tests;

/// <summary>
/// The managed reader and scorer of LightGBM model text (<see cref="LightGbmEnsemble"/>) against LightGBM's native
/// booster: the same raw scores, bit for bit, on real data (MQ2008, LightGBM's own lambdarank example) and on
/// synthetic data built to reach every branch of LightGBM's decision rules (missing values as NaN and as zero,
/// categorical splits, linear trees, values around LightGBM's 1e-35 zero threshold).
/// </summary>
public class ManagedScorerTests
{
    private static LightGbmParameters Params(string objective = "lambdarank", int leaves = 15) =>
        new() { Objective = objective, NumLeaves = leaves, MinDataInLeaf = 5, Threads = 1, Seed = 3 };

    /// <summary>Trains natively, then scores <paramref name="probe"/> with the booster and with our reader of its text.</summary>
    private static LightGbmEnsemble TrainAndCompare(RankingDataset train, LightGbmParameters p, int rounds, params RankingDataset[] probes)
    {
        string parameters = p.Render();
        using var dataset = LightGbmDataset.Create(train, parameters);
        using var booster = LightGbmBooster.Create(dataset, parameters);
        for (int i = 0; i < rounds; i++) booster.UpdateOneIter();
        var ensemble = LightGbmEnsemble.Parse(booster.SaveModelToString());
        Assert.Equal(booster.CurrentIteration, ensemble.Trees.Count);
        Assert.Equal(train.FeatureCount, ensemble.FeatureCount);
        foreach (var probe in probes.Append(train))
        {
            var native = new double[probe.RowCount];
            booster.PredictForMat(probe.Features, probe.RowCount, probe.FeatureCount, native);
            var managed = new float[probe.RowCount];
            ensemble.PredictRaw(probe.Features, probe.RowCount, managed);
            for (int r = 0; r < probe.RowCount; r++)
            {
                double one = ensemble.PredictRaw(probe.Features.AsSpan(r * probe.FeatureCount, probe.FeatureCount));
                if (one != native[r] || managed[r] != (float)native[r])
                    Assert.Fail($"row {r}: native {native[r]:R}, managed {one:R} / {managed[r]:R}; row = {string.Join(' ', probe.Features.AsSpan(r * probe.FeatureCount, probe.FeatureCount).ToArray())}");
            }
        }
        return ensemble;
    }

    /// <summary>Rows whose values sit on LightGBM's edge cases: NaN, ±0, ±1e-36 (below the zero threshold), ±1e-34, huge, negative.</summary>
    private static RankingDataset EdgeProbe(int features, int seed)
    {
        float[] edges = [float.NaN, 0f, -0f, 1e-36f, -1e-36f, 1e-35f, 1e-34f, -1e-34f, -5f, 3.5f, 1e30f, -1e30f, float.MaxValue, 0.5f, 7f, 12f, 2.9999f];
        var rng = new Random(seed);
        int rows = 400;
        var x = new float[rows * features];
        for (int i = 0; i < x.Length; i++) x[i] = rng.Next(3) == 0 ? edges[rng.Next(edges.Length)] : (float)rng.NextDouble() * 10 - 1;
        return new RankingDataset(x, features, new float[rows], [0, rows]);
    }

    [Fact]
    public void Plain_trees_score_as_the_native_booster()
    {
        var data = TinyData.Make(60, 12, 6, seed: 11);
        TrainAndCompare(data, Params(), 30, EdgeProbe(6, 1));
        TrainAndCompare(data, Params("regression", 31), 20, EdgeProbe(6, 2));
    }

    [Fact]
    public void Missing_values_as_NaN_and_as_zero_score_as_the_native_booster()
    {
        var data = TinyData.WithMissing(TinyData.Make(60, 12, 6, seed: 12), 5);
        var nan = TrainAndCompare(data, Params(), 30, EdgeProbe(6, 3));
        Assert.Contains(nan.Trees, t => Enumerable.Range(0, t.InternalCount).Any(n => t.Missing(n) == LightGbmMissingType.NaN));
        var p = Params();
        p.Extra["zero_as_missing"] = "true";
        var zero = TrainAndCompare(data, p, 30, EdgeProbe(6, 4));
        Assert.Contains(zero.Trees, t => Enumerable.Range(0, t.InternalCount).Any(n => t.Missing(n) == LightGbmMissingType.Zero));
    }

    [Fact]
    public void Categorical_splits_score_as_the_native_booster()
    {
        var data = TinyData.Make(80, 12, 5, seed: 13);
        var x = (float[])data.Features.Clone();
        var labels = (float[])data.Labels.Clone();
        var rng = new Random(9);
        for (int r = 0; r < data.RowCount; r++)
        {
            int category = rng.Next(40);
            x[r * 5] = category;
            if (category % 3 == 0) labels[r] = Math.Min(4, labels[r] + 2); // categories that matter, scattered across the range
        }
        var categorical = new RankingDataset(x, 5, labels, data.GroupOffsets);
        var p = Params("regression");
        p.Extra["categorical_feature"] = "0";
        p.Extra["min_data_per_group"] = "5";
        p.Extra["cat_smooth"] = "1";
        var probe = EdgeProbe(5, 5);
        for (int r = 0; r < probe.RowCount; r += 3) probe.Features[r * 5] = rng.Next(-3, 70); // unseen and negative categories too
        var ensemble = TrainAndCompare(categorical, p, 20, probe);
        Assert.Contains(ensemble.Trees, t => t.HasCategoricalSplit);
        var tree = ensemble.Trees.First(t => t.HasCategoricalSplit);
        int node = Enumerable.Range(0, tree.InternalCount).First(tree.IsCategorical);
        Assert.NotEmpty(tree.CategoryBits(node));
    }

    [Fact]
    public void Linear_trees_score_as_the_native_booster()
    {
        var data = TinyData.WithMissing(TinyData.Make(60, 12, 6, seed: 14), 6);
        var p = Params("regression");
        p.Extra["linear_tree"] = "true";
        var ensemble = TrainAndCompare(data, p, 15, EdgeProbe(6, 6));
        Assert.All(ensemble.Trees, t => Assert.True(t.IsLinear));
        Assert.Contains(ensemble.Trees, t => Enumerable.Range(0, t.LeafCount).Any(l => t.LeafFeatures(l).Count > 0));
    }

    [SkippableFact]
    public void Real_data_scores_as_the_native_booster()
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        var train = DatasetReader.Read(SharedData.Path("mq2008", "Fold1", "train.txt"));
        var test = DatasetReader.Read(SharedData.Path("mq2008", "Fold1", "test.txt"), new DatasetReadOptions { FeatureCount = train.FeatureCount });
        TrainAndCompare(train, Params("lambdarank", 31), 40, test);

        string dir = SharedData.Path("lightgbm-lambdarank");
        var rankTrain = DatasetReader.Read(Path.Combine(dir, "rank.train"));
        var rankTest = DatasetReader.Read(Path.Combine(dir, "rank.test"), new DatasetReadOptions { FeatureCount = rankTrain.FeatureCount, DropExtraFeatures = true });
        TrainAndCompare(rankTrain, Params("lambdarank", 31), 40, rankTest);
    }
}
