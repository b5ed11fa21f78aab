using Ranking.Objectives;

namespace Ranking.Compute;

/// <summary>
/// One compute path: the managed CPU loops (<see cref="CpuComputeBackend"/>) or ILGPU kernels
/// (Ranking.Gpu's GpuComputeBackend). Both compute the same numbers from the same scalar math
/// (<see cref="RankingMath"/>); callers choose with <see cref="ComputeBackends.Create"/>.
/// </summary>
public interface IComputeBackend : IDisposable
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
}
