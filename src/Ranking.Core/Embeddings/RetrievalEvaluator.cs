using Ranking.Data;

namespace Ranking.Embeddings;

/// <summary>
/// Retrieval quality of embeddings, with pytorch-metric-learning's AccuracyCalculator definitions. For a
/// query of class c, R = the references of class c (less the query itself in leave-one-out mode), the
/// references ranked by distance: P@1 = [neighbour 1 is of class c]; R-precision = (class-c neighbours in
/// the top R) / R; MAP@R = (1/R) sum over i &lt;= R of P(i) [neighbour i is of class c]; MRR = 1 / rank of the
/// first class-c neighbour (0 if none in the top k); Recall@k (the deep-metric-learning literature's) =
/// [a class-c neighbour in the top k]; kNN accuracy = the majority class of the top <c>vote</c> neighbours
/// (ties to the class met first) equals c. Only the first k neighbours are retrieved (k defaults to the
/// largest R, so R-precision and MAP@R are exact); queries whose class has no reference are left out.
/// </summary>
public static class RetrievalEvaluator
{
    /// <summary>The k of Recall@k reported by default.</summary>
    public static IReadOnlyList<int> DefaultRecallAt { get; } = [1, 2, 4, 8];

    /// <summary>Embeds nothing: evaluates given embeddings. <paramref name="references"/> null = leave-one-out over the queries.</summary>
    public static RetrievalReport Evaluate(float[] queries, int[] queryLabels, int dimension, EmbeddingDistance distance,
        float[]? references = null, int[]? referenceLabels = null, RetrievalOptions? options = null)
    {
        options ??= new RetrievalOptions();
        bool leaveOneOut = references is null;
        references ??= queries;
        referenceLabels ??= queryLabels;
        var search = EmbeddingBackends.For(options.Backend).CreateNearestNeighbourSearch(references, referenceLabels.Length, dimension, distance, options.Threads);
        try
        {
            return Evaluate(search, queries, queryLabels, referenceLabels, leaveOneOut, options);
        }
        finally
        {
            (search as IDisposable)?.Dispose();
        }
    }

    /// <summary>Evaluates through any search (exact or approximate).</summary>
    public static RetrievalReport Evaluate(INearestNeighbourSearch search, float[] queries, int[] queryLabels, int[] referenceLabels, bool leaveOneOut, RetrievalOptions? options = null)
    {
        options ??= new RetrievalOptions();
        int nq = queryLabels.Length;
        int maxLabel = Math.Max(queryLabels.DefaultIfEmpty(0).Max(), referenceLabels.DefaultIfEmpty(0).Max());
        var refCount = new int[maxLabel + 1];
        foreach (int c in referenceLabels) refCount[c]++;
        int RelevantOf(int q) => refCount[queryLabels[q]] - (leaveOneOut ? 1 : 0);
        int maxR = 0;
        for (int q = 0; q < nq; q++) maxR = Math.Max(maxR, RelevantOf(q));
        int k = options.K ?? Math.Max(maxR, Math.Max(options.RecallAt.DefaultIfEmpty(1).Max(), options.KnnVote));
        k = Math.Max(1, Math.Min(k, search.Count - (leaveOneOut ? 1 : 0)));
        var neighbours = search.Search(queries, nq, k, leaveOneOut);

        var p1 = new List<double>(); var rp = new List<double>(); var map = new List<double>(); var mrr = new List<double>(); var knn = new List<double>();
        var recall = options.RecallAt.ToDictionary(r => r, _ => 0.0);
        var kept = new List<int>();
        var votes = new int[maxLabel + 1];
        for (int q = 0; q < nq; q++)
        {
            int r = RelevantOf(q);
            if (r <= 0) continue;
            kept.Add(q);
            int c = queryLabels[q];
            long row = (long)q * k;
            bool Correct(int i) => neighbours.Indices[row + i] >= 0 && referenceLabels[neighbours.Indices[row + i]] == c;
            p1.Add(Correct(0) ? 1 : 0);
            int hits = 0, first = -1;
            double precisionSum = 0;
            for (int i = 0; i < k; i++)
            {
                if (!Correct(i)) continue;
                if (first < 0) first = i;
                if (i < r) { hits++; precisionSum += hits / (double)(i + 1); }
            }
            rp.Add(hits / (double)r);
            map.Add(precisionSum / r);
            mrr.Add(first < 0 ? 0 : 1.0 / (first + 1));
            foreach (int at in options.RecallAt)
            {
                bool any = false;
                for (int i = 0; i < Math.Min(at, k) && !any; i++) any = Correct(i);
                if (any) recall[at]++;
            }
            int vote = Math.Min(options.KnnVote, k), best = -1, bestVotes = 0;
            for (int i = 0; i < vote; i++) { int j = neighbours.Indices[row + i]; if (j >= 0) votes[referenceLabels[j]]++; }
            for (int i = 0; i < vote; i++)
            {
                int j = neighbours.Indices[row + i];
                if (j < 0) continue;
                int label = referenceLabels[j];
                if (votes[label] > bestVotes) { bestVotes = votes[label]; best = label; }
            }
            for (int i = 0; i < vote; i++) { int j = neighbours.Indices[row + i]; if (j >= 0) votes[referenceLabels[j]] = 0; }
            knn.Add(best == c ? 1 : 0);
        }
        int n = kept.Count;
        if (n == 0) throw new RankingDataException("no query has a reference of its own class: retrieval metrics are undefined");
        return new RetrievalReport
        {
            Queries = n,
            LeftOut = nq - n,
            K = k,
            LeaveOneOut = leaveOneOut,
            Distance = search.Distance,
            PrecisionAt1 = p1.Average(),
            RPrecision = rp.Average(),
            MapAtR = map.Average(),
            Mrr = mrr.Average(),
            KnnAccuracy = knn.Average(),
            KnnVote = options.KnnVote,
            RecallAt = recall.ToDictionary(e => e.Key, e => e.Value / n),
            QueryIndices = kept.ToArray(),
            PerQueryMapAtR = map.ToArray(),
            PerQueryPrecisionAt1 = p1.ToArray(),
        };
    }
}

/// <summary>Options of <see cref="RetrievalEvaluator"/>.</summary>
public sealed record RetrievalOptions
{
    /// <summary>Neighbours retrieved per query; null = the largest R (what AccuracyCalculator does).</summary>
    public int? K { get; init; }
    /// <summary>The k of each Recall@k.</summary>
    public IReadOnlyList<int> RecallAt { get; init; } = RetrievalEvaluator.DefaultRecallAt;
    /// <summary>Neighbours voting in the kNN classification accuracy.</summary>
    public int KnnVote { get; init; } = 10;
    /// <summary>Worker threads; -1 = all cores.</summary>
    public int Threads { get; init; } = -1;
    /// <summary>Where the exact search runs (<see cref="IEmbeddingComputeBackend.CreateNearestNeighbourSearch"/> of <see cref="EmbeddingBackends.For"/>); null = the managed CPU search.</summary>
    public Compute.IComputeBackend? Backend { get; init; }
}

/// <summary>Retrieval metrics (means over the queries kept) and the per-query values significance tests need.</summary>
public sealed record RetrievalReport
{
    /// <summary>Queries evaluated.</summary>
    public int Queries { get; init; }
    /// <summary>Queries left out because no reference shares their class.</summary>
    public int LeftOut { get; init; }
    /// <summary>Neighbours retrieved per query.</summary>
    public int K { get; init; }
    /// <summary>True when the queries were their own references (each query excluded from its own list).</summary>
    public bool LeaveOneOut { get; init; }
    /// <summary>The distance neighbours were ranked by.</summary>
    public EmbeddingDistance Distance { get; init; }
    /// <summary>Precision@1.</summary>
    public double PrecisionAt1 { get; init; }
    /// <summary>R-precision.</summary>
    public double RPrecision { get; init; }
    /// <summary>MAP@R.</summary>
    public double MapAtR { get; init; }
    /// <summary>Mean reciprocal rank of the first same-class neighbour (within k).</summary>
    public double Mrr { get; init; }
    /// <summary>kNN classification accuracy (majority of <see cref="KnnVote"/> neighbours).</summary>
    public double KnnAccuracy { get; init; }
    /// <summary>Neighbours that vote in <see cref="KnnAccuracy"/>.</summary>
    public int KnnVote { get; init; }
    /// <summary>Recall@k: the share of queries with a same-class neighbour in the top k.</summary>
    public IReadOnlyDictionary<int, double> RecallAt { get; init; } = new Dictionary<int, double>();
    /// <summary>NMI of a seeded k-means++ clustering of the queries against their classes (NaN unless computed).</summary>
    public double Nmi { get; init; } = double.NaN;
    /// <summary>The query index of each per-query value.</summary>
    public int[] QueryIndices { get; init; } = [];
    /// <summary>MAP@R of each kept query.</summary>
    public double[] PerQueryMapAtR { get; init; } = [];
    /// <summary>P@1 of each kept query.</summary>
    public double[] PerQueryPrecisionAt1 { get; init; } = [];
}
