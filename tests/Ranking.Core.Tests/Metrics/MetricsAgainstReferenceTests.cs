using System.Globalization;
using Ranking.Metrics;

namespace Ranking.Core.Tests.Metrics;

public class MetricsAgainstReferenceTests
{
    private static readonly MetricSpec[] AllMetrics = MetricSpec.ParseList(
        "ndcg@1,ndcg@3,ndcg@10,ndcg,dcg@5,dcg,map,map@5,mrr@10,mrr,p@5,p@20,r@10,err@10,err,map:rel=1,p@3:rel=1").ToArray();

    public static TheoryData<string> Contracts() => new()
    {
        "default", "lightgbm", "xgboost", "xgboost-", "sklearn", "mlnet", "ranklib",
        "default,ties=pessimistic", "default,ties=optimistic", "default,ties=input", "sklearn,empty=omit",
    };

    /// <summary>LETOR lines: "grade qid:N f:v ...". Only grades and query boundaries are needed here.</summary>
    private static (float[] Labels, int[] Offsets, float[] Feature1, float[] Feature5) ReadLetor(string path)
    {
        var labels = new List<float>();
        var f1 = new List<float>();
        var f5 = new List<float>();
        var offsets = new List<int> { 0 };
        string? lastQid = null;
        foreach (string line in File.ReadLines(path))
        {
            string body = line.Split('#')[0].Trim();
            if (body.Length == 0) continue;
            string[] parts = body.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string qid = parts[1];
            if (lastQid is not null && qid != lastQid) offsets.Add(labels.Count);
            lastQid = qid;
            labels.Add(float.Parse(parts[0], CultureInfo.InvariantCulture));
            float Feature(int index) => float.Parse(parts[1 + index].Split(':')[1], CultureInfo.InvariantCulture);
            f1.Add(Feature(1));
            f5.Add(Feature(5));
        }
        offsets.Add(labels.Count);
        return (labels.ToArray(), offsets.ToArray(), f1.ToArray(), f5.ToArray());
    }

    [SkippableTheory]
    [MemberData(nameof(Contracts))]
    public void Mq2008Fold1TestMatchesTheReferenceForEveryContract(string contractText)
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        string path = SharedData.Path("mq2008", "Fold1", "test.txt");
        Skip.IfNot(File.Exists(path), $"{path} is absent");
        var (labels, offsets, f1, f5) = ReadLetor(path);
        var contract = NdcgContract.Parse(contractText);

        // Two score vectors: a feature plus a little deterministic noise (few ties), and a coarse one (many ties).
        var rng = new Random(7);
        float[] fine = f1.Select((v, i) => v + 0.01f * (float)rng.NextDouble()).ToArray();
        float[] coarse = f5.Select(v => MathF.Round(v * 4) / 4).ToArray();
        double errMax = labels.Max();
        foreach (float[] scores in new[] { fine, coarse })
        {
            var report = RankingEvaluator.Evaluate(labels, offsets, null, scores, AllMetrics, contract, threads: 2);
            for (int m = 0; m < AllMetrics.Length; m++)
            {
                var spec = AllMetrics[m];
                // Under averaged ties the reference covers the DCG-like metrics; MAP/MRR averaged are pinned by the
                // brute-force test, and ERR keeps input order under averaged (documented).
                bool averaged = contract.Ties == TiePolicy.Averaged;
                if (averaged && spec.Kind is MetricKind.Map or MetricKind.Mrr) continue;
                var refContract = averaged && spec.Kind == MetricKind.Err ? contract.WithTies(TiePolicy.InputOrder) : contract;
                double sum = 0; int counted = 0;
                for (int q = 0; q + 1 < offsets.Length; q++)
                {
                    int s = offsets[q], n = offsets[q + 1] - s;
                    double[] y = labels.Skip(s).Take(n).Select(v => (double)v).ToArray();
                    double[] sc = scores.Skip(s).Take(n).Select(v => (double)v).ToArray();
                    double expected = ReferenceMetrics.Metric(spec, refContract, y, sc, errMax);
                    double actual = report.PerQuery[m][q];
                    if (double.IsNaN(expected)) { Assert.True(double.IsNaN(actual), $"{spec.Name} query {q}: expected left out"); continue; }
                    Assert.True(Math.Abs(expected - actual) <= 1e-9, $"{contractText} {spec.Name} query {q}: expected {expected:R}, got {actual:R}");
                    sum += expected; counted++;
                }
                Assert.Equal(sum / counted, report.MeanValues[m], 9);
            }
        }
    }

    [SkippableFact]
    public void Mq2008Fold1TestMatchesScikitLearn()
    {
        Skip.If(SharedData.Root is null, SharedData.Missing);
        string path = SharedData.Path("mq2008", "Fold1", "test.txt");
        Skip.IfNot(File.Exists(path), $"{path} is absent");
        var (labels, offsets, f1, _) = ReadLetor(path);
        // Scores = feature 1. Mean over queries of sklearn.metrics.ndcg_score(y, s, k) (Debian python3-sklearn 1.2.1;
        // one-row queries, which sklearn refuses, counted as 1 if relevant else 0: there are none in this file).
        var r = RankingEvaluator.Evaluate(labels, offsets, null, f1, MetricSpec.ParseList("ndcg@1,ndcg@10,ndcg"), NdcgContract.FromPreset("sklearn"));
        Assert.Equal(0.19230769230769232, r["ndcg@1"], 12);
        Assert.Equal(0.37017841919155914, r["ndcg@10"], 12);
        Assert.Equal(0.4232929222149497, r["ndcg"], 12);
    }

    [Fact]
    public void AveragedTiesEqualTheMeanOverEveryOrderOfTheTies()
    {
        var rng = new Random(12345);
        var metrics = MetricSpec.ParseList("ndcg@1,ndcg@3,ndcg,dcg@2,dcg,map,map@3,mrr@2,mrr,p@2,p@4,r@3,r@1").ToArray();
        foreach (string preset in new[] { "default", "sklearn" })
        {
            var averaged = NdcgContract.FromPreset(preset).WithTies(TiePolicy.Averaged);
            var inputOrder = averaged.WithTies(TiePolicy.InputOrder);
            for (int trial = 0; trial < 150; trial++)
            {
                int n = rng.Next(1, 8);
                float[] labels = Enumerable.Range(0, n).Select(_ => (float)rng.Next(0, 4)).ToArray();
                float[] scores = Enumerable.Range(0, n).Select(_ => (float)rng.Next(0, 3)).ToArray();
                var report = RankingEvaluator.Evaluate(labels, [0, n], null, scores, metrics, averaged, threads: 1);

                // Every permutation of the rows that keeps scores non-increasing is one order of the ties.
                var sums = new double[metrics.Length];
                int orders = 0;
                foreach (int[] perm in Permutations(n))
                {
                    bool valid = true;
                    for (int i = 1; i < n && valid; i++) valid = scores[perm[i - 1]] >= scores[perm[i]];
                    if (!valid) continue;
                    orders++;
                    // Give the permuted order strictly decreasing scores and evaluate it with input-order ties.
                    float[] permLabels = perm.Select(i => labels[i]).ToArray();
                    float[] permScores = Enumerable.Range(0, n).Select(i => (float)(n - i)).ToArray();
                    var one = RankingEvaluator.Evaluate(permLabels, [0, n], null, permScores, metrics, inputOrder, threads: 1);
                    for (int m = 0; m < metrics.Length; m++) sums[m] += one.PerQuery[m][0];
                }
                for (int m = 0; m < metrics.Length; m++)
                    Assert.True(Math.Abs(sums[m] / orders - report.PerQuery[m][0]) < 1e-12,
                        $"{preset} {metrics[m].Name} labels [{string.Join(",", labels)}] scores [{string.Join(",", scores)}]: " +
                        $"mean over {orders} orders {sums[m] / orders:R}, averaged {report.PerQuery[m][0]:R}");
            }
        }
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        var a = Enumerable.Range(0, n).ToArray();
        return Recurse(0);
        IEnumerable<int[]> Recurse(int k)
        {
            if (k == n) { yield return (int[])a.Clone(); yield break; }
            for (int i = k; i < n; i++)
            {
                (a[k], a[i]) = (a[i], a[k]);
                foreach (var p in Recurse(k + 1)) yield return p;
                (a[k], a[i]) = (a[i], a[k]);
            }
        }
    }
}
