using Ranking.Models;
using Ranking.Objectives;
using Ranking.Training;

namespace Ranking.Gpu.Diagnostics;

/// <summary>
/// One epoch of MLP training (136 -> 64 -> 32 -> 1, ReLU, Adam, LambdaRank, batches of whole queries: 16 is the
/// trainer's default) on both paths over the same batches. The device path is launch-bound on small batches
/// (about twenty launches per batch whatever its size), so the suite also runs larger batches. CPU: Ranking.Models' training pass and
/// Ranking.Training's Adam, as GradientTrainer runs them (batch features copied into one buffer, the
/// objective and the products on <c>cpuThreads</c> threads). GPU: <see cref="GpuMlpSession"/>, everything
/// on the device.
/// </summary>
public sealed class MlpEpochBenchmark : IDisposable
{
    private static readonly int[] Hidden = [64, 32];
    private const float LearningRate = 1e-3f;
    private readonly MslrLikeWorkload _data;
    private readonly int _cpuThreads;
    private readonly MlpModel _cpuModel;
    private readonly IModelTrainingPass _pass;
    private readonly AdamOptimizer _adam;
    private readonly LambdaRankObjective _objective = new();
    private readonly float[] _batchFeatures, _gradients, _hessians, _parameterGradients;
    private readonly DeviceQuerySet _set;
    private readonly GpuMlpSession _gpu;

    /// <param name="batchQueries">Whole queries per batch (the trainer's default is 16).</param>
    public MlpEpochBenchmark(GpuDevice device, MslrLikeWorkload data, int cpuThreads, int batchQueries = 16)
    {
        if (batchQueries < 1) throw new ArgumentOutOfRangeException(nameof(batchQueries), "a batch holds at least one query.");
        _data = data;
        BatchQueries = batchQueries;
        _cpuThreads = cpuThreads;
        int f = MslrLikeWorkload.FeatureCount;
        _cpuModel = new MlpModel(f, Hidden, 0f, seed: 42);
        int maxRows = 0;
        for (int q = 0; q < data.QueryCount; q += BatchQueries)
            maxRows = Math.Max(maxRows, data.Offsets[Math.Min(data.QueryCount, q + BatchQueries)] - data.Offsets[q]);
        _pass = _cpuModel.CreateTrainingPass(maxRows, cpuThreads);
        _adam = new AdamOptimizer(_cpuModel.Parameters.Length);
        _batchFeatures = new float[(long)maxRows * f];
        _gradients = new float[maxRows];
        _hessians = new float[maxRows];
        _parameterGradients = new float[_cpuModel.Parameters.Length];
        _set = new DeviceQuerySet(device, data.Labels, data.Offsets, null, data.Features, f);
        _gpu = new GpuMlpSession(_set, _objective, Hidden, (float[])_cpuModel.Parameters.Clone(), BatchQueries);
    }

    /// <summary>Whole queries per batch.</summary>
    public int BatchQueries { get; }

    public string Describe() => $"{DenseNetwork.Describe(MslrLikeWorkload.FeatureCount, Hidden)}, LambdaRank, Adam, {BatchQueries} queries/batch";

    public void RunCpuEpoch()
    {
        int f = MslrLikeWorkload.FeatureCount;
        var offsets = new int[BatchQueries + 1];
        for (int first = 0; first < _data.QueryCount; first += BatchQueries)
        {
            int count = Math.Min(BatchQueries, _data.QueryCount - first);
            int r0 = _data.Offsets[first], rows = _data.Offsets[first + count] - r0;
            for (int i = 0; i <= count; i++) offsets[i] = _data.Offsets[first + i] - r0;
            Array.Copy(_data.Features!, (long)r0 * f, _batchFeatures, 0, (long)rows * f);
            var labels = _data.Labels.AsSpan(r0, rows).ToArray();
            var scores = new float[rows];
            _pass.Forward(_batchFeatures, rows, scores, training: true, (ulong)first);
            var batchOffsets = offsets.AsSpan(0, count + 1).ToArray();
            var grad = rows == _gradients.Length ? _gradients : new float[rows];
            var hess = rows == _hessians.Length ? _hessians : new float[rows];
            _objective.Compute(new ObjectiveBatch(labels, scores, batchOffsets, null, 0, _cpuThreads), grad, hess);
            float inv = 1f / count;
            for (int i = 0; i < rows; i++) grad[i] *= inv;
            _pass.Backward(grad, rows, _parameterGradients);
            _adam.Step(_cpuModel.Parameters, _parameterGradients, LearningRate);
        }
    }

    public void RunGpuEpoch() => _gpu.RunEpoch(LearningRate);

    /// <summary>The CPU model's parameters (after the CPU epochs run so far).</summary>
    public float[] CpuParameters => _cpuModel.Parameters;

    /// <summary>The device network's parameters (after the GPU epochs run so far).</summary>
    public float[] GpuParameters() => _gpu.Network.DownloadParameters();

    public void Dispose()
    {
        _gpu.Dispose();
        _set.Dispose();
    }
}
