using Ranking.Objectives;

namespace Ranking.Gpu;

/// <summary>
/// An <see cref="IRankingObjective"/> whose gradients come from the device: what any trainer (the MLP, or
/// LightGBM's custom-objective path) can use unchanged. Labels, offsets and weights are uploaded when they
/// change (compared by content with what was uploaded: a trainer may refill the same arrays with another
/// mini-batch), the kernel's per-row inputs (a click objective's weights or positions) and the scores on
/// each call, and gradients and Hessians downloaded. A batch with a query longer than the kernel's
/// <see cref="GpuObjectiveKernel.MaxQueryLength"/> is computed by the CPU objective. For a loop that keeps scores on the device, use
/// <see cref="GpuObjectiveKernel.Compute(DeviceQuerySet, int)"/> on a <see cref="DeviceQuerySet"/> directly.
/// </summary>
public sealed class GpuObjective : IRankingObjective, IDisposable
{
    private readonly GpuObjectiveKernel _kernel;
    private DeviceQuerySet? _set;
    private float[] _labels = [];
    private int[] _offsets = [];
    private float[]? _weights;

    /// <summary>Wraps <paramref name="kernel"/>; disposing this objective disposes the kernel.</summary>
    public GpuObjective(GpuObjectiveKernel kernel)
    {
        _kernel = kernel ?? throw new ArgumentNullException(nameof(kernel));
    }

    /// <summary>The CPU objective's name (the kernel computes the same objective).</summary>
    public string Name => _kernel.Cpu.Name;
    /// <summary>The CPU objective's family.</summary>
    public ObjectiveFamily Family => _kernel.Cpu.Family;
    /// <summary>The device kernel this objective runs.</summary>
    public GpuObjectiveKernel Kernel => _kernel;

    /// <inheritdoc/>
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
            if (_set is null || !Uploaded(batch))
            {
                _set?.Dispose();
                _set = null;
                _labels = batch.Labels.ToArray();
                _offsets = batch.GroupOffsets.ToArray();
                _weights = batch.QueryWeights?.ToArray();
                _set = new DeviceQuerySet(device, _labels, _offsets, _weights);
            }
            _kernel.Prepare(_set, batch);
            _set.UploadScores(batch.Scores);
            double loss = _kernel.Compute(_set, batch.Iteration);
            device.Download(_set.Gradients.View, gradients.AsSpan(0, batch.RowCount));
            device.Download(_set.Hessians.View, hessians.AsSpan(0, batch.RowCount));
            return loss;
        }
    }

    // The set holds copies of what it was built from, so a caller refilling its arrays is seen.
    private bool Uploaded(in ObjectiveBatch batch) =>
        batch.Labels.AsSpan().SequenceEqual(_labels) && batch.GroupOffsets.AsSpan().SequenceEqual(_offsets)
        && (batch.QueryWeights is null ? _weights is null : _weights is not null && batch.QueryWeights.AsSpan().SequenceEqual(_weights));

    /// <summary>Frees the uploaded query set and the kernel.</summary>
    public void Dispose()
    {
        _set?.Dispose();
        _kernel.Dispose();
    }
}
