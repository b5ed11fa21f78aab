namespace Ranking.Compute;

/// <summary>
/// Where gradients, metrics and MLP products are computed. <see cref="Auto"/> takes a real GPU when one
/// is present (CUDA, then OpenCL) and the managed CPU path otherwise; ILGPU's CPU accelerator is never
/// chosen by <see cref="Auto"/> because it is a correctness tool, far slower than the managed loops.
/// </summary>
public enum ComputeBackendKind
{
    /// <summary>A real GPU when one is registered and present, else the managed CPU path.</summary>
    Auto,
    /// <summary>The managed CPU path.</summary>
    Cpu,
    /// <summary>The registered GPU backend (Ranking.Gpu), on ILGPU's CPU accelerator when no GPU is present.</summary>
    Gpu,
}

/// <summary>Parsing and printing <see cref="ComputeBackendKind"/> as the --backend option spells it.</summary>
public static class ComputeBackendKinds
{
    /// <summary>Parses "auto", "cpu" or "gpu" (any case); anything else is an ArgumentException naming the choices.</summary>
    public static ComputeBackendKind Parse(string text) => text?.Trim().ToLowerInvariant() switch
    {
        "auto" => ComputeBackendKind.Auto,
        "cpu" => ComputeBackendKind.Cpu,
        "gpu" => ComputeBackendKind.Gpu,
        _ => throw new ArgumentException($"unknown backend '{text}': expected auto, cpu or gpu."),
    };

    /// <summary>"auto", "cpu" or "gpu": the spelling <see cref="Parse"/> reads.</summary>
    public static string ToOptionString(this ComputeBackendKind kind) => kind.ToString().ToLowerInvariant();
}
