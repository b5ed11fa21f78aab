using System.Globalization;
using Ranking.Data;

namespace Ranking.Metrics;

/// <summary>
/// Computes ranking metrics per query and as (query-weighted) means, parallel over queries, with no
/// allocation per query (thread-local scratch) and top-k selection instead of a full sort when every
/// metric has a short cut-off. Results do not depend on the thread count: per-query values are written
/// to their own slots and the means are summed afterwards in query order.
/// <para>Conventions (MATH.md, "Metrics"):</para>
/// <list type="bullet">
/// <item>NDCG@k / DCG@k: the contract's gain, discount 1/log2(rank+2) (DCG reported with 1/ln when the
/// contract says so), ideal DCG over the whole list cut at k.</item>
/// <item>MAP: AP = sum over relevant rows of precision at their rank / relevant rows; AP@k stops at k and
/// divides by min(k, relevant rows). MRR@k: 1/rank of the first relevant row within k, else 0.
/// P@k = relevant in the top k / k (k, not the list length, when the list is shorter). R@k = relevant in
/// the top k / relevant rows. "Relevant" = grade &gt; the metric's threshold (default 0).</item>
/// <item>ERR@k (Chapelle et al. 2009): R(y) = (2^y - 1) / 2^ymax, ymax from the metric or the data's largest grade.</item>
/// <item>Ties: input order, pessimistic (lower grades first), optimistic, or averaged. Averaged gives the
/// exact expected value over all orders of each tie for NDCG, DCG, MAP, MRR, P and R; ERR is not linear in
/// the order and keeps input order under the averaged policy.</item>
/// <item>Empty queries: when the denominator is zero (ideal DCG = 0 for NDCG; no relevant row for MAP, MRR,
/// recall) the contract's policy gives 1, 0 or leaves the query out (NaN per query, excluded from the
/// mean). DCG, P and ERR of such a query are simply 0.</item>
/// <item>Bad input is an error, never a silent number: a NaN score, or a grade the gain cannot take (negative,
/// non-finite, outside the gain table) is a <see cref="RankingDataException"/> naming the row.</item>
/// </list>
/// </summary>
public static partial class RankingEvaluator
{
    /// <summary>Queries per parallel work item: enough to amortise scheduling, few enough to balance.</summary>
    private const int QueriesPerChunk = 64;

    /// <summary>
    /// Metrics of <paramref name="scores"/> on a dataset; document ids (for the docno tie policy) come from its
    /// row comments, <paramref name="documentWeights"/> multiply each row's gain, <paramref name="subtopics"/> are
    /// the subtopic judgements the diversity metrics (alpha-NDCG) read (<see cref="SubtopicJudgements.Read(string, RankingDataset, bool)"/>).
    /// </summary>
    public static EvaluationReport Evaluate(RankingDataset data, float[] scores, IReadOnlyList<MetricSpec> metrics, NdcgContract contract, int threads = -1,
        float[]? documentWeights = null, SubtopicJudgements? subtopics = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Evaluate(data.Labels, data.GroupOffsets, data.QueryWeights, scores, metrics, contract, threads, data.Source, data.QueryIds,
            DocumentIdsOf(data, contract), documentWeights, subtopics);
    }

    /// <summary>
    /// For callers without a dataset: rows grouped by query through <paramref name="groupOffsets"/>;
    /// <paramref name="documentIds"/> (one per row) are needed by the docno tie policy only,
    /// <paramref name="documentWeights"/> multiply each row's gain in DCG and NDCG, <paramref name="subtopics"/> are
    /// the subtopic judgements of the rows (needed by alpha-NDCG and alpha-DCG only).
    /// </summary>
    public static EvaluationReport Evaluate(
        float[] labels,
        int[] groupOffsets,
        float[]? queryWeights,
        float[] scores,
        IReadOnlyList<MetricSpec> metrics,
        NdcgContract contract,
        int threads = -1,
        string? source = null,
        long[]? queryIds = null,
        IReadOnlyList<string?>? documentIds = null,
        float[]? documentWeights = null,
        SubtopicJudgements? subtopics = null) =>
        Evaluate(threads == -1 ? CpuMetricsBackend.Instance : new CpuMetricsBackend(threads), labels, groupOffsets, queryWeights, scores, metrics, contract,
            source, queryIds, documentIds, documentWeights, subtopics, threads);

    /// <summary>
    /// As <see cref="Evaluate(float[], int[], float[], float[], IReadOnlyList{MetricSpec}, NdcgContract, int, string, long[], IReadOnlyList{string}, float[], SubtopicJudgements)"/>,
    /// with the per-query values computed by <paramref name="backend"/> (the managed loop, or e.g. one GPU
    /// kernel launch per metric). Input is validated here first, the same for every backend (NaN scores and
    /// grades the contract cannot take are a <see cref="RankingDataException"/> naming the lowest bad row).
    /// </summary>
    public static EvaluationReport Evaluate(
        IMetricsBackend backend,
        float[] labels,
        int[] groupOffsets,
        float[]? queryWeights,
        float[] scores,
        IReadOnlyList<MetricSpec> metrics,
        NdcgContract contract,
        string? source = null,
        long[]? queryIds = null,
        IReadOnlyList<string?>? documentIds = null,
        float[]? documentWeights = null,
        SubtopicJudgements? subtopics = null) =>
        Evaluate(backend, labels, groupOffsets, queryWeights, scores, metrics, contract, source, queryIds, documentIds, documentWeights, subtopics, threads: -1);

    /// <summary>The dataset form of <see cref="Evaluate(IMetricsBackend, float[], int[], float[], float[], IReadOnlyList{MetricSpec}, NdcgContract, string, long[], IReadOnlyList{string}, float[], SubtopicJudgements)"/>.</summary>
    public static EvaluationReport Evaluate(IMetricsBackend backend, RankingDataset data, float[] scores, IReadOnlyList<MetricSpec> metrics, NdcgContract contract,
        float[]? documentWeights = null, SubtopicJudgements? subtopics = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Evaluate(backend, data.Labels, data.GroupOffsets, data.QueryWeights, scores, metrics, contract, data.Source, data.QueryIds,
            DocumentIdsOf(data, contract), documentWeights, subtopics);
    }

    /// <summary>The dataset's document ids when the contract orders ties by them (from the row comments), else null.</summary>
    private static IReadOnlyList<string?>? DocumentIdsOf(RankingDataset data, NdcgContract contract)
    {
        ArgumentNullException.ThrowIfNull(contract);
        if (contract.Ties != TiePolicy.DocIdDescending || data.RowComments is null) return null;
        return data.RowComments.Select(DocumentIds.FromComment).ToArray();
    }

    private static EvaluationReport Evaluate(
        IMetricsBackend backend, float[] labels, int[] groupOffsets, float[]? queryWeights, float[] scores,
        IReadOnlyList<MetricSpec> metrics, NdcgContract contract, string? source, long[]? queryIds,
        IReadOnlyList<string?>? documentIds, float[]? documentWeights, SubtopicJudgements? subtopics, int threads)
    {
        ArgumentNullException.ThrowIfNull(backend);
        int queries = CheckShapes(labels, groupOffsets, queryWeights, scores, metrics, contract, source);
        if (metrics.FirstOrDefault(m => m.IsDiversity) is { } diversity)
        {
            if (subtopics is null)
                throw new RankingDataException($"{source ?? "<data>"}: {diversity.Name} reads subtopic judgements, and none are given (ranking eval --subtopics FILE; SubtopicJudgements)");
            subtopics.CheckShape(labels.Length, queries, source);
        }
        else subtopics = null;
        if (documentWeights is not null)
        {
            if (documentWeights.Length != labels.Length)
                throw new RankingDataException($"{source ?? "<data>"}: {documentWeights.Length} document weights for {labels.Length} rows (one weight per row is required)");
            for (int i = 0; i < documentWeights.Length; i++)
                if (!float.IsFinite(documentWeights[i]))
                    throw RowError(i, $"document weight {documentWeights[i]} is not finite", groupOffsets, source, queryIds);
        }
        Validate(labels, groupOffsets, scores, metrics, contract, threads, source, queryIds);
        // infAP tells rows outside the pool by a grade of -0 (MetricWalks.IsOutsidePool): a -0 read from the data is a plain 0.
        if (metrics.Any(m => m.Kind == MetricKind.InfAp) && Array.Exists(labels, Numerics.MetricWalks.IsOutsidePool))
            labels = labels.Select(y => Numerics.MetricWalks.IsOutsidePool(y) ? 0f : y).ToArray();
        var rows = PrepareRows(labels, groupOffsets, scores, contract, documentIds, documentWeights, subtopics, source, queryIds);
        double maxGrade = metrics.Any(m => m.Kind == MetricKind.Err && m.ErrMaxGrade is null) ? MaxFinite(rows.Labels) : 0;
        double[][] perQuery = backend.ComputePerQuery(rows, metrics, contract, maxGrade);
        // As ndeval, a query the subtopic judgements do not name is left out of the diversity metrics' means.
        if (subtopics is not null)
            for (int m = 0; m < metrics.Count; m++)
                if (metrics[m].IsDiversity)
                    for (int q = 0; q < queries; q++)
                        if (!subtopics.JudgedQueries[q]) perQuery[m][q] = double.NaN;
        var means = new double[metrics.Count];
        var counted = new int[metrics.Count];
        for (int m = 0; m < metrics.Count; m++)
            (means[m], counted[m]) = WeightedMean(perQuery[m], queryWeights);
        return new EvaluationReport(metrics.ToArray(), contract, perQuery, means, counted, queries, labels.Length,
            queryIds, queryWeights);
    }

    /// <summary>
    /// The rows the backend reads: unjudged rows removed (judged=only) or made non-relevant (grade -0: 0 to every
    /// walk, outside the judgement pool to infAP), and the document-id tie keys the docno tie policy needs.
    /// </summary>
    private static MetricRows PrepareRows(float[] labels, int[] groupOffsets, float[] scores, NdcgContract contract,
        IReadOnlyList<string?>? documentIds, float[]? documentWeights, SubtopicJudgements? subtopics, string? source, long[]? queryIds)
    {
        if (documentIds is not null && documentIds.Count != labels.Length)
            throw new RankingDataException($"{source ?? "<data>"}: {documentIds.Count} document ids for {labels.Length} rows");
        if (contract.UnjudgedGrade is { } unjudged)
        {
            float mark = (float)unjudged;
            if (contract.JudgedOnly)
            {
                var keep = Enumerable.Range(0, labels.Length).Where(i => labels[i] != mark).ToArray();
                var offsets = new int[groupOffsets.Length];
                for (int q = 0, kept = 0, next = 0; q + 1 < groupOffsets.Length; q++)
                {
                    while (next < keep.Length && keep[next] < groupOffsets[q + 1]) { next++; kept++; }
                    offsets[q + 1] = kept;
                }
                labels = keep.Select(i => labels[i]).ToArray();
                scores = keep.Select(i => scores[i]).ToArray();
                documentIds = documentIds is null ? null : keep.Select(i => documentIds[i]).ToArray();
                documentWeights = documentWeights is null ? null : keep.Select(i => documentWeights[i]).ToArray();
                subtopics = subtopics?.KeepRows(keep);
                groupOffsets = offsets;
            }
            else
            {
                labels = labels.Select(y => y == mark ? -0f : y).ToArray();
            }
        }
        float[]? tieKeys = null;
        if (contract.Ties == TiePolicy.DocIdDescending)
        {
            if (documentIds is null)
                throw new RankingDataException($"{source ?? "<data>"}: contract '{contract.Name}' breaks score ties by document id, and the rows have none " +
                    "(a LETOR '# docid = X' comment or a docno column)");
            int missing = Enumerable.Range(0, documentIds.Count).FirstOrDefault(i => documentIds[i] is null, -1);
            if (missing >= 0) throw RowError(missing, "no document id (the docno tie policy needs one on every row)", groupOffsets, source, queryIds);
            tieKeys = DocumentIds.TieKeys(documentIds!, groupOffsets);
        }
        return new MetricRows(labels, groupOffsets, scores) { TieKeys = tieKeys, DocumentWeights = documentWeights, Subtopics = subtopics };
    }

    /// <summary>Argument and shape checks shared by the CPU path and the backend path; returns the query count.</summary>
    private static int CheckShapes(
        float[] labels, int[] groupOffsets, float[]? queryWeights, float[] scores,
        IReadOnlyList<MetricSpec> metrics, NdcgContract contract, string? source)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(groupOffsets);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(contract);
        if (metrics.Count == 0) throw new ArgumentException("at least one metric is required.", nameof(metrics));
        if (scores.Length != labels.Length)
            throw new RankingDataException($"{source ?? "<data>"}: {scores.Length} scores for {labels.Length} rows (one score per row is required)");
        if (groupOffsets.Length < 1 || groupOffsets[0] != 0 || groupOffsets[^1] != labels.Length)
            throw new ArgumentException("group offsets must start at 0 and end at the row count.", nameof(groupOffsets));
        int queries = groupOffsets.Length - 1;
        if (queryWeights is not null && queryWeights.Length != queries)
            throw new ArgumentException("one weight per query is required.", nameof(queryWeights));
        return queries;
    }

    /// <summary>
    /// Throws for the lowest row with a NaN score or a grade the metrics cannot take; parallel over chunks of
    /// queries like the loop itself, so checking costs one pass over rows that the loop then reads from cache.
    /// </summary>
    private static void Validate(float[] labels, int[] groupOffsets, float[] scores, IReadOnlyList<MetricSpec> metrics,
        NdcgContract contract, int threads, string? source, long[]? queryIds)
    {
        bool needsGain = metrics.Any(m => m.Kind is MetricKind.Ndcg or MetricKind.Dcg);
        int queries = groupOffsets.Length - 1;
        int firstBadRow = int.MaxValue;
        int chunks = (queries + QueriesPerChunk - 1) / QueriesPerChunk;
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        Parallel.For(0, chunks, options, chunk =>
        {
            int start = groupOffsets[chunk * QueriesPerChunk];
            int end = groupOffsets[Math.Min(queries, (chunk + 1) * QueriesPerChunk)];
            int bad = end > start ? FirstBadRow(labels, scores, start, end - start, contract, needsGain) : -1;
            while (bad >= 0 && contract.UnjudgedGrade is { } u && labels[bad] == (float)u && !float.IsNaN(scores[bad]))
                bad = bad + 1 < end ? FirstBadRow(labels, scores, bad + 1, end - bad - 1, contract, needsGain) : -1;
            if (bad >= 0) InterlockedMin(ref firstBadRow, bad);
        });
        if (firstBadRow != int.MaxValue) throw RowError(firstBadRow, Problem(labels[firstBadRow], scores[firstBadRow], contract, needsGain), groupOffsets, source, queryIds);
    }

    /// <summary>
    /// Per-query values [metric][query] on validated input, the managed loop of <see cref="CpuMetricsBackend"/>;
    /// NaN where the empty-query policy leaves a query out.
    /// </summary>
    internal static double[][] ComputePerQuery(MetricRows rows, IReadOnlyList<MetricSpec> metrics, NdcgContract contract, int threads, double dataMaxGrade)
    {
        var (labels, groupOffsets, scores) = (rows.Labels, rows.GroupOffsets, rows.Scores);
        float[]? tieKeys = rows.TieKeys, weights = rows.DocumentWeights;
        int queries = groupOffsets.Length - 1;
        var plan = new MetricPlan(metrics, contract, dataMaxGrade);
        var perQuery = new double[metrics.Count][];
        for (int m = 0; m < metrics.Count; m++) perQuery[m] = new double[queries];

        int chunks = (queries + QueriesPerChunk - 1) / QueriesPerChunk;
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        Parallel.For(0, chunks, options, chunk =>
        {
            QueryScratch scratch = QueryScratch.Current;
            Span<double> values = stackalloc double[plan.Count];
            int end = Math.Min(queries, (chunk + 1) * QueriesPerChunk);
            for (int q = chunk * QueriesPerChunk; q < end; q++)
            {
                int start = groupOffsets[q], length = groupOffsets[q + 1] - start;
                if (length <= 0)
                {
                    for (int m = 0; m < plan.Count; m++) perQuery[m][q] = double.NaN;
                    continue;
                }
                QueryMetrics.Evaluate(plan, labels.AsSpan(start, length), scores.AsSpan(start, length), scratch, values,
                    tieKeys is null ? default : tieKeys.AsSpan(start, length), weights is null ? default : weights.AsSpan(start, length),
                    new QuerySubtopics(rows.Subtopics, q, start));
                for (int m = 0; m < plan.Count; m++) perQuery[m][q] = values[m];
            }
        });
        return perQuery;
    }

    private static void InterlockedMin(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value < current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) return;
            current = seen;
        }
    }

    private static double MaxFinite(float[] labels)
    {
        double max = 0;
        foreach (float y in labels) if (float.IsFinite(y) && y > max) max = y;
        return max;
    }

    /// <summary>First row of the query with a NaN score or a grade the metrics cannot take; -1 when none.</summary>
    private static int FirstBadRow(float[] labels, float[] scores, int start, int length, NdcgContract contract, bool needsGain)
    {
        for (int i = start; i < start + length; i++)
        {
            float y = labels[i];
            if (float.IsNaN(scores[i]) || !float.IsFinite(y) || (needsGain && !contract.TryGetGain(y, out _))) return i;
        }
        return -1;
    }

    private static string Problem(float label, float score, NdcgContract contract, bool needsGain) =>
        float.IsNaN(score) ? "score is NaN" : contract.ExplainBadGrade(label);

    /// <summary>Weighted mean over the queries that are not NaN; NaN when none counts.</summary>
    internal static (double Mean, int Counted) WeightedMean(double[] values, float[]? weights)
    {
        double sum = 0, weightSum = 0;
        int counted = 0;
        for (int q = 0; q < values.Length; q++)
        {
            double v = values[q];
            if (double.IsNaN(v)) continue;
            double w = weights is null ? 1.0 : weights[q];
            sum += w * v;
            weightSum += w;
            counted++;
        }
        return (weightSum > 0 ? sum / weightSum : double.NaN, counted);
    }

    private static RankingDataException RowError(int row, string what, int[] groupOffsets, string? source, long[]? queryIds)
    {
        int q = Array.BinarySearch(groupOffsets, row);
        if (q < 0) q = ~q - 1;
        else while (q + 1 < groupOffsets.Length && groupOffsets[q + 1] == row) q++;
        string query = queryIds is not null && q >= 0 && q < queryIds.Length
            ? queryIds[q].ToString(CultureInfo.InvariantCulture)
            : q.ToString(CultureInfo.InvariantCulture);
        return new RankingDataException($"{source ?? "<data>"}: row {row + 1} (query {query}): {what}");
    }
}
