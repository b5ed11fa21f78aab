using Ranking.Numerics;
using Ranking.Compute;
using Ranking.Metrics;
using Ranking.Objectives;

namespace Ranking.Gpu.Diagnostics;

/// <summary>
/// An objective the GPU path is checked on, and how to build its twin (the same name, knobs and seed) for the
/// device side.
/// </summary>
/// <param name="Label">The objective's name and knobs.</param>
/// <param name="Objective">The CPU objective.</param>
/// <param name="Twin">Builds another objective like it, which the kernel computes for.</param>
public sealed record ParityObjective(string Label, IRankingObjective Objective, Func<IRankingObjective> Twin);

/// <summary>One CPU-vs-GPU comparison.</summary>
public sealed record ParityResult(string Name, bool Passed, double MaxRelativeDifference, string Detail)
{
    public override string ToString() => $"{(Passed ? "PASS" : "FAIL")} {Name}: max rel diff {MaxRelativeDifference:E2}{(Detail.Length > 0 ? " - " + Detail : "")}";
}

/// <summary>
/// Every kernel against the CPU path on <see cref="ParityData"/>: per-query metric values under every
/// preset contract and tie policy, objective losses, gradients and Hessians, and the ranks the kernels find.
/// The test project runs it on ILGPU's CPU accelerator; the GPU bundle runs it on CUDA.
/// Tolerance: |gpu - cpu| &lt;= 1e-5 max(|gpu|, |cpu|) per value, plus a floor of 1e-6 x the largest
/// magnitude in the query for float gradients that nearly cancel (two float roundings of the same
/// double sum); NaN (a left-out query) must match NaN; ranks must be identical.
/// </summary>
public static class GpuParity
{
    public const double Tolerance = 1e-5;

    public static readonly string MetricList = "ndcg@1,ndcg@3,ndcg@10,ndcg@32,ndcg@33,ndcg,dcg@1,dcg@5,dcg@32,map,map@5,mrr,mrr@3,p@5,r@5,err@5,err@10:max=4,map:rel=1,p@3:rel=2," +
        "rprec,success@1,success@5,success,arp,opa,bpref,map@5:denom=all,map@3:denom=hits,p@5:level=2,hit@3:rel=1,infap,infap:level=2";

    /// <summary>The contracts the metric kernels are checked under: every preset plus the tie and empty policies they lack.</summary>
    public static IEnumerable<NdcgContract> Contracts()
    {
        foreach (string name in NdcgContract.PresetNames) yield return NdcgContract.FromPreset(name);
        yield return NdcgContract.Default.WithTies(TiePolicy.Optimistic).WithEmptyQuery(EmptyQueryPolicy.LeaveOut);
        yield return NdcgContract.Default.WithTies(TiePolicy.Pessimistic).WithEmptyQuery(EmptyQueryPolicy.CountAsZero);
        yield return NdcgContract.Parse("sklearn,dcglog=e,empty=omit");
        yield return NdcgContract.Parse("default,discount=rank+0.5,apdenom=hits,negative=allow");
        yield return NdcgContract.Parse("sklearn,discount=log10,level=2,ties=docno");
        // Grade-3 rows unjudged: every walk reads them as grade 0 (-0), infAP as outside the pool.
        yield return NdcgContract.Parse("trec,unjudged=3");
    }

    /// <summary>
    /// Knob settings that change an objective's math, checked beside each objective's defaults. The objectives
    /// themselves come from the registry (<see cref="ObjectiveFactory.Describe"/>), so a new loss is checked
    /// without being listed here.
    /// </summary>
    public static readonly (string Objective, string Knobs)[] Variations =
    [
        ("lambdarank", "truncation=3;sigma=2"), ("lambdarank", "norm=false"), ("lambdarank", "label-gain=0,1,3,7,15"),
        ("listnet", "temperature=0.5;target=gain"),
        ("ranknet", "sigma=2;truncation=5"), ("ranknet", "pairs-per-row=3"),
        ("ranksvm", "margin=0.5;truncation=4"), ("contrastive-pairs", "pairs-per-row=2"),
        ("contrastive", "margin=2;threshold=1"), ("softmax", "threshold=1"), ("listmle", "truncation=3"),
        ("sampled-softmax", "negatives=4"), ("sampled-softmax", "negatives=3;sampling=scores"),
        ("triplet", "mining=random;negatives=3"), ("triplet", "mining=hard;negatives=2;pairing=graded"),
        ("triplet", "mining=semi-hard;negatives=3;margin=0.7"), ("nce", "negatives=3"),
        ("approxndcg", "exact-limit=20;samples=7;temperature=0.5"), ("ndcg-loss2pp", "truncation=5;mu=2;sigma=2"),
        ("ipw-ranknet", "sigma=2;truncation=3;propensities=eta:0.5;clip=0.3"), ("ipw-lambdarank", "truncation=4;propensities=1,0.6,0.3,0.2"),
        ("ipw-softmax", "propensities=eta:2;clip=0.05"), ("unbiased-lambdarank", "norm=false;truncation=3;bias-decay=0;max-position=6"),
        ("unbiased-lambdarank", "learn-bias=false;propensities=eta:1"),
    ];

    /// <summary>
    /// Objectives documented as CPU-only: the pointwise family (each row alone; a kernel would add only a
    /// copy). Every other registered objective must have a kernel.
    /// </summary>
    public static bool IsCpuOnly(IRankingObjective objective) => objective.Family == ObjectiveFamily.Pointwise;

    /// <summary>
    /// The objectives the GPU path is checked on: every registered objective at its defaults, then the
    /// <see cref="Variations"/>; seeded, so sampled objectives draw. Each comes with a twin built the same way,
    /// which the device side computes with: an objective that learns from every call (unbiased LambdaMART) is
    /// then compared call by call with a CPU objective in the same state, and so are the states it learns.
    /// </summary>
    public static IEnumerable<ParityObjective> Objectives()
    {
        foreach (var entry in ObjectiveFactory.Describe())
        {
            string name = entry.Name;
            var objective = ObjectiveFactory.Create(name, null, seed: 9);
            if (!IsCpuOnly(objective)) yield return new ParityObjective(name, objective, () => ObjectiveFactory.Create(name, null, seed: 9));
        }
        foreach (var (name, knobs) in Variations)
        {
            var parameters = knobs.Split(';').ToDictionary(kv => kv.Split('=')[0], kv => kv.Split('=', 2)[1]);
            yield return new ParityObjective($"{name} {knobs}", ObjectiveFactory.Create(name, parameters, seed: 4), () => ObjectiveFactory.Create(name, parameters, seed: 4));
        }
    }

    public static IReadOnlyList<ParityResult> RunAll(GpuDevice device, int seed = 7)
    {
        var data = ParityData.Generate(seed);
        var results = new List<ParityResult>();
        // A kernel the device cannot compile or run is a FAIL line, not the end of the run.
        void Guard(string name, Func<IEnumerable<ParityResult>> check)
        {
            try { results.AddRange(check().ToList()); }
            catch (Exception ex) { results.Add(new ParityResult(name, false, double.PositiveInfinity, $"{ex.GetType().Name}: {ex.Message.Split('\n')[0]}")); }
        }
        foreach (var contract in Contracts()) Guard($"metrics [{contract.Name}]", () => [CheckMetrics(device, data, contract)]);
        foreach (var contract in Contracts()) Guard($"metrics, sorted [{contract.Name}]", () => [CheckMetrics(device, data, contract, sorted: true)]);
        foreach (var contract in DiversityContracts())
            foreach (bool sorted in new[] { false, true })
                Guard($"diversity metrics{(sorted ? ", sorted" : "")} [{contract.Name}]", () => [CheckDiversityMetrics(device, data, contract, sorted)]);
        foreach (var entry in Objectives()) Guard(entry.Label, () => CheckObjective(device, data, entry));
        Guard("ranks (stable by score, counting)", () => [CheckRanks(device, data)]);
        Guard("ranks (stable by score, segmented sort)", () => [CheckRanks(device, data, sorted: true)]);
        Guard("lambdarank, ranks by segmented sort", () => CheckSortedLambdaRank(device, data));
        Guard("long-query forms (pairs a thread per row, ListMLE sorted)", () => CheckRowParallelPairs(device, data));
        Guard("mlp 7->8->5->1", () => [CheckMlp(device, [8, 5], seed)]);
        Guard("mlp 7->1", () => [CheckMlp(device, [], seed)]);
        return results;
    }

    /// <summary>
    /// Every metric of <see cref="MetricList"/> per query against the CPU evaluator; <paramref name="sorted"/>
    /// forces the segmented-sort path that sets of long queries take (instead of counting ranks).
    /// </summary>
    /// <summary>The diversity metrics checked by <see cref="CheckDiversityMetrics"/>.</summary>
    public static readonly string DiversityMetricList = "alpha-ndcg@1,alpha-ndcg@5,alpha-ndcg@20,alpha-ndcg@33,alpha-ndcg,alpha-ndcg@10:alpha=1,alpha-ndcg@10:alpha=0," +
        "alpha-dcg@10,alpha-dcg:alpha=0.25,ndcg@10,map";

    /// <summary>The contracts the diversity kernel is checked under: input order, grade-ordered ties, docno ties, a reciprocal discount.</summary>
    public static IEnumerable<NdcgContract> DiversityContracts() =>
    [
        NdcgContract.Default, NdcgContract.FromPreset("trec"), NdcgContract.Default.WithTies(TiePolicy.Pessimistic),
        NdcgContract.Parse("default,discount=rank+1,empty=omit"),
    ];

    /// <summary>
    /// Seeded subtopic judgements for <paramref name="data"/> in TREC diversity qrels form (topic = query index,
    /// docno "doc{row}"): rows with zero to three subtopics, repeated and graded judgements, non-relevant lines, and
    /// relevant documents that are not rows (they enter the ideal only). Read back with the data's document ids.
    /// </summary>
    public static (SubtopicJudgements Binary, SubtopicJudgements Graded, string[] DocumentIds) DiversityJudgements(ParityData data, int seed = 5)
    {
        var rng = new Random(seed);
        var ids = Enumerable.Range(0, data.RowCount).Select(i => $"doc{i:D5}").ToArray();
        var lines = new System.Text.StringBuilder();
        for (int q = 0; q < data.QueryCount; q++)
        {
            if (q == 2) continue;   // one query the file does not name: left out of the mean
            int subtopics = 1 + rng.Next(5);
            for (int r = data.Offsets[q]; r < data.Offsets[q + 1]; r++)
                foreach (int t in Enumerable.Range(0, subtopics).Where(_ => rng.Next(4) == 0).Take(3))
                    lines.Append(q).Append(' ').Append(t + 1).Append(' ').Append(ids[r]).Append(' ').Append(rng.Next(4) == 0 ? 0 : 1 + rng.Next(3)).Append('\n');
            for (int extra = rng.Next(3); extra > 0; extra--)
                lines.Append(q).Append(' ').Append(1 + rng.Next(subtopics)).Append(' ').Append($"zz-unretrieved-{q}-{extra}").Append(" 1\n");
        }
        lines.Append("9999 1 doc-elsewhere 1\n");
        string path = Path.Combine(Path.GetTempPath(), $"ranking-parity-subtopics-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllText(path, lines.ToString());
            long[] queryIds = Enumerable.Range(0, data.QueryCount).Select(q => (long)q).ToArray();
            return (SubtopicJudgements.Read(path, queryIds, data.Offsets, ids), SubtopicJudgements.Read(path, queryIds, data.Offsets, ids, binary: false), ids);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// alpha-NDCG / alpha-DCG per query against the CPU evaluator, on <see cref="DiversityJudgements"/> (binary and
    /// graded); <paramref name="sorted"/> forces the segmented-sort ranking instead of counting.
    /// </summary>
    public static ParityResult CheckDiversityMetrics(GpuDevice device, ParityData data, NdcgContract contract, bool sorted = false)
    {
        var metrics = MetricSpec.ParseList(DiversityMetricList);
        var (binary, graded, ids) = DiversityJudgements(data);
        var backend = new GpuMetricsBackend(device) { SortFrom = sorted ? 0 : int.MaxValue, TopKMaxQueryLength = sorted ? 0 : int.MaxValue };
        double worst = 0;
        string detail = "";
        foreach (var (label, judgements) in new[] { ("binary", binary), ("graded", graded) })
        {
            var cpu = RankingEvaluator.Evaluate(data.Labels, data.Offsets, null, data.Scores, metrics, contract, documentIds: ids, subtopics: judgements).PerQuery;
            var gpu = RankingEvaluator.Evaluate(backend, data.Labels, data.Offsets, null, data.Scores, metrics, contract, documentIds: ids, subtopics: judgements).PerQuery;
            WorstPerQuery(metrics, cpu, gpu, data.QueryCount, $" ({label})", ref worst, ref detail);
        }
        return new ParityResult($"diversity metrics{(sorted ? ", sorted" : "")} [{contract.Name}: {Describe(contract)}]", worst <= Tolerance, worst, worst <= Tolerance ? "" : detail);
    }

    /// <summary>
    /// The largest relative difference between per-query metric values of the two paths (NaN on both sides is equal,
    /// on one side infinitely far), raising <paramref name="worst"/> and naming the metric and query in <paramref name="detail"/>.
    /// </summary>
    private static void WorstPerQuery(IReadOnlyList<MetricSpec> metrics, IReadOnlyList<double[]> cpu, IReadOnlyList<double[]> gpu, int queryCount, string label, ref double worst, ref string detail)
    {
        for (int m = 0; m < metrics.Count; m++)
            for (int q = 0; q < queryCount; q++)
            {
                double c = cpu[m][q], g = gpu[m][q];
                double rel = double.IsNaN(c) || double.IsNaN(g) ? (double.IsNaN(c) && double.IsNaN(g) ? 0 : double.PositiveInfinity) : Relative(c, g, 0);
                if (rel > worst) { worst = rel; detail = $"worst {metrics[m].Name}{label} query {q}: cpu {c:R} gpu {g:R}"; }
            }
    }

    public static ParityResult CheckMetrics(GpuDevice device, ParityData data, NdcgContract contract, bool sorted = false)
    {
        var metrics = MetricSpec.ParseList(MetricList);
        // Document ids for the docno tie policy: repeats on purpose (equal ids keep input order).
        var docIds = Enumerable.Range(0, data.RowCount).Select(i => $"doc{i * 7919 % 997:D3}").ToArray();
        var cpu = RankingEvaluator.Evaluate(data.Labels, data.Offsets, null, data.Scores, metrics, contract, documentIds: docIds).PerQuery;
        var backend = new GpuMetricsBackend(device) { SortFrom = sorted ? 0 : int.MaxValue, TopKMaxQueryLength = sorted ? 0 : int.MaxValue };
        var gpu = RankingEvaluator.Evaluate(backend, data.Labels, data.Offsets, null, data.Scores, metrics, contract, documentIds: docIds).PerQuery;
        double worst = 0;
        string detail = "";
        WorstPerQuery(metrics, cpu, gpu, data.QueryCount, "", ref worst, ref detail);
        return new ParityResult($"metrics{(sorted ? ", sorted" : "")} [{contract.Name}: {Describe(contract)}]", worst <= Tolerance, worst, worst <= Tolerance ? "" : detail);
    }

    public static IEnumerable<ParityResult> CheckObjective(GpuDevice device, ParityData data, string label, IRankingObjective objective) =>
        CheckObjective(data, label, objective, GpuObjectives.TryCreate(device, objective), null);

    /// <summary>The objective on the CPU against its twin's kernel (see <see cref="Objectives"/>), learned state included.</summary>
    public static IEnumerable<ParityResult> CheckObjective(GpuDevice device, ParityData data, ParityObjective entry)
    {
        var twin = entry.Twin();
        return CheckObjective(data, entry.Label, entry.Objective, GpuObjectives.TryCreate(device, twin), twin);
    }

    /// <summary>
    /// The long-query forms, forced on the parity data: all and truncated pairs (RankNet, RankSVM, contrastive
    /// pairs) a thread per row, and ListMLE with its order from the segmented sort.
    /// </summary>
    public static IEnumerable<ParityResult> CheckRowParallelPairs(GpuDevice device, ParityData data)
    {
        foreach (var (label, objective, twin) in Objectives())
        {
            bool pairs = objective is IPairwiseObjective { Pairs.PairsPerRow: 0 };
            bool sortsByKey = objective is IQueryLossObjective body && body.Accept(new WorkOf()) == QueryWork.SortsByKey;
            if (!pairs && !sortsByKey) continue;
            var gpuSide = twin();
            var kernel = GpuObjectives.TryCreate(device, gpuSide, rowParallelFrom: 0);
            foreach (var result in CheckObjective(data, label + (pairs ? ", a thread per row" : ", order by segmented sort"), objective, kernel, gpuSide))
                yield return result;
        }
    }

    private sealed class WorkOf : IQueryLossVisitor<QueryWork>
    {
        public QueryWork Visit<TLoss>(IQueryLossObjective objective, TLoss loss) where TLoss : struct, IQueryLoss => loss.Work;
    }

    /// <summary>LambdaRank with its ranks from the segmented sort (the path of sets with long queries) on every set.</summary>
    public static IEnumerable<ParityResult> CheckSortedLambdaRank(GpuDevice device, ParityData data)
    {
        var objective = new LambdaRankObjective(new LambdaRankOptions { Truncation = 5 });
        return CheckObjective(data, "lambdarank truncation=5, ranks by segmented sort", objective, new GpuLambdaRank(device, objective) { SortRanksFrom = 0 }, null);
    }

    /// <summary>
    /// Loss, gradients and Hessians of <paramref name="objective"/> against <paramref name="kernel"/>'s, without and
    /// with query weights (the weighted call also passes display positions, which the click objectives read);
    /// when the kernel computes for a <paramref name="twin"/> that learns from every call, the biases both learned
    /// must agree too.
    /// </summary>
    private static IEnumerable<ParityResult> CheckObjective(ParityData data, string label, IRankingObjective objective, GpuObjectiveKernel? kernel, IRankingObjective? twin)
    {
        if (kernel is null)
        {
            yield return new ParityResult(label, false, double.PositiveInfinity, "no kernel for this objective");
            yield break;
        }
        using var gpuObjective = new GpuObjective(kernel);
        foreach (bool weighted in new[] { false, true })
        {
            var batch = new ObjectiveBatch(data.Labels, data.Scores, data.Offsets, weighted ? data.QueryWeights : null, iteration: 3)
            {
                Positions = weighted ? data.Positions : null,
            };
            var cpuGrad = new float[data.RowCount];
            var cpuHess = new float[data.RowCount];
            var gpuGrad = new float[data.RowCount];
            var gpuHess = new float[data.RowCount];
            double cpuLoss = objective.Compute(batch, cpuGrad, cpuHess);
            double gpuLoss = gpuObjective.Compute(batch, gpuGrad, gpuHess);
            double lossRel = Relative(cpuLoss, gpuLoss, 1e-12);
            var (gradRel, gradDetail) = Compare(cpuGrad, gpuGrad, data.Offsets);
            var (hessRel, hessDetail) = Compare(cpuHess, gpuHess, data.Offsets);
            var (stateRel, stateDetail) = CompareLearned(objective, twin);
            double worst = Math.Max(Math.Max(lossRel, stateRel), Math.Max(gradRel, hessRel));
            string detail = lossRel > Tolerance ? $"loss cpu {cpuLoss:R} gpu {gpuLoss:R}" : gradRel > Tolerance ? "gradient " + gradDetail
                : hessRel > Tolerance ? "hessian " + hessDetail : stateRel > Tolerance ? "learned " + stateDetail : "";
            yield return new ParityResult($"{label}{(weighted ? " (query weights)" : "")}", worst <= Tolerance, worst, detail);
        }
    }

    /// <summary>
    /// The ranks LambdaRank's first kernel finds must be the CPU's stable sort order exactly: by counting, or
    /// (<paramref name="sorted"/>) by the segmented radix sort that sets with long queries use.
    /// </summary>
    public static ParityResult CheckRanks(GpuDevice device, ParityData data, bool sorted = false)
    {
        using var kernel = new GpuLambdaRank(device, new LambdaRankObjective()) { SortRanksFrom = sorted ? 0 : int.MaxValue };
        using var set = new DeviceQuerySet(device, data.Labels, data.Offsets);
        set.UploadScores(data.Scores);
        kernel.Compute(set, 0);
        var gpuRanks = new int[data.RowCount];
        device.Download(set.RowBuffer<int>(Workspace.Ranks), gpuRanks);
        int mismatches = 0;
        string detail = "";
        for (int q = 0; q < data.QueryCount; q++)
        {
            int start = data.Offsets[q], n = data.Offsets[q + 1] - start;
            var keys = new ulong[n];
            for (int i = 0; i < n; i++) keys[i] = RankingMath.DescendingScoreKey(data.Scores[start + i], i);
            Array.Sort(keys);
            for (int r = 0; r < n; r++)
            {
                int row = start + RankingMath.KeyIndex(keys[r]);
                if (gpuRanks[row] != r)
                {
                    if (mismatches++ == 0) detail = $"query {q} row {row}: cpu rank {r}, gpu {gpuRanks[row]}";
                }
            }
        }
        return new ParityResult(sorted ? "ranks (stable by score, segmented sort)" : "ranks (stable by score, counting)", mismatches == 0, mismatches, detail);
    }

    /// <summary>
    /// The MLP on the device against Ranking.Models' training pass and Ranking.Training's Adam: scores of a
    /// forward pass, parameter gradients of a backward pass, parameters after two Adam steps.
    /// </summary>
    public static ParityResult CheckMlp(GpuDevice device, int[] hidden, int seed)
    {
        const int features = 7, rows = 37;
        var rng = new Random(seed);
        var x = Enumerable.Range(0, rows * features).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var scoreGradients = Enumerable.Range(0, rows).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var model = new Ranking.Models.MlpModel(features, hidden, 0f, (ulong)seed);
        if (hidden.Length == 0)
            for (int i = 0; i < model.Parameters.Length; i++) model.Parameters[i] = (float)(rng.NextDouble() - 0.5);
        var initial = (float[])model.Parameters.Clone();
        using var gpu = new GpuDenseNetwork(device, features, hidden, initial, rows);
        var pass = model.CreateTrainingPass(rows, 1);
        var adam = new Ranking.Training.AdamOptimizer(model.Parameters.Length);
        var cpuScores = new float[rows];
        var cpuGrad = new float[model.Parameters.Length];
        var gpuScores = new float[rows];
        float[] gpuGrad = [];
        double worst = 0;
        string detail = "";
        void Track(string what, float[] cpu, float[] gpuValues)
        {
            var (rel, d) = Compare(cpu, gpuValues, [0, cpu.Length]);
            if (rel > worst) { worst = rel; detail = what + " " + d; }
        }
        using var xs = device.Upload(x);
        using var scores = device.Accelerator.Allocate1D<float>(rows);
        using var dS = device.Upload(scoreGradients);
        for (int step = 0; step < 2; step++)
        {
            pass.Forward(x, rows, cpuScores, training: false, 0);
            var scaled = scoreGradients.Select(g => g * 0.5f).ToArray();
            pass.Backward(scaled, rows, cpuGrad);
            adam.Step(model.Parameters, cpuGrad, 0.01f);
            lock (device.Sync)
            {
                gpu.Forward(xs.View, rows, scores.View);
                device.Download(scores.View, gpuScores);
                gpu.Backward(xs.View, dS.View, 0.5f, rows);
                gpuGrad = gpu.DownloadGradients();
                gpu.AdamStep(0.01f);
            }
            Track($"step {step} scores", cpuScores, gpuScores);
            Track($"step {step} gradients", cpuGrad, gpuGrad);
            Track($"step {step} parameters after Adam", model.Parameters, gpu.DownloadParameters());
        }
        string name = $"mlp {Ranking.Models.DenseNetwork.Describe(features, hidden)}: forward, backward, Adam";
        return new ParityResult(name, worst <= Tolerance, worst, worst <= Tolerance ? "" : detail);
    }

    /// <summary>What an objective learns across calls (unbiased LambdaMART's t+ and t-), CPU objective against the twin the device computed for.</summary>
    private static (double Worst, string Detail) CompareLearned(IRankingObjective cpu, IRankingObjective? twin)
    {
        if (cpu is not UnbiasedLambdaRankObjective a || twin is not UnbiasedLambdaRankObjective b) return (0, "");
        double worst = 0;
        string detail = "";
        foreach (var (name, x, y) in new[] { ("t+", a.ClickPropensities, b.ClickPropensities), ("t-", a.NonClickPropensities, b.NonClickPropensities) })
            for (int p = 0; p < x.Count; p++)
            {
                double rel = Relative(x[p], y[p], 1e-12);
                if (rel > worst) { worst = rel; detail = $"{name} position {p + 1}: cpu {x[p]:R} gpu {y[p]:R}"; }
            }
        return (worst, detail);
    }

    private static string Describe(NdcgContract c) => $"gain={c.Gain} ties={c.Ties} empty={c.EmptyQuery} discount={c.Discount.Key}";

    private static double Relative(double a, double b, double floor)
    {
        double diff = Math.Abs(a - b);
        if (diff == 0) return 0;
        return diff / Math.Max(Math.Max(Math.Abs(a), Math.Abs(b)), floor);
    }

    /// <summary>Worst relative difference, each value's scale floored at 0.1 x the query's largest magnitude.</summary>
    private static (double Worst, string Detail) Compare(float[] cpu, float[] gpu, int[] offsets)
    {
        double worst = 0;
        string detail = "";
        for (int q = 0; q + 1 < offsets.Length; q++)
        {
            double scale = 0;
            for (int i = offsets[q]; i < offsets[q + 1]; i++) scale = Math.Max(scale, Math.Max(Math.Abs(cpu[i]), Math.Abs(gpu[i])));
            for (int i = offsets[q]; i < offsets[q + 1]; i++)
            {
                if (float.IsNaN(cpu[i]) || float.IsNaN(gpu[i]) || float.IsInfinity(gpu[i]))
                {
                    if (!(float.IsNaN(cpu[i]) && float.IsNaN(gpu[i]))) { worst = double.PositiveInfinity; detail = $"row {i}: cpu {cpu[i]} gpu {gpu[i]}"; }
                    continue;
                }
                double rel = Relative(cpu[i], gpu[i], Math.Max(0.1 * scale, 1e-30));
                if (rel > worst) { worst = rel; detail = $"row {i} (query {q}): cpu {cpu[i]:R} gpu {gpu[i]:R}"; }
            }
        }
        return (worst, detail);
    }
}
