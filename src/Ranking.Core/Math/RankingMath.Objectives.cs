namespace Ranking.Numerics;

/// <summary>
/// The scalar math of the objectives: pair lambdas, hinge terms, the counter-based random numbers every
/// sampling objective draws from, and order-preserving sort keys. Same rules as the rest of the class
/// (static, scalar arguments, no throw paths), so ILGPU kernels reproduce the CPU path's draws exactly.
/// </summary>
public static partial class RankingMath
{
    // ---------------------------------------------------------------- counter-based random numbers

    /// <summary>SplitMix64's finaliser: a bijective 64-bit mix (Steele, Lea, Flood 2014).</summary>
    public static ulong SplitMix64(ulong x)
    {
        ulong z = x + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// The random stream of one query at one iteration: a key derived from (seed, iteration, query index)
    /// alone, so draws do not depend on the thread that computes the query, nor on CPU vs GPU.
    /// </summary>
    public static ulong StreamKey(int seed, int iteration, int query)
    {
        ulong k = SplitMix64((ulong)(uint)seed ^ (0x5EEDUL << 40));
        k = SplitMix64(k ^ (ulong)(uint)iteration);
        return SplitMix64(k ^ ((ulong)(uint)query << 1));
    }

    /// <summary>The 64 random bits number <paramref name="counter"/> of a stream.</summary>
    public static ulong RandomBits(ulong streamKey, long counter) => SplitMix64(streamKey ^ SplitMix64((ulong)counter));

    /// <summary>A uniform double in [0, 1) (53 random bits).</summary>
    public static double RandomUnit(ulong streamKey, long counter) => (RandomBits(streamKey, counter) >> 11) * (1.0 / 9007199254740992.0);

    /// <summary>A uniform integer in [0, n) for n &gt;= 1 (multiply-shift on the high 32 bits; bias below 2^-32 * n).</summary>
    public static int RandomIndex(ulong streamKey, long counter, int n) => (int)(((RandomBits(streamKey, counter) >> 32) * (ulong)(uint)n) >> 32);

    // ---------------------------------------------------------------- sort keys

    /// <summary>
    /// Order-preserving map of a score to a 32-bit key where a larger score gives a smaller key (so an
    /// ascending integer sort is a descending sort by score), and -0 and +0 give one key. Used by the CPU
    /// evaluator's sorts and the GPU top-k kernel alike, so both place ties the same way. Written with
    /// BitConverter.SingleToInt32Bits, which ILGPU maps to a bit cast inside kernels.
    /// </summary>
    public static uint DescendingScoreKey(float score)
    {
        uint bits = (uint)BitConverter.SingleToInt32Bits(score);
        if (bits == 0x8000_0000u) bits = 0;   // -0 is the same score as +0
        // Negative floats flip all bits, positive ones the sign bit: ascending order as unsigned integers.
        uint ascending = bits ^ ((uint)((int)bits >> 31) | 0x8000_0000u);
        return ~ascending;
    }

    /// <summary>
    /// A key whose ascending integer order is the descending order of <paramref name="score"/>, ties
    /// broken by <paramref name="index"/> ascending: sorting these keys is a stable descending sort by
    /// score (LightGBM's std::stable_sort), with no comparer. -0 and +0 tie.
    /// </summary>
    public static ulong DescendingScoreKey(float score, int index) => ((ulong)DescendingScoreKey(score) << 32) | (uint)index;

    /// <summary>The row index packed in a <see cref="DescendingScoreKey(float, int)"/>.</summary>
    public static int KeyIndex(ulong key) => (int)(uint)key;

    // ---------------------------------------------------------------- pairwise

    /// <summary>|delta NDCG| of swapping two rows: |G_h - G_l| * |D(r_h) - D(r_l)| / maxDCG (passed as its inverse).</summary>
    public static double PairDeltaNdcg(double gainHigh, double gainLow, double discountHigh, double discountLow, double inverseMaxDcg)
        => Math.Abs(gainHigh - gainLow) * Math.Abs(discountHigh - discountLow) * inverseMaxDcg;

    /// <summary>LightGBM's score-distance normalisation of delta NDCG: dNDCG / (0.01 + |s_h - s_l|) (0.01 as the float LightGBM uses).</summary>
    public static double NormalizedDeltaNdcg(double deltaNdcg, double scoreDifference) => deltaNdcg / ((double)0.01f + Math.Abs(scoreDifference));

    /// <summary>RankNet's p = 1 / (1 + exp(sigma (s_h - s_l))): the probability the pair is misordered.</summary>
    public static double PairMisorderProbability(double sigma, double scoreDifference) => Sigmoid(-sigma * scoreDifference);

    /// <summary>RankNet's pair loss log(1 + exp(-sigma (s_h - s_l))).</summary>
    public static double RankNetPairLoss(double sigma, double scoreDifference) => Softplus(-sigma * scoreDifference);

    /// <summary>
    /// RankNet's pair loss softplus(-x) and p = sigmoid(-x), x = sigma (s_h - s_l), from one exp(-|x|)
    /// (the two separately cost two exps and a log).
    /// </summary>
    public static double RankNetPairLossAndProbability(double sigma, double scoreDifference, out double misorderProbability)
    {
        double x = sigma * scoreDifference;
        double e = Math.Exp(-Math.Abs(x));
        misorderProbability = (x >= 0 ? e : 1.0) / (1.0 + e);
        return Math.Max(-x, 0.0) + Log1p(e);
    }

    /// <summary>LightGBM's final per-query factor log2(1 + S) / S for S = sum of 2 |lambda| (1 when S = 0).</summary>
    public static double LambdaNormalizationFactor(double sumAbsLambdas) => sumAbsLambdas > 0 ? Log2(1.0 + sumAbsLambdas) / sumAbsLambdas : 1.0;

    /// <summary>Hinge max(0, margin - difference).</summary>
    public static double Hinge(double margin, double difference) => Math.Max(0.0, margin - difference);

    /// <summary>Squared hinge max(0, margin - difference)^2 / 2.</summary>
    public static double SquaredHinge(double margin, double difference)
    {
        double h = Math.Max(0.0, margin - difference);
        return 0.5 * h * h;
    }

    // ---------------------------------------------------------------- sampling

    /// <summary>
    /// log(k q): the log of how often a candidate of probability q is expected among k draws, subtracted from
    /// a sampled logit so that the drawn terms estimate the sum over every candidate (sampled softmax's log-Q
    /// correction) and used as NCE's log(k p_noise). Drawn without replacement, k q is the candidate's inclusion
    /// probability; 1 (no correction) when every candidate is in the sample.
    /// </summary>
    public static double LogExpectedDraws(int draws, double probability) => Math.Log(draws * probability);

    /// <summary>
    /// NCE's logistic term (Gutmann and Hyvarinen 2010) on u = logit - log(k p_noise): a data point -log sigmoid(u),
    /// a noise draw -log(1 - sigmoid(u)); <paramref name="slope"/> = d term / d u (sigmoid(u) - 1, or sigmoid(u)).
    /// </summary>
    public static double NceTerm(double u, bool data, out double slope)
    {
        double h = Sigmoid(u);
        slope = data ? h - 1.0 : h;
        return data ? Softplus(-u) : Softplus(u);
    }

    // ---------------------------------------------------------------- contrastive

    /// <summary>The distance of a document from its query, falling as the score rises: D = softplus(-s) &gt;= 0.</summary>
    public static double ScoreDistance(double score) => Softplus(-score);

    /// <summary>dD/ds = -sigmoid(-s).</summary>
    public static double ScoreDistanceDerivative(double score) => -Sigmoid(-score);
}
