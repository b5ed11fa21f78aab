using Ranking.Embeddings;
using Ranking.Gpu.Diagnostics;

namespace Ranking.Gpu.Tests;

/// <summary>The metric-learning kernels against the CPU path, on the CPU accelerator at small sizes.</summary>
public class EmbeddingKernelTests
{
    public static TheoryData<string, string, string> Cases()
    {
        // Every loss, every miner and every distance at least once; a case the loops reach twice runs once.
        var cases = new List<(string Loss, string Miner, string Distance)>();
        foreach (string loss in BatchLossOptions.LossNames.Where(l => !new BatchLossOptions { Loss = l }.IsProxyLoss)) cases.Add((loss, "all", "cosine"));
        foreach (string miner in BatchLossOptions.MinerNames) cases.Add(("triplet", miner, "cosine"));
        cases.Add(("multisim", "multisim", "cosine"));
        cases.Add(("contrastive", "semihard", "cosine"));   // the semi-hard miner of the pair losses (the triplet loss mines in its own body)
        foreach (string distance in EmbeddingDistances.Names) { cases.Add(("contrastive", "all", distance)); cases.Add(("supcon", "batchhard", distance)); }
        var data = new TheoryData<string, string, string>();
        foreach (var (loss, miner, distance) in cases.Distinct()) data.Add(loss, miner, distance);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Batch_loss_and_gradient_match_the_cpu(string loss, string miner, string distance)
    {
        var options = new BatchLossOptions { Loss = loss, Miner = miner, Distance = EmbeddingDistances.Parse(distance), Margin = 0.2f, RandomNegatives = 3 };
        var result = EmbeddingParity.CompareBatchLoss(TestDevice.Cpu, options, batch: 24, dim: 6, classes: 5);
        Assert.True(result.CpuLoss > 0, $"{result.Name}: the test batch should have an active loss");
        Assert.True(result.LossDifference <= 1e-5 * Math.Max(1, Math.Abs(result.CpuLoss)), $"{result.Name}: loss {result.CpuLoss} vs {result.GpuLoss}");
        Assert.True(result.GradientDifference <= 1e-5, $"{result.Name}: gradient differs by {result.GradientDifference}");
    }

    public static TheoryData<string, string, int> ProxyCases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (string loss in new[] { "proxy-nca", "proxy-nce", "proxy-anchor" })
            foreach (string distance in EmbeddingDistances.Names)
                data.Add(loss, distance, distance == "cosine" ? 0 : 6);
        data.Add("proxy-nca", "cosine", 6);
        data.Add("proxy-anchor", "cosine", 6);
        return data;
    }

    /// <summary>The proxy losses with their batch step on the device (proxies as references, their gradient back) against the CPU.</summary>
    [Theory]
    [MemberData(nameof(ProxyCases))]
    public void Proxy_loss_and_both_gradients_match_the_cpu(string loss, string distance, int negatives)
    {
        var options = new BatchLossOptions { Loss = loss, Distance = EmbeddingDistances.Parse(distance), Temperature = 0.5f, ProxyAlpha = 4f, ProxyNegatives = negatives };
        var result = EmbeddingParity.CompareProxyLoss(TestDevice.Cpu, options, batch: 12, dim: 5, classes: 20, steps: 2);
        Assert.True(result.CpuLoss > 0, $"{result.Name}: the test batch should have an active loss");
        Assert.True(result.LossDifference <= 1e-5 * Math.Max(1, Math.Abs(result.CpuLoss)), $"{result.Name}: loss {result.CpuLoss} vs {result.GpuLoss}");
        Assert.True(result.GradientDifference <= 1e-5, $"{result.Name}: gradient differs by {result.GradientDifference}");
    }

    [Theory]
    [InlineData("supcon", "all")]
    [InlineData("triplet", "semihard")]
    [InlineData("sampled-softmax", "all")]
    public void Cross_batch_memory_on_the_device_matches_the_cpu_queue(string loss, string miner)
    {
        // Memory of 40 with batches of 16: after three steps it has wrapped (48 > 40), so eviction order matters.
        var options = new BatchLossOptions { Loss = loss, Miner = miner, Distance = EmbeddingDistance.Cosine };
        var result = EmbeddingParity.CompareBatchLoss(TestDevice.Cpu, options, batch: 16, dim: 5, classes: 4, memory: 40, steps: 3);
        Assert.True(result.LossDifference <= 1e-5 * Math.Max(1, Math.Abs(result.CpuLoss)), $"{result.Name}: loss {result.CpuLoss} vs {result.GpuLoss}");
        Assert.True(result.GradientDifference <= 1e-5, $"{result.Name}: gradient differs by {result.GradientDifference}");
    }

    [Fact]
    public void A_memory_filled_before_the_compared_step_matches_the_cpu_queue()
    {
        // The benchmark's way to a full 65,536-entry memory: batches that only fill it (device computes, CPU enqueues),
        // then a compared step. Three fills of 16 wrap a memory of 40, so the compared step sees evicted slots too.
        var options = new BatchLossOptions { Loss = "supcon", Miner = "all", Distance = EmbeddingDistance.Cosine };
        var result = EmbeddingParity.CompareBatchLoss(TestDevice.Cpu, options, batch: 16, dim: 5, classes: 4, memory: 40, steps: 1, fillSteps: 3);
        Assert.True(result.CpuLoss > 0, $"{result.Name}: the compared step should have an active loss");
        Assert.True(result.LossDifference <= 1e-5 * Math.Max(1, Math.Abs(result.CpuLoss)), $"{result.Name}: loss {result.CpuLoss} vs {result.GpuLoss}");
        Assert.True(result.GradientDifference <= 1e-5, $"{result.Name}: gradient differs by {result.GradientDifference}");
        // Without the fills the same step sees a memory of one batch: a different loss, so the fills did reach both queues.
        var unfilled = EmbeddingParity.CompareBatchLoss(TestDevice.Cpu, options, batch: 16, dim: 5, classes: 4, memory: 40, steps: 1);
        Assert.NotEqual(unfilled.CpuLoss, result.CpuLoss, 6);
    }

    /// <summary>
    /// The two-tower loss with its batch step on the device (the item tower's batch as references apart from the
    /// queries, its gradient back) against the CPU, one item twice in the batch and, for sampled-softmax, the log-Q
    /// correction; then two-tower training with the device step gives the CPU's towers.
    /// </summary>
    [Theory]
    [InlineData("ntxent", "cosine")]
    [InlineData("sampled-softmax", "cosine")]
    [InlineData("supcon", "l2")]
    [InlineData("sampled-softmax", "dot")]
    public void Two_tower_loss_and_both_gradients_match_the_cpu(string loss, string distance)
    {
        const int n = 10, dim = 5;
        var options = new BatchLossOptions { Loss = loss, Distance = EmbeddingDistances.Parse(distance), Temperature = 0.5f };
        var (queries, _) = EmbeddingParity.RandomBatch(n, dim, 3, 1, options.Distance.NeedsNormalisedInput());
        var (items, _) = EmbeddingParity.RandomBatch(n, dim, 3, 2, options.Distance.NeedsNormalisedInput());
        int[] itemRows = [0, 5, 2, 5, 1, 3, 4, 6, 7, 8];
        float[] logShare = Enumerable.Range(0, 9).Select(i => -0.3f * (i + 1)).ToArray();
        float[] cpuQ = new float[n * dim], cpuI = new float[n * dim], gpuQ = new float[n * dim], gpuI = new float[n * dim];
        double cpuLoss = new TwoTowerLoss(options, logShare, threads: 1).Compute(queries, items, itemRows, n, dim, cpuQ, cpuI, 0);
        using var device = new GpuBatchLoss(TestDevice.Cpu, options, memory: 0, dimension: dim);
        double gpuLoss = new TwoTowerLoss(options, logShare, step: device).Compute(queries, items, itemRows, n, dim, gpuQ, gpuI, 0);
        Assert.True(cpuLoss > 0);
        Assert.Equal(cpuLoss, gpuLoss, 5);
        for (int k = 0; k < n * dim; k++)
        {
            Assert.True(Math.Abs(cpuQ[k] - gpuQ[k]) <= 1e-5, $"query gradient {k}: cpu {cpuQ[k]}, gpu {gpuQ[k]}");
            Assert.True(Math.Abs(cpuI[k] - gpuI[k]) <= 1e-5, $"item gradient {k}: cpu {cpuI[k]}, gpu {gpuI[k]}");
        }
        Assert.Contains(cpuI, v => Math.Abs(v) > 1e-3f);

        var set = SyntheticPairs.Generate(new SyntheticPairOptions { Items = 12, Queries = 60, QueryFeatures = 4, ItemFeatures = 3, SameView = false, Seed = 9 });
        var pairs = new PairSet(set.Queries, set.Items, set.Train);
        var training = new EmbeddingTrainerOptions { Loss = options, Hidden = [6], Dimension = dim, Epochs = 1, BatchSize = 8, MaxBatchesPerEpoch = 3, Threads = 1 };
        var onCpu = PairTrainer.TrainTwoTowers(pairs, training);
        using var trainingDevice = new GpuBatchLoss(TestDevice.Cpu, options, memory: 0, dimension: dim);
        var onDevice = PairTrainer.TrainTwoTowers(pairs, training, step: trainingDevice);
        foreach (var tower in new[] { EmbeddingTower.Query, EmbeddingTower.Item })
        {
            float[] a = onCpu.Tower(tower).Network.Parameters, b = onDevice.Tower(tower).Network.Parameters;
            for (int k = 0; k < a.Length; k++) Assert.True(Math.Abs(a[k] - b[k]) <= 1e-4, $"{tower} tower parameter {k}: cpu {a[k]}, device {b[k]}");
        }
    }

    /// <summary>
    /// One device loss keeps its buffers across batches: batches of different sizes (large, small, larger still, small: a
    /// buffer reused through a slice, then grown) each equal a fresh CPU <see cref="BatchLoss"/> on the same batch. With a
    /// memory the references grow and wrap (24 + 7 + 30 > 40); without, every other batch runs against host references apart
    /// from the batch, of yet other sizes, with their gradient back.
    /// </summary>
    [Theory]
    [InlineData("triplet", "semihard", 0)]
    [InlineData("triplet", "semihard", 40)]
    [InlineData("contrastive", "semihard", 0)]
    [InlineData("contrastive", "semihard", 40)]
    [InlineData("supcon", "all", 0)]
    [InlineData("supcon", "all", 40)]
    public void One_device_loss_over_batches_of_different_sizes_matches_a_fresh_cpu_loss_each_time(string loss, string miner, int memory)
    {
        const int dim = 5, classes = 4;
        var options = new BatchLossOptions { Loss = loss, Miner = miner, Distance = EmbeddingDistance.Cosine, Margin = 0.2f };
        using var gpu = new GpuBatchLoss(TestDevice.Cpu, options, memory, dim);
        var cpuMemory = memory > 0 ? new CrossBatchMemory(memory, dim) : null;
        int[] sizes = [24, 7, 30, 5];
        int[] referenceSizes = [0, 33, 0, 9];
        for (int step = 0; step < sizes.Length; step++)
        {
            int n = sizes[step];
            var (e, labels) = EmbeddingParity.RandomBatch(n, dim, classes, 300 + step, normalise: true);
            float[] gCpu = new float[n * dim], gGpu = new float[n * dim];
            double cpuLoss, gpuLoss;
            string what = $"step {step} (batch {n})";
            if (cpuMemory is not null)
            {
                var slots = new int[n];
                cpuMemory.Enqueue(e, labels, n, slots);
                cpuLoss = new BatchLoss(options).Compute(e, labels, n, dim, cpuMemory.References(slots), gCpu, step);
                gpuLoss = gpu.Compute(e, labels, n, dim, gGpu, step);
                Assert.Equal(cpuMemory.Count, gpu.MemoryCount);
            }
            else if (referenceSizes[step] == 0)
            {
                var self = Enumerable.Range(0, n).ToArray();
                cpuLoss = new BatchLoss(options).Compute(e, labels, n, dim, new BatchReferences(e, labels, n, self, AreTheBatch: true), gCpu, step);
                gpuLoss = gpu.Compute(e, labels, n, dim, gGpu, step);
            }
            else
            {
                int m = referenceSizes[step];
                var (r, rl) = EmbeddingParity.RandomBatch(m, dim, classes, 700 + step, normalise: true);
                var references = new BatchReferences(r, rl, m, Enumerable.Repeat(-1, n).ToArray(), AreTheBatch: false);
                float[] rCpu = new float[m * dim], rGpu = new float[m * dim];
                cpuLoss = new BatchLoss(options).Compute(e, labels, n, dim, references, gCpu, step, rCpu);
                gpuLoss = gpu.Compute(e, labels, n, dim, references, gGpu, step, rGpu);
                for (int k = 0; k < rCpu.Length; k++) Assert.True(Math.Abs(rCpu[k] - rGpu[k]) <= 1e-5, $"{what} reference gradient {k}: cpu {rCpu[k]}, gpu {rGpu[k]}");
                Assert.Contains(rCpu, v => Math.Abs(v) > 1e-4f);
                what += $" against {m} references";
            }
            Assert.True(cpuLoss > 0, $"{what}: the test batch should have an active loss");
            Assert.True(Math.Abs(cpuLoss - gpuLoss) <= 1e-5 * Math.Max(1, Math.Abs(cpuLoss)), $"{what}: loss {cpuLoss} vs {gpuLoss}");
            for (int k = 0; k < gCpu.Length; k++) Assert.True(Math.Abs(gCpu[k] - gGpu[k]) <= 1e-5, $"{what} gradient {k}: cpu {gCpu[k]}, gpu {gGpu[k]}");
        }
    }

    [Fact]
    public void Device_memory_holds_the_same_queue_as_the_cpu_memory()
    {
        var options = new BatchLossOptions { Loss = "supcon" };
        using var gpu = new GpuBatchLoss(TestDevice.Cpu, options, memory: 10, dimension: 2);
        var cpu = new CrossBatchMemory(10, 2);
        var g = new float[8];
        for (int step = 0; step < 3; step++)
        {
            var (e, labels) = EmbeddingParity.RandomBatch(4, 2, 3, step, normalise: true);
            gpu.Compute(e, labels, 4, 2, g, step);
            cpu.Enqueue(e, labels, 4, new int[4]);
        }
        var (embeddings, memoryLabels) = gpu.MemoryContents();
        Assert.Equal(10, gpu.MemoryCount);
        Assert.Equal(cpu.Embeddings, embeddings);
        Assert.Equal(cpu.Labels, memoryLabels);
    }

    [Theory]
    [InlineData(EmbeddingDistance.SquaredL2, false)]
    [InlineData(EmbeddingDistance.Dot, true)]
    [InlineData(EmbeddingDistance.L2, true)]
    public void Nearest_neighbours_match_the_cpu_search_ties_included(EmbeddingDistance distance, bool leaveOneOut)
    {
        var random = new Random(2);
        const int dim = 3, n = 60;
        // Integer coordinates: exact products, many exact ties, broken by index on both paths.
        float[] refs = Enumerable.Range(0, n * dim).Select(_ => (float)random.Next(-2, 3)).ToArray();
        float[] queries = leaveOneOut ? refs : Enumerable.Range(0, 20 * dim).Select(_ => (float)random.Next(-2, 3)).ToArray();
        int nq = queries.Length / dim;
        var cpu = new ExactNearestNeighbourSearch(refs, n, dim, distance, threads: 1).Search(queries, nq, 7, leaveOneOut);
        using var search = new GpuNearestNeighbourSearch(TestDevice.Cpu, refs, n, dim, distance);
        var gpu = search.Search(queries, nq, 7, leaveOneOut);
        Assert.Equal(cpu.Indices, gpu.Indices);
        for (int i = 0; i < cpu.Values.Length; i++) Assert.Equal(cpu.Values[i], gpu.Values[i], 4);
    }

    [Fact]
    public void Retrieval_metrics_through_the_device_search_equal_the_cpu_ones()
    {
        var (e, labels) = EmbeddingParity.RandomBatch(80, 4, 6, 9, normalise: true);
        var cpu = RetrievalEvaluator.Evaluate(e, labels, 4, EmbeddingDistance.Cosine);
        using var search = new GpuNearestNeighbourSearch(TestDevice.Cpu, e, 80, 4, EmbeddingDistance.Cosine);
        var gpu = RetrievalEvaluator.Evaluate(search, e, labels, labels, leaveOneOut: true);
        Assert.Equal(cpu.MapAtR, gpu.MapAtR, 6);
        Assert.Equal(cpu.PrecisionAt1, gpu.PrecisionAt1, 6);
        Assert.Equal(cpu.RPrecision, gpu.RPrecision, 6);
    }
}
