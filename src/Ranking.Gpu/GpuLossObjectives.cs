using Ranking.Gpu.Kernels;
using Ranking.Numerics;
using Ranking.Objectives;

namespace Ranking.Gpu;

/// <summary>
/// Any objective computed by a loss body (<see cref="IQueryLossObjective"/>) on the device: the body's own
/// code, compiled by ILGPU for <typeparamref name="TLoss"/>, a thread per query (<see cref="QueryLossKernels{TLoss}"/>).
/// Same settings, same seeded draws as the CPU loop. Bodies whose work is quadratic hand sets with a query
/// past <see cref="GpuObjectives.QuadraticLimit"/> to the CPU; bodies that sort by key sort such sets on the device.
/// </summary>
public class GpuQueryLossObjective<TLoss> : GpuObjectiveKernel where TLoss : struct, IQueryLoss
{
    private readonly TLoss _loss;
    private readonly int _seed;
    private readonly IQueryLossObjective _objective;
    private ILGPU.Runtime.MemoryBuffer1D<double, ILGPU.Stride1D.Dense>? _constants;

    /// <summary>The kernel of <paramref name="cpu"/>'s body <paramref name="loss"/>.</summary>
    public GpuQueryLossObjective(GpuDevice device, IQueryLossObjective cpu, TLoss loss) : base(device, cpu)
    {
        _loss = loss;
        _seed = cpu.Seed;
        _objective = cpu;
    }

    /// <summary>The body.</summary>
    protected TLoss Loss => _loss;

    /// <summary>The objective's per-row inputs for the batch's rows (<see cref="IQueryLossObjective.RowInputs"/>), uploaded into the set.</summary>
    public override void Prepare(DeviceQuerySet set, in ObjectiveBatch batch)
    {
        if (!_objective.ReadsRowInputs) return;
        set.UploadRowInputs(_objective.RowInputs(batch) ?? throw new InvalidOperationException($"objective '{Cpu.Name}' reads row inputs but gave none."));
    }

    /// <inheritdoc/>
    public override bool LearnsFromEachCall => _objective.QueryOutputWidth > 0;

    /// <summary>
    /// The loss's constants (uploaded on every launch: they change between calls as the objective learns) and
    /// per-query outputs; checks the set holds the row inputs the body reads.
    /// </summary>
    protected DeviceLossTables Tables(DeviceQuerySet set)
    {
        if (_objective.ReadsRowInputs && !set.HasRowInputs)
            throw new InvalidOperationException($"objective '{Cpu.Name}' reads per-row inputs (click weights or positions); give the set them first (GpuObjectiveKernel.Prepare).");
        var tables = new DeviceLossTables();
        var constants = _objective.Constants;
        if (!constants.IsEmpty)
        {
            if (_constants is null || _constants.Length < constants.Length)
            {
                _constants?.Dispose();
                _constants = Device.Accelerator.Allocate1D<double>(constants.Length);
            }
            Device.Upload(constants, _constants.View.SubView(0, constants.Length));
            tables.Constants = _constants.View;
        }
        int width = _objective.QueryOutputWidth;
        if (width > 0)
        {
            tables.QueryOutputs = set.QueryBuffer<double>(Workspace.QueryOutputs, width);
            tables.QueryOutputWidth = width;
        }
        return tables;
    }

    /// <summary>Downloads the range's per-query outputs and hands them, with the query weights, to the objective (<see cref="IQueryLossObjective.Learn"/>).</summary>
    protected override void AfterCompute(DeviceQuerySet set, QueryRange range)
    {
        int width = _objective.QueryOutputWidth;
        if (width == 0 || range.QueryCount == 0) return;
        var outputs = new double[range.QueryCount * width];
        Device.Download(set.QueryBuffer<double>(Workspace.QueryOutputs, width).SubView((long)range.FirstQuery * width, outputs.Length), outputs);
        float[]? weights = set.HostQueryWeights is { } all ? all.AsSpan(range.FirstQuery, range.QueryCount).ToArray() : null;
        _objective.Learn(outputs, weights);
    }

    /// <inheritdoc/>
    public override void Dispose() => _constants?.Dispose();

    /// <summary>
    /// On sets whose longest query exceeds this, bodies that sort by key take their order from a segmented
    /// sort (and pair loops run a thread per row) instead of counting in one thread.
    /// </summary>
    public int RowParallelFrom { get; init; } = GpuObjectives.QuadraticLimit;

    /// <inheritdoc/>
    public override int MaxQueryLength => _loss.Work switch
    {
        QueryWork.Quadratic => GpuObjectives.QuadraticLimit,
        QueryWork.SortsByKey => Device.Algorithms ? int.MaxValue : GpuObjectives.QuadraticLimit,
        _ => int.MaxValue,
    };

    /// <inheritdoc/>
    public override void Validate(float[] labels)
    {
        for (int i = 0; i < labels.Length; i++)
            if (!float.IsFinite(labels[i])) throw new ArgumentException($"row {i}: grade {labels[i]} is not finite.");
    }

    /// <inheritdoc/>
    public override void Launch(DeviceQuerySet set, QueryRange range, int iteration)
    {
        bool sortOrder = _loss.Work == QueryWork.SortsByKey && set.MaxQueryLength > RowParallelFrom && Device.Algorithms;
        Device.Kernels(a => new QueryLossKernels<TLoss>(a)).Launch(set, range, set.Scores.View, _loss, Draws(iteration), sortOrder, Tables(set));
    }

    /// <summary>The seed and iteration of a launch.</summary>
    protected LossDraws Draws(int iteration) => new() { Seed = _seed, Iteration = iteration };
}

/// <summary>
/// A pairwise objective on the device: its pair loop per query (<see cref="GpuQueryLossObjective{TLoss}"/>),
/// or on sets with a query past <see cref="GpuQueryLossObjective{TLoss}.RowParallelFrom"/> rows, all and
/// truncated pairs a thread per row (<see cref="PairKernels{TTerm}"/>), so no query length goes to the CPU.
/// </summary>
public sealed class GpuPairObjective<TTerm>(GpuDevice device, IPairwiseObjective cpu, PairLoss<TTerm> loss)
    : GpuQueryLossObjective<PairLoss<TTerm>>(device, cpu, loss) where TTerm : struct, IPairTerm
{
    /// <inheritdoc/>
    public override int MaxQueryLength => int.MaxValue;

    /// <inheritdoc/>
    public override void Launch(DeviceQuerySet set, QueryRange range, int iteration)
    {
        bool sampled = Loss.Truncation == 0 && Loss.PairsPerRow > 0;
        if (!sampled && set.MaxQueryLength > RowParallelFrom)
        {
            Tables(set);   // checks the row inputs a click-weighted pair loop reads
            Device.Kernels(a => new PairKernels<TTerm>(a)).Launch(set, range, set.Scores.View, Loss);
        }
        else
            base.Launch(set, range, iteration);
    }
}

/// <summary>
/// The one place that says which kernel computes which objective: a line per objective with a kernel of its
/// own; every other objective with a loss body runs that body through the generic kernels, so a new loss
/// needs no line here.
/// </summary>
public static class GpuObjectives
{
    /// <summary>Per-query loops that are O(n^2) in one thread stop at this length (longer queries: the CPU objective).</summary>
    public const int QuadraticLimit = 4096;

    private static readonly (Type Objective, Func<GpuDevice, IRankingObjective, int, GpuObjectiveKernel> Create)[] Registry =
    [
        (typeof(LambdaRankObjective), (device, o, _) => new GpuLambdaRank(device, (LambdaRankObjective)o)),
        (typeof(ListNetObjective), (device, o, _) => new GpuListNet(device, (ListNetObjective)o)),
        (typeof(IPairwiseObjective), (device, o, from) => ((IPairwiseObjective)o).AcceptPairs(new PairFactory(device, from))),
        (typeof(IQueryLossObjective), (device, o, from) => ((IQueryLossObjective)o).Accept(new BodyFactory(device, from))),
    ];

    /// <summary>The kernel computing what <paramref name="cpu"/> computes, or null where none exists for it.</summary>
    public static GpuObjectiveKernel? TryCreate(GpuDevice device, IRankingObjective cpu) => TryCreate(device, cpu, QuadraticLimit);

    /// <summary>
    /// As <see cref="TryCreate(GpuDevice, IRankingObjective)"/>, choosing the query length past which the
    /// long-query forms run (pairs a thread per row, sorted orders); 0 forces them on any set (tests).
    /// </summary>
    public static GpuObjectiveKernel? TryCreate(GpuDevice device, IRankingObjective cpu, int rowParallelFrom)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(cpu);
        foreach (var (type, create) in Registry)
            if (type.IsInstanceOfType(cpu)) return create(device, cpu, rowParallelFrom);
        return null;
    }

    private sealed class PairFactory(GpuDevice device, int rowParallelFrom) : IPairLossVisitor<GpuObjectiveKernel>
    {
        public GpuObjectiveKernel Visit<TTerm>(IPairwiseObjective objective, PairLoss<TTerm> loss) where TTerm : struct, IPairTerm =>
            new GpuPairObjective<TTerm>(device, objective, loss) { RowParallelFrom = rowParallelFrom };
    }

    private sealed class BodyFactory(GpuDevice device, int rowParallelFrom) : IQueryLossVisitor<GpuObjectiveKernel>
    {
        public GpuObjectiveKernel Visit<TLoss>(IQueryLossObjective objective, TLoss loss) where TLoss : struct, IQueryLoss =>
            new GpuQueryLossObjective<TLoss>(device, objective, loss) { RowParallelFrom = rowParallelFrom };
    }
}
