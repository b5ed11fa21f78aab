using System.Diagnostics;
using System.Globalization;
using Ranking.Gpu;
using Ranking.Gpu.Diagnostics;

// ranking-gpu-bench [parity] [bench] [--accelerator cuda|best|cpu] [--rows 100000,1000000,10000000]
//                   [--cpu-threads 2] [--repeats 5] [--seconds-per-measurement 8] [--out results.md]
//                   [--no-mlp] [--mlp-cpu-max-rows 1000000] [--mlp-batch-queries 16,256] [--long-queries 1000000:100000|none]
//                   [--embedding-batches 256,1024,4096,8192|none] [--embedding-memory 65536]
// ranking-gpu-bench ptx [--ptx-out DIR]   every kernel's PTX for sm_90 and DIR/summary.tsv (registers, local memory,
//                                     unresolved calls); needs no GPU. Exit code 1 if a kernel has an unresolved call.
// Exit code: 0 all parity checks passed (and the benchmarks ran), 1 a parity check failed, 2 bad usage or no device.
var modes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
string accelerator = "best", output = "", ptxDirectory = "ptx";
int[] sizes = [100_000, 1_000_000, 10_000_000];
int cpuThreads = 2, repeats = 5, mlpCpuMaxRows = 1_000_000;
bool mlp = true;
int[] mlpBatchQueries = [16, 256];
int[] embeddingBatches = [256, 1024, 4096, 8192];
int embeddingMemory = 65_536;
// Rows and query length of the long-query workload (segmented-sort ranks against counting); "none" skips it.
(int Rows, int Length)? longQueries = (1_000_000, 100_000);
double secondsPerMeasurement = 8;
for (int i = 0; i < args.Length; i++)
{
    string a = args[i];
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
    switch (a)
    {
        case "parity" or "bench" or "ptx": modes.Add(a); break;
        case "--accelerator": accelerator = Next().ToLowerInvariant(); break;
        case "--rows": sizes = Next().Split(',').Select(s => int.Parse(s.Replace("_", ""), CultureInfo.InvariantCulture)).ToArray(); break;
        case "--cpu-threads": cpuThreads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--repeats": repeats = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seconds-per-measurement": secondsPerMeasurement = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--out": output = Next(); break;
        case "--ptx-out": ptxDirectory = Next(); break;
        case "--no-mlp": mlp = false; break;
        case "--long-queries":
            string spec = Next();
            longQueries = spec == "none" ? null : (int.Parse(spec.Split(':')[0], CultureInfo.InvariantCulture), int.Parse(spec.Split(':')[1], CultureInfo.InvariantCulture));
            break;
        case "--mlp-cpu-max-rows": mlpCpuMaxRows = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--embedding-batches": { string v = Next(); embeddingBatches = v == "none" ? [] : v.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break; }
        case "--embedding-memory": embeddingMemory = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--mlp-batch-queries": mlpBatchQueries = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
        default: Console.Error.WriteLine($"unknown argument '{a}'"); return 2;
    }
}
if (modes.Count == 0) { modes.Add("parity"); modes.Add("bench"); }
if (modes.Contains("ptx"))
{
    // PTX needs no device: ILGPU's PTX back end compiles for sm_90 anywhere.
    var summaries = KernelCatalog.WriteAll(ptxDirectory, Console.Out);
    int unresolved = summaries.Count(s => s.Unresolved.Count > 0);
    Console.WriteLine($"ptx: {summaries.Count} kernels, {unresolved} with unresolved calls, {summaries.Count(s => s.LocalBytes > 0)} using local memory; written to {Path.GetFullPath(ptxDirectory)}");
    modes.Remove("ptx");
    if (modes.Count == 0) return unresolved == 0 ? 0 : 1;
    if (unresolved > 0) return 1;
}

var preference = accelerator switch
{
    "cuda" or "gpu" => AcceleratorPreference.RealGpuOnly,
    "cpu" => AcceleratorPreference.CpuAccelerator,
    _ => AcceleratorPreference.BestAvailable,
};
var clock = Stopwatch.StartNew();
using var device = GpuDevice.Open(preference);
if (device is null)
{
    Console.Error.WriteLine("no CUDA or OpenCL device found (use --accelerator best to fall back to ILGPU's CPU accelerator)");
    return 2;
}
Console.WriteLine($"device: {device.Description} (opened in {clock.ElapsedMilliseconds} ms); {Environment.ProcessorCount} CPU cores; .NET {Environment.Version}");

int failures = 0;
if (modes.Contains("parity"))
{
    clock.Restart();
    foreach (var result in GpuParity.RunAll(device))
    {
        Console.WriteLine(result);
        if (!result.Passed) failures++;
    }
    Console.WriteLine($"parity: {(failures == 0 ? "all passed" : failures + " FAILED")} in {clock.Elapsed.TotalSeconds:F1} s");
}

if (modes.Contains("bench"))
{
    if (!device.IsRealGpu) Console.WriteLine("note: no GPU: the 'GPU' column is ILGPU's CPU accelerator, a correctness tool, not a speed claim.");
    var suite = new GpuBenchmarkSuite(device, Console.Out) { CpuThreads = cpuThreads, Repeats = repeats, SecondsPerMeasurement = secondsPerMeasurement, MlpCpuMaxRows = mlpCpuMaxRows, MlpBatchQueries = mlpBatchQueries };
    // The table is rewritten after each size, so a run cut short by a time limit still leaves its results.
    suite.Run(sizes, () => { if (output.Length > 0) File.WriteAllText(output, suite.ToMarkdown()); }, mlp);
    if (longQueries is { } longSpec) suite.RunLongQueries(longSpec.Rows, longSpec.Length);
    if (output.Length > 0) File.WriteAllText(output, suite.ToMarkdown());
    if (embeddingBatches.Length > 0) suite.RunEmbeddings(embeddingBatches, memory: embeddingMemory, memoryBatch: Math.Min(1_024, embeddingBatches.Max()));
    string table = suite.ToMarkdown();
    Console.WriteLine();
    Console.WriteLine(table);
    if (output.Length > 0) File.WriteAllText(output, table);
}
return failures == 0 ? 0 : 1;
