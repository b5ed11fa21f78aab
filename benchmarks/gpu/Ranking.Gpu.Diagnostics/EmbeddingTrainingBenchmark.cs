using System.Globalization;
using Ranking.Compute;
using Ranking.Embeddings;

namespace Ranking.Gpu.Diagnostics;

/// <summary>
/// The user-facing training path timed end to end: <see cref="EmbeddingTrainer.Train"/> with a compute backend, the call
/// <c>ranking embed train --backend gpu</c> makes (P x K sampler, the encoder on the host, the batch loss and its
/// cross-batch memory on the backend, Adam), on the seeded many-class synthetic set; the same training on the managed CPU
/// after it, and the two compared (epoch loss and final parameters, to 1e-4). Samples/s are the trainer's own (its epoch
/// events: items over the epoch's wall-clock seconds, every upload and download included).
/// </summary>
public static class EmbeddingTrainingBenchmark
{
    /// <summary>One training's outcome on both backends (CPU figures NaN when the CPU run was skipped).</summary>
    /// <param name="Name">The workload, e.g. "supcon batch 8192 memory 65536, 10 batches".</param>
    /// <param name="Batch">Items per batch.</param>
    /// <param name="Memory">Cross-batch memory entries (0 = none).</param>
    /// <param name="Batches">Batches trained.</param>
    /// <param name="Backend">The device backend's description.</param>
    /// <param name="DeviceSamplesPerSecond">Samples/s of the training on the device backend.</param>
    /// <param name="CpuSamplesPerSecond">Samples/s of the same training on the managed CPU.</param>
    /// <param name="LossDifference">Largest absolute difference of an epoch's mean loss between the two.</param>
    /// <param name="ParameterDifference">Largest absolute difference of a final encoder parameter between the two.</param>
    public sealed record Result(string Name, int Batch, int Memory, int Batches, string Backend, double DeviceSamplesPerSecond, double CpuSamplesPerSecond,
        double LossDifference, double ParameterDifference)
    {
        /// <summary>True when both ran and agree to 1e-4.</summary>
        public bool Matches => LossDifference <= 1e-4 && ParameterDifference <= 1e-4;

        /// <summary>One markdown table row.</summary>
        public string ToMarkdownRow() => string.Create(CultureInfo.InvariantCulture,
            $"| {Name} | {DeviceSamplesPerSecond:N0} | {(double.IsNaN(CpuSamplesPerSecond) ? "-" : CpuSamplesPerSecond.ToString("N0", CultureInfo.InvariantCulture))} | {(double.IsNaN(LossDifference) ? "-" : $"{LossDifference:E1} / {ParameterDifference:E1} {(Matches ? "match" : "MISMATCH")}")} |");
    }

    /// <summary>The markdown table's header.</summary>
    public const string MarkdownHeader = "| embed train (EmbeddingTrainer.Train) | device samples/s | CPU samples/s | loss / parameter difference |\n|---|---:|---:|---|";

    /// <summary>
    /// The synthetic set for a batch: enough items for <paramref name="batches"/> batches in one epoch, 8 items per class
    /// (the sampler takes 4 items of batch / 4 classes per batch), <paramref name="features"/> features.
    /// </summary>
    public static LabelledItems Items(int batch, int batches, int features, ulong seed = 42)
    {
        int classes = Math.Max(8, (batch * batches + 7) / 8);
        return SyntheticClasses.Generate(new SyntheticClassOptions
        {
            Classes = classes, ItemsPerClass = 8, Dimension = features, LatentDimension = Math.Min(16, features), Seed = seed,
        }).Items;
    }

    /// <summary>
    /// SupCon (cosine, all pairs) with an MLP <paramref name="features"/>-<paramref name="hidden"/>-<paramref name="dimension"/>,
    /// <paramref name="batches"/> batches of <paramref name="batch"/> and a memory of <paramref name="memory"/> entries:
    /// first on <paramref name="device"/>, then (with <paramref name="compareWithCpu"/>) on the managed CPU with <paramref name="cpuThreads"/> threads.
    /// <paramref name="log"/> gets the device's figure as soon as it is known.
    /// </summary>
    public static Result Run(IComputeBackend device, int batch, int memory, int batches, TextWriter log, bool compareWithCpu = true, int cpuThreads = -1,
        int features = 64, int hidden = 256, int dimension = 128)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(log);
        var items = Items(batch, batches, features);
        var options = new EmbeddingTrainerOptions
        {
            Loss = new BatchLossOptions { Loss = "supcon", Miner = "all", Distance = EmbeddingDistance.Cosine },
            Hidden = [hidden], Dimension = dimension, Epochs = 1, BatchSize = batch, MaxBatchesPerEpoch = batches, Memory = memory, Threads = cpuThreads,
            Collapse = new CollapseDetection { Enabled = false },
        };
        string name = string.Create(CultureInfo.InvariantCulture, $"supcon batch {batch}{(memory > 0 ? $" memory {memory}" : "")}, {batches} batches");
        var onDevice = EmbeddingTrainer.Train(items, options, valid: null, backend: device);
        double deviceRate = SamplesPerSecond(onDevice);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"embed train {name} on {device.Description}: {deviceRate:N0} samples/s"));
        if (!compareWithCpu) return new Result(name, batch, memory, batches, device.Description, deviceRate, double.NaN, double.NaN, double.NaN);
        var onCpu = EmbeddingTrainer.Train(items, options, valid: null, backend: CpuComputeBackend.Instance);
        double lossDifference = 0, parameterDifference = 0;
        for (int e = 0; e < Math.Min(onCpu.Events.Count, onDevice.Events.Count); e++)
            lossDifference = Math.Max(lossDifference, Math.Abs(onCpu.Events[e].Loss - onDevice.Events[e].Loss));
        if (onCpu.Events.Count != onDevice.Events.Count) lossDifference = double.PositiveInfinity;
        float[] a = onCpu.Encoder.Network.Parameters, b = onDevice.Encoder.Network.Parameters;
        for (int k = 0; k < a.Length; k++) parameterDifference = Math.Max(parameterDifference, Math.Abs(a[k] - b[k]));
        var result = new Result(name, batch, memory, batches, device.Description, deviceRate, SamplesPerSecond(onCpu), lossDifference, parameterDifference);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"embed train {name} on the CPU ({CpuComputeBackend.Instance.Description}): {result.CpuSamplesPerSecond:N0} samples/s; loss differs by {lossDifference:E1}, parameters by {parameterDifference:E1}: {(result.Matches ? "match" : "MISMATCH")}"));
        return result;
    }

    private static double SamplesPerSecond(EmbeddingModel model)
    {
        var epochs = model.Events.Where(e => e.Warning is null).ToList();
        return epochs.Sum(e => (double)e.Samples) / Math.Max(epochs.Sum(e => e.Seconds), 1e-9);
    }
}
