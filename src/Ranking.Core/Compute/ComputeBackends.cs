namespace Ranking.Compute;

/// <summary>
/// Resolves a <see cref="ComputeBackendKind"/> to a backend. Ranking.Core knows nothing of ILGPU, so the
/// GPU backend registers a factory here (Ranking.Gpu's <c>GpuComputeBackend.Register()</c>, called by the
/// CLI at start-up and by any library user who references Ranking.Gpu).
/// </summary>
public static class ComputeBackends
{
    private static Func<bool, IComputeBackend?>? s_gpuFactory;

    /// <summary>
    /// Registers the GPU backend. The factory gets <c>requireRealGpu</c>: true for Auto (a CUDA/OpenCL device
    /// or nothing), false for Gpu (a real device if present, else ILGPU's CPU accelerator). It returns null
    /// when it cannot serve the request.
    /// </summary>
    public static void RegisterGpu(Func<bool, IComputeBackend?> factory) =>
        s_gpuFactory = factory ?? throw new ArgumentNullException(nameof(factory));

    /// <summary>True once a GPU factory has been registered (Ranking.Gpu's GpuComputeBackend.Register).</summary>
    public static bool GpuRegistered => s_gpuFactory is not null;

    /// <summary>
    /// Cpu: the managed path. Gpu: the registered GPU backend, or an InvalidOperationException when none
    /// is registered. Auto: a real GPU when one is present, else the managed CPU path. The caller disposes
    /// the result (disposing the CPU backend does nothing).
    /// </summary>
    public static IComputeBackend Create(ComputeBackendKind kind) => kind switch
    {
        ComputeBackendKind.Cpu => CpuComputeBackend.Instance,
        ComputeBackendKind.Gpu => s_gpuFactory?.Invoke(false)
            ?? throw new InvalidOperationException("the GPU backend is not available: reference Ranking.Gpu and call GpuComputeBackend.Register()."),
        ComputeBackendKind.Auto => s_gpuFactory?.Invoke(true) ?? CpuComputeBackend.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
