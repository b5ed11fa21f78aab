using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Ranking.Gpu.Diagnostics;

/// <summary>
/// Every kernel of Ranking.Gpu and its PTX for an H200 (sm_90), compiled on a machine without a GPU: the CPU
/// accelerator runs the same IL but not ILGPU's PTX back end, and device-only failures cost device time to
/// find. Shared by the PTX compile test (tests/Ranking.Gpu.Tests) and <c>ranking-gpu-bench ptx</c>, which
/// writes each kernel's PTX and a summary (size, registers, local memory, unresolved calls) for reading.
/// </summary>
public static class KernelCatalog
{
    private static readonly Lazy<(Context Context, PTXBackend Backend)> Compiler = new(() =>
    {
        // The same context settings as GpuDevice.Open (math mode, ILGPU.Algorithms), without libdevice
        // (it needs the CUDA SDK, which a machine without a GPU lacks).
        var context = Context.Create(builder => builder.Cuda().CPU().Math(MathMode.Default).EnableAlgorithms());
        var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_80, nvvmAPI: null);
        return (context, backend);
    });

    /// <summary>
    /// Kernel entry points: static methods of Ranking.Gpu.Kernels whose first parameter is a thread index.
    /// Generic kernels (the loss bodies' kernels) are closed over every loss body and pair term of
    /// Ranking.Core, found by reflection: a new loss is compiled without being listed.
    /// </summary>
    public static IEnumerable<MethodInfo> Kernels() =>
        typeof(GpuDevice).Assembly.GetTypes()
            .Where(t => t.Namespace == "Ranking.Gpu.Kernels")
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Where(m => m.GetParameters() is [{ ParameterType: var first }, ..] && (first == typeof(Index1D) || first == typeof(Index2D)))
            .SelectMany(m => m.IsGenericMethodDefinition ? Instantiations(m) : [m])
            .OrderBy(Name, StringComparer.Ordinal);

    /// <summary>A kernel's readable name: declaring type, method and generic arguments.</summary>
    public static string Name(MethodInfo m) =>
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

    /// <summary>Compiles <paramref name="kernel"/> to PTX for sm_90 (one compilation at a time: the back end is not thread-safe).</summary>
    public static string CompilePtx(MethodInfo kernel)
    {
        var (_, backend) = Compiler.Value;
        lock (backend)
        {
            var entry = EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
            return ((PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly;
        }
    }

    /// <summary>What a kernel's PTX says about it: declared registers by kind, bytes of local (per-thread stack) memory, and calls the back end could not map (<c>.extern .func</c>, which the CUDA driver's JIT rejects).</summary>
    public sealed record PtxSummary(string Kernel, int PtxBytes, int Registers, int LocalBytes, IReadOnlyList<string> Unresolved);

    /// <summary>Reads <paramref name="ptx"/>'s register declarations (<c>.reg .b32 %r&lt;N&gt;;</c>), local arrays and unresolved externs.</summary>
    public static PtxSummary Summarise(string kernel, string ptx)
    {
        int registers = 0, local = 0;
        var unresolved = new List<string>();
        foreach (string raw in ptx.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith(".extern", StringComparison.Ordinal)) unresolved.Add(line);
            else if (line.StartsWith(".reg ", StringComparison.Ordinal) && line.IndexOf('<') is > 0 and var open && line.IndexOf('>', open) is > 0 and var close
                     && int.TryParse(line.AsSpan(open + 1, close - open - 1), out int count))
                registers += count;
            else if (line.StartsWith(".local ", StringComparison.Ordinal) && line.IndexOf('[') is > 0 and var lo && line.IndexOf(']', lo) is > 0 and var hi
                     && int.TryParse(line.AsSpan(lo + 1, hi - lo - 1), out int bytes))
                local += bytes;
        }
        return new PtxSummary(kernel, ptx.Length, registers, local, unresolved);
    }

    /// <summary>
    /// Writes every kernel's PTX to <paramref name="directory"/> (one <c>.ptx</c> file each) and <c>summary.tsv</c>;
    /// returns the summaries. A kernel that fails to compile is listed with its exception instead of PTX.
    /// </summary>
    public static List<PtxSummary> WriteAll(string directory, TextWriter log)
    {
        Directory.CreateDirectory(directory);
        var summaries = new List<PtxSummary>();
        var tsv = new System.Text.StringBuilder("kernel\tptx_bytes\tvirtual_registers\tlocal_bytes\tunresolved\n");
        foreach (var kernel in Kernels())
        {
            string name = Name(kernel);
            string file = Path.Combine(directory, FileName(name) + ".ptx");
            PtxSummary summary;
            try
            {
                string ptx = CompilePtx(kernel);
                File.WriteAllText(file, ptx);
                summary = Summarise(name, ptx);
            }
            catch (Exception e)
            {
                File.WriteAllText(file, $"// compile failed: {e}\n");
                summary = new PtxSummary(name, 0, 0, 0, [$"compile failed: {e.GetType().Name}: {e.Message}"]);
            }
            summaries.Add(summary);
            tsv.Append(name).Append('\t').Append(summary.PtxBytes).Append('\t').Append(summary.Registers).Append('\t')
               .Append(summary.LocalBytes).Append('\t').Append(string.Join(" | ", summary.Unresolved)).Append('\n');
            log.WriteLine($"{(summary.Unresolved.Count == 0 ? "ok  " : "FAIL")} {name}: {summary.PtxBytes:N0} bytes of PTX, {summary.Registers} virtual registers, {summary.LocalBytes} bytes local{(summary.Unresolved.Count == 0 ? "" : "; " + string.Join("; ", summary.Unresolved))}");
        }
        File.WriteAllText(Path.Combine(directory, "summary.tsv"), tsv.ToString());
        return summaries;
    }

    /// <summary>A file name from a kernel name: generic brackets and commas become underscores.</summary>
    private static string FileName(string kernelName)
    {
        var chars = kernelName.Select(c => char.IsLetterOrDigit(c) || c == '.' ? c : '_').ToArray();
        string name = new string(chars).Trim('_');
        // Long generic closures: keep the name readable and unique.
        return name.Length <= 120 ? name : name[..100] + "_" + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(kernelName)))[..12];
    }
}
