using Ranking.Compute;
using Ranking.Embeddings;
using Ranking.Gpu.Diagnostics;

namespace Ranking.Gpu.Tests;

/// <summary>
/// The user-facing embedding paths on the GPU backend (kernels on ILGPU's CPU accelerator here) against the managed CPU:
/// <see cref="EmbeddingTrainer"/>, <see cref="PairTrainer"/> and the evaluators given a backend must give the CPU's numbers
/// (per-epoch loss and spread, final parameters to 1e-4; retrieval metrics equal). Sizes are tiny: the CPU accelerator is slow.
/// </summary>
public sealed class EmbeddingBackendTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static GpuComputeBackend Gpu() => new(TestDevice.Cpu);

    private static (LabelledItems Train, LabelledItems Valid) Classes()
    {
        var set = SyntheticClasses.Generate(new SyntheticClassOptions { Classes = 12, ItemsPerClass = 6, Dimension = 6, LatentDimension = 3, Seed = 5 }).Items;
        return SyntheticClasses.SplitByClass(set, 8);
    }

    private static EmbeddingTrainerOptions Options(string loss, string miner, int memory = 0) => new()
    {
        Loss = new BatchLossOptions { Loss = loss, Miner = miner, Distance = EmbeddingDistance.Cosine },
        Hidden = [8], Dimension = 4, Epochs = 2, BatchSize = 16, PerClass = 4, MaxBatchesPerEpoch = 3, Memory = memory, Threads = 1, LearningRate = 1e-2,
    };

    private void AssertSameTraining(EmbeddingModel cpu, EmbeddingModel gpu)
    {
        double worstLoss = 0;
        Assert.Equal(cpu.Events.Count, gpu.Events.Count);
        Assert.Equal(cpu.Collapsed, gpu.Collapsed);
        for (int e = 0; e < cpu.Events.Count; e++)
        {
            var (a, b) = (cpu.Events[e], gpu.Events[e]);
            Assert.True(Math.Abs(a.Loss - b.Loss) <= 1e-4, $"epoch {a.Epoch} loss: cpu {a.Loss}, gpu {b.Loss}");
            worstLoss = Math.Max(worstLoss, Math.Abs(a.Loss - b.Loss));
            Assert.True(Math.Abs(a.Spread - b.Spread) <= 1e-4, $"epoch {a.Epoch} spread: cpu {a.Spread}, gpu {b.Spread}");
            Assert.Equal(a.MapAtR, b.MapAtR, 6);
            Assert.Equal(a.PrecisionAt1, b.PrecisionAt1, 6);
            Assert.Equal(a.Mrr, b.Mrr, 6);
        }
        float[] p = cpu.Encoder.Network.Parameters, q = gpu.Encoder.Network.Parameters;
        Assert.Equal(p.Length, q.Length);
        double worst = 0;
        for (int k = 0; k < p.Length; k++) worst = Math.Max(worst, Math.Abs(p[k] - q[k]));
        Assert.True(worst <= 1e-4, $"largest parameter difference {worst}");
        output.WriteLine($"{cpu.Options!.Loss.Loss}/{cpu.Options.Loss.Miner}, memory {cpu.Options.Memory}: largest epoch-loss difference {worstLoss:G3}, parameter difference {worst:G3}");
        // The training moved the weights (a comparison of two untouched models would prove nothing).
        var initial = EmbeddingEncoder.Create(cpu.Encoder.InputCount, [8], 4, true, (ulong)cpu.Options!.Seed).Network.Parameters;
        Assert.Contains(Enumerable.Range(0, p.Length), k => Math.Abs(p[k] - initial[k]) > 1e-3);
    }

    [Theory]
    [InlineData("supcon", "all", 0)]
    [InlineData("triplet", "semihard", 0)]
    [InlineData("supcon", "all", 32)]
    [InlineData("sampled-softmax", "all", 32)]
    [InlineData("multisim", "multisim", 0)]
    [InlineData("proxy-nca", "all", 0)]
    public void Training_on_the_gpu_backend_gives_the_cpu_numbers(string loss, string miner, int memory)
    {
        var (train, valid) = Classes();
        var options = Options(loss, miner, memory);
        var cpu = EmbeddingTrainer.Train(train, options, valid);
        using var backend = Gpu();
        var gpu = EmbeddingTrainer.Train(train, options, valid, backend: backend);
        Assert.All(cpu.Events, e => Assert.True(double.IsFinite(e.Loss) && e.Loss > 0 && double.IsFinite(e.MapAtR)));
        AssertSameTraining(cpu, gpu);
        if (cpu.Proxies is not null)
        {
            float[] a = cpu.Proxies.Vectors, b = gpu.Proxies!.Vectors;
            for (int k = 0; k < a.Length; k++) Assert.True(Math.Abs(a[k] - b[k]) <= 1e-4, $"proxy value {k}: cpu {a[k]}, gpu {b[k]}");
        }
    }

    [Fact]
    public void The_device_memory_step_matches_the_host_memory_step_batch_by_batch()
    {
        var options = new BatchLossOptions { Loss = "sampled-softmax", Temperature = 0.5f };
        using var cpu = EmbeddingBackends.Cpu.CreateEmbeddingLoss(options, memory: 10, dimension: 3);
        using var backend = Gpu();
        using var gpu = backend.CreateEmbeddingLoss(options, memory: 10, dimension: 3);
        float[] classLogQ = [-1.2f, -0.4f, -2f];
        for (int step = 0; step < 4; step++)
        {
            var (e, labels) = EmbeddingParity.RandomBatch(4, 3, 3, step + 20, normalise: true);
            float[] gc = new float[12], gg = new float[12];
            int[] sc = new int[4], sg = new int[4];
            double lc = cpu.ComputeAgainstMemory(e, labels, 4, 3, gc, step, sc, classLogQ);
            double lg = gpu.ComputeAgainstMemory(e, labels, 4, 3, gg, step, sg, classLogQ);
            Assert.Equal(sc, sg);
            Assert.Equal(cpu.MemoryCount, gpu.MemoryCount);
            Assert.Equal(Math.Min(10, 4 * (step + 1)), gpu.MemoryCount);
            Assert.Equal(lc, lg, 5);
            for (int k = 0; k < 12; k++) Assert.True(Math.Abs(gc[k] - gg[k]) <= 1e-5, $"step {step} gradient {k}: cpu {gc[k]}, gpu {gg[k]}");
            Assert.Equal(cpu.LastStatistics.Terms, gpu.LastStatistics.Terms);
            Assert.Equal(cpu.LastStatistics.MeanRowSpread, gpu.LastStatistics.MeanRowSpread, 5);
            Assert.Equal(cpu.LastStatistics.MeanFarness, gpu.LastStatistics.MeanFarness, 5);
            var (rc, rg) = (cpu.MemoryReferences, gpu.MemoryReferences);
            Assert.Equal(rc.Labels.AsSpan(0, rc.Count).ToArray(), rg.Labels.AsSpan(0, rg.Count).ToArray());
            Assert.Equal(rc.LogQ!.AsSpan(0, rc.Count).ToArray(), rg.LogQ!.AsSpan(0, rg.Count).ToArray());
            // The collapse check reads only labels, slots and log q: the same value from the device step's references.
            var collapse = new BatchLoss(options);
            Assert.Equal(collapse.LossAtCollapse(labels, 4, rc, 0.3f, step), collapse.LossAtCollapse(labels, 4, rg, 0.3f, step), 10);
        }
    }

    [Fact]
    public void Two_towers_and_one_shared_encoder_on_the_gpu_backend_give_the_cpu_numbers()
    {
        var set = SyntheticPairs.Generate(new SyntheticPairOptions { Items = 12, Queries = 60, QueryFeatures = 4, ItemFeatures = 4, Seed = 9 });
        var pairs = new PairSet(set.Queries, set.Items, set.Train);
        var held = new PairSet(set.Queries, set.Items, set.HeldOut);
        var training = new EmbeddingTrainerOptions
        {
            Loss = new BatchLossOptions { Loss = "sampled-softmax", Temperature = 0.5f }, Hidden = [8], Dimension = 4, Epochs = 2, BatchSize = 8,
            MaxBatchesPerEpoch = 3, Threads = 1, LearningRate = 1e-2,
        };
        using var backend = Gpu();
        var cpuTowers = PairTrainer.TrainTwoTowers(pairs, training, held);
        var gpuTowers = PairTrainer.TrainTwoTowers(pairs, training, held, backend: backend);
        AssertSameTraining(cpuTowers, gpuTowers);
        float[] a = cpuTowers.Tower(EmbeddingTower.Item).Network.Parameters, b = gpuTowers.Tower(EmbeddingTower.Item).Network.Parameters;
        for (int k = 0; k < a.Length; k++) Assert.True(Math.Abs(a[k] - b[k]) <= 1e-4, $"item tower parameter {k}: cpu {a[k]}, gpu {b[k]}");

        var shared = training with { Loss = new BatchLossOptions { Loss = "supcon" } };
        AssertSameTraining(PairTrainer.TrainShared(pairs, shared, held), PairTrainer.TrainShared(pairs, shared, held, backend: backend));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Evaluation_through_the_backend_equals_the_cpu_evaluation(bool leaveOneOut)
    {
        var (queries, labels) = EmbeddingParity.RandomBatch(40, 4, 5, 3, normalise: true);
        var (references, referenceLabels) = EmbeddingParity.RandomBatch(50, 4, 5, 4, normalise: true);
        using var backend = Gpu();
        var options = new RetrievalOptions { Threads = 1 };
        var cpu = leaveOneOut
            ? RetrievalEvaluator.Evaluate(queries, labels, 4, EmbeddingDistance.Cosine, options: options)
            : RetrievalEvaluator.Evaluate(queries, labels, 4, EmbeddingDistance.Cosine, references, referenceLabels, options);
        var gpu = leaveOneOut
            ? RetrievalEvaluator.Evaluate(queries, labels, 4, EmbeddingDistance.Cosine, options: options with { Backend = backend })
            : RetrievalEvaluator.Evaluate(queries, labels, 4, EmbeddingDistance.Cosine, references, referenceLabels, options with { Backend = backend });
        Assert.True(cpu.MapAtR > 0);
        Assert.Equal(cpu.K, gpu.K);
        Assert.Equal(cpu.PerQueryMapAtR, gpu.PerQueryMapAtR);
        Assert.Equal(cpu.PerQueryPrecisionAt1, gpu.PerQueryPrecisionAt1);
        Assert.Equal(cpu.RPrecision, gpu.RPrecision);
        Assert.Equal(cpu.Mrr, gpu.Mrr);
        Assert.Equal(cpu.KnnAccuracy, gpu.KnnAccuracy);
        Assert.Equal(cpu.RecallAt, gpu.RecallAt);
    }
}
