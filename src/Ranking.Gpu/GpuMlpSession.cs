using Ranking.Gpu.Kernels;
using Ranking.Objectives;

namespace Ranking.Gpu;

/// <summary>
/// Mini-batch training of a dense network entirely on the device: features, labels and offsets uploaded
/// once (a <see cref="DeviceQuerySet"/> with features); per batch of whole queries the forward pass, the
/// objective's kernels, the backward pass and the Adam step run as launches with nothing copied but one
/// double (the batch loss). Mirrors Ranking.Training.GradientTrainer's step: gradients are divided by the
/// batch's total query weight before the backward pass (the mean over its queries).
/// </summary>
public sealed class GpuMlpSession : IDisposable
{
    private readonly DeviceQuerySet _set;
    private readonly GpuObjectiveKernel _objective;
    private readonly bool _ownsSet;

    /// <param name="set">Must hold features (<see cref="DeviceQuerySet.Features"/>).</param>
    public GpuMlpSession(DeviceQuerySet set, IRankingObjective objective, IReadOnlyList<int> hidden, float[] initialParameters, int batchQueries, bool ownsSet = false)
    {
        _set = set ?? throw new ArgumentNullException(nameof(set));
        if (set.Features is null) throw new ArgumentException("the query set must hold the features.", nameof(set));
        _objective = GpuObjectives.TryCreate(set.Device, objective)
            ?? throw new NotSupportedException($"objective '{objective.Name}' has no GPU kernel.");
        _ownsSet = ownsSet;
        BatchQueries = Math.Max(1, Math.Min(batchQueries, set.QueryCount));
        int maxRows = 0;
        for (int q = 0; q < set.QueryCount; q += BatchQueries)
        {
            int end = Math.Min(set.QueryCount, q + BatchQueries);
            maxRows = Math.Max(maxRows, set.HostOffsets[end] - set.HostOffsets[q]);
        }
        Network = new GpuDenseNetwork(set.Device, set.FeatureCount, hidden, initialParameters, maxRows);
        int batches = (set.QueryCount + BatchQueries - 1) / BatchQueries;
        _batchLosses = set.Device.Accelerator.Allocate1D<double>(Math.Max(1, batches));
    }

    private readonly ILGPU.Runtime.MemoryBuffer1D<double, ILGPU.Stride1D.Dense> _batchLosses;

    public GpuDenseNetwork Network { get; }
    public int BatchQueries { get; }
    public int Steps { get; private set; }

    /// <summary>
    /// One pass over the set's queries in their stored order, in batches of <see cref="BatchQueries"/>;
    /// returns the loss summed over batches divided by the summed query weight (the trainer's TrainLoss).
    /// </summary>
    public double RunEpoch(float learningRate)
    {
        var device = _set.Device;
        double lossSum = 0, weightSum = 0;
        lock (device.Sync)
        {
            var features = _set.Features!.View;
            int f = _set.FeatureCount;
            int batch = 0;
            for (int first = 0; first < _set.QueryCount; first += BatchQueries, batch++)
            {
                int count = Math.Min(BatchQueries, _set.QueryCount - first);
                var range = _set.Range(first, count);
                double batchWeight = 0;
                for (int q = first; q < first + count; q++) batchWeight += _set.HostQueryWeights is null ? 1.0 : _set.HostQueryWeights[q];
                var x = features.SubView((long)range.FirstRow * f, (long)range.RowCount * f);
                Network.Forward(x, range.RowCount, _set.Scores.View.SubView(range.FirstRow, range.RowCount));
                // Each batch's loss stays on the device; the epoch downloads their sum once.
                _objective.ComputeInto(_set, range, Steps, _batchLosses.View.SubView(batch, 1));
                Network.Backward(x, _set.Gradients.View.SubView(range.FirstRow, range.RowCount), (float)(1.0 / batchWeight), range.RowCount);
                Network.AdamStep(learningRate);
                weightSum += batchWeight;
                Steps++;
            }
            lossSum = device.Kernels(a => new ReductionKernels(a)).Sum(device, _batchLosses.View, batch);
        }
        if (!double.IsFinite(lossSum))
            throw new InvalidOperationException($"training diverged: the epoch's loss is {lossSum}; lower the learning rate.");
        return lossSum / weightSum;
    }

    public void Dispose()
    {
        Network.Dispose();
        _objective.Dispose();
        _batchLosses.Dispose();
        if (_ownsSet) _set.Dispose();
    }
}
