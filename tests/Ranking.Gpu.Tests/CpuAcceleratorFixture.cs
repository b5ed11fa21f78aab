using Ranking.Gpu;

namespace Ranking.Gpu.Tests;

/// <summary>
/// The kernels run on ILGPU's CPU accelerator here (no GPU on CI): same kernels, same compiler front end,
/// threads instead of warps. One device for the whole test run (context + compiles cost ~0.5 s each).
/// </summary>
public static class TestDevice
{
    public static GpuDevice Cpu => GpuDevice.Shared(AcceleratorPreference.CpuAccelerator)!;
}
