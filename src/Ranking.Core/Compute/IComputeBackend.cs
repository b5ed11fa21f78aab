using Ranking.Metrics;
using Ranking.Objectives;

namespace Ranking.Compute;

/// <summary>
/// One compute path: the managed CPU loops (<see cref="CpuComputeBackend"/>) or ILGPU kernels
/// (Ranking.Gpu's GpuComputeBackend). Both compute the same numbers from the same scalar math
/// (<see cref="Ranking.Numerics.RankingMath"/>); callers choose with <see cref="ComputeBackends.Create"/>.
/// </summary>
public interface IComputeBackend : IDisposable, Ranking.Models.IDenseNetworkScorer
{
    /// <summary>Cpu or Gpu: the resolved kind, never Auto.</summary>
    ComputeBackendKind Kind { get; }

    /// <summary>One line for logs and reports, e.g. "managed CPU, 2 threads" or "CUDA: NVIDIA H200".</summary>
    string Description { get; }

    /// <summary>
    /// An objective that computes what <paramref name="objective"/> computes (same loss, gradients and
    /// Hessians to 1e-5 relative), on this backend. The CPU backend returns the objective itself; the GPU
    /// backend returns a kernel-backed adapter where it has a kernel for that objective and its settings,
    /// and the objective itself otherwise (see <see cref="IsAccelerated"/>).
    /// </summary>
    IRankingObjective Accelerate(IRankingObjective objective);

    /// <summary>True when <see cref="Accelerate"/> would run <paramref name="objective"/> on this backend's device.</summary>
    bool IsAccelerated(IRankingObjective objective);

    /// <summary>Per-query metric values on this backend.</summary>
    IMetricsBackend Metrics { get; }

    /// <summary>
    /// What this backend's dense training sessions do besides plain Adam on ReLU layers; a trainer whose
    /// settings need more (dropout, weight decay, clipping, SGD) keeps its own loop and does not ask for a session.
    /// </summary>
    DenseTrainingFeatures DenseTrainingFeatures { get; }

    /// <summary>
    /// A session that trains a dense network (the given hidden widths; none = linear; ReLU, Adam, and the
    /// <see cref="DenseTrainingFeatures"/> this backend supports) on <paramref name="train"/> with <paramref name="objective"/> entirely on this backend's
    /// device, starting from <paramref name="parameters"/>, in batches of up to <paramref name="batchQueries"/>
    /// queries; null where this backend cannot (the CPU backend,
    /// or an objective without a kernel): the caller then runs its own loop.
    /// </summary>
    IDeviceTrainingSession? TryStartDenseTraining(Ranking.Data.RankingDataset train, IReadOnlyList<int> hidden, float[] parameters, IRankingObjective objective, int batchQueries);
}

/// <summary>Training features a device session may support beyond plain Adam on ReLU layers (<see cref="IComputeBackend.DenseTrainingFeatures"/>).</summary>
[Flags]
public enum DenseTrainingFeatures
{
    /// <summary>Plain Adam, no regularisation.</summary>
    None = 0,
    /// <summary>Inverted dropout after hidden layers.</summary>
    Dropout = 1,
    /// <summary>L2 weight decay.</summary>
    WeightDecay = 2,
    /// <summary>Global gradient-norm clipping.</summary>
    GradientClipping = 4,
    /// <summary>SGD with momentum instead of Adam.</summary>
    SgdMomentum = 8,
}
