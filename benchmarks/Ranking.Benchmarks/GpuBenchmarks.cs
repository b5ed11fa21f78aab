using BenchmarkDotNet.Attributes;
using Ranking.Gpu;
using Ranking.Gpu.Diagnostics;
using Ranking.Metrics;
using Ranking.Objectives;

namespace Ranking.Benchmarks;

/// <summary>
/// CPU path vs GPU path on mslr-like sets: NDCG@10, LambdaRank and ListNet gradients. GPU times are
/// device-resident (scores already on the device, results left there, as in a training loop). Where no
/// CUDA/OpenCL device exists the GPU methods return at once and the set-up prints why (ILGPU's CPU
/// accelerator is a correctness tool, not a speed claim). 10M rows and the MLP epoch: run
/// benchmarks/gpu (ranking-gpu-bench), which fits a GPU machine's time budget better than BenchmarkDotNet.
/// Run: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*GpuBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class GpuBenchmarks
{
    private MslrLikeWorkload _data = null!;
    private GpuDevice? _device;
    private DeviceQuerySet? _set;
    private GpuObjectiveKernel? _lambdaRank, _listNet;
    private GpuMetricsBackend? _metrics;
    private readonly LambdaRankObjective _cpuLambdaRank = new();
    private readonly ListNetObjective _cpuListNet = new();
    private readonly IReadOnlyList<MetricSpec> _ndcg10 = MetricSpec.ParseList("ndcg@10");
    private float[] _grad = [], _hess = [];

    [Params(100_000, 1_000_000)]
    public int Rows { get; set; }

    /// <summary>Threads of the CPU path (the project's reference machine has 2 cores).</summary>
    [Params(2)]
    public int CpuThreads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = MslrLikeWorkload.Generate(Rows, withFeatures: false);
        _grad = new float[_data.RowCount];
        _hess = new float[_data.RowCount];
        _device = GpuDevice.Shared(AcceleratorPreference.RealGpuOnly);
        if (_device is null)
        {
            Console.WriteLine("// GPU benchmarks skipped: no CUDA or OpenCL device on this machine (the Gpu* methods return at once).");
            return;
        }
        _set = new DeviceQuerySet(_device, _data.Labels, _data.Offsets);
        _set.UploadScores(_data.Scores);
        _lambdaRank = GpuObjectives.TryCreate(_device, _cpuLambdaRank);
        _listNet = GpuObjectives.TryCreate(_device, _cpuListNet);
        _metrics = new GpuMetricsBackend(_device);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _lambdaRank?.Dispose();
        _listNet?.Dispose();
        _set?.Dispose();
    }

    [Benchmark]
    public double CpuNdcg10() => RankingEvaluator.Evaluate(_data.Labels, _data.Offsets, null, _data.Scores, _ndcg10, NdcgContract.Default, CpuThreads).MeanValues[0];

    [Benchmark]
    public double GpuNdcg10() => _metrics is null ? 0 : _metrics.ComputePerQuery(_set!, _set!.Scores.View, _ndcg10, NdcgContract.Default, 4)[0][0];

    [Benchmark]
    public double CpuLambdaRank() => _cpuLambdaRank.Compute(new ObjectiveBatch(_data.Labels, _data.Scores, _data.Offsets, null, 0, CpuThreads), _grad, _hess);

    [Benchmark]
    public void GpuLambdaRank() => Launch(_lambdaRank);

    [Benchmark]
    public double CpuListNet() => _cpuListNet.Compute(new ObjectiveBatch(_data.Labels, _data.Scores, _data.Offsets, null, 0, CpuThreads), _grad, _hess);

    [Benchmark]
    public void GpuListNet() => Launch(_listNet);

    private void Launch(GpuObjectiveKernel? kernel)
    {
        if (kernel is null || _device is null) return;
        lock (_device.Sync)
        {
            kernel.Launch(_set!, _set!.All, 0);
            _device.Synchronize();
        }
    }
}
