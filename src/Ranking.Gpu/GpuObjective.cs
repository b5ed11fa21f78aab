using Ranking.Objectives;

namespace Ranking.Gpu;

/// <summary>
/// An <see cref="IRankingObjective"/> whose gradients come from the device: what any trainer (the MLP, or
/// LightGBM's custom-objective path) can use unchanged. Labels, offsets and weights are uploaded when they
/// change (compared by reference: a trainer passes the same arrays every round), scores are uploaded and
/// gradients and Hessians downloaded on each call. A batch with a query longer than the kernel's
/// <see cref="GpuObjectiveKernel.MaxQueryLength"/> is computed by the CPU objective. For a loop that keeps scores on the device, use
/// <see cref="GpuObjectiveKernel.Compute(DeviceQuerySet, int)"/> on a <see cref="DeviceQuerySet"/> directly.
/// </summary>
public sealed class GpuObjective : IRankingObjective, IDisposable
{
    private readonly GpuObjectiveKernel _kernel;
    private DeviceQuerySet? _set;

    public GpuObjective(GpuObjectiveKernel kernel)
    {
        _kernel = kernel ?? throw new ArgumentNullException(nameof(kernel));
    }

    public string Name => _kernel.Cpu.Name;
    public ObjectiveFamily Family => _kernel.Cpu.Family;
    public GpuObjectiveKernel Kernel => _kernel;

    public double Compute(in ObjectiveBatch batch, float[] gradients, float[] hessians)
    {
        batch.CheckOutputs(gradients, hessians);
        int longest = 0;
        for (int q = 0; q < batch.QueryCount; q++) longest = Math.Max(longest, batch.GroupOffsets[q + 1] - batch.GroupOffsets[q]);
        if (longest > _kernel.MaxQueryLength) return _kernel.Cpu.Compute(batch, gradients, hessians);
        _kernel.Validate(batch.Labels);
        var device = _kernel.Device;
        lock (device.Sync)
        {
            if (_set is null || !_set.Matches(batch.Labels, batch.GroupOffsets, batch.QueryWeights))
            {
                _set?.Dispose();
                _set = new DeviceQuerySet(device, batch.Labels, batch.GroupOffsets, batch.QueryWeights);
            }
            _set.UploadScores(batch.Scores);
            double loss = _kernel.Compute(_set, batch.Iteration);
            device.Download(_set.Gradients.View, gradients.AsSpan(0, batch.RowCount));
            device.Download(_set.Hessians.View, hessians.AsSpan(0, batch.RowCount));
            return loss;
        }
    }

    public void Dispose()
    {
        _set?.Dispose();
        _kernel.Dispose();
    }
}
