using ILGPU;
using ILGPU.Runtime;
using Ranking.Gpu.Kernels;
using Ranking.Objectives;

namespace Ranking.Gpu;

/// <summary>
/// An objective as device launches: reads a <see cref="DeviceQuerySet"/>'s Scores, writes its Gradients and
/// Hessians, and leaves each query's loss (times its weight) in QueryScratch(3). Built from a CPU objective
/// by <see cref="GpuObjectives.TryCreate"/>, with the same settings, so both compute the same numbers.
/// </summary>
public abstract class GpuObjectiveKernel : IDisposable
{
    protected GpuObjectiveKernel(GpuDevice device, IRankingObjective cpu)
    {
        Device = device;
        Cpu = cpu;
    }

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
            return sum.Sum(Device, set.QueryScratch(3).SubView(range.FirstQuery, Math.Max(1, range.QueryCount)), range.QueryCount);
        }
    }

    /// <summary>Runs the launches over <paramref name="range"/> and queues its loss into <paramref name="lossSlot"/>[0] (nothing downloaded).</summary>
    public void ComputeInto(DeviceQuerySet set, QueryRange range, int iteration, ArrayView<double> lossSlot)
    {
        lock (Device.Sync)
        {
            Launch(set, range, iteration);
            Device.Kernels(a => new ReductionKernels(a)).SumInto(set.QueryScratch(3).SubView(range.FirstQuery, Math.Max(1, range.QueryCount)), range.QueryCount, lossSlot);
        }
    }

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

    public override void Validate(float[] labels) => _options.LabelGain.Validate(labels);

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

    public override void Dispose() => _table.Dispose();
}

/// <summary>ListNet top-1 on the device: <see cref="ListNetKernels"/>.</summary>
public sealed class GpuListNet : GpuObjectiveKernel
{
    private readonly ListNetOptions _options;
    private readonly DeviceGainTable _table;

    public GpuListNet(GpuDevice device, ListNetObjective cpu) : base(device, cpu)
    {
        _options = cpu.Options;
        _table = new DeviceGainTable(device, null);
    }

    public override void Launch(DeviceQuerySet set, QueryRange range, int iteration)
    {
        var settings = new ListNetSettings
        {
            Temperature = _options.Temperature,
            TargetIsGain = _options.Target == ListNetTarget.Gain ? 1 : 0,
            Gain = GainCode.Exponential,
        };
        Device.Kernels(a => new ListNetKernels(a)).Launch(set, range, set.Scores.View, settings, _table.Buffer.View);
    }

    public override void Dispose() => _table.Dispose();
}

/// <summary>
/// RankNet, RankSVM, contrastive pairs, softmax, contrastive, ApproxNDCG, ListMLE, triplet, sampled softmax and NCE
/// (their plain Compute: proposal scores and noise weights given separately stay on the CPU) on the device: the CPU loop
/// of each query as a thread (<see cref="QueryLoopKernels"/>), same knobs and same seeded draws.
/// </summary>
public sealed class GpuQueryLoopObjective : GpuObjectiveKernel
{
    private readonly QueryLoopSettings _settings;

    /// <summary>The per-query loops that count or visit O(n^2) pairs in one thread stop at this length.</summary>
    public const int QuadraticLimit = 4096;

    /// <remarks>
    /// Pair loops (all or truncated pairs) have no limit: sets with a query longer than <see cref="RowParallelFrom"/>
    /// run them a thread per row. ListMLE has none where the device can sort (its order comes from a segmented
    /// sort on such sets). ApproxNDCG and triplet keep the limit: longer queries go to the CPU.
    /// </remarks>
    public override int MaxQueryLength => _settings.Loop switch
    {
        (int)QueryLoop.RankNet or (int)QueryLoop.RankSvm or (int)QueryLoop.ContrastivePairs => int.MaxValue,
        (int)QueryLoop.ListMle => Device.Algorithms ? int.MaxValue : QuadraticLimit,
        (int)QueryLoop.ApproxNdcg or (int)QueryLoop.Triplet => QuadraticLimit,
        _ => int.MaxValue,
    };

    /// <summary>
    /// On sets whose longest query exceeds this, all or truncated pairs run a thread per row (not per query)
    /// and ListMLE sorts its order rather than counting it.
    /// </summary>
    public int RowParallelFrom { get; init; } = QuadraticLimit;

    private GpuQueryLoopObjective(GpuDevice device, IRankingObjective cpu, QueryLoopSettings settings) : base(device, cpu)
    {
        _settings = settings;
    }

    /// <summary>The kernel for one of the loop objectives; null for any other objective.</summary>
    public static GpuQueryLoopObjective? TryCreate(GpuDevice device, IRankingObjective cpu) => TryCreate(device, cpu, QuadraticLimit);

    /// <summary>As <see cref="TryCreate(GpuDevice, IRankingObjective)"/>, choosing where pair loops go a thread per row (0: always).</summary>
    public static GpuQueryLoopObjective? TryCreate(GpuDevice device, IRankingObjective cpu, int rowParallelFrom)
    {
        int seed = cpu is QueryObjective qo ? qo.Seed : 0;
        QueryLoopSettings? s = cpu switch
        {
            RankNetObjective o => Pairs(QueryLoop.RankNet, o.Sigma, o.Pairs),
            RankSvmObjective o => Pairs(QueryLoop.RankSvm, o.Margin, o.Pairs),
            ContrastivePairsObjective o => Pairs(QueryLoop.ContrastivePairs, o.Margin, o.Pairs),
            SoftmaxObjective o => new QueryLoopSettings { Loop = (int)QueryLoop.Softmax, A = o.Options.Threshold },
            ContrastiveObjective o => new QueryLoopSettings { Loop = (int)QueryLoop.Contrastive, A = o.Options.Margin, B = o.Options.Threshold },
            ListMleObjective o => new QueryLoopSettings { Loop = (int)QueryLoop.ListMle, PairParam = o.Truncation },
            SampledSoftmaxObjective o => new QueryLoopSettings
            {
                Loop = (int)QueryLoop.SampledSoftmax, A = o.Options.Threshold, PairParam = o.Options.Negatives,
                PairMode = o.Options.Sampling == NegativeSampling.Scores ? 1 : 0,
            },
            TripletObjective o => new QueryLoopSettings
            {
                Loop = (int)QueryLoop.Triplet, A = o.Options.Margin, B = o.Options.Threshold, PairParam = o.Options.Negatives,
                PairMode = (int)o.Options.Mining, ExactLimit = o.Options.Pairing == TripletPairing.Graded ? 1 : 0,
            },
            NceObjective o => new QueryLoopSettings { Loop = (int)QueryLoop.Nce, A = o.Options.Threshold, PairParam = o.Options.Negatives },
            ApproxNdcgObjective o => new QueryLoopSettings
            {
                Loop = (int)QueryLoop.ApproxNdcg, A = o.Options.Temperature, ExactLimit = o.Options.ExactLimit, Samples = o.Options.Samples,
            },
            _ => null,
        };
        if (s is not { } settings) return null;
        settings.Seed = seed;
        return new GpuQueryLoopObjective(device, cpu, settings) { RowParallelFrom = rowParallelFrom };
    }

    private static QueryLoopSettings Pairs(QueryLoop loop, double a, PairSelection pairs) => new()
    {
        Loop = (int)loop,
        A = a,
        PairMode = pairs.Truncation > 0 ? 1 : pairs.PairsPerRow > 0 ? 2 : 0,
        PairParam = pairs.Truncation > 0 ? pairs.Truncation : pairs.PairsPerRow,
    };

    public override void Validate(float[] labels)
    {
        for (int i = 0; i < labels.Length; i++)
            if (!float.IsFinite(labels[i])) throw new ArgumentException($"row {i}: grade {labels[i]} is not finite.");
    }

    public override void Launch(DeviceQuerySet set, QueryRange range, int iteration)
    {
        var settings = _settings;
        settings.Iteration = iteration;
        Device.Kernels(a => new QueryLoopKernels(a)).Launch(set, range, set.Scores.View, settings, RowParallelFrom);
    }
}
