using Ranking.Compute;
using Ranking.Objectives;

namespace Ranking.Gpu;

/// <summary>
/// The ILGPU compute path: objectives and metrics as kernels on one <see cref="GpuDevice"/> (CUDA, then
/// OpenCL, then ILGPU's CPU accelerator). <see cref="Register"/> makes it what
/// <see cref="ComputeBackends.Create"/> returns for Gpu and (with a real GPU) Auto.
/// </summary>
public sealed class GpuComputeBackend : IComputeBackend
{
    private readonly bool _ownsDevice;

    public GpuComputeBackend(GpuDevice device, bool ownsDevice = false)
    {
        Device = device ?? throw new ArgumentNullException(nameof(device));
        _ownsDevice = ownsDevice;
        Metrics = new GpuMetricsBackend(device);
    }

    public GpuDevice Device { get; }

    public ComputeBackendKind Kind => ComputeBackendKind.Gpu;

    public string Description => Device.IsRealGpu
        ? Device.Description
        : $"{Device.Description} (no GPU found: ILGPU's CPU accelerator, correct but slow)";

    public IMetricsBackend Metrics { get; }

    /// <summary>Registers the factory with <see cref="ComputeBackends"/> (idempotent). Devices are shared per process.</summary>
    public static void Register() => ComputeBackends.RegisterGpu(requireRealGpu =>
    {
        var device = GpuDevice.Shared(requireRealGpu ? AcceleratorPreference.RealGpuOnly : AcceleratorPreference.BestAvailable);
        return device is null ? null : new GpuComputeBackend(device);
    });

    public IRankingObjective Accelerate(IRankingObjective objective)
    {
        ArgumentNullException.ThrowIfNull(objective);
        var kernel = GpuObjectives.TryCreate(Device, objective);
        return kernel is null ? objective : new GpuObjective(kernel);
    }

    /// <summary>A <see cref="GpuMlpSession"/> over the uploaded set; null when the objective has no kernel.</summary>
    public IDeviceTrainingSession? TryStartDenseTraining(Ranking.Data.RankingDataset train, IReadOnlyList<int> hidden, float[] parameters, IRankingObjective objective, int batchQueries)
    {
        ArgumentNullException.ThrowIfNull(train);
        using (var probe = GpuObjectives.TryCreate(Device, objective))
        {
            int longest = 0;
            for (int q = 0; q < train.QueryCount; q++) longest = Math.Max(longest, train.QueryLength(q));
            if (probe is null || longest > probe.MaxQueryLength) return null;
        }
        var set = new DeviceQuerySet(Device, train.Labels, train.GroupOffsets, train.QueryWeights, train.Features, train.FeatureCount);
        try
        {
            return new GpuMlpSession(set, objective, hidden, (float[])parameters.Clone(), batchQueries, ownsSet: true);
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    public bool IsAccelerated(IRankingObjective objective)
    {
        using var kernel = GpuObjectives.TryCreate(Device, objective);
        return kernel is not null;
    }

    public void Dispose()
    {
        if (_ownsDevice) Device.Dispose();
    }
}
