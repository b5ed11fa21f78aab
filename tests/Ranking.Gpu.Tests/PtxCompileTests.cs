using System.Reflection;
using Ranking.Gpu.Diagnostics;

namespace Ranking.Gpu.Tests;

/// <summary>
/// Every kernel of Ranking.Gpu compiled to PTX for an H200 (sm_90) on this machine, which has no GPU: the
/// CPU accelerator runs the same IL but not ILGPU's PTX back end, and device-only failures cost device time
/// to find. A kernel calling a method the back end cannot map (Math.Log2 in ILGPU 1.5.3) compiles to PTX
/// with an unresolved <c>.extern .func</c> that the CUDA driver's JIT then rejects; this catches that here.
/// </summary>
public class PtxCompileTests
{
    private static IEnumerable<MethodInfo> Kernels() => KernelCatalog.Kernels();

    private static string Name(MethodInfo m) => KernelCatalog.Name(m);

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
        string ptx = KernelCatalog.CompilePtx(method);
        Assert.Contains(".entry", ptx);
        var unresolved = KernelCatalog.Summarise(name, ptx).Unresolved;
        Assert.True(unresolved.Count == 0, $"{name}: unresolved calls in the PTX:\n{string.Join("\n", unresolved)}");
    }

    [Fact]
    public void The_ptx_summary_counts_registers_local_memory_and_unresolved_calls()
    {
        const string ptx = """
            .version 8.0
            .target sm_90
            .extern .func (.param .b64 func_retval0) log2
            .visible .entry K(
            {
                .local .align 8 .b8 __local_depot0[48];
                .reg .pred %p<3>;
                .reg .b32 %r<12>;
                .reg .f64 %fd<7>;
                ret;
            }
            """;
        var summary = KernelCatalog.Summarise("K", ptx);
        Assert.Equal(3 + 12 + 7, summary.Registers);
        Assert.Equal(48, summary.LocalBytes);
        Assert.Equal(ptx.Length, summary.PtxBytes);
        Assert.Equal([".extern .func (.param .b64 func_retval0) log2"], summary.Unresolved);
    }

    [Fact]
    public void Ptx_dump_writes_one_file_per_kernel_and_a_summary()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ranking-ptx-" + Guid.NewGuid().ToString("N"));
        try
        {
            var log = new StringWriter();
            var summaries = KernelCatalog.WriteAll(dir, log);
            Assert.Equal(Kernels().Count(), summaries.Count);
            Assert.All(summaries, s => Assert.Empty(s.Unresolved));
            Assert.Equal(summaries.Count, Directory.GetFiles(dir, "*.ptx").Length);
            var lines = File.ReadAllLines(Path.Combine(dir, "summary.tsv"));
            Assert.Equal(summaries.Count + 1, lines.Length);
            Assert.Contains(lines, l => l.StartsWith("DenseKernels.AdamKernel\t", StringComparison.Ordinal));
            Assert.All(summaries, s => Assert.True(s.Registers > 0, $"{s.Kernel}: no register declarations read"));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
    }

    private sealed class BodyType : Ranking.Objectives.IQueryLossVisitor<Type>
    {
        public Type Visit<TLoss>(Ranking.Objectives.IQueryLossObjective objective, TLoss loss) where TLoss : struct, Ranking.Numerics.IQueryLoss => typeof(TLoss);
    }
}
