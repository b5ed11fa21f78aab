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

    /// <summary>
    /// Kernel entry points: static methods of Ranking.Gpu.Kernels whose first parameter is a thread index.
    /// Generic kernels (the loss bodies' kernels) are closed over every loss body and pair term of
    /// Ranking.Core, found by reflection: a new loss is compiled here without being listed.
    /// </summary>
    private static IEnumerable<MethodInfo> Kernels() =>
        typeof(GpuDevice).Assembly.GetTypes()
            .Where(t => t.Namespace == "Ranking.Gpu.Kernels")
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Where(m => m.GetParameters() is [{ ParameterType: var first }, ..] && (first == typeof(Index1D) || first == typeof(Index2D)))
            .SelectMany(m => m.IsGenericMethodDefinition ? Instantiations(m) : [m])
            .OrderBy(Name, StringComparer.Ordinal);

    private static string Name(MethodInfo m) =>
        m.DeclaringType!.Name + "." + m.Name + (m.IsGenericMethod ? "<" + string.Join(",", m.GetGenericArguments().Select(TypeName)) + ">" : "");

    private static string TypeName(Type t) => t.IsGenericType ? t.Name.Split('`')[0] + "<" + string.Join(",", t.GetGenericArguments().Select(TypeName)) + ">" : t.Name;

    /// <summary>A generic kernel closed over every struct of Ranking.Core that meets its one type parameter's constraints.</summary>
    private static IEnumerable<MethodInfo> Instantiations(MethodInfo kernel)
    {
        var parameter = kernel.GetGenericArguments().Single();
        var constraints = parameter.GetGenericParameterConstraints().Where(c => c.IsInterface).ToArray();
        return LossStructs().Where(t => constraints.All(c => c.IsAssignableFrom(t))).Select(t => kernel.MakeGenericMethod(t));
    }

    /// <summary>Every loss body and pair term struct of Ranking.Core, generic bodies closed over every pair term.</summary>
    private static IEnumerable<Type> LossStructs()
    {
        var structs = typeof(Ranking.Numerics.IQueryLoss).Assembly.GetTypes().Where(t => t.IsValueType && !t.IsAbstract).ToArray();
        var terms = structs.Where(t => !t.IsGenericTypeDefinition && typeof(Ranking.Numerics.IPairTerm).IsAssignableFrom(t)).ToArray();
        foreach (var t in structs.Where(t => typeof(Ranking.Numerics.IQueryLoss).IsAssignableFrom(t) || typeof(Ranking.Numerics.IPairTerm).IsAssignableFrom(t)))
        {
            if (!t.IsGenericTypeDefinition) yield return t;
            else foreach (var term in terms) yield return t.MakeGenericType(term);
        }
    }

    public static TheoryData<string> KernelNames()
    {
        var names = new TheoryData<string>();
        foreach (var m in Kernels()) names.Add(Name(m));
        return names;
    }

    [Fact]
    public void The_kernel_list_covers_the_families()
    {
        var names = Kernels().Select(m => m.DeclaringType!.Name).Distinct().ToList();
        foreach (string family in new[] { "MetricKernels", "LambdaRankKernels", "ListNetKernels", "QueryLossKernel", "PairKernel", "DenseKernels", "SortedRankKernels", "EmbeddingKernels" })
            Assert.Contains(family, names);
        // Every registered objective's body is among the generic kernels' instantiations.
        var bodies = Kernels().Where(m => m.Name == "Query").Select(m => m.GetGenericArguments()[0]).ToHashSet();
        foreach (var (name, _, _, _) in Ranking.Objectives.ObjectiveFactory.Describe())
            if (Ranking.Objectives.ObjectiveFactory.Create(name) is Ranking.Objectives.IQueryLossObjective objective)
                Assert.Contains(objective.Accept(new BodyType()), bodies);
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void Kernel_compiles_to_ptx_for_an_H200_with_nothing_unresolved(string name)
    {
        var method = Kernels().Single(m => Name(m) == name);
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

    private sealed class BodyType : Ranking.Objectives.IQueryLossVisitor<Type>
    {
        public Type Visit<TLoss>(Ranking.Objectives.IQueryLossObjective objective, TLoss loss) where TLoss : struct, Ranking.Numerics.IQueryLoss => typeof(TLoss);
    }
}
