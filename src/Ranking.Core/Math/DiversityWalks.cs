namespace Ranking.Numerics;

/// <summary>
/// One query's ranking with subtopic judgements, as the diversity walks read it (alpha-NDCG): the subtopics
/// of the row at each place of the ranking, the ideal-ranking candidates (the judged documents the greedy
/// ideal chooses from, in the order that breaks its ties) and two scratch areas the walk writes. Subtopics
/// are numbered 0 .. <see cref="SubtopicCount"/> - 1 within the query. Implemented by a ref struct over spans
/// on the CPU and a struct over array views in the kernel; the walk is generic over it, as
/// <see cref="MetricWalks"/> is over <see cref="IRankedQuery"/>.
/// </summary>
public interface ISubtopicRankedQuery
{
    /// <summary>Places in the ranking (the query's rows).</summary>
    int RowCount { get; }

    /// <summary>Subtopics of the query: the size of the coverage scratch.</summary>
    int SubtopicCount { get; }

    /// <summary>Judged subtopics of the row at a place.</summary>
    int RowEntryCount(int place);

    /// <summary>The <paramref name="entry"/>-th judged subtopic of the row at a place.</summary>
    int RowSubtopic(int place, int entry);

    /// <summary>Its judgement: how many times the row covers the subtopic (1 for binary judgements, as ndeval's).</summary>
    int RowGrade(int place, int entry);

    /// <summary>Documents the ideal ranking is chosen from; among equal gains the greedy takes the first.</summary>
    int CandidateCount { get; }

    /// <summary>Judged subtopics of a candidate.</summary>
    int CandidateEntryCount(int candidate);

    /// <summary>The <paramref name="entry"/>-th judged subtopic of a candidate.</summary>
    int CandidateSubtopic(int candidate, int entry);

    /// <summary>Its judgement (see <see cref="RowGrade"/>).</summary>
    int CandidateGrade(int candidate, int entry);

    /// <summary>Scratch: (1 - alpha) to the power of how often a subtopic has been covered so far.</summary>
    double Coverage(int subtopic);

    /// <summary>Writes <see cref="Coverage"/>.</summary>
    void SetCoverage(int subtopic, double value);

    /// <summary>Scratch: has the greedy ideal already placed this candidate?</summary>
    bool Taken(int candidate);

    /// <summary>Marks or clears <see cref="Taken"/>.</summary>
    void SetTaken(int candidate, bool taken);

    /// <summary>The contract's discount of a 0-based rank (as <see cref="IRankedQuery.Discount"/>).</summary>
    double Discount(int rank);
}

/// <summary>
/// alpha-NDCG (Clarke et al., SIGIR 2008) as TREC's ndeval computes it, written once for the CPU evaluator
/// and the GPU kernel. The row at rank r gains, for each subtopic t it is judged relevant to (grade g),
/// g (1 - alpha)^(c_t), c_t the sum of t's grades at ranks above r (ndeval's binary judgements: g = 1; graded as
/// TF-Ranking's AlphaDCGMetric); alpha-DCG@k
/// = sum over r &lt; k of gain(r) * discount(r). The ideal is ndeval's greedy approximation (the exact ideal is
/// NP-hard): at each rank the candidate with the largest gain given what is covered so far, the first
/// candidate among equals (ndeval: the largest docno). alpha-NDCG@k = alpha-DCG@k / ideal alpha-DCG@k, and can
/// exceed 1 where the greedy ideal is not optimal (as ndeval's can). Kernel rules apply: no allocation, no
/// throw paths, no BCL math.
/// </summary>
public static class DiversityWalks
{
    /// <summary>
    /// <see cref="MetricCode.AlphaNdcg"/> or <see cref="MetricCode.AlphaDcg"/> of one query: the walk settings'
    /// metric, cut-off (0 = whole list) and empty value (when the ideal alpha-DCG is 0), and alpha in [0, 1].
    /// </summary>
    public static double Evaluate<TQuery>(TQuery query, MetricWalkSettings m, double alpha) where TQuery : struct, ISubtopicRankedQuery, allows ref struct
    {
        int n = query.RowCount;
        int cut = m.K == 0 ? n : (m.K < n ? m.K : n);
        double dcg = AlphaDcg(query, cut, alpha);
        if (m.Metric == MetricCode.AlphaDcg) return dcg;
        int candidates = query.CandidateCount;
        int idealCut = m.K == 0 ? candidates : (m.K < candidates ? m.K : candidates);
        double ideal = GreedyIdealAlphaDcg(query, idealCut, alpha);
        return ideal > 0 ? dcg / ideal : m.Empty;
    }

    /// <summary>alpha-DCG over the places [0, cut) of the ranking.</summary>
    public static double AlphaDcg<TQuery>(TQuery query, int cut, double alpha) where TQuery : struct, ISubtopicRankedQuery, allows ref struct
    {
        ResetCoverage(query);
        double keep = 1.0 - alpha, dcg = 0.0;
        for (int p = 0; p < cut; p++)
        {
            double gain = 0.0;
            int entries = query.RowEntryCount(p);
            for (int e = 0; e < entries; e++)
                gain += Cover(query, query.RowSubtopic(p, e), query.RowGrade(p, e), keep);
            if (gain != 0.0) dcg += gain * query.Discount(p);
        }
        return dcg;
    }

    /// <summary>
    /// ndeval's greedy ideal alpha-DCG over <paramref name="cut"/> ranks: each rank takes the untaken candidate
    /// of largest gain given the coverage so far (the first of equals), then covers its subtopics. O(cut x
    /// candidates x subtopics per candidate); stops early once no candidate gains anything.
    /// </summary>
    public static double GreedyIdealAlphaDcg<TQuery>(TQuery query, int cut, double alpha) where TQuery : struct, ISubtopicRankedQuery, allows ref struct
    {
        ResetCoverage(query);
        int candidates = query.CandidateCount;
        for (int c = 0; c < candidates; c++) query.SetTaken(c, false);
        double keep = 1.0 - alpha, ideal = 0.0;
        for (int rank = 0; rank < cut; rank++)
        {
            int best = -1;
            double bestGain = 0.0;
            for (int c = 0; c < candidates; c++)
            {
                if (query.Taken(c)) continue;
                double gain = 0.0;
                int entries = query.CandidateEntryCount(c);
                for (int e = 0; e < entries; e++)
                    gain += query.CandidateGrade(c, e) * query.Coverage(query.CandidateSubtopic(c, e));
                if (best < 0 || gain > bestGain)
                {
                    best = c;
                    bestGain = gain;
                }
            }
            // Nothing left gains: the rest of the ideal adds 0.
            if (best < 0 || bestGain <= 0.0) break;
            query.SetTaken(best, true);
            int bestEntries = query.CandidateEntryCount(best);
            for (int e = 0; e < bestEntries; e++)
                Cover(query, query.CandidateSubtopic(best, e), query.CandidateGrade(best, e), keep);
            ideal += bestGain * query.Discount(rank);
        }
        return ideal;
    }

    private static void ResetCoverage<TQuery>(TQuery query) where TQuery : struct, ISubtopicRankedQuery, allows ref struct
    {
        int subtopics = query.SubtopicCount;
        for (int t = 0; t < subtopics; t++) query.SetCoverage(t, 1.0);
    }

    /// <summary>
    /// The gain of a judgement of grade g on a subtopic at the current coverage, g (1 - alpha)^(c_t) (TF-Ranking's
    /// graded form; g = 1 in ndeval), then the coverage after it, multiplied by (1 - alpha) once per grade as ndeval
    /// multiplies once per covering document (no pow in kernels; the same rounding as ndeval's where g = 1).
    /// </summary>
    private static double Cover<TQuery>(TQuery query, int subtopic, int grade, double keep) where TQuery : struct, ISubtopicRankedQuery, allows ref struct
    {
        double coverage = query.Coverage(subtopic), after = coverage;
        for (int i = 0; i < grade; i++) after *= keep;
        query.SetCoverage(subtopic, after);
        return grade * coverage;
    }
}
