using Ranking.Clicks;
using Ranking.Data;
using Ranking.Training;

namespace Ranking.LightGbm.Tests;

/// <summary>Display positions reach LightGBM's dataset ("position" field), which turns on its position-bias GAM.</summary>
public class PositionBiasTests
{
    private static RankingDataset ClickSet()
    {
        var judged = TinyData.Make(60, 12, 5, seed: 21);
        var random = new SeededRandom(3);
        var production = Enumerable.Range(0, judged.RowCount).Select(_ => (float)random.NextDouble()).ToArray();
        var log = ClickSimulator.Simulate(judged, production, new ClickSimulationOptions { Sessions = 3000, TopK = 8, Seed = 9 });
        return ClickTrainingSet.Build(log);
    }

    private static float[] TrainAndScore(RankingDataset train, RankingDataset test, string? regularization = null)
    {
        var catalog = new RankerCatalog();
        LightGbmRankers.Register(catalog);
        var options = new RankerOptions { Seed = 7, Threads = 1 };
        options.Parameters["trees"] = "10";
        options.Parameters["leaves"] = "7";
        options.Parameters["min-data"] = "5";
        if (regularization is not null) options.Parameters["lightgbm.lambdarank_position_bias_regularization"] = regularization;
        var result = catalog.Get("lambdamart").CreateTrainer(options).Train(new TrainingRequest { Train = train, Options = options });
        var scores = new float[test.RowCount];
        result.Model.Predict(test.Features, test.RowCount, scores);
        return scores;
    }

    [Fact]
    public void Positions_change_native_lambdarank_through_the_gam_and_its_regularization_reaches_it()
    {
        var clicks = ClickSet();
        Assert.NotNull(clicks.Positions);
        var test = TinyData.Make(20, 12, 5, seed: 22);
        float[] withPositions = TrainAndScore(clicks, test);
        float[] without = TrainAndScore(clicks.WithPositions(null), test);
        float[] again = TrainAndScore(clicks, test);
        Assert.Equal(withPositions, again);                 // deterministic
        Assert.NotEqual(withPositions, without);            // the GAM moved the trees
        float[] heavilyRegularised = TrainAndScore(clicks, test, "1e9");
        Assert.NotEqual(withPositions, heavilyRegularised);
        // with the biases pinned near 0 by regularisation, the trees come close to those of no positions at all
        double MaxDiff(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();
        Assert.True(MaxDiff(heavilyRegularised, without) < 1e-3, $"{MaxDiff(heavilyRegularised, without)}");
        Assert.True(MaxDiff(withPositions, without) > 100 * MaxDiff(heavilyRegularised, without));
    }
}
