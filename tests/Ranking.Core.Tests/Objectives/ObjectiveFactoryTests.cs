using Ranking.Objectives;

namespace Ranking.Core.Tests.Objectives;

public class ObjectiveFactoryTests
{
    [Fact]
    public void Every_described_objective_can_be_created_by_name_with_its_default_knobs()
    {
        var described = ObjectiveFactory.Describe();
        Assert.NotEmpty(described);
        foreach (var (name, family, description, knobs) in described)
        {
            var objective = ObjectiveFactory.Create(name);
            Assert.Equal(name, objective.Name);
            Assert.Equal(family, objective.Family);
            Assert.False(string.IsNullOrWhiteSpace(description));
            Assert.All(knobs, kv => Assert.Contains("default", kv.Value));
        }
    }

    [Fact]
    public void Unknown_name_lists_the_known_ones()
    {
        var ex = Assert.Throws<ArgumentException>(() => ObjectiveFactory.Create("lambdamart-ish"));
        Assert.Contains("lambdarank", ex.Message);
        Assert.Contains("listnet", ex.Message);
    }

    [Fact]
    public void Unknown_or_malformed_knob_is_an_error_naming_the_knobs()
    {
        var ex = Assert.Throws<ArgumentException>(() => ObjectiveFactory.Create("lambdarank", new Dictionary<string, string> { ["leaves"] = "31" }));
        Assert.Contains("truncation", ex.Message);
        Assert.Throws<ArgumentException>(() => ObjectiveFactory.Create("lambdarank", new Dictionary<string, string> { ["sigma"] = "abc" }));
        Assert.Throws<ArgumentException>(() => ObjectiveFactory.Create("lambdarank", new Dictionary<string, string> { ["sigma"] = "-1" }));
        Assert.Throws<ArgumentException>(() => ObjectiveFactory.Create("ranknet", new Dictionary<string, string> { ["truncation"] = "3", ["pairs-per-row"] = "2" }));
    }

    [Fact]
    public void Knobs_parse_into_the_options_and_aliases_work()
    {
        var lr = (LambdaRankObjective)ObjectiveFactory.Create("lambdarank", new Dictionary<string, string> { ["sigmoid"] = "2", ["truncation"] = "10", ["norm"] = "false" });
        Assert.Equal(2.0, lr.Options.Sigma);
        Assert.Equal(10, lr.Options.Truncation);
        Assert.False(lr.Options.Normalize);
        Assert.True(ObjectiveFactory.IsKnob("lambdarank", "--label-gain"));
        Assert.True(ObjectiveFactory.IsKnob("ranknet", "sigmoid"));
        Assert.Contains("sigmoid", ObjectiveFactory.Describe().Single(d => d.Name == "lambdarank").Knobs.Keys);
        Assert.Equal(["mse", "sigmoid-ce", "ranknet", "ranksvm", "lambdarank", "triplet", "contrastive", "contrastive-pairs",
                      "listnet", "listmle", "approxndcg", "softmax", "sampled-softmax", "nce",
                      "ipw-ranknet", "ipw-lambdarank", "ipw-softmax", "unbiased-lambdarank"], ObjectiveFactory.Names);
        Assert.False(ObjectiveFactory.IsKnob("lambdarank", "trees"));
    }
}
