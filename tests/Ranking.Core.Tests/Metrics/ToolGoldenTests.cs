using Ranking.Data;
using Ranking.Metrics;

namespace Ranking.Core.Tests.Metrics;

/// <summary>
/// Numbers produced by the tools themselves on MQ2008 Fold1 test.txt with one fixed score vector:
/// Golden/mq2008-fold1-test.lightgbm.scores, the predictions of a LightGBM 4.7.0 lambdarank booster
/// (15 iterations, num_leaves=7, trained on Fold1 train.txt), which have many exact ties (1,389 distinct
/// values over 2,874 rows), so the tie conventions matter. The tools were run once, by hand, outside CI:
/// LightGBM's own metric (LGBM_BoosterGetEval, metric=ndcg, eval_at=1,3,5,10), ML.NET 5.0.1
/// <c>mlContext.Ranking.Evaluate</c>, and scikit-learn 1.2.1 <c>ndcg_score</c> averaged over queries.
/// </summary>
public class ToolGoldenTests
{
    private static (RankingDataset Data, float[] Scores)? Load()
    {
        if (SharedData.Root is null) return null;
        string data = SharedData.Path("mq2008", "Fold1", "test.txt");
        if (!File.Exists(data)) return null;
        var set = DatasetReader.Read(data);
        string scores = Path.Combine(AppContext.BaseDirectory, "Metrics", "Golden", "mq2008-fold1-test.lightgbm.scores");
        return (set, ScoresFile.Read(scores, set.RowCount));
    }

    [SkippableFact]
    public void LightGbmPresetEqualsLightGbmsOwnNdcg()
    {
        var loaded = Load();
        Skip.If(loaded is null, SharedData.Missing);
        var (data, scores) = loaded.Value;
        var r = RankingEvaluator.Evaluate(data, scores, MetricSpec.ParseList("ndcg@1,ndcg@3,ndcg@5,ndcg@10"), NdcgContract.FromPreset("lightgbm"));
        double[] lightgbm = [0.6517094017094018, 0.7214175158315361, 0.769249626960952, 0.8113943121540202];
        for (int m = 0; m < 4; m++) Assert.Equal(lightgbm[m], r.MeanValues[m], 12);
        // the default contract averages the ties and differs
        var d = RankingEvaluator.Evaluate(data, scores, MetricSpec.ParseList("ndcg@1"), NdcgContract.Default);
        Assert.NotEqual(lightgbm[0], d.MeanValues[0], 6);
    }

    [SkippableFact]
    public void MlnetPresetEqualsMlNetsRankingEvaluator()
    {
        var loaded = Load();
        Skip.If(loaded is null, SharedData.Missing);
        var (data, scores) = loaded.Value;
        var metrics = MetricSpec.ParseList("ndcg@1,ndcg@2,ndcg@3,dcg@1,dcg@2,dcg@3");
        var contract = NdcgContract.FromPreset("mlnet");
        var r = RankingEvaluator.Evaluate(data, scores, metrics, contract);
        double[] mlnet = [0.3333333333333333, 0.3789130465503606, 0.39942233872804683, 2.700429179099855, 4.474228697654716, 5.6209862942587625];
        for (int m = 0; m < mlnet.Length; m++) Assert.Equal(mlnet[m], r.MeanValues[m], 12);
        // coarser scores (rounded to 1/2): larger ties, broken pessimistically by ML.NET
        float[] coarse = scores.Select(s => MathF.Round(s * 2) / 2).ToArray();
        var c = RankingEvaluator.Evaluate(data, coarse, metrics, contract);
        double[] mlnetCoarse = [0.2527472527472528, 0.2899481426961403, 0.3143740537479456, 2.0345699294587947, 3.4874517719593245, 4.440000420751393];
        for (int m = 0; m < mlnetCoarse.Length; m++) Assert.Equal(mlnetCoarse[m], c.MeanValues[m], 12);
    }

    [SkippableFact]
    public void SklearnPresetEqualsScikitLearn()
    {
        var loaded = Load();
        Skip.If(loaded is null, SharedData.Missing);
        var (data, scores) = loaded.Value;
        var r = RankingEvaluator.Evaluate(data, scores, MetricSpec.ParseList("ndcg@5,ndcg@10"), NdcgContract.FromPreset("sklearn"));
        Assert.Equal(0.4526857230593801, r.MeanValues[0], 12);
        Assert.Equal(0.49166109403860403, r.MeanValues[1], 12);
    }
}
