using ILGPU;
using ILGPU.Runtime;
using Ranking.Gpu.Kernels;
using Ranking.Objectives;

namespace Ranking.Gpu;

/// <summary>
/// An objective as device launches: reads a <see cref="DeviceQuerySet"/>'s Scores, writes its Gradients and
/// Hessians, and leaves each query's loss (times its weight) in its <see cref="DeviceQuerySet.QueryLoss"/>. Built from a CPU objective
/// by <see cref="GpuObjectives.TryCreate(GpuDevice, IRankingObjective)"/>, with the same settings, so both compute the same numbers.
/// </summary>
public abstract class GpuObjectiveKernel : IDisposable
{
    /// <summary>A kernel on <paramref name="device"/> that computes what <paramref name="cpu"/> computes.</summary>
    protected GpuObjectiveKernel(GpuDevice device, IRankingObjective cpu)
    {
        Device = device;
        Cpu = cpu;
    }

    /// <summary>The device the launches run on.</summary>
    public GpuDevice Device { get; }

    /// <summary>The CPU objective this kernel mirrors.</summary>
    public IRankingObjective Cpu { get; }

    /// <summary>
    /// The longest query this kernel takes; longer queries go to the CPU objective (a thread per query doing
    /// O(n^2) work would take minutes on a 100k-row query, where the CPU samples or sorts).
    /// </summary>
    public virtual int MaxQueryLength => int.MaxValue;

    /// <summary>Checks the batch as the CPU objective does (same exceptions) before anything is uploaded.</summary>
    public virtual void Validate(float[] labels) { }

    /// <summary>
    /// Uploads into <paramref name="set"/> what the kernel reads of <paramref name="batch"/> besides grades and
    /// scores (a click objective's per-row inputs, from labels and display positions). Call it whenever the set
    /// takes new rows; <see cref="GpuObjective"/> does on every call.
    /// </summary>
    public virtual void Prepare(DeviceQuerySet set, in ObjectiveBatch batch) { }

    /// <summary>
    /// True when the CPU objective learns from every call (unbiased LambdaMART's position biases): each
    /// <see cref="Compute(DeviceQuerySet, QueryRange, int)"/> downloads the call's per-query outputs and hands
    /// them to it, so a loop that never returns to the host (<see cref="ComputeInto"/>) cannot run the kernel.
    /// </summary>
    public virtual bool LearnsFromEachCall => false;

    /// <summary>After the launches of a <see cref="Compute(DeviceQuerySet, QueryRange, int)"/>: what the host does with their outputs.</summary>
    protected virtual void AfterCompute(DeviceQuerySet set, QueryRange range) { }

    /// <summary>
    /// Queues the launches for the queries of <paramref name="range"/>, reading the set's Scores and writing
    /// its Gradients and Hessians at those rows; <paramref name="iteration"/> seeds sampling.
    /// </summary>
    public abstract void Launch(DeviceQuerySet set, QueryRange range, int iteration);

    /// <summary>Runs the launches over every query and returns the loss summed in query order (one double downloaded).</summary>
    public double Compute(DeviceQuerySet set, int iteration) => Compute(set, set.All, iteration);

    /// <summary>Runs the launches over <paramref name="range"/> and returns its loss (one double downloaded).</summary>
    public double Compute(DeviceQuerySet set, QueryRange range, int iteration)
    {
        lock (Device.Sync)
        {
            Launch(set, range, iteration);
            var sum = Device.Kernels(a => new ReductionKernels(a));
            double loss = sum.Sum(Device, set.QueryLoss.SubView(range.FirstQuery, Math.Max(1, range.QueryCount)), range.QueryCount);
            AfterCompute(set, range);
            return loss;
        }
    }

    /// <summary>Runs the launches over <paramref name="range"/> and queues its loss into <paramref name="lossSlot"/>[0] (nothing downloaded).</summary>
    public void ComputeInto(DeviceQuerySet set, QueryRange range, int iteration, ArrayView<double> lossSlot)
    {
        if (LearnsFromEachCall)
            throw new NotSupportedException($"objective '{Cpu.Name}' learns from every call on the host; use Compute, which downloads what it learns from.");
        lock (Device.Sync)
        {
            Launch(set, range, iteration);
            Device.Kernels(a => new ReductionKernels(a)).SumInto(set.QueryLoss.SubView(range.FirstQuery, Math.Max(1, range.QueryCount)), range.QueryCount, lossSlot);
        }
    }

    /// <summary>Frees the kernel's own device buffers (gain tables); the base holds none.</summary>
    public virtual void Dispose() { }
}

/// <summary>A gain table on the device (a one-entry dummy when the gain is a formula).</summary>
internal sealed class DeviceGainTable : IDisposable
{
    public DeviceGainTable(GpuDevice device, IReadOnlyList<double>? table)
    {
        Buffer = device.Upload(table?.ToArray() ?? [0.0]);
    }

    public MemoryBuffer1D<double, Stride1D.Dense> Buffer { get; }

    public void Dispose() => Buffer.Dispose();
}

/// <summary>LambdaRank (LightGBM's) on the device: <see cref="LambdaRankKernels"/>.</summary>
public sealed class GpuLambdaRank : GpuObjectiveKernel
{
    private readonly LambdaRankOptions _options;
    private readonly DeviceGainTable _table;

    /// <summary>LambdaRank with <paramref name="cpu"/>'s options (truncation, sigma, normalisation, gain table).</summary>
    public GpuLambdaRank(GpuDevice device, LambdaRankObjective cpu) : base(device, cpu)
    {
        _options = cpu.Options;
        _table = new DeviceGainTable(device, _options.LabelGain.Table);
    }

    /// <summary>
    /// Counting ranks makes each row compare itself with its whole query; past this many comparisons per row
    /// on average the ranks come from a segmented radix sort instead (<see cref="SortedRankKernels.DefaultSortFrom"/>).
    /// </summary>
    public int SortRanksFrom { get; init; } = SortedRankKernels.DefaultSortFrom;

    /// <inheritdoc/>
    public override void Validate(float[] labels) => _options.LabelGain.Validate(labels);

    /// <inheritdoc/>
    public override void Launch(DeviceQuerySet set, QueryRange range, int iteration)
    {
        var settings = new LambdaRankSettings
        {
            Truncation = _options.Truncation,
            SortRanksFrom = SortRanksFrom,
            Sigma = _options.Sigma,
            Normalize = _options.Normalize ? 1 : 0,
            Gain = _options.LabelGain.IsTable ? GainCode.Table : GainCode.Exponential,
        };
        Device.Kernels(a => new LambdaRankKernels(a)).Launch(set, range, set.Scores.View, settings, _table.Buffer.View);
    }

    /// <inheritdoc/>
    public override void Dispose() => _table.Dispose();
}

/// <summary>ListNet top-1 on the device: <see cref="ListNetKernels"/> over the objective's <see cref="Ranking.Numerics.ListNetLoss"/>.</summary>
public sealed class GpuListNet(GpuDevice device, ListNetObjective cpu) : GpuObjectiveKernel(device, cpu)
{
    /// <inheritdoc/>
    public override void Launch(DeviceQuerySet set, QueryRange range, int iteration) =>
        Device.Kernels(a => new ListNetKernels(a)).Launch(set, range, set.Scores.View, cpu.Loss);
}
