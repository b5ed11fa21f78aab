using System.Diagnostics;
using System.Globalization;
using Ranking.Gpu;
using Ranking.Gpu.Diagnostics;

// ranking-gpu-bench [parity] [bench] [--accelerator cuda|best|cpu] [--rows 100000,1000000,10000000]
//                   [--cpu-threads 2] [--repeats 5] [--seconds-per-measurement 8] [--out results.md]
//                   [--no-mlp] [--mlp-cpu-max-rows 1000000] [--mlp-batch-queries 16,256] [--long-queries 1000000:100000|none]
//                   [--embedding-batches 256,1024,4096,8192|none] [--embedding-memory 65536]
// ranking-gpu-bench embed-train [--embed-train 8192:0:3,8192:65536:10] [--cpu-threads N|-1] [--no-cpu-training] [--out results.md]
//                   the user-facing training path (EmbeddingTrainer.Train, what `ranking embed train --backend gpu` runs): SupCon
//                   at BATCH:MEMORY:BATCHES on the device, then on the CPU, compared to 1e-4, samples/s of each.
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
// embed-train: batch, memory entries and batches of each end-to-end training.
var embedTrain = new List<(int Batch, int Memory, int Batches)> { (8_192, 0, 3), (8_192, 65_536, 10) };
bool cpuTraining = true;
double secondsPerMeasurement = 8;
for (int i = 0; i < args.Length; i++)
{
    string a = args[i];
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{a} needs a value");
    switch (a)
    {
        case "parity" or "bench" or "ptx" or "embed-train": modes.Add(a); break;
        case "--embed-train":
            embedTrain = Next().Split(',').Select(t => t.Split(':')).Select(p => p.Length == 3
                ? (int.Parse(p[0], CultureInfo.InvariantCulture), int.Parse(p[1], CultureInfo.InvariantCulture), int.Parse(p[2], CultureInfo.InvariantCulture))
                : throw new ArgumentException($"--embed-train takes BATCH:MEMORY:BATCHES, got '{string.Join(":", p)}'")).ToList();
            break;
        case "--no-cpu-training": cpuTraining = false; break;
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

if (modes.Contains("embed-train"))
{
    using var backend = new GpuComputeBackend(device);
    if (!device.IsRealGpu) Console.WriteLine("note: no GPU: the device column is ILGPU's CPU accelerator, a correctness tool, not a speed claim.");
    string before = modes.Contains("bench") && output.Length > 0 && File.Exists(output) ? File.ReadAllText(output).TrimEnd() + "\n\n" : "";
    // Warm-up (JIT on the host, kernels on the device; a memory so that every kernel is loaded), not recorded.
    EmbeddingTrainingBenchmark.Run(backend, 32, 64, 3, TextWriter.Null, cpuTraining, cpuThreads, hidden: 8, dimension: 4);
    var rows = new List<string> { $"Device: {backend.Description}; CPU: {(cpuThreads <= 0 ? "all" : cpuThreads.ToString(CultureInfo.InvariantCulture))} threads", "", EmbeddingTrainingBenchmark.MarkdownHeader };
    foreach (var (batch, memory, batches) in embedTrain)
    {
        try
        {
            var result = EmbeddingTrainingBenchmark.Run(backend, batch, memory, batches, Console.Out, cpuTraining, cpuThreads);
            rows.Add(result.ToMarkdownRow());
            if (cpuTraining && !result.Matches) failures++;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Console.WriteLine($"FAILED embed train batch {batch} memory {memory}: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
            rows.Add($"| supcon batch {batch} memory {memory} | FAILED: {ex.GetType().Name} | | |");
        }
        // Rewritten after each training, so a run cut short by a time limit keeps what finished.
        if (output.Length > 0) File.WriteAllText(output, before + string.Join("\n", rows) + "\n");
    }
    Console.WriteLine();
    Console.WriteLine(string.Join("\n", rows));
}
return failures == 0 ? 0 : 1;
