using Ranking.Objectives;
using Ranking.Training;
using Xunit.Abstractions;

namespace Ranking.LightGbm.Tests;

public class CustomObjectiveTests(ITestOutputHelper output)
{
    private static RankerCatalog Catalog()
    {
        var catalog = new RankerCatalog();
        LightGbmRankers.Register(catalog);
        return catalog;
    }

    private static RankerOptions Options(int trees)
    {
        var o = new RankerOptions { Seed = 9, Threads = 1 };
        o.Parameters["trees"] = trees.ToString();
        o.Parameters["leaves"] = "7";
        o.Parameters["min-data"] = "5";
        return o;
    }

    [Fact]
    public void Every_objective_composes_with_gbdt()
    {
        var catalog = Catalog();
        foreach (var name in ObjectiveFactory.Names)
        {
            var r = catalog.Compose(name, "gbdt");
            Assert.Equal($"gbdt-{name}", r.Name);
            Assert.Equal("gbdt", r.ModelFamily);
        }
        // Our lambdarank, not LightGBM's: the native one is the lambdamart ranker.
        Assert.Equal("gbdt-lambdarank", catalog.Compose("lambdarank", "gbdt").Name);
        Assert.Throws<ArgumentException>(() => catalog.Compose("no-such-loss", "gbdt"));
        var o = Options(3);
        o.Parameters["no-such-knob"] = "1";
        Assert.Throws<ArgumentException>(() => catalog.Compose("listnet", "gbdt").CreateTrainer(o));
    }

    public static TheoryData<string> Objectives() => new(ObjectiveFactory.Names);

    [Theory]
    [MemberData(nameof(Objectives))]
    public void Every_objective_learns_through_the_custom_path(string objective)
    {
        var train = TinyData.Make(40, 10, 5, seed: 41);
        var test = TinyData.Make(20, 10, 5, seed: 42);
        var options = Options(25);
        // Binary objectives: most rows of this set have a grade above 0, so call "relevant" the top grades.
        if (ObjectiveFactory.IsKnob(objective, "threshold")) options.Parameters["threshold"] = "2";
        var result = Catalog().Compose(objective, "gbdt").CreateTrainer(options).Train(new TrainingRequest { Train = train });
        Assert.All(result.History, e => Assert.True(double.IsFinite(e.TrainLoss)));
        var scores = new float[test.RowCount];
        result.Model.Predict(test.Features, test.RowCount, scores);
        double ndcg = TinyData.MeanNdcg(test, scores, 10), baseline = TinyData.MeanNdcg(test, new float[test.RowCount], 10);
        output.WriteLine($"{objective}: {ndcg:F4} vs constant {baseline:F4}");
        Assert.True(ndcg > baseline + 0.15, $"{objective}: {ndcg:F4} vs constant {baseline:F4}");
    }

    [Fact]
    public void Our_lambdarank_grows_the_trees_of_LightGBMs_lambdarank()
    {
        var train = TinyData.Make(30, 12, 5, seed: 51);
        var native = (LightGbmModel)Catalog().Get("lambdamart").CreateTrainer(Options(5)).Train(new TrainingRequest { Train = train }).Model;
        var ours = (LightGbmModel)Catalog().Compose("lambdarank", "gbdt").CreateTrainer(Options(5)).Train(new TrainingRequest { Train = train }).Model;
        var a = new float[train.RowCount];
        var b = new float[train.RowCount];
        native.Predict(train.Features, train.RowCount, a);
        ours.Predict(train.Features, train.RowCount, b);
        double maxDiff = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        output.WriteLine($"max |native - ours| after 5 rounds: {maxDiff:G3}");
        Assert.True(maxDiff < 1e-3, $"max difference {maxDiff}");
    }
}
