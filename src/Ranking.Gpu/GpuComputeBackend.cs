using Ranking.Compute;
using Ranking.Metrics;
using Ranking.Objectives;

namespace Ranking.Gpu;

/// <summary>
/// The ILGPU compute path: objectives and metrics as kernels on one <see cref="GpuDevice"/> (CUDA, then
/// OpenCL, then ILGPU's CPU accelerator). <see cref="Register"/> makes it what
/// <see cref="ComputeBackends.Create"/> returns for Gpu and (with a real GPU) Auto. For metric learning it is also an
/// <see cref="Ranking.Embeddings.IEmbeddingComputeBackend"/> (the device batch loss with its memory, and kNN search).
/// </summary>
public sealed class GpuComputeBackend : IComputeBackend, Ranking.Embeddings.IEmbeddingComputeBackend
{
    private readonly bool _ownsDevice;

    /// <summary>A backend on <paramref name="device"/>; with <paramref name="ownsDevice"/> it disposes the device with itself.</summary>
    public GpuComputeBackend(GpuDevice device, bool ownsDevice = false)
    {
        Device = device ?? throw new ArgumentNullException(nameof(device));
        _ownsDevice = ownsDevice;
        Metrics = new GpuMetricsBackend(device);
    }

    /// <summary>The device every kernel of this backend runs on.</summary>
    public GpuDevice Device { get; }

    /// <summary>Always <see cref="ComputeBackendKind.Gpu"/>, also on ILGPU's CPU accelerator.</summary>
    public ComputeBackendKind Kind => ComputeBackendKind.Gpu;

    /// <summary>The accelerator's type and name, with a warning when it is ILGPU's CPU accelerator rather than a GPU.</summary>
    public string Description => Device.IsRealGpu
        ? Device.Description
        : $"{Device.Description} (no GPU found: ILGPU's CPU accelerator, correct but slow)";

    /// <summary>Metrics computed on the device (<see cref="GpuMetricsBackend"/>).</summary>
    public IMetricsBackend Metrics { get; }

    /// <summary>Registers the factory with <see cref="ComputeBackends"/> (idempotent). Devices are shared per process.</summary>
    public static void Register() => ComputeBackends.RegisterGpu(requireRealGpu =>
    {
        var device = GpuDevice.Shared(requireRealGpu ? AcceleratorPreference.RealGpuOnly : AcceleratorPreference.BestAvailable);
        return device is null ? null : new GpuComputeBackend(device);
    });

    /// <summary>its device kernel wrapped as an objective (<see cref="GpuObjective"/>) when one exists, else <paramref name="objective"/> itself (computed on the CPU).</summary>
    public IRankingObjective Accelerate(IRankingObjective objective)
    {
        ArgumentNullException.ThrowIfNull(objective);
        var kernel = GpuObjectives.TryCreate(Device, objective);
        return kernel is null ? objective : new GpuObjective(kernel);
    }

    /// <summary>None: the device session runs Adam with no dropout, weight decay or clipping.</summary>
    public DenseTrainingFeatures DenseTrainingFeatures => DenseTrainingFeatures.None;

    /// <summary>
    /// A <see cref="GpuMlpSession"/> over the uploaded set (with the objective's per-row inputs, e.g. IPW's click
    /// weights from the set's positions); null when the objective has no kernel or learns from every call on the host.
    /// </summary>
    public IDeviceTrainingSession? TryStartDenseTraining(Ranking.Data.RankingDataset train, IReadOnlyList<int> hidden, float[] parameters, IRankingObjective objective, int batchQueries)
    {
        ArgumentNullException.ThrowIfNull(train);
        using var probe = GpuObjectives.TryCreate(Device, objective);
        int longest = 0;
        for (int q = 0; q < train.QueryCount; q++) longest = Math.Max(longest, train.QueryLength(q));
        if (probe is null || longest > probe.MaxQueryLength || probe.LearnsFromEachCall) return null;
        var set = new DeviceQuerySet(Device, train.Labels, train.GroupOffsets, train.QueryWeights, train.Features, train.FeatureCount);
        try
        {
            probe.Prepare(set, new ObjectiveBatch(train.Labels, new float[train.RowCount], train.GroupOffsets, train.QueryWeights) { Positions = train.Positions });
            return new GpuMlpSession(set, objective, hidden, (float[])parameters.Clone(), batchQueries, ownsSet: true);
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    /// <summary>Rows scored per upload: bounds device memory (features and activations of one chunk) for any set size.</summary>
    public int PredictChunkRows { get; init; } = 1 << 16;

    /// <summary>The network's forward pass on the device (<see cref="GpuDenseNetwork"/>), a chunk of rows at a time.</summary>
    public bool TryPredictDense(Ranking.Models.DenseNetwork network, float[] features, int rowCount, float[] scores)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(scores);
        int inputs = network.InputCount;
        if (features.LongLength < (long)rowCount * inputs || scores.Length < rowCount)
            throw new ArgumentException($"{rowCount} rows of {inputs} features do not fit the arrays given.");
        if (rowCount == 0) return true;
        int chunk = Math.Min(rowCount, Math.Max(1, PredictChunkRows));
        lock (Device.Sync)
        {
            using var gpuNetwork = new GpuDenseNetwork(Device, inputs, network.Hidden, network.Parameters, chunk);
            using var x = Device.Accelerator.Allocate1D<float>(Math.Max(1, (long)chunk * inputs));
            using var s = Device.Accelerator.Allocate1D<float>(chunk);
            for (int first = 0; first < rowCount; first += chunk)
            {
                int rows = Math.Min(chunk, rowCount - first);
                if (inputs > 0) Device.Upload<float>(features.AsSpan(first * inputs, rows * inputs), x.View);
                gpuNetwork.Forward(x.View, rows, s.View);
                Device.Download(s.View.SubView(0, rows), scores.AsSpan(first, rows));
            }
        }
        return true;
    }

    /// <summary>True when <paramref name="objective"/> has a device kernel (else <see cref="Accelerate"/> leaves it on the CPU).</summary>
    public bool IsAccelerated(IRankingObjective objective)
    {
        using var kernel = GpuObjectives.TryCreate(Device, objective);
        return kernel is not null;
    }

    /// <summary>
    /// A <see cref="GpuBatchLoss"/> on this backend's device: farness, mining, row bodies, gradients and, with
    /// <paramref name="memory"/> &gt; 0, the cross-batch memory as a device ring buffer (the batch enqueued by a kernel).
    /// <paramref name="threads"/> is not used (the device computes).
    /// </summary>
    public Ranking.Embeddings.IEmbeddingLossStep CreateEmbeddingLoss(Ranking.Embeddings.BatchLossOptions options, int memory = 0, int dimension = 0, int threads = -1) =>
        new GpuBatchLoss(Device, options, memory, dimension);

    /// <summary>A <see cref="GpuNearestNeighbourSearch"/>: the references uploaded once, queries searched in chunks by a kernel.</summary>
    public Ranking.Embeddings.INearestNeighbourSearch CreateNearestNeighbourSearch(float[] references, int count, int dimension, Ranking.Embeddings.EmbeddingDistance distance, int threads = -1) =>
        new GpuNearestNeighbourSearch(Device, references, count, dimension, distance);

    /// <summary>Disposes the device when this backend owns it; a shared device stays open.</summary>
    public void Dispose()
    {
        if (_ownsDevice) Device.Dispose();
    }
}
