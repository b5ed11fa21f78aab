using ILGPU;
using ILGPU.Runtime;
using Ranking.Gpu.Kernels;
using Ranking.Metrics;

namespace Ranking.Gpu;

/// <summary>
/// Metrics on the device: the rankings are found once for the list, then each metric is one launch of the
/// shared walk over every query (<see cref="MetricKernels"/>), then one download of the per-query values. Same conventions and
/// same numbers (to 1e-5 relative) as <see cref="RankingEvaluator"/>.
/// </summary>
public sealed class GpuMetricsBackend(GpuDevice device) : IMetricsBackend
{
    private DeviceQuerySet? _cached;
    private ILGPU.Runtime.MemoryBuffer1D<double, ILGPU.Stride1D.Dense>? _table;
    private NdcgContract? _tableFor;

    /// <summary>The device the metric kernels run on.</summary>
    public GpuDevice Device { get; } = device;

    /// <summary>
    /// Metrics other than NDCG@k / DCG@k with k &lt;= 32 rank by counting (O(n^2) per query) unless counting
    /// would compare each row with more rows than this on average; then by a segmented sort.
    /// </summary>
    public int SortFrom { get; init; } = SortedRankKernels.DefaultSortFrom;

    /// <summary>NDCG@k / DCG@k (k &lt;= 32) use the per-query top-k kernel up to this query length, and sort beyond it.</summary>
    public int TopKMaxQueryLength { get; init; } = MetricKernels.TopKMaxQueryLength;

    /// <summary>Plain rows (no document ids or weights).</summary>
    public double[][] ComputePerQuery(float[] labels, int[] groupOffsets, float[] scores, IReadOnlyList<MetricSpec> metrics, NdcgContract contract, double dataMaxGrade) =>
        ComputePerQuery(new MetricRows(labels, groupOffsets, scores), metrics, contract, dataMaxGrade);

    /// <inheritdoc />
    public double[][] ComputePerQuery(MetricRows rows, IReadOnlyList<MetricSpec> metrics, NdcgContract contract, double dataMaxGrade)
    {
        ArgumentNullException.ThrowIfNull(rows);
        lock (Device.Sync)
        {
            if (_cached is null || !_cached.Matches(rows.Labels, rows.GroupOffsets, null))
            {
                _cached?.Dispose();
                _cached = new DeviceQuerySet(Device, rows.Labels, rows.GroupOffsets);
            }
            _cached.UploadScores(rows.Scores);
            using var tieKeys = rows.TieKeys is null ? null : Device.Upload(rows.TieKeys);
            using var weights = rows.DocumentWeights is null ? null : Device.Upload(rows.DocumentWeights);
            using var subtopics = rows.Subtopics is null || !metrics.Any(m => m.IsDiversity) ? null : new DeviceSubtopicJudgements(Device, rows.Subtopics);
            return ComputePerQuery(_cached, _cached.Scores.View, metrics, contract, dataMaxGrade, tieKeys?.View ?? default, weights?.View ?? default,
                subtopics?.Arrays ?? default);
        }
    }

    /// <summary>
    /// For data already on the device (scores from a model's forward pass, say); <paramref name="tieKeys"/> are the
    /// document-id keys the docno tie policy orders ties by, <paramref name="documentWeights"/> multiply gains,
    /// <paramref name="subtopics"/> are the subtopic judgements of alpha-NDCG (<see cref="DeviceSubtopicJudgements"/>).
    /// </summary>
    public double[][] ComputePerQuery(DeviceQuerySet set, ArrayView<float> scores, IReadOnlyList<MetricSpec> metrics, NdcgContract contract, double dataMaxGrade,
        ArrayView<float> tieKeys = default, ArrayView<float> documentWeights = default, SubtopicArrays subtopics = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(contract);
        if (contract.Ties == TiePolicy.DocIdDescending && !tieKeys.IsValid)
            throw new ArgumentException($"contract '{contract.Name}' orders ties by document id: the tie keys are required.", nameof(tieKeys));
        lock (Device.Sync)
        {
            var kernels = Device.Kernels(a => new MetricKernels(a));
            // The contract's gain table is uploaded once per contract; values land in the set's query scratch.
            if (_tableFor != contract)
            {
                _table?.Dispose();
                _table = Device.Upload(contract.GainTable?.ToArray() ?? [0.0]);
                _tableFor = contract;
            }
            var perQuery = set.QueryScratch(5);
            var result = new double[metrics.Count][];
            if (metrics.Count == 0) return result;
            var settings = metrics.Select(m => Settings(m, contract, dataMaxGrade)).ToArray();
            // Gains and, on sets that sort, the rankings are computed once for all the metrics.
            var prepared = kernels.Prepare(set, set.All, scores, settings, _table!.View, SortFrom, TopKMaxQueryLength, tieKeys, documentWeights, subtopics);
            for (int m = 0; m < metrics.Count; m++)
            {
                kernels.Launch(prepared, settings[m], perQuery);
                result[m] = new double[set.QueryCount];
                Device.Download(perQuery, result[m]);
            }
            return result;
        }
    }

    /// <summary>The kernel's view of one metric under a contract.</summary>
    public static MetricKernelSettings Settings(MetricSpec metric, NdcgContract contract, double dataMaxGrade)
    {
        ArgumentNullException.ThrowIfNull(metric);
        ArgumentNullException.ThrowIfNull(contract);
        return new()
        {
            Walk = metric.WalkSettings(contract, dataMaxGrade),
            Gain = (int)contract.Gain,
            // Document-id ties are optimistic ties over the document-id keys (larger id first).
            Ties = (int)(contract.Ties == TiePolicy.DocIdDescending ? TiePolicy.Optimistic : contract.Ties),
            Discount = (int)contract.Discount.Kind,
            DiscountOffset = contract.Discount.Offset,
            Alpha = metric.Alpha,
        };
    }
}
