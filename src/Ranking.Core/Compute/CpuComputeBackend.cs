using Ranking.Metrics;
using Ranking.Objectives;

namespace Ranking.Compute;

/// <summary>The managed CPU path: objectives and metrics run as written, parallel over queries.</summary>
public sealed class CpuComputeBackend : IComputeBackend
{
    /// <summary>The one instance (the backend holds no state).</summary>
    public static CpuComputeBackend Instance { get; } = new();

    private CpuComputeBackend() { }

    /// <summary>Always <see cref="ComputeBackendKind.Cpu"/>.</summary>
    public ComputeBackendKind Kind => ComputeBackendKind.Cpu;

    /// <summary>"managed CPU, N cores" with this machine's processor count.</summary>
    public string Description => $"managed CPU, {Environment.ProcessorCount} cores";

    /// <paramref name="objective"/> itself: the CPU path runs every objective as written.
    public IRankingObjective Accelerate(IRankingObjective objective) => objective ?? throw new ArgumentNullException(nameof(objective));

    /// <summary>Always false: nothing moves to a device.</summary>
    public bool IsAccelerated(IRankingObjective objective) => false;

    /// <summary>The managed metrics of <see cref="Ranking.Metrics.RankingEvaluator"/>.</summary>
    public IMetricsBackend Metrics => CpuMetricsBackend.Instance;

    /// <summary>None: the CPU starts no device session (the trainer's own loop does everything).</summary>
    public DenseTrainingFeatures DenseTrainingFeatures => DenseTrainingFeatures.None;

    /// <summary>Null: on the CPU the trainer's own loop is the managed path.</summary>
    public IDeviceTrainingSession? TryStartDenseTraining(Ranking.Data.RankingDataset train, IReadOnlyList<int> hidden, float[] parameters, IRankingObjective objective, int batchQueries) => null;

    /// <summary>False: on the CPU the network's own Predict is the managed path.</summary>
    public bool TryPredictDense(Ranking.Models.DenseNetwork network, float[] features, int rowCount, float[] scores) => false;

    /// <summary>Nothing to release: the instance is shared.</summary>
    public void Dispose() { }
}
