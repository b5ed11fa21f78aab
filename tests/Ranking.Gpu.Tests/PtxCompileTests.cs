using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Ranking.Gpu.Tests;

/// <summary>
/// Every kernel of Ranking.Gpu compiled to PTX for an H200 (sm_90) on this machine, which has no GPU: the
/// CPU accelerator runs the same IL but not ILGPU's PTX back end, and device-only failures cost device time
/// to find. A kernel calling a method the back end cannot map (Math.Log2 in ILGPU 1.5.3) compiles to PTX
/// with an unresolved <c>.extern .func</c> that the CUDA driver's JIT then rejects; this catches that here.
/// </summary>
public class PtxCompileTests
{
    private static readonly Lazy<(Context Context, PTXBackend Backend)> Compiler = new(() =>
    {
        // The same context settings as GpuDevice.Open (math mode, ILGPU.Algorithms), without libdevice
        // (it needs the CUDA SDK, absent here).
        var context = Context.Create(builder => builder.Cuda().CPU().Math(MathMode.Default).EnableAlgorithms());
        var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, nvvmAPI: null);
        return (context, backend);
    });

    /// <summary>Kernel entry points: static methods of Ranking.Gpu.Kernels whose first parameter is a thread index.</summary>
    private static IEnumerable<MethodInfo> Kernels() =>
        typeof(GpuDevice).Assembly.GetTypes()
            .Where(t => t.Namespace == "Ranking.Gpu.Kernels")
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Where(m => m.GetParameters() is [{ ParameterType: var first }, ..] && (first == typeof(Index1D) || first == typeof(Index2D)) && !m.IsGenericMethodDefinition)
            .OrderBy(m => m.DeclaringType!.Name + "." + m.Name, StringComparer.Ordinal);

    public static TheoryData<string> KernelNames()
    {
        var names = new TheoryData<string>();
        foreach (var m in Kernels()) names.Add(m.DeclaringType!.Name + "." + m.Name);
        return names;
    }

    [Fact]
    public void The_kernel_list_covers_the_families()
    {
        var names = Kernels().Select(m => m.DeclaringType!.Name).Distinct().ToList();
        foreach (string family in new[] { "MetricKernels", "LambdaRankKernels", "ListNetKernels", "QueryLoopKernels", "DenseKernels", "SortedRankKernels", "EmbeddingKernels" })
            Assert.Contains(family, names);
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void Kernel_compiles_to_ptx_for_an_H200_with_nothing_unresolved(string name)
    {
        var method = Kernels().Single(m => m.DeclaringType!.Name + "." + m.Name == name);
        var (_, backend) = Compiler.Value;
        string ptx;
        lock (backend)
        {
            var entry = EntryPointDescription.FromImplicitlyGroupedKernel(method);
            var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            ptx = compiled.PTXAssembly;
        }
        Assert.Contains(".entry", ptx);
        var unresolved = ptx.Split('\n').Where(line => line.TrimStart().StartsWith(".extern", StringComparison.Ordinal)).ToList();
        Assert.True(unresolved.Count == 0, $"{name}: unresolved calls in the PTX:\n{string.Join("\n", unresolved)}");
    }
}
