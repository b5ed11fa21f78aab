using CsCheck;
using Ranking.Data;
using Ranking.Features;

namespace Ranking.Core.Tests.Features;

public class FeaturePipelineTests
{
    // two queries: rows 0-1 and 2-4; two features
    private static RankingDataset Train() => new(
        features: [1, 10, 3, 20, 5, 30, 7, -40, 9, 50],
        featureCount: 2, labels: [0, 1, 2, 0, 1], groupOffsets: [0, 2, 5]);

    private static float[] Apply(string spec, RankingDataset? data = null) =>
        FeaturePipeline.Parse(spec).Fit(Train()).Apply(data ?? Train()).Features;

    [Fact]
    public void ZScoreUsesTheTrainingMeanAndPopulationSd()
    {
        // feature 1: 1,3,5,7,9 -> mean 5, sd sqrt(8)
        float[] z = Apply("zscore");
        Assert.Equal((float)(-4 / Math.Sqrt(8)), z[0]);
        Assert.Equal(0f, z[4]);
        var test = new RankingDataset([13, 0], 2, [0], [0, 1]);
        Assert.Equal((float)(8 / Math.Sqrt(8)), Apply("zscore", test)[0]);
    }

    [Fact]
    public void MinMaxMapsTheTrainingRangeToZeroOne()
    {
        float[] m = Apply("minmax");
        Assert.Equal([0f, 50f / 90f, 0.25f, 60f / 90f, 0.5f, 70f / 90f, 0.75f, 0f, 1f, 1f], m);
    }

    [Fact]
    public void QueryLevelStepsUseEachQuerysOwnRows()
    {
        float[] m = Apply("query-minmax");
        Assert.Equal([0f, 0f, 1f, 1f, 0f, 70f / 90f, 0.5f, 0f, 1f, 1f], m);
        float[] z = Apply("query-zscore");
        Assert.Equal(-1f, z[0]);
        Assert.Equal(1f, z[2]);
        Assert.Equal(0f, z[6]); // 7 is the mean of 5,7,9
        Assert.Equal((float)(-2 / Math.Sqrt(8.0 / 3)), z[4]);
    }

    [Fact]
    public void SignedLog1pClipFillAndSelect()
    {
        float[] l = Apply("log1p");
        Assert.Equal((float)Math.Log(11), l[1]);
        Assert.Equal((float)-Math.Log(41), l[7]);
        Assert.Equal([3f, 10f, 3f, 20f, 5f, 30f, 7f, 3f, 9f, 30f], Apply("clip(3,30)"));
        Assert.Equal([10f, 20f, 30f, -40f, 50f], Apply("select(2)"));
        Assert.Equal([10f, 1f, 20f, 3f, 30f, 5f, -40f, 7f, 50f, 9f], Apply("select(2,1)"));

        var withNaN = new RankingDataset([float.NaN, 1, 2, float.NaN, 4, 3], 2, [0, 0, 0], [0, 3]);
        var fitted = FeaturePipeline.Parse("fillnan").Fit(withNaN);
        Assert.Equal([3f, 1f, 2f, 2f, 4f, 3f], fitted.Apply(withNaN).Features);
        Assert.Equal([-1f, 1f, 2f, -1f, 4f, 3f], FeaturePipeline.Parse("fillnan(-1)").Fit(withNaN).Apply(withNaN).Features);
        Assert.Equal(1e-30f, (float)Log1pOf(1e-30f));
    }

    private static double Log1pOf(float x) => FeaturePipeline.Parse("log1p").Fit(new RankingDataset([x], 1, [0], [0, 1])).Apply(new RankingDataset([x], 1, [0], [0, 1])).Features[0];

    [Fact]
    public void ClipWithoutBoundsLearnsTrainingQuantiles()
    {
        var values = Enumerable.Range(0, 10001).Select(i => (float)i).ToArray();
        var data = new RankingDataset(values, 1, new float[values.Length], [0, values.Length]);
        var clipped = FeaturePipeline.Parse("clip").Fit(data).Apply(data).Features;
        Assert.Equal(10f, clipped[0]);
        Assert.Equal(9990f, clipped[^1]);
        Assert.Equal(5000f, clipped[5000]);
    }

    [Fact]
    public void StepsAreFittedInOrderOnThePreviousOutput()
    {
        // minmax after select(2): fitted on feature 2's range only
        float[] r = Apply("select(2),minmax");
        Assert.Equal([50f / 90f, 60f / 90f, 70f / 90f, 0f, 1f], r);
    }

    [Theory]
    [InlineData("zscore,nope", "unknown feature pipeline step 'nope'")]
    [InlineData("clip(1)", "expected 2 number(s)")]
    [InlineData("clip(5,1)", "low bound is above")]
    [InlineData("select", "needs the features")]
    [InlineData("select(0)", "not a 1-based feature index")]
    [InlineData("select(1,1)", "selected twice")]
    [InlineData("zscore(3)", "takes no arguments")]
    [InlineData("clip(1,2", "missing ')'")]
    public void BadSpecsSayWhatIsWrong(string spec, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => FeaturePipeline.Parse(spec));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void SelectBeyondTheDataFailsAtFit()
    {
        Assert.Throws<FormatException>(() => FeaturePipeline.Parse("select(3)").Fit(Train()));
    }

    [Fact]
    public void ApplyingToADatasetOfAnotherWidthIsBadInput()
    {
        var fitted = FeaturePipeline.Parse("zscore").Fit(Train());
        var other = new RankingDataset([1, 2, 3], 3, [0], [0, 1], source: "test.txt");
        var ex = Assert.Throws<RankingDataException>(() => fitted.Apply(other));
        Assert.StartsWith("test.txt: has 3 features but the feature pipeline was fitted on 2", ex.Message);
    }

    [Fact]
    public void IdentityChangesNothing()
    {
        var data = Train();
        Assert.Same(data, FittedPipeline.Identity(2).Apply(data));
        Assert.Same(data, FeaturePipeline.Parse("none").Fit(data).Apply(data));
        Assert.Equal("none", FittedPipeline.FromJson(FittedPipeline.Identity(2).ToJson()).Spec);
    }

    [Fact]
    public void JsonRoundTripGivesBitIdenticalFeaturesAndTransformMatchesApply()
    {
        var (train, _, test) = SyntheticGenerator.GenerateSplits("mslr-like", 40, 3);
        string spec = "fillnan,clip,log1p,zscore,select(1-40,60,100-136),minmax,query-zscore,clip(-2.5,2.5),query-minmax";
        var fitted = FeaturePipeline.Parse(spec).Fit(train.Data);
        string json = fitted.ToJson();
        var reloaded = FittedPipeline.FromJson(json);
        Assert.Equal(json, reloaded.ToJson());
        Assert.Equal(spec, reloaded.Spec);
        Assert.Equal(78, reloaded.OutputFeatureCount);
        var a = fitted.Apply(test.Data).Features;
        var b = reloaded.Apply(test.Data).Features;
        Assert.True(a.AsSpan().SequenceEqual(b));
        var output = new float[test.Data.RowCount * 78];
        reloaded.Transform(test.Data.Features, test.Data.RowCount, test.Data.GroupOffsets, output);
        Assert.True(a.AsSpan().SequenceEqual(output));
    }

    [Fact]
    public void JsonKeepsEveryParameterBitForAnyValues()
    {
        Gen.Float.Array[2, 30].Sample(values =>
        {
            var finite = values.Select(v => float.IsFinite(v) ? v : 0f).ToArray();
            var data = new RankingDataset(finite, 1, new float[finite.Length], [0, finite.Length]);
            var fitted = FeaturePipeline.Parse("zscore,minmax").Fit(data);
            var reloaded = FittedPipeline.FromJson(fitted.ToJson());
            return fitted.Apply(data).Features.AsSpan().SequenceEqual(reloaded.Apply(data).Features);
        }, iter: 300);
    }

    [Theory]
    [InlineData("{}", "not a ranking-feature-pipeline document")]
    [InlineData("{\"format\":\"ranking-feature-pipeline\",\"version\":9}", "version 9 is not supported")]
    [InlineData("{\"format\":\"ranking-feature-pipeline\",\"version\":1,\"input_features\":2,\"steps\":[{\"op\":\"zscore\",\"mean\":[1],\"sd\":[1,2]}]}", "'mean' holds 1 values, expected 2")]
    [InlineData("{\"format\":\"ranking-feature-pipeline\",\"version\":1,\"input_features\":2,\"steps\":[{\"op\":\"warp\"}]}", "unknown step 'warp'")]
    [InlineData("not json", "feature pipeline JSON:")]
    public void BadJsonIsInvalidData(string json, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => FittedPipeline.FromJson(json));
        Assert.Contains(expected, ex.Message);
    }
}
