using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Ranking.Models;

namespace Ranking.Benchmarks;

/// <summary>
/// MLP training throughput: one forward + backward pass of a 136 -> 256 -> 128 -> 1 network (MSLR's
/// feature count) over a batch of 8192 rows, in GFLOP/s (multiply-add = 2 flops), next to the machine's
/// measured peak FP32 FMA rate on the same threads (<see cref="PeakFma"/>: 12 independent Vector256 FMA
/// chains per thread, enough to fill both FMA pipes of a Zen/Skylake core). The GFLOP/s column divides
/// each benchmark's flop count by its mean time.
/// Run: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*MlpBenchmarks*' --job short
/// </summary>
[Config(typeof(GflopsConfig))]
public class MlpBenchmarks
{
    public const int Rows = 8192;
    private static readonly int[] Hidden = [256, 128];
    private const int Inputs = 136;
    private const long FmaIterations = 20_000_000;

    [Params(1, 2)]
    public int Threads { get; set; }

    private IModelTrainingPass _pass = null!;
    private float[] _features = null!, _scores = null!, _scoreGradients = null!, _gradients = null!;

    [GlobalSetup]
    public void Setup()
    {
        var model = new MlpModel(Inputs, Hidden, 0f, seed: 1);
        _pass = model.CreateTrainingPass(Rows, Threads);
        var random = new Random(7);
        _features = Enumerable.Range(0, Rows * Inputs).Select(_ => (float)random.NextDouble()).ToArray();
        _scores = new float[Rows];
        _scoreGradients = Enumerable.Range(0, Rows).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        _gradients = new float[model.Parameters.Length];
    }

    /// <summary>Multiply-adds of the forward pass: every layer's inputs x outputs per row.</summary>
    public static long ForwardFlops => 2L * Rows * (Inputs * 256 + 256 * 128 + 128 * 1);

    /// <summary>Forward + backward: weight gradients of every layer (same count as forward) and input gradients of layers 2 and 3.</summary>
    public static long ForwardBackwardFlops => 2 * ForwardFlops + 2L * Rows * (256 * 128 + 128 * 1);

    [Benchmark]
    public void Forward() => _pass.Forward(_features, Rows, _scores, training: false, 0);

    [Benchmark]
    public void ForwardBackward()
    {
        _pass.Forward(_features, Rows, _scores, training: true, 1);
        _pass.Backward(_scoreGradients, Rows, _gradients);
    }

    /// <summary>The peak: <see cref="Threads"/> threads each running 12 independent FMA chains.</summary>
    [Benchmark]
    public float PeakFma()
    {
        var sums = new float[Threads];
        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t => sums[t] = FmaChains(FmaIterations));
        return sums.Sum();
    }

    public static long PeakFmaFlops(int threads) => threads * FmaIterations * 12 * 8 * 2;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float FmaChains(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-6f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0 + c, a2 = a1 + c, a3 = a2 + c, a4 = a3 + c, a5 = a4 + c;
        Vector256<float> a6 = a5 + c, a7 = a6 + c, a8 = a7 + c, a9 = a8 + c, a10 = a9 + c, a11 = a10 + c;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c); a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c); a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c); a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c); a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c); a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c); a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    private sealed class GflopsConfig : ManualConfig
    {
        public GflopsConfig() => AddColumn(new RateColumn("GFLOP/s", "billions of floating-point operations per second (a fused multiply-add counts 2)",
            benchmarkCase => benchmarkCase.Descriptor.WorkloadMethod.Name switch
            {
                nameof(Forward) => ForwardFlops,
                nameof(ForwardBackward) => ForwardBackwardFlops,
                nameof(PeakFma) => PeakFmaFlops((int)benchmarkCase.Parameters["Threads"]),
                _ => 0,
            }, perNanosecond: 1, "F1")); // flops per ns = GFLOP/s
    }
}
