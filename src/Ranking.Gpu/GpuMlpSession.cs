using Ranking.Compute;
using Ranking.Gpu.Kernels;
using Ranking.Objectives;

namespace Ranking.Gpu;

/// <summary>
/// Mini-batch training of a dense network entirely on the device: features, labels and offsets uploaded
/// once (a <see cref="DeviceQuerySet"/> with features); per batch of whole queries the forward pass, the
/// objective's kernels, the backward pass and the Adam step run as launches, and each batch's loss stays
/// on the device until the epoch's single download. Mirrors Ranking.Training.GradientTrainer's step:
/// gradients are divided by the batch's total query weight before the backward pass. An epoch in a
/// shuffled order gathers the rows into a second device set in that order first (one upload of the
/// order's row map, a device-side copy of labels and features).
/// </summary>
public sealed class GpuMlpSession : IDeviceTrainingSession
{
    private readonly DeviceQuerySet _set;
    private readonly GpuObjectiveKernel _objective;
    private readonly bool _ownsSet;
    private readonly ILGPU.Runtime.MemoryBuffer1D<double, ILGPU.Stride1D.Dense> _batchLosses;
    private DeviceQuerySet? _shuffled;

    /// <param name="set">Must hold features (<see cref="DeviceQuerySet.Features"/>).</param>
    /// <param name="objective">The objective, computed by a device kernel.</param>
    /// <param name="hidden">Hidden layer sizes (empty for a linear model).</param>
    /// <param name="initialParameters">The network's starting parameters, in the CPU model's layout.</param>
    /// <param name="batchQueries">The largest batch any epoch will use (sizes the activations).</param>
    /// <param name="ownsSet">Dispose <paramref name="set"/> with the session.</param>
    public GpuMlpSession(DeviceQuerySet set, IRankingObjective objective, IReadOnlyList<int> hidden, float[] initialParameters, int batchQueries, bool ownsSet = false)
    {
        _set = set ?? throw new ArgumentNullException(nameof(set));
        if (set.Features is null) throw new ArgumentException("the query set must hold the features.", nameof(set));
        _objective = GpuObjectives.TryCreate(set.Device, objective)
            ?? throw new NotSupportedException($"objective '{objective.Name}' has no GPU kernel.");
        _ownsSet = ownsSet;
        BatchQueries = Math.Max(1, Math.Min(batchQueries, set.QueryCount));
        // Any order's batch fits: the longest queries together.
        var lengths = new int[set.QueryCount];
        for (int q = 0; q < set.QueryCount; q++) lengths[q] = set.HostOffsets[q + 1] - set.HostOffsets[q];
        Array.Sort(lengths);
        int maxRows = 0;
        for (int i = 0; i < BatchQueries; i++) maxRows += lengths[^(i + 1)];
        Network = new GpuDenseNetwork(set.Device, set.FeatureCount, hidden, initialParameters, maxRows);
        _batchLosses = set.Device.Accelerator.Allocate1D<double>(Math.Max(1, set.QueryCount));
    }

    /// <summary>The network being trained, resident on the device.</summary>
    public GpuDenseNetwork Network { get; }
    /// <summary>The largest batch, in whole queries, the session was sized for (at most the set's query count).</summary>
    public int BatchQueries { get; }
    /// <summary>Batches run so far (the iteration number of the next one, which seeds sampling objectives).</summary>
    public int Steps { get; set; }

    /// <summary>
    /// One pass over the set's queries in their stored order, in batches of <see cref="BatchQueries"/>;
    /// returns the loss summed over batches divided by the summed query weight (the trainer's TrainLoss).
    /// </summary>
    public double RunEpoch(float learningRate)
    {
        var (loss, weight) = RunBatches(_set, BatchQueries, learningRate);
        return loss / weight;
    }

    /// <inheritdoc/>
    public (double LossSum, double WeightSum) RunEpoch(int[] queryOrder, int batchQueries, float learningRate, int firstStep)
    {
        if (batchQueries > BatchQueries) throw new ArgumentOutOfRangeException(nameof(batchQueries), $"the session was sized for batches of {BatchQueries} queries.");
        Steps = firstStep;
        bool identity = true;
        for (int q = 0; q < queryOrder.Length && identity; q++) identity = queryOrder[q] == q;
        var set = _set;
        if (!identity)
        {
            _shuffled ??= new DeviceQuerySet(_set.Device, _set.HostLabels, _set.HostOffsets, _set.HostQueryWeights, features: null, featureCount: _set.FeatureCount, allocateFeatures: true);
            _shuffled.LoadOrder(_set, queryOrder);
            set = _shuffled;
        }
        return RunBatches(set, batchQueries, learningRate);
    }

    /// <inheritdoc/>
    public void CopyParametersTo(float[] parameters)
    {
        var p = Network.DownloadParameters();
        Array.Copy(p, parameters, p.Length);
    }

    private (double LossSum, double WeightSum) RunBatches(DeviceQuerySet set, int batchQueries, float learningRate)
    {
        var device = set.Device;
        double lossSum, weightSum = 0;
        lock (device.Sync)
        {
            var features = set.Features!.View;
            int f = set.FeatureCount;
            int batch = 0;
            for (int first = 0; first < set.QueryCount; first += batchQueries, batch++)
            {
                int count = Math.Min(batchQueries, set.QueryCount - first);
                var range = set.Range(first, count);
                double batchWeight = 0;
                for (int q = first; q < first + count; q++) batchWeight += set.HostQueryWeights is null ? 1.0 : set.HostQueryWeights[q];
                var x = features.SubView((long)range.FirstRow * f, Math.Max(1, (long)range.RowCount * f));
                Network.Forward(x, range.RowCount, set.Scores.View.SubView(range.FirstRow, Math.Max(1, range.RowCount)));
                _objective.ComputeInto(set, range, Steps, _batchLosses.View.SubView(batch, 1));
                Network.Backward(x, set.Gradients.View.SubView(range.FirstRow, Math.Max(1, range.RowCount)), (float)(1.0 / batchWeight), range.RowCount);
                Network.AdamStep(learningRate);
                weightSum += batchWeight;
                Steps++;
            }
            lossSum = device.Kernels(a => new ReductionKernels(a)).Sum(device, _batchLosses.View, batch);
        }
        if (!double.IsFinite(lossSum))
            throw new InvalidOperationException($"training diverged: the epoch's loss is {lossSum}; lower the learning rate.");
        return (lossSum, weightSum);
    }

    /// <summary>Frees the network, the objective's kernel and the shuffled copy; the query set too when the session owns it.</summary>
    public void Dispose()
    {
        Network.Dispose();
        _objective.Dispose();
        _batchLosses.Dispose();
        _shuffled?.Dispose();
        if (_ownsSet) _set.Dispose();
    }
}
