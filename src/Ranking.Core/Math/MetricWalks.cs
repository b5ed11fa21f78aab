namespace Ranking.Numerics;

/// <summary>
/// Metric codes of the walks: the values of <c>Ranking.Metrics.MetricKind</c>, which is declared from these
/// so the two cannot drift (the math layer knows nothing of the metrics layer above it).
/// </summary>
public static class MetricCode
{
    /// <summary>NDCG@k.</summary>
    public const int Ndcg = 0;
    /// <summary>DCG@k.</summary>
    public const int Dcg = 1;
    /// <summary>Average precision (MAP as a mean).</summary>
    public const int Map = 2;
    /// <summary>Reciprocal rank (MRR as a mean).</summary>
    public const int Mrr = 3;
    /// <summary>Precision@k.</summary>
    public const int Precision = 4;
    /// <summary>Recall@k.</summary>
    public const int Recall = 5;
    /// <summary>Expected reciprocal rank.</summary>
    public const int Err = 6;
    /// <summary>R-precision: precision at R, the number of relevant rows.</summary>
    public const int RPrecision = 7;
    /// <summary>Success@k (hit rate): 1 when a relevant row is within the cut.</summary>
    public const int Success = 8;
    /// <summary>Average relevance position (TF-Ranking's ARP): sum of grade x 1-based rank / sum of grades.</summary>
    public const int Arp = 9;
    /// <summary>Ordered pair accuracy (TF-Ranking's OPA): correctly ordered pairs of different grades / all such pairs.</summary>
    public const int Opa = 10;
    /// <summary>bpref (Buckley and Voorhees 2004, trec_eval's formula).</summary>
    public const int Bpref = 11;
    /// <summary>alpha-NDCG (Clarke et al. 2008, ndeval's greedy ideal): a diversity metric over subtopic judgements (<see cref="DiversityWalks"/>).</summary>
    public const int AlphaNdcg = 12;
    /// <summary>alpha-DCG, unnormalised (TF-Ranking's AlphaDCGMetric).</summary>
    public const int AlphaDcg = 13;
    /// <summary>Inferred AP (Yilmaz and Aslam 2006, trec_eval's infAP): AP estimated from a sample of the judgement pool.</summary>
    public const int InfAp = 14;

    /// <summary>True for the metrics <see cref="DiversityWalks"/> computes (they read subtopic judgements, not grades).</summary>
    public static bool IsDiversity(int metric) => metric == AlphaNdcg || metric == AlphaDcg;
}

/// <summary>What AP@k divides by; the values are <see cref="MetricWalkSettings.ApDenominator"/>'s.</summary>
public enum ApDenominator
{
    /// <summary>min(k, relevant rows): LightGBM, XGBoost 2.x (the default).</summary>
    MinKRelevant,
    /// <summary>Every relevant row of the query: trec_eval's map_cut, TF-Ranking, ranx.</summary>
    AllRelevant,
    /// <summary>The relevant rows found within the cut: torchmetrics' retrieval_average_precision(top_k).</summary>
    RelevantRetrieved,
}

/// <summary>
/// One query's rows in ranking order, as the metric walks read them. Implemented by small structs (the CPU
/// evaluator's sorted keys; a kernel's sorted rows; a kernel's top-k buffer), and every walk is generic over
/// the struct, so the JIT and ILGPU both specialise the walk: no virtual call, no allocation.
/// A place is a 0-based position in the ranking. An implementation may hold only the top places (a top-k
/// buffer): the walks then read single places below the cut only, and places past it only through
/// <see cref="BlockEnd"/>, <see cref="GainSum"/> and <see cref="RelevantIn"/> for the tie block that straddles it.
/// </summary>
public interface IRankedQuery
{
    /// <summary>Rows of the query (the whole list, however many places are held).</summary>
    int RowCount { get; }

    /// <summary>Grade of the row at a place.</summary>
    float Grade(int place);

    /// <summary>Gain of the row at a place (the contract's gain, times the row's weight where rows carry one).</summary>
    double Gain(int place);

    /// <summary>The gains in descending order: the ideal ranking's gain at a place (read below the cut only).</summary>
    double IdealGain(int place);

    /// <summary>Rows of the whole query whose grade is above <paramref name="threshold"/>.</summary>
    int CountRelevant(double threshold);

    /// <summary>End (exclusive) of the run of places with the same score as <paramref name="start"/>.</summary>
    int BlockEnd(int start);

    /// <summary>Sum of the gains at places [from, to).</summary>
    double GainSum(int from, int to);

    /// <summary>Sum of the grades at places [from, to).</summary>
    double GradeSum(int from, int to);

    /// <summary>Rows at places [from, to) with a grade above <paramref name="threshold"/>.</summary>
    int RelevantIn(int from, int to, double threshold);

    /// <summary>The contract's discount of a 0-based rank (log discounts in base 2: see <see cref="RankDiscount.Scale"/>).</summary>
    double Discount(int rank);

    /// <summary>Sum of <see cref="Discount"/> over the ranks [from, to).</summary>
    double DiscountSum(int from, int to);
}

/// <summary>One metric's knobs as plain fields (a kernel argument as well as the CPU walk's).</summary>
public struct MetricWalkSettings
{
    /// <summary>A <see cref="MetricCode"/>.</summary>
    public int Metric;
    /// <summary>Cut-off; 0 = the whole list.</summary>
    public int K;
    /// <summary>1 = expected value over every order of each tie (McSherry-Najork); 0 = the ranking's order as it is.</summary>
    public int Averaged;
    /// <summary>What a query with a zero denominator counts as: 1, 0, or NaN (left out of the mean).</summary>
    public double Empty;
    /// <summary>Relevant means grade &gt; this (MAP, MRR, P, R).</summary>
    public double RelevanceThreshold;
    /// <summary>ERR's maximum grade.</summary>
    public double ErrMaxGrade;
    /// <summary>Reported DCG = walk DCG times this (<see cref="RankDiscount.Scale"/>).</summary>
    public double DcgScale;
    /// <summary>An <see cref="Numerics.ApDenominator"/>: what AP@k divides by.</summary>
    public int ApDenominator;
}

/// <summary>
/// The walk of every metric over one ranked query, written once (MATH.md, "Metrics") and called by the CPU
/// evaluator and the GPU metric kernels alike. Under averaged ties a run of tied places [a, b) counts as the
/// expected value over every order of the run (closed forms in <see cref="RankingMath"/>); ERR has none and
/// keeps the ranking's order. Kernel rules apply: static, no allocation, no throw paths.
/// </summary>
public static class MetricWalks
{
    /// <summary>The metric <paramref name="m"/> of one query (rows &gt; 0); NaN when the contract leaves it out.</summary>
    public static double Evaluate<TQuery>(TQuery query, MetricWalkSettings m) where TQuery : struct, IRankedQuery, allows ref struct
    {
        int n = query.RowCount;
        int cut = m.K == 0 ? n : (m.K < n ? m.K : n);
        bool averaged = m.Averaged != 0 && m.Metric != MetricCode.Err;
        int metric = m.Metric;
        if (metric == MetricCode.Ndcg)
        {
            double ideal = IdealDcg(query, cut);
            return ideal > 0 ? Dcg(query, cut, averaged) / ideal : m.Empty;
        }
        if (metric == MetricCode.Dcg) return Dcg(query, cut, averaged) * m.DcgScale;
        if (metric == MetricCode.Err) return Err(query, cut, m.ErrMaxGrade);
        if (metric == MetricCode.Precision) return RelevantInTop(query, cut, averaged, m.RelevanceThreshold) / (m.K == 0 ? n : m.K);
        if (metric == MetricCode.Arp) return AverageRelevancePosition(query, averaged, m.Empty);
        if (metric == MetricCode.Opa) return OrderedPairAccuracy(query, averaged, m.Empty);
        int relevant = query.CountRelevant(m.RelevanceThreshold);
        if (relevant == 0) return m.Empty;
        if (metric == MetricCode.Map)
        {
            double sum = PrecisionSum(query, cut, averaged, m.RelevanceThreshold, out double found);
            double denominator = m.ApDenominator == (int)Numerics.ApDenominator.AllRelevant ? relevant
                : m.ApDenominator == (int)Numerics.ApDenominator.RelevantRetrieved ? found
                : m.K == 0 ? relevant : (m.K < relevant ? m.K : relevant);
            return denominator > 0 ? sum / denominator : 0.0;
        }
        if (metric == MetricCode.Recall) return RelevantInTop(query, cut, averaged, m.RelevanceThreshold) / relevant;
        if (metric == MetricCode.RPrecision) return RelevantInTop(query, relevant, averaged, m.RelevanceThreshold) / relevant;
        if (metric == MetricCode.Success) return HitProbability(query, cut, averaged, m.RelevanceThreshold);
        if (metric == MetricCode.Bpref) return Bpref(query, relevant, m.RelevanceThreshold);
        if (metric == MetricCode.InfAp) return InferredAveragePrecision(query, relevant, m.RelevanceThreshold);
        return ReciprocalRank(query, cut, averaged, m.RelevanceThreshold);
    }

    /// <summary>DCG over the places [0, cut) (unscaled: see <see cref="RankDiscount.Scale"/>).</summary>
    public static double Dcg<TQuery>(TQuery query, int cut, bool averaged) where TQuery : struct, IRankedQuery, allows ref struct
    {
        double dcg = 0.0;
        if (!averaged)
        {
            for (int p = 0; p < cut; p++) dcg += query.Gain(p) * query.Discount(p);
            return dcg;
        }
        for (int p = 0; p < cut;)
        {
            int e = query.BlockEnd(p);
            if (e - p == 1) dcg += query.Gain(p) * query.Discount(p);
            else dcg += query.GainSum(p, e) / (e - p) * query.DiscountSum(p, e < cut ? e : cut);
            p = e;
        }
        return dcg;
    }

    /// <summary>DCG of the ideal ranking (gains sorted descending) cut at <paramref name="cut"/>.</summary>
    public static double IdealDcg<TQuery>(TQuery query, int cut) where TQuery : struct, IRankedQuery, allows ref struct
    {
        double ideal = 0.0;
        for (int p = 0; p < cut; p++) ideal += query.IdealGain(p) * query.Discount(p);
        return ideal;
    }

    /// <summary>Relevant rows among the places [0, cut): the expected count when ties are averaged.</summary>
    public static double RelevantInTop<TQuery>(TQuery query, int cut, bool averaged, double threshold) where TQuery : struct, IRankedQuery, allows ref struct
    {
        double hits = 0.0;
        for (int p = 0; p < cut;)
        {
            int e = averaged ? query.BlockEnd(p) : p + 1;
            if (e - p == 1)
            {
                if (query.Grade(p) > threshold) hits += 1.0;
            }
            else
            {
                hits += query.RelevantIn(p, e, threshold) * (double)((e < cut ? e : cut) - p) / (e - p);
            }
            p = e;
        }
        return hits;
    }

    /// <summary>
    /// Sum over relevant rows within the cut of the precision at their place: AP's numerator (expected value
    /// over tie orders when averaged, <see cref="RankingMath.TieBlockPrecisionSum"/>); <paramref name="found"/>
    /// is the (expected) number of relevant rows within the cut.
    /// </summary>
    public static double PrecisionSum<TQuery>(TQuery query, int cut, bool averaged, double threshold, out double found) where TQuery : struct, IRankedQuery, allows ref struct
    {
        double sum = 0.0;
        int before = 0;
        found = 0.0;
        for (int p = 0; p < cut;)
        {
            int e = averaged ? query.BlockEnd(p) : p + 1;
            int size = e - p;
            if (size == 1)
            {
                if (query.Grade(p) > threshold)
                {
                    before++;
                    found += 1.0;
                    sum += before / (p + 1.0);
                }
            }
            else
            {
                int r = query.RelevantIn(p, e, threshold);
                if (r > 0)
                {
                    sum += RankingMath.TieBlockPrecisionSum(p, size, r, before, cut);
                    found += r * (double)((e < cut ? e : cut) - p) / size;
                    before += r;
                }
            }
            p = e;
        }
        return sum;
    }

    /// <summary>1 / (place + 1) of the first relevant row within the cut, else 0; expected value over a tie block.</summary>
    public static double ReciprocalRank<TQuery>(TQuery query, int cut, bool averaged, double threshold) where TQuery : struct, IRankedQuery, allows ref struct
    {
        for (int p = 0; p < cut;)
        {
            int e = averaged ? query.BlockEnd(p) : p + 1;
            int size = e - p;
            if (size == 1)
            {
                if (query.Grade(p) > threshold) return 1.0 / (p + 1);
            }
            else
            {
                int r = query.RelevantIn(p, e, threshold);
                if (r > 0) return RankingMath.TieBlockReciprocalRank(p, size, r, cut);
            }
            p = e;
        }
        return 0.0;
    }

    /// <summary>ERR@cut (Chapelle et al. 2009) in the ranking's order.</summary>
    public static double Err<TQuery>(TQuery query, int cut, double maxGrade) where TQuery : struct, IRankedQuery, allows ref struct
    {
        double err = 0.0, stillLooking = 1.0;
        for (int p = 0; p < cut; p++)
        {
            double satisfied = RankingMath.ErrSatisfaction(query.Grade(p), maxGrade);
            err += stillLooking * satisfied / (p + 1);
            stillLooking *= 1.0 - satisfied;
        }
        return err;
    }

    /// <summary>
    /// Success@cut: 1 when a relevant row lies within the cut, else 0; under averaged ties the probability,
    /// over orders of the first tie block holding a relevant row, that one of its places inside the cut holds
    /// one (<see cref="RankingMath.TieBlockHitProbability"/>).
    /// </summary>
    public static double HitProbability<TQuery>(TQuery query, int cut, bool averaged, double threshold) where TQuery : struct, IRankedQuery, allows ref struct
    {
        for (int p = 0; p < cut;)
        {
            int e = averaged ? query.BlockEnd(p) : p + 1;
            int size = e - p;
            int r = size == 1 ? (query.Grade(p) > threshold ? 1 : 0) : query.RelevantIn(p, e, threshold);
            if (r > 0) return size == 1 ? 1.0 : RankingMath.TieBlockHitProbability(size, r, (e < cut ? e : cut) - p);
            p = e;
        }
        return 0.0;
    }

    /// <summary>
    /// TF-Ranking's average relevance position over the whole list: sum of grade x (place + 1) / sum of
    /// grades (lower is better); a tie block's rows all sit at the block's mean place when averaged. A list
    /// whose grades sum to 0 or less is empty.
    /// </summary>
    public static double AverageRelevancePosition<TQuery>(TQuery query, bool averaged, double empty) where TQuery : struct, IRankedQuery, allows ref struct
    {
        int n = query.RowCount;
        double weighted = 0.0, total = 0.0;
        for (int p = 0; p < n;)
        {
            int e = averaged ? query.BlockEnd(p) : p + 1;
            double grades = e - p == 1 ? query.Grade(p) : query.GradeSum(p, e);
            weighted += grades * (p + 1 + e) * 0.5;
            total += grades;
            p = e;
        }
        return total > 0 ? weighted / total : empty;
    }

    /// <summary>
    /// TF-Ranking's ordered pair accuracy over the whole list: of the pairs of rows with different grades,
    /// the share ranked with the higher grade first; a pair inside a tie block counts 1/2 when averaged.
    /// A list with no such pair is empty. O(n^2) per query.
    /// </summary>
    public static double OrderedPairAccuracy<TQuery>(TQuery query, bool averaged, double empty) where TQuery : struct, IRankedQuery, allows ref struct
    {
        int n = query.RowCount;
        double pairs = 0.0, correct = 0.0;
        for (int p = 0; p < n;)
        {
            int e = averaged ? query.BlockEnd(p) : p + 1;
            for (int i = p; i < e; i++)
            {
                float gi = query.Grade(i);
                for (int j = i + 1; j < e; j++)
                    if (query.Grade(j) != gi) { pairs += 1.0; correct += 0.5; }
                for (int j = e; j < n; j++)
                {
                    float gj = query.Grade(j);
                    if (gj == gi) continue;
                    pairs += 1.0;
                    if (gi > gj) correct += 1.0;
                }
            }
            p = e;
        }
        return pairs > 0 ? correct / pairs : empty;
    }

    /// <summary>
    /// bpref as trec_eval computes it: for each relevant row, 1 - min(non-relevant rows above it, R) /
    /// min(R, N), summed and divided by R (R relevant, N non-relevant rows of the query). Not linear in the
    /// order of a tie, so it keeps the ranking's order (the trec preset breaks ties by document id).
    /// </summary>
    public static double Bpref<TQuery>(TQuery query, int relevant, double threshold) where TQuery : struct, IRankedQuery, allows ref struct
    {
        int n = query.RowCount, nonRelevant = n - relevant, above = 0;
        double denominator = relevant < nonRelevant ? relevant : nonRelevant, sum = 0.0;
        for (int p = 0; p < n; p++)
        {
            if (query.Grade(p) > threshold) sum += above > 0 ? 1.0 - (above < relevant ? above : relevant) / denominator : 1.0;
            else above++;
        }
        return sum / relevant;
    }

    /// <summary>trec_eval's INFAP_EPSILON: keeps infAP's precision estimate defined when nothing above is judged.</summary>
    public const double InferredApEpsilon = 0.00001;

    /// <summary>
    /// A grade of -0 marks a row outside the judgement pool (trec_eval: a document the qrels do not name); the
    /// evaluator writes it for rows the contract marks unjudged. Every other walk reads it as grade 0.
    /// </summary>
    public static bool IsOutsidePool(float grade) => BitConverter.SingleToInt32Bits(grade) == int.MinValue;

    /// <summary>
    /// Inferred AP as trec_eval computes it (m_infAP.c; Yilmaz and Aslam, CIKM 2006), over the whole ranking: rows
    /// outside the pool (grade -0) only take up places; pooled but unjudged rows (negative grades: the qrels' -1)
    /// count as sampled away; judged rows are relevant (grade above the threshold) or not. A relevant row at place
    /// j &gt; 0 adds 1/(j+1) + j/(j+1) * (pooled above / j) * (relevant above + e) / (judged above + 2e), e =
    /// <see cref="InferredApEpsilon"/>; at place 0 it adds 1; the sum is divided by the judged relevant rows. With
    /// every row judged the estimate is AP, up to e. Keeps the ranking's order within ties.
    /// </summary>
    public static double InferredAveragePrecision<TQuery>(TQuery query, int relevant, double threshold) where TQuery : struct, IRankedQuery, allows ref struct
    {
        int n = query.RowCount, relevantAbove = 0, nonRelevantAbove = 0, unjudgedAbove = 0;
        double sum = 0.0;
        for (int p = 0; p < n; p++)
        {
            float grade = query.Grade(p);
            if (IsOutsidePool(grade)) continue;
            if (grade < 0)
            {
                unjudgedAbove++;
                continue;
            }
            if (grade > threshold)
            {
                if (p == 0) sum += 1.0;
                else
                {
                    double j = p;
                    sum += 1.0 / (j + 1.0) + j / (j + 1.0) * ((relevantAbove + nonRelevantAbove + unjudgedAbove) / j)
                        * ((relevantAbove + InferredApEpsilon) / (relevantAbove + nonRelevantAbove + 2 * InferredApEpsilon));
                }
                relevantAbove++;
            }
            else nonRelevantAbove++;
        }
        return sum / relevant;
    }
}