using Ranking.Compute;
using Ranking.Gpu.Diagnostics;
using Ranking.Objectives;

namespace Ranking.Gpu.Tests;

public class DeviceLoopTests
{
    private static readonly ParityData Data = ParityData.Generate(seed: 5, randomQueries: 10, maxLength: 30);

    [Fact]
    public void A_device_resident_loop_uploads_nothing_and_downloads_one_loss_per_step()
    {
        // Its own device: other test classes run in parallel on the shared one and move its counters.
        using var device = GpuDevice.Open(AcceleratorPreference.CpuAccelerator)!;
        using var set = new DeviceQuerySet(device, Data.Labels, Data.Offsets, Data.QueryWeights);
        set.UploadScores(Data.Scores);
        using var kernel = new GpuLambdaRank(device, new LambdaRankObjective());
        long uploads = device.Transfers.Uploads, downloads = device.Transfers.Downloads;
        for (int step = 0; step < 3; step++) kernel.Compute(set, step);
        Assert.Equal(uploads, device.Transfers.Uploads);
        Assert.Equal(downloads + 3, device.Transfers.Downloads);
    }

    [Theory]
    [InlineData("lambdarank")]
    [InlineData("lambdarank-sorted")]
    [InlineData("listnet")]
    [InlineData("ranknet-truncated-rows")]
    [InlineData("listmle-sorted")]
    public void A_mini_batch_range_matches_the_cpu_on_that_batch(string name)
    {
        var device = TestDevice.Cpu;
        IRankingObjective cpu = name switch
        {
            "lambdarank" or "lambdarank-sorted" => new LambdaRankObjective(),
            "listnet" => new ListNetObjective(),
            "listmle-sorted" => new ListMleObjective { Seed = 4 },
            _ => new RankNetObjective(new RankNetOptions { Pairs = new PairSelection { Truncation = 3 } }),
        };
        // The long-query forms, here over a batch that starts mid-set: "lambdarank-sorted" takes its ranks
        // from the segmented sort, "ranknet-truncated-rows" runs its pairs a thread per row (ranks sorted too),
        // "listmle-sorted" sorts its seeded order.
        using GpuObjectiveKernel kernel = name switch
        {
            "lambdarank-sorted" => new GpuLambdaRank(device, (LambdaRankObjective)cpu) { SortRanksFrom = 0 },
            "ranknet-truncated-rows" or "listmle-sorted" => GpuObjectives.TryCreate(device, cpu, rowParallelFrom: 0)!,
            _ => GpuObjectives.TryCreate(device, cpu)!,
        };
        using var set = new DeviceQuerySet(device, Data.Labels, Data.Offsets, Data.QueryWeights);
        set.UploadScores(Data.Scores);
        int first = 3, count = 4;
        var range = set.Range(first, count);
        double gpuLoss = kernel.Compute(set, range, 0);
        var gpuGrad = new float[range.RowCount];
        device.Download(set.Gradients.View.SubView(range.FirstRow, range.RowCount), gpuGrad);

        int r0 = Data.Offsets[first];
        var offsets = Data.Offsets.Skip(first).Take(count + 1).Select(o => o - r0).ToArray();
        var labels = Data.Labels.AsSpan(r0, range.RowCount).ToArray();
        var scores = Data.Scores.AsSpan(r0, range.RowCount).ToArray();
        var weights = Data.QueryWeights.AsSpan(first, count).ToArray();
        var cpuGrad = new float[labels.Length];
        double cpuLoss = cpu.Compute(new ObjectiveBatch(labels, scores, offsets, weights), cpuGrad, new float[labels.Length]);
        Assert.Equal(cpuLoss, gpuLoss, 1e-9 * Math.Max(1, Math.Abs(cpuLoss)));
        double scale = cpuGrad.Max(Math.Abs);
        for (int i = 0; i < cpuGrad.Length; i++) Assert.True(Math.Abs(cpuGrad[i] - gpuGrad[i]) <= 1e-5 * scale, $"row {i}: cpu {cpuGrad[i]} gpu {gpuGrad[i]}");
    }

    [Fact]
    public void Results_repeat_bit_for_bit()
    {
        var objective = new GpuObjective(new GpuLambdaRank(TestDevice.Cpu, new LambdaRankObjective()));
        var batch = new ObjectiveBatch(Data.Labels, Data.Scores, Data.Offsets, Data.QueryWeights);
        var g1 = new float[Data.RowCount]; var h1 = new float[Data.RowCount];
        var g2 = new float[Data.RowCount]; var h2 = new float[Data.RowCount];
        double l1 = objective.Compute(batch, g1, h1);
        double l2 = objective.Compute(batch, g2, h2);
        Assert.Equal(l1, l2);
        Assert.Equal(g1, g2);
        Assert.Equal(h1, h2);
        objective.Dispose();
    }

    [Fact]
    public void Registered_backend_accelerates_known_objectives_and_passes_others_through()
    {
        GpuComputeBackend.Register();
        using var backend = ComputeBackends.Create(ComputeBackendKind.Gpu);
        Assert.Equal(ComputeBackendKind.Gpu, backend.Kind);
        var lambda = new LambdaRankObjective();
        Assert.True(backend.IsAccelerated(lambda));
        var accelerated = backend.Accelerate(lambda);
        Assert.IsType<GpuObjective>(accelerated);
        Assert.Equal("lambdarank", accelerated.Name);
        (accelerated as IDisposable)?.Dispose();
        Assert.Same(CpuComputeBackend.Instance, ComputeBackends.Create(ComputeBackendKind.Cpu));
    }

    [Fact]
    public void Backend_names_parse()
    {
        Assert.Equal(ComputeBackendKind.Auto, ComputeBackendKinds.Parse("AUTO"));
        Assert.Equal(ComputeBackendKind.Gpu, ComputeBackendKinds.Parse("gpu"));
        Assert.Throws<ArgumentException>(() => ComputeBackendKinds.Parse("tpu"));
    }
}

public class MlpEpochTests
{
    [Fact]
    public void An_mlp_epoch_on_the_device_ends_where_the_cpu_epoch_ends()
    {
        var data = MslrLikeWorkload.Generate(600, withFeatures: true, seed: 9);
        using var epoch = new MlpEpochBenchmark(TestDevice.Cpu, data, cpuThreads: 1);
        var before = (float[])epoch.CpuParameters.Clone();
        epoch.RunCpuEpoch();
        epoch.RunGpuEpoch();
        var cpu = epoch.CpuParameters;
        var gpu = epoch.GpuParameters();
        double moved = 0;
        for (int i = 0; i < cpu.Length; i++) moved = Math.Max(moved, Math.Abs(cpu[i] - before[i]));
        Assert.True(moved > 1e-4, $"the epoch did not train (largest change {moved})");
        // Adam divides by sqrt(v): where a gradient is ~1e-7 (a weight behind a rarely active unit) float
        // rounding of the two summation orders changes the step noticeably. Almost every parameter must
        // agree to 1% of the largest move (a sign flip of a ~1e-9 gradient moves one parameter the other way).
        int close = Enumerable.Range(0, cpu.Length).Count(i => Math.Abs(cpu[i] - gpu[i]) <= 0.01 * moved);
        Assert.True(close >= 0.99 * cpu.Length, $"{cpu.Length - close} of {cpu.Length} parameters differ by more than 1% of the largest move {moved}");
    }
}

public class TrainerOnDeviceTests
{
    [Fact]
    public void The_gradient_trainer_runs_its_epochs_on_the_device_and_ends_near_the_cpu()
    {
        var workload = MslrLikeWorkload.Generate(900, withFeatures: true, seed: 4);
        var data = new Ranking.Data.RankingDataset(workload.Features!, MslrLikeWorkload.FeatureCount, workload.Labels, workload.Offsets);
        var options = new Ranking.Training.GradientTrainerOptions { Hidden = [8], Epochs = 2, BatchQueries = 3, Seed = 5 };
        Ranking.Models.MlpModel Train(Ranking.Compute.IComputeBackend? compute)
        {
            var trainer = new Ranking.Training.GradientTrainer(options, seed => new LambdaRankObjective());
            var request = new Ranking.Training.TrainingRequest { Train = data, Options = new Ranking.Training.RankerOptions { Seed = 5, Compute = compute } };
            return (Ranking.Models.MlpModel)trainer.Train(request).Model;
        }
        using var device = GpuDevice.Open(AcceleratorPreference.CpuAccelerator)!;
        using var backend = new GpuComputeBackend(device);
        var cpu = Train(null).Parameters;
        long uploadedBefore = device.Transfers.UploadBytes;
        var gpu = Train(backend).Parameters;
        // The features went to the device once: the products ran there, not on the CPU.
        Assert.True(device.Transfers.UploadBytes - uploadedBefore >= (long)data.Features.Length * sizeof(float));
        double largest = cpu.Max(Math.Abs);
        int close = Enumerable.Range(0, cpu.Length).Count(i => Math.Abs(cpu[i] - gpu[i]) <= 1e-3 * largest);
        Assert.True(close >= 0.99 * cpu.Length, $"{cpu.Length - close} of {cpu.Length} parameters differ by more than 0.1% of the largest");
    }
}

public class LongQueryTests
{
    /// <summary>One query a row longer than the per-query loops' quadratic limit: grades 0..2, scores sin(i).</summary>
    private static (ObjectiveBatch Batch, int Rows) OneQueryPastTheLimit()
    {
        int n = GpuObjectives.QuadraticLimit + 1;
        var labels = Enumerable.Range(0, n).Select(i => (float)(i % 3)).ToArray();
        var scores = Enumerable.Range(0, n).Select(i => (float)Math.Sin(i)).ToArray();
        return (new ObjectiveBatch(labels, scores, [0, n]), n);
    }

    [Theory]
    [InlineData("triplet", false)]  // its per-query loop is O(n^2) in one thread, with no long-query form: the CPU computes it
    [InlineData("listmle", true)]   // its order comes from a segmented sort: it stays on the device
    public void A_query_past_the_quadratic_limit_matches_the_cpu(string name, bool onDevice)
    {
        var (batch, n) = OneQueryPastTheLimit();
        IRankingObjective cpu = name == "triplet" ? new TripletObjective() : new ListMleObjective { Seed = 1 };
        using var device = GpuDevice.Open(AcceleratorPreference.CpuAccelerator)!;
        using var gpu = new GpuObjective(GpuObjectives.TryCreate(device, cpu)!);
        long uploads = device.Transfers.Uploads;
        var g1 = new float[n]; var g2 = new float[n];
        double l1 = cpu.Compute(batch, g1, new float[n]);
        double l2 = gpu.Compute(batch, g2, new float[n]);
        Assert.Equal(onDevice, device.Transfers.Uploads > uploads);
        Assert.Equal(l1, l2, 1e-9 * Math.Max(1, Math.Abs(l1)));
        double scale = g1.Max(Math.Abs);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(g1[i] - g2[i]) <= 1e-5 * scale, $"row {i}: cpu {g1[i]} gpu {g2[i]}");
    }

    [Theory]
    [InlineData(new[] { 8, 5 }, 0.2f)]
    [InlineData(new int[0], 0f)]
    public void Dense_models_score_on_the_device_as_on_the_cpu(int[] hidden, float dropout)
    {
        const int features = 6, rows = 53;
        var rng = new Random(21);
        var x = Enumerable.Range(0, rows * features).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        var network = Ranking.Models.DenseNetwork.Create(features, hidden, dropout, seed: 5);
        for (int i = 0; i < network.Parameters.Length; i++) network.Parameters[i] = (float)(rng.NextDouble() - 0.5);
        var cpu = new float[rows];
        network.Predict(x, rows, cpu, threads: 1);
        // Chunks of 7 rows: the last one is partial, so the chunk loop's offsets are checked too.
        var backend = new GpuComputeBackend(TestDevice.Cpu) { PredictChunkRows = 7 };
        var gpu = new float[rows];
        Assert.True(backend.TryPredictDense(network, x, rows, gpu));
        double scale = cpu.Max(Math.Abs);
        for (int r = 0; r < rows; r++) Assert.True(Math.Abs(cpu[r] - gpu[r]) <= 1e-5 * scale, $"row {r}: cpu {cpu[r]} gpu {gpu[r]}");
        Assert.False(Ranking.Compute.CpuComputeBackend.Instance.TryPredictDense(network, x, rows, gpu));
    }
}
