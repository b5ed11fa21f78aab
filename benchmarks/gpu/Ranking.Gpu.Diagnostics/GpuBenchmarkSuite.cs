using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ranking.Gpu.Kernels;
using Ranking.Metrics;
using Ranking.Objectives;

namespace Ranking.Gpu.Diagnostics;

/// <summary>One measured workload: CPU path vs the device.</summary>
public sealed record BenchmarkRow(string Workload, int Rows, int Queries, double CpuMs, double GpuMs, double GpuWithTransfersMs, string Note)
{
    public double Speedup => CpuMs / GpuMs;
}

/// <summary>
/// CPU path vs GPU path with a Stopwatch: one warm-up run (JIT, kernel compile, first allocation), then
/// the median of up to <see cref="Repeats"/> runs, stopping early once a workload has used
/// <see cref="SecondsPerMeasurement"/> (so 10M-row CPU runs stay affordable; a warm-up longer than that is
/// itself the measurement). The CPU path is the
/// library's managed code with <see cref="CpuThreads"/> threads. GPU times are device-resident (scores
/// already on the device, results left there, as inside a training loop: launches + synchronise) and,
/// separately, with the transfers a caller holding host arrays pays (scores up, results down).
/// </summary>
public sealed class GpuBenchmarkSuite(GpuDevice device, TextWriter log)
{
    public int CpuThreads { get; init; } = 2;
    public int Repeats { get; init; } = 5;
    public double SecondsPerMeasurement { get; init; } = 8;
    /// <summary>The MLP epoch on the CPU is skipped above this many rows (it takes minutes at 10M).</summary>
    public int MlpCpuMaxRows { get; init; } = 1_000_000;
    /// <summary>Queries per batch of the MLP epochs: the trainer's default 16, and a larger batch that amortises the device's per-batch launches.</summary>
    public IReadOnlyList<int> MlpBatchQueries { get; init; } = [16, 256];

    public List<BenchmarkRow> Results { get; } = new();

    /// <summary>Runs every workload at every size; <paramref name="afterSize"/> is called after each size (write partial results).</summary>
    public void Run(IEnumerable<int> sizes, Action? afterSize = null, bool includeMlp = true)
    {
        foreach (int rows in sizes)
        {
            var clock = Stopwatch.StartNew();
            var data = MslrLikeWorkload.Generate(rows, withFeatures: false);
            log.WriteLine($"# {data.RowCount:N0} rows, {data.QueryCount:N0} queries generated in {clock.Elapsed.TotalSeconds:F1} s");
            using (var set = new DeviceQuerySet(device, data.Labels, data.Offsets))
            {
                set.UploadScores(data.Scores);
                Guard("NDCG@10", () => Ndcg(data, set));
                Guard("LambdaRank", () => Objective("LambdaRank gradients", data, set, new LambdaRankObjective()));
                Guard("ListNet", () => Objective("ListNet gradients", data, set, new ListNetObjective()));
            }
            if (includeMlp) Guard("MLP epoch", () => Mlp(rows));
            afterSize?.Invoke();
        }
    }

    /// <summary>
    /// Long queries (every query <paramref name="queryLength"/> rows): NDCG@10, MAP and LambdaRank with their
    /// ranks from the segmented sort that such sets take and, for comparison, from the top-k kernel or
    /// counting (O(n^2) per query); truncated RankNet with a thread per row; ListMLE with its order sorted.
    /// </summary>
    public void RunLongQueries(int rows, int queryLength)
    {
        var data = MslrLikeWorkload.Generate(rows, withFeatures: false, queryLength: queryLength);
        log.WriteLine($"# long queries: {data.RowCount:N0} rows in {data.QueryCount:N0} queries of {queryLength:N0}");
        using var set = new DeviceQuerySet(device, data.Labels, data.Offsets);
        set.UploadScores(data.Scores);
        string suffix = $", queries of {queryLength:N0} rows";
        Guard("NDCG@10 long (sorted)", () => Ndcg(data, set, suffix + ", sorted ranks", topKMaxQueryLength: 0));
        Guard("NDCG@10 long (top-k)", () => Ndcg(data, set, suffix + ", top-k kernel", topKMaxQueryLength: int.MaxValue));
        Guard("MAP long (sorted)", () => Metric(data, set, "map", $"MAP{suffix}, sorted ranks", 0));
        Guard("MAP long (counting)", () => Metric(data, set, "map", $"MAP{suffix}, counted ranks", int.MaxValue));
        var objective = new LambdaRankObjective();
        Guard("LambdaRank long (sorted)", () => Objective($"LambdaRank gradients{suffix}, sorted ranks", data, set, objective,
            new GpuLambdaRank(device, objective) { SortRanksFrom = 0 }));
        Guard("LambdaRank long (counting)", () => Objective($"LambdaRank gradients{suffix}, counted ranks", data, set, objective,
            new GpuLambdaRank(device, objective) { SortRanksFrom = int.MaxValue }));
        // Before the row-parallel pair kernel, a set like this went to the CPU objective whole (queries over 4,096 rows).
        var rankNet = new RankNetObjective(new RankNetOptions { Pairs = new PairSelection { Truncation = 30 } });
        Guard("RankNet long", () => Objective($"RankNet gradients (truncation 30){suffix}, a thread per row", data, set, rankNet));
        Guard("ListMLE long", () => Objective($"ListMLE gradients{suffix}, order by segmented sort", data, set, new ListMleObjective()));
    }

    private const int EmbeddingSteps = 2; // compared (and timed) batches per embedding workload; times are per batch

    /// <summary>
    /// Metric learning's large batches (issue 14): the batch loss and its gradient with respect to the embeddings
    /// (SupCon over all pairs, and triplet with semi-hard mining; cosine, d = <paramref name="dim"/>) at each
    /// batch size on both paths, then SupCon with a cross-batch memory of <paramref name="memory"/> entries,
    /// full when measured. Each row says how far the device's loss and gradient are from the CPU's (the issue
    /// asks for 1e-4) and samples/s on both paths. "rows" is the batch, "queries" the references each
    /// anchor is compared with. The device time includes the embeddings' upload and the gradient's download,
    /// as a training loop on host embeddings pays them.
    /// </summary>
    public void RunEmbeddings(IReadOnlyList<int> batches, int dim = 128, int memory = 65_536, int memoryBatch = 1_024)
    {
        var supCon = new Ranking.Embeddings.BatchLossOptions { Loss = "supcon", Miner = "all", Distance = Ranking.Embeddings.EmbeddingDistance.Cosine };
        var semiHard = new Ranking.Embeddings.BatchLossOptions { Loss = "triplet", Miner = "semihard", Distance = Ranking.Embeddings.EmbeddingDistance.Cosine, Margin = 0.2f };
        // Warm-up: JIT on the CPU, kernel compilation on the device.
        EmbeddingParity.CompareBatchLoss(device, supCon, 64, dim, 8, threads: CpuThreads);
        EmbeddingParity.CompareBatchLoss(device, semiHard, 64, dim, 8, threads: CpuThreads);
        foreach (int batch in batches)
        {
            // P x K batches as the sampler makes them: 8 items per class on average.
            int classes = Math.Max(2, batch / 8);
            Guard($"SupCon batch {batch}", () => AddEmbedding(EmbeddingParity.CompareBatchLoss(device, supCon, batch, dim, classes, steps: EmbeddingSteps, threads: CpuThreads), batch, batch));
            Guard($"semi-hard batch {batch}", () => AddEmbedding(EmbeddingParity.CompareBatchLoss(device, semiHard, batch, dim, classes, steps: EmbeddingSteps, threads: CpuThreads), batch, batch));
        }
        if (memory > 0)
        {
            int fill = (memory + memoryBatch - 1) / memoryBatch;
            Guard($"SupCon memory {memory}", () => AddEmbedding(EmbeddingParity.CompareBatchLoss(device, supCon, memoryBatch, dim, Math.Max(2, memoryBatch / 8),
                memory: memory, steps: EmbeddingSteps, threads: CpuThreads, fillSteps: fill), memoryBatch, memory));
        }
    }

    private void AddEmbedding(EmbeddingParity.Result r, int batch, int references)
    {
        double cpuMs = r.CpuSeconds * 1000 / EmbeddingSteps, gpuMs = r.GpuSeconds * 1000 / EmbeddingSteps;
        double relativeLoss = r.LossDifference / Math.Max(1, Math.Abs(r.CpuLoss));
        bool match = relativeLoss <= 1e-4 && r.GradientDifference <= 1e-4;
        string note = $"{(match ? "match" : "MISMATCH")}: loss differs by {relativeLoss:E1} (relative), gradient by at most {r.GradientDifference:E1}; "
            + $"samples/s cpu {batch / (cpuMs / 1000):N0} gpu {batch / (gpuMs / 1000):N0}; GPU time includes upload and download";
        var row = new BenchmarkRow($"{r.Name}: loss + d/d embeddings", batch, references, cpuMs, gpuMs, gpuMs, note);
        Results.Add(row);
        log.WriteLine($"{row.Workload,-48} cpu {Format(cpuMs),10} ms  gpu {Format(gpuMs),10} ms  x{Format(row.Speedup)}  {note}");
    }

    /// <summary>One workload's failure (a kernel the device rejects, memory) is logged; the others still run.</summary>
    private void Guard(string name, Action workload)
    {
        try { workload(); }
        catch (Exception ex) { log.WriteLine($"FAILED {name}: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}"); }
    }

    private void Ndcg(MslrLikeWorkload data, DeviceQuerySet set, string suffix = "", int topKMaxQueryLength = MetricKernels.TopKMaxQueryLength) =>
        Metric(data, set, "ndcg@10", $"NDCG@10 (default contract){suffix}", SortedRankKernels.DefaultSortFrom, topKMaxQueryLength);

    private void Metric(MslrLikeWorkload data, DeviceQuerySet set, string metric, string name, int sortFrom, int topKMaxQueryLength = MetricKernels.TopKMaxQueryLength)
    {
        var metrics = MetricSpec.ParseList(metric);
        var contract = NdcgContract.Default;
        double cpu = Measure(() => RankingEvaluator.Evaluate(data.Labels, data.Offsets, null, data.Scores, metrics, contract, CpuThreads));
        var gpuMetrics = new GpuMetricsBackend(device) { SortFrom = sortFrom, TopKMaxQueryLength = topKMaxQueryLength };
        double gpu = Measure(() => gpuMetrics.ComputePerQuery(set, set.Scores.View, metrics, contract, 4));
        double withTransfers = Measure(() => gpuMetrics.ComputePerQuery(data.Labels, data.Offsets, data.Scores, metrics, contract, 4));
        // The same answer on both paths, or the timing means nothing.
        double cpuMean = RankingEvaluator.Evaluate(data.Labels, data.Offsets, null, data.Scores, metrics, contract, CpuThreads).MeanValues[0];
        double gpuMean = gpuMetrics.ComputePerQuery(set, set.Scores.View, metrics, contract, 4)[0].Average();
        Add(name, data, cpu, gpu, withTransfers, $"mean cpu {cpuMean:F6} gpu {gpuMean:F6}; GPU time includes per-query values download");
    }

    private void Objective(string name, MslrLikeWorkload data, DeviceQuerySet set, IRankingObjective objective, GpuObjectiveKernel? chosenKernel = null)
    {
        var grad = new float[data.RowCount];
        var hess = new float[data.RowCount];
        var batch = new ObjectiveBatch(data.Labels, data.Scores, data.Offsets, null, 0, CpuThreads);
        double cpu = Measure(() => objective.Compute(batch, grad, hess));
        var kernel = chosenKernel ?? GpuObjectives.TryCreate(device, objective) ?? throw new InvalidOperationException($"no kernel for {objective.Name}");
        using var gpuObjective = new GpuObjective(kernel);
        double gpu = Measure(() =>
        {
            lock (device.Sync)
            {
                kernel.Launch(set, set.All, 0);
                device.Synchronize();
            }
        });
        var gpuGrad = new float[data.RowCount];
        var gpuHess = new float[data.RowCount];
        double withTransfers = Measure(() => gpuObjective.Compute(batch, gpuGrad, gpuHess));
        double maxDiff = 0, maxAbs = 0;
        for (int i = 0; i < grad.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(grad[i] - gpuGrad[i]));
            maxAbs = Math.Max(maxAbs, Math.Abs(grad[i]));
        }
        Add(name, data, cpu, gpu, withTransfers, $"max |grad diff| / max |grad| = {maxDiff / Math.Max(maxAbs, 1e-30):E1}");
    }

    private void Mlp(int rows)
    {
        var clock = Stopwatch.StartNew();
        var data = MslrLikeWorkload.Generate(rows, withFeatures: true);
        log.WriteLine($"# {data.RowCount:N0} rows with {MslrLikeWorkload.FeatureCount} features generated in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (int batchQueries in MlpBatchQueries)
        {
            using var epoch = new MlpEpochBenchmark(device, data, CpuThreads, batchQueries);
            double cpu = data.RowCount <= MlpCpuMaxRows ? Measure(epoch.RunCpuEpoch, maxRuns: 2) : double.NaN;
            double gpu = Measure(epoch.RunGpuEpoch, maxRuns: 3);
            Add($"MLP epoch ({epoch.Describe()})", data, cpu, gpu, double.NaN,
                (double.IsNaN(cpu) ? $"CPU epoch not run above {MlpCpuMaxRows:N0} rows; " : "") + "features resident on the device");
        }
    }

    private void Add(string name, MslrLikeWorkload data, double cpu, double gpu, double withTransfers, string note)
    {
        var row = new BenchmarkRow(name, data.RowCount, data.QueryCount, cpu, gpu, withTransfers, note);
        Results.Add(row);
        log.WriteLine($"{name,-32} {data.RowCount,11:N0} rows  cpu {Format(cpu),10} ms  gpu {Format(gpu),10} ms  (+transfers {Format(withTransfers)} ms)  x{Format(row.Speedup)}  {note}");
    }

    /// <summary>Median wall time in ms: one warm-up, then up to Repeats runs within the time cap.</summary>
    private double Measure(Action action, int? maxRuns = null)
    {
        var clock = Stopwatch.StartNew();
        action();
        double warmup = clock.Elapsed.TotalMilliseconds;
        // A run this long is dominated by the work, not by JIT or kernel compilation: it is the measurement.
        if (warmup > SecondsPerMeasurement * 1000) return warmup;
        var times = new List<double>();
        int runs = maxRuns ?? Repeats;
        double spent = warmup;
        while (times.Count < runs && (times.Count == 0 || spent < SecondsPerMeasurement * 1000))
        {
            clock.Restart();
            action();
            double ms = clock.Elapsed.TotalMilliseconds;
            times.Add(ms);
            spent += ms;
        }
        times.Sort();
        return times[times.Count / 2];
    }

    private static string Format(double v) => double.IsNaN(v) ? "n/a" : v >= 100 ? v.ToString("F0", CultureInfo.InvariantCulture) : v.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>The results as a markdown table.</summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Device: {device.Description}. CPU path: managed code, {CpuThreads} threads. Median of up to {Repeats} runs after a warm-up.");
        sb.AppendLine();
        sb.AppendLine($"| workload | rows | queries | CPU ({CpuThreads} thr) ms | GPU ms (device-resident) | GPU ms (with transfers) | speedup | check |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---|");
        foreach (var r in Results)
            sb.AppendLine($"| {r.Workload} | {r.Rows:N0} | {r.Queries:N0} | {Format(r.CpuMs)} | {Format(r.GpuMs)} | {Format(r.GpuWithTransfersMs)} | {(double.IsNaN(r.Speedup) ? "n/a" : Format(r.Speedup) + "x")} | {r.Note} |");
        return sb.ToString();
    }
}
