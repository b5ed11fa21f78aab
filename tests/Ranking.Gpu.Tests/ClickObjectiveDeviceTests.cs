using Ranking.Data;
using Ranking.Gpu.Diagnostics;
using Ranking.Models;
using Ranking.Objectives;
using Ranking.Training;

namespace Ranking.Gpu.Tests;

/// <summary>
/// The click objectives on the device beyond one call (which GpuParity checks for every registered objective):
/// trainers that feed them mini-batch after mini-batch, the device-resident session's shuffled sets carrying the
/// per-row inputs, and unbiased LambdaMART learning its biases from device-computed costs.
/// </summary>
public class ClickObjectiveDeviceTests
{
    /// <summary>A click set: the workload's rows, clicks where the grade is 2 or more, shown in reverse row order.</summary>
    private static RankingDataset ClickSet(int rows, int? queryLength = null)
    {
        var workload = MslrLikeWorkload.Generate(rows, withFeatures: true, seed: 6, queryLength: queryLength);
        var clicks = workload.Labels.Select(y => y >= 2 ? 1f : 0f).ToArray();
        var positions = new int[clicks.Length];
        for (int q = 0; q + 1 < workload.Offsets.Length; q++)
            for (int r = workload.Offsets[q]; r < workload.Offsets[q + 1]; r++) positions[r] = workload.Offsets[q + 1] - r;
        return new RankingDataset(workload.Features!, MslrLikeWorkload.FeatureCount, clicks, workload.Offsets, positions: positions);
    }

    [Fact]
    public void A_batch_refilled_into_the_same_arrays_is_uploaded_again()
    {
        // A trainer reuses its batch arrays for every batch of the same size: the device must see the new rows.
        var data = ParityData.Generate(seed: 8, randomQueries: 6, maxLength: 20);
        var cpu = new RankNetObjective();
        using var gpu = new GpuObjective(GpuObjectives.TryCreate(TestDevice.Cpu, cpu)!);
        var labels = (float[])data.Labels.Clone();
        var g = new float[labels.Length];
        var expected = new float[labels.Length];
        gpu.Compute(new ObjectiveBatch(labels, data.Scores, data.Offsets), g, new float[labels.Length]);
        for (int i = 0; i < labels.Length; i++) labels[i] = 4 - labels[i];   // the same array, other grades
        gpu.Compute(new ObjectiveBatch(labels, data.Scores, data.Offsets), g, new float[labels.Length]);
        cpu.Compute(new ObjectiveBatch(labels, data.Scores, data.Offsets), expected, new float[labels.Length]);
        double scale = expected.Max(Math.Abs);
        for (int i = 0; i < g.Length; i++) Assert.True(Math.Abs(expected[i] - g[i]) <= 1e-5 * scale, $"row {i}: cpu {expected[i]} gpu {g[i]}");
    }

    private static (float[] Parameters, IRankingObjective Objective) Train(RankingDataset data, string objective, Ranking.Compute.IComputeBackend? compute, int queryBatch)
    {
        IRankingObjective? built = null;
        // No gradient clipping: plain Adam is what the device session runs, so the session takes the epochs when it can.
        var options = CoreRankers.LinearDefaults with { Epochs = 3, BatchQueries = queryBatch, Seed = 3, ClipNorm = 0 };
        var trainer = new GradientTrainer(options, seed => built = ObjectiveFactory.Create(objective, null, seed));
        var request = new TrainingRequest { Train = data, Options = new RankerOptions { Seed = 3, Compute = compute } };
        var model = (LinearModel)trainer.Train(request).Model;
        return (model.Parameters, built!);
    }

    /// <summary>
    /// The weights agree to 0.1% of the largest. The bias (last parameter) is left out: these losses do not change
    /// when every score shifts, so its gradient is a sum that cancels to rounding noise, which Adam's normalised
    /// step turns into a random walk that differs between any two summation orders.
    /// </summary>
    private static void AssertClose(float[] cpu, float[] gpu)
    {
        int weights = cpu.Length - 1;
        double largest = cpu.Take(weights).Max(Math.Abs);
        for (int i = 0; i < weights; i++) Assert.True(Math.Abs(cpu[i] - gpu[i]) <= 1e-3 * largest, $"weight {i}: cpu {cpu[i]} gpu {gpu[i]}");
    }

    [Theory]
    [InlineData("ipw-softmax")]
    [InlineData("ipw-lambdarank")]
    public void Ipw_training_in_the_device_session_ends_where_the_cpu_ends(string objective)
    {
        // The linear model's defaults need nothing the device session lacks, so every epoch (shuffled sets,
        // gathered click weights included) runs on the device.
        var data = ClickSet(900);
        using var device = GpuDevice.Open(AcceleratorPreference.CpuAccelerator)!;
        using var backend = new GpuComputeBackend(device);
        using (var session = backend.TryStartDenseTraining(data, [], new LinearModel(data.FeatureCount).Parameters, ObjectiveFactory.Create(objective), 4))
            Assert.NotNull(session);
        var (cpu, _) = Train(data, objective, null, 4);
        long uploaded = device.Transfers.UploadBytes;
        var (gpu, _) = Train(data, objective, backend, 4);
        Assert.True(device.Transfers.UploadBytes - uploaded >= (long)data.Features.Length * sizeof(float), "the features never went to the device");
        Assert.Contains(cpu, p => p != 0);
        AssertClose(cpu, gpu);
    }

    [Fact]
    public void Unbiased_lambdarank_learns_the_same_biases_from_device_computed_costs()
    {
        // It learns on the host after every call, so the trainer computes each batch on the device and hands the
        // costs back; queries of one length make every batch refill the same arrays.
        var data = ClickSet(600, queryLength: 12);
        using var device = GpuDevice.Open(AcceleratorPreference.CpuAccelerator)!;
        using var backend = new GpuComputeBackend(device);
        Assert.Null(backend.TryStartDenseTraining(data, [], new LinearModel(data.FeatureCount).Parameters, new UnbiasedLambdaRankObjective(), 5));
        var (cpu, cpuObjective) = Train(data, "unbiased-lambdarank", null, 5);
        long downloads = device.Transfers.Downloads;
        var (gpu, gpuObjective) = Train(data, "unbiased-lambdarank", backend, 5);
        Assert.True(device.Transfers.Downloads > downloads);
        AssertClose(cpu, gpu);
        var a = ((UnbiasedLambdaRankObjective)cpuObjective).ClickPropensities;
        var b = ((UnbiasedLambdaRankObjective)gpuObjective).ClickPropensities;
        // Clicks here follow the grades alone, so the biases move away from 1 without a trend by position.
        Assert.Contains(a.Skip(1), t => Math.Abs(t - 1) > 1e-3);
        for (int p = 0; p < a.Count; p++) Assert.Equal(a[p], b[p], 1e-6);
    }
}
