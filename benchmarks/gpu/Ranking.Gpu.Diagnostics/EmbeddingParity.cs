using Ranking.Embeddings;

namespace Ranking.Gpu.Diagnostics;

/// <summary>
/// The device's batch losses and kNN search against the CPU's on the same random batch: the largest
/// absolute difference of the loss and of d loss / d embeddings, and the time of each (used by the parity
/// tests on the CPU accelerator at small sizes and by the CPU-vs-GPU benchmark on a real device).
/// </summary>
public static class EmbeddingParity
{
    /// <summary>One comparison's outcome.</summary>
    public sealed record Result(string Name, double LossDifference, double GradientDifference, double CpuSeconds, double GpuSeconds, double CpuLoss, double GpuLoss);

    /// <summary>A seeded batch: unit vectors (for cosine) in <paramref name="classes"/> classes.</summary>
    public static (float[] Embeddings, int[] Labels) RandomBatch(int count, int dim, int classes, int seed, bool normalise)
    {
        var random = new Random(seed);
        var e = new float[count * dim];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = random.Next(classes);
            for (int k = 0; k < dim; k++) e[i * dim + k] = (float)(random.NextDouble() * 2 - 1) + (labels[i] % dim == k ? 1.5f : 0f);
        }
        if (normalise) EmbeddingDistances.NormaliseRows(e, count, dim, new float[count]);
        return (e, labels);
    }

    /// <summary>
    /// Loss and gradient of <paramref name="options"/> on both paths for <paramref name="steps"/> batches (the memory, when
    /// given, fills over the steps on both sides alike); the worst differences over the steps. With a memory,
    /// <paramref name="fillSteps"/> batches go first that only fill it: the device computes them (its queue fills as in
    /// training), the CPU only enqueues them, and neither is compared or timed; a large memory is then full when the
    /// compared steps run.
    /// </summary>
    public static Result CompareBatchLoss(GpuDevice device, BatchLossOptions options, int batch, int dim, int classes, int memory = 0, int steps = 1, int threads = -1, int fillSteps = 0)
    {
        var cpu = new BatchLoss(options, threads);
        using var gpu = new GpuBatchLoss(device, options, memory, dim);
        var cpuMemory = memory > 0 ? new CrossBatchMemory(memory, dim) : null;
        double worstLoss = 0, worstGradient = 0, cpuSeconds = 0, gpuSeconds = 0, cpuLoss = 0, gpuLoss = 0;
        var slots = new int[batch];
        var self = Enumerable.Range(0, batch).ToArray();
        var gCpu = new float[batch * dim];
        var gGpu = new float[batch * dim];
        for (int fill = 0; fill < (memory > 0 ? fillSteps : 0); fill++)
        {
            var (e, labels) = RandomBatch(batch, dim, classes, 10_000 + fill, options.Distance.NeedsNormalisedInput());
            cpuMemory!.Enqueue(e, labels, batch, slots);
            gpu.Compute(e, labels, batch, dim, gGpu, fill);
        }
        for (int step = 0; step < steps; step++)
        {
            var (e, labels) = RandomBatch(batch, dim, classes, 100 + step, options.Distance.NeedsNormalisedInput());
            var clock = System.Diagnostics.Stopwatch.StartNew();
            BatchReferences refs;
            if (cpuMemory is null) refs = new BatchReferences(e, labels, batch, self, AreTheBatch: true);
            else { cpuMemory.Enqueue(e, labels, batch, slots); refs = cpuMemory.References(slots); }
            cpuLoss = cpu.Compute(e, labels, batch, dim, refs, gCpu, fillSteps + step);
            cpuSeconds += clock.Elapsed.TotalSeconds;
            clock.Restart();
            gpuLoss = gpu.Compute(e, labels, batch, dim, gGpu, fillSteps + step);
            gpuSeconds += clock.Elapsed.TotalSeconds;
            worstLoss = Math.Max(worstLoss, Math.Abs(cpuLoss - gpuLoss));
            for (int i = 0; i < gCpu.Length; i++) worstGradient = Math.Max(worstGradient, Math.Abs(gCpu[i] - gGpu[i]));
        }
        string name = $"{options.Loss}+{options.Miner} {options.Distance.Name()} batch {batch}{(memory > 0 ? $" memory {memory}" : "")}";
        return new Result(name, worstLoss, worstGradient, cpuSeconds, gpuSeconds, cpuLoss, gpuLoss);
    }

    /// <summary>
    /// A proxy loss (<see cref="ProxyLoss"/>: proxy-nca, proxy-nce, proxy-anchor) with its batch step on the CPU and on the
    /// device, over the same proxies, batches and draws: the worst differences of the loss and of both gradients
    /// (embeddings and selected proxies; the proxy gradient's difference is folded into <see cref="Result.GradientDifference"/>).
    /// </summary>
    public static Result CompareProxyLoss(GpuDevice device, BatchLossOptions options, int batch, int dim, int classes, int steps = 1, int threads = -1)
    {
        bool normalise = options.Distance.NeedsNormalisedInput();
        var proxies = ClassProxies.Create(classes, dim, 7);
        var cpu = new ProxyLoss(options, new ClassProxies((float[])proxies.Vectors.Clone(), classes, dim), normalise, threads);
        using var step = new GpuBatchLoss(device, options);
        var gpu = new ProxyLoss(options, new ClassProxies((float[])proxies.Vectors.Clone(), classes, dim), normalise, threads, step);
        double worstLoss = 0, worstGradient = 0, cpuSeconds = 0, gpuSeconds = 0, cpuLoss = 0, gpuLoss = 0;
        var gCpu = new float[batch * dim];
        var gGpu = new float[batch * dim];
        for (int s = 0; s < steps; s++)
        {
            var (e, labels) = RandomBatch(batch, dim, classes, 300 + s, normalise);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            cpuLoss = cpu.Compute(e, labels, batch, dim, gCpu, s);
            cpuSeconds += clock.Elapsed.TotalSeconds;
            clock.Restart();
            gpuLoss = gpu.Compute(e, labels, batch, dim, gGpu, s);
            gpuSeconds += clock.Elapsed.TotalSeconds;
            if (!cpu.Selected.SequenceEqual(gpu.Selected)) throw new InvalidOperationException("the two paths drew different proxies.");
            worstLoss = Math.Max(worstLoss, Math.Abs(cpuLoss - gpuLoss));
            for (int i = 0; i < gCpu.Length; i++) worstGradient = Math.Max(worstGradient, Math.Abs(gCpu[i] - gGpu[i]));
            for (int i = 0; i < cpu.SelectedCount * dim; i++) worstGradient = Math.Max(worstGradient, Math.Abs(cpu.SelectedGradient[i] - gpu.SelectedGradient[i]));
        }
        string name = $"{options.Loss} {options.Distance.Name()} batch {batch}, {classes} classes, {(options.ProxyNegatives == 0 ? "all" : options.ProxyNegatives.ToString(System.Globalization.CultureInfo.InvariantCulture))} negatives";
        return new Result(name, worstLoss, worstGradient, cpuSeconds, gpuSeconds, cpuLoss, gpuLoss);
    }
}
