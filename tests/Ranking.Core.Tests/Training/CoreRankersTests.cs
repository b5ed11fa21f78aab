using Ranking.Models;
using Ranking.Training;

namespace Ranking.Core.Tests.Training;

public class CoreRankersTests
{
    private static RankerCatalog Catalog()
    {
        var catalog = new RankerCatalog();
        CoreRankers.Register(catalog);
        return catalog;
    }

    [Theory]
    [InlineData("ranknet", "ranknet", "mlp")]
    [InlineData("lambdarank", "lambdarank", "mlp")]
    [InlineData("listnet", "listnet", "mlp")]
    [InlineData("listmle", "listmle", "mlp")]
    [InlineData("approxndcg", "approxndcg", "mlp")]
    [InlineData("ranksvm", "ranksvm", "linear")]
    [InlineData("triplet", "triplet", "mlp")]
    [InlineData("contrastive", "contrastive", "mlp")]
    [InlineData("softmax", "softmax", "mlp")]
    [InlineData("sampled-softmax", "sampled-softmax", "mlp")]
    [InlineData("nce", "nce", "mlp")]
    [InlineData("pointwise", "mse", "mlp")]
    [InlineData("linear-listnet", "listnet", "linear")]
    public void TheClassicsAreRegistered(string name, string objective, string family)
    {
        var ranker = Catalog().Get(name);
        Assert.Equal(objective, ranker.Objective);
        Assert.Equal(family, ranker.ModelFamily);
        Assert.False(string.IsNullOrWhiteSpace(ranker.Description));
        Assert.Contains("batch-queries", ranker.Knobs.Keys);
    }

    [Fact]
    public void ModelFamiliesLoadTheirPayloads()
    {
        var catalog = Catalog();
        var mlp = new MlpModel(3, [4], 0f, 1);
        Assert.Equal(mlp.Parameters, ((MlpModel)catalog.GetLoader("mlp")(mlp.SavePayload())).Parameters);
        var linear = new LinearModel(3);
        Assert.IsType<LinearModel>(catalog.GetLoader("linear")(linear.SavePayload()));
    }

    [Fact]
    public void ComposerPairsAnyObjectiveWithLinearOrMlp()
    {
        var catalog = Catalog();
        Assert.Equal("listnet", catalog.Compose("listnet", "mlp").Name); // a registered ranker wins
        var composed = catalog.Compose("sigmoid-ce", "linear");
        Assert.Equal("linear-sigmoid-ce", composed.Name);
        Assert.Equal("linear", composed.ModelFamily);
        Assert.Throws<ArgumentException>(() => catalog.Compose("no-such-objective", "mlp"));
        Assert.Throws<ArgumentException>(() => catalog.Compose("listnet", "no-such-model"));
    }

    [Fact]
    public void UnknownKnobsFailWhenTheTrainerIsCreated()
    {
        var ranker = Catalog().Get("listnet");
        var options = new RankerOptions();
        options.Parameters["temperature"] = "2"; // an objective knob: fine
        Assert.IsType<GradientTrainer>(ranker.CreateTrainer(options));
        options.Parameters["no-such-knob"] = "1";
        var ex = Assert.Throws<ArgumentException>(() => ranker.CreateTrainer(options));
        Assert.Contains("no-such-knob", ex.Message);
    }
}
