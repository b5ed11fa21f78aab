namespace Ranking.LightGbm.Tests;

public class BindingTests
{
    private static LightGbmParameters Params(string objective = "lambdarank") =>
        new() { Objective = objective, NumLeaves = 7, MinDataInLeaf = 5, Threads = 1, Seed = 3 };

    [Fact]
    public void Trains_predicts_and_round_trips_model_text()
    {
        var data = TinyData.Make(queries: 40, docsPerQuery: 12, features: 5, seed: 1);
        string parameters = Params().Render();
        using var train = LightGbmDataset.Create(data, parameters);
        using var booster = LightGbmBooster.Create(train, parameters);
        for (int i = 0; i < 15; i++) booster.UpdateOneIter();
        Assert.Equal(15, booster.CurrentIteration);
        Assert.Equal(5, booster.FeatureCount);

        var running = new double[data.RowCount];
        booster.GetPredict(0, running);
        var predicted = new double[data.RowCount];
        booster.PredictForMat(data.Features, data.RowCount, data.FeatureCount, predicted);
        for (int r = 0; r < data.RowCount; r++) Assert.Equal(running[r], predicted[r], 1e-9);

        // Learning happened: the trained scores rank far better than the constant start.
        var scores = predicted.Select(v => (float)v).ToArray();
        Assert.True(TinyData.MeanNdcg(data, scores, 10) > TinyData.MeanNdcg(data, new float[data.RowCount], 10) + 0.1);

        string text = booster.SaveModelToString();
        Assert.StartsWith("tree", text);
        using var loaded = LightGbmBooster.LoadModelFromString(text);
        var again = new double[data.RowCount];
        loaded.PredictForMat(data.Features, data.RowCount, data.FeatureCount, again);
        Assert.Equal(predicted, again);

        // Truncated text keeps the first rounds only, and differs from the full model.
        using var first5 = LightGbmBooster.LoadModelFromString(booster.SaveModelToString(5));
        var five = new double[data.RowCount];
        first5.PredictForMat(data.Features, data.RowCount, data.FeatureCount, five);
        var direct5 = new double[data.RowCount];
        booster.PredictForMat(data.Features, data.RowCount, data.FeatureCount, direct5, iterations: 5);
        Assert.Equal(direct5, five);
        Assert.NotEqual(predicted, five);
    }

    [Fact]
    public void Validation_running_scores_match_prediction()
    {
        var data = TinyData.Make(30, 10, 4, seed: 2);
        var valid = TinyData.Make(10, 10, 4, seed: 3);
        string parameters = Params("rank_xendcg").Render();
        using var train = LightGbmDataset.Create(data, parameters);
        using var vset = LightGbmDataset.Create(valid, parameters, train);
        using var booster = LightGbmBooster.Create(train, parameters);
        Assert.Equal(1, booster.AddValidData(vset));
        for (int i = 0; i < 8; i++) booster.UpdateOneIter();
        var running = new double[valid.RowCount];
        booster.GetPredict(1, running);
        var predicted = new double[valid.RowCount];
        booster.PredictForMat(valid.Features, valid.RowCount, valid.FeatureCount, predicted);
        for (int r = 0; r < valid.RowCount; r++) Assert.Equal(predicted[r], running[r], 1e-9);
    }

    [Fact]
    public void Custom_gradients_of_squared_error_equal_native_regression()
    {
        var data = TinyData.Make(20, 10, 4, seed: 4);
        var native = Params("regression");
        native.Extra["boost_from_average"] = "false";
        var custom = Params("none");
        using var trainN = LightGbmDataset.Create(data, native.Render());
        using var boosterN = LightGbmBooster.Create(trainN, native.Render());
        using var trainC = LightGbmDataset.Create(data, custom.Render());
        using var boosterC = LightGbmBooster.Create(trainC, custom.Render());
        var scores = new double[data.RowCount];
        var g = new float[data.RowCount];
        var h = new float[data.RowCount];
        for (int i = 0; i < 6; i++)
        {
            boosterN.UpdateOneIter();
            boosterC.GetPredict(0, scores);
            for (int r = 0; r < g.Length; r++) { g[r] = (float)(scores[r] - data.Labels[r]); h[r] = 1f; }
            boosterC.UpdateOneIterCustom(g, h);
        }
        var a = new double[data.RowCount];
        var b = new double[data.RowCount];
        boosterN.PredictForMat(data.Features, data.RowCount, data.FeatureCount, a);
        boosterC.PredictForMat(data.Features, data.RowCount, data.FeatureCount, b);
        for (int r = 0; r < a.Length; r++) Assert.Equal(a[r], b[r], 1e-5);
    }

    [Fact]
    public void Native_errors_carry_LightGBMs_message()
    {
        // Model text is checked by our reader before LightGBM's parser may see it.
        var notModel = Assert.Throws<InvalidDataException>(() => LightGbmBooster.LoadModelFromString("this is not a model"));
        Assert.Contains("not LightGBM model text", notModel.Message);

        // A grade beyond the label-gain table is refused by LightGBM itself, not by us.
        var data = TinyData.Make(5, 6, 3, seed: 5);
        var p = Params();
        p.LabelGain = [0, 1];
        string parameters = p.Render();
        using var train = LightGbmDataset.Create(data, parameters);
        var bad = Assert.Throws<LightGbmException>(() => LightGbmBooster.Create(train, parameters).Dispose());
        Assert.Contains("label", bad.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(string.IsNullOrWhiteSpace(bad.NativeMessage));
    }

    [Fact]
    public void Parameters_render_as_key_value_and_reject_bad_values()
    {
        var p = new LightGbmParameters { BaggingFraction = 0.5, LabelGain = [0, 1, 3] };
        string text = p.Render();
        Assert.Contains("bagging_freq=1", text);
        Assert.Contains("label_gain=0,1,3", text);
        Assert.Contains("lambdarank_truncation_level=30", text);
        Assert.Contains("deterministic=true", text);
        Assert.Throws<ArgumentException>(() => new LightGbmParameters { NumLeaves = 1 }.Render());
        Assert.Throws<ArgumentException>(() => new LightGbmParameters { NumMachines = 2, Machines = "a:1" }.Render());
        var extra = new LightGbmParameters();
        extra.Extra["lambda_l2"] = "1 2";
        Assert.Throws<ArgumentException>(() => extra.Render());
    }
}
