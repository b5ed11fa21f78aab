using System.CommandLine;
using Ranking.Compute;
using Ranking.Gpu;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>--backend auto|cpu|gpu</c> of the commands that compute: cpu = the managed loops; gpu = ILGPU kernels
/// on CUDA, then OpenCL, else ILGPU's CPU accelerator (correct but slow: a warning says so); auto = a real
/// GPU when one is present, else the managed loops.
/// </summary>
internal static class BackendOption
{
    public static Option<string> Create() => new("--backend")
    {
        Description = "Compute path: auto (a CUDA/OpenCL GPU when present, else CPU), cpu, or gpu.",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>The backend for the option's text; a UsageException for anything but auto|cpu|gpu.</summary>
    public static IComputeBackend Resolve(string text)
    {
        ComputeBackendKind kind;
        try
        {
            kind = ComputeBackendKinds.Parse(text);
        }
        catch (ArgumentException ex)
        {
            throw new UsageException("--backend: " + ex.Message);
        }
        if (kind == ComputeBackendKind.Cpu) return CpuComputeBackend.Instance;
        GpuComputeBackend.Register();
        var backend = ComputeBackends.Create(kind);
        if (backend is GpuComputeBackend { Device.IsRealGpu: false })
            Console.Error.WriteLine($"warning: no GPU found; --backend gpu runs the kernels on {backend.Description}.");
        return backend;
    }
}
