namespace Ranking.Numerics;

/// <summary>
/// The scalar math of every metric and objective, written once. The managed CPU loops and the ILGPU
/// kernels (Ranking.Gpu) both call these methods, so the two paths cannot drift apart. Rules that keep
/// them callable from a kernel: static, scalar arguments only (no arrays, spans or objects), no
/// exceptions or throw paths, no BCL helpers that throw (Math.Clamp); Math/MathF intrinsics are fine.
/// Every function returns a finite value for finite input (exp/log are shifted, never overflow).
/// </summary>
public static partial class RankingMath
{
    /// <summary>Exponential gain 2^grade - 1 (LightGBM, XGBoost, RankLib, the default contract).</summary>
    public static double ExponentialGain(double grade) => Math.Pow(2.0, grade) - 1.0;

    /// <summary>Linear gain: the grade itself (scikit-learn's ndcg_score).</summary>
    public static double LinearGain(double grade) => grade;

    /// <summary>Position discount 1 / log2(rank + 2) for a 0-based rank (rank 0 = top).</summary>
    public static double Discount(int rank) => 1.0 / Log2(rank + 2.0);

    /// <summary>
    /// The walk's discount of a 0-based rank under a <see cref="DiscountKind"/> code: the log kinds all give
    /// 1/log2(rank + 2) (their base is <see cref="DiscountScale"/>, applied to reported DCG only), the
    /// reciprocal kind 1/(rank + 1 + offset), i.e. 1/(rank + c) for a 1-based rank.
    /// </summary>
    public static double Discount(int kind, double offset, int rank) =>
        kind == (int)DiscountKind.Reciprocal ? 1.0 / (rank + 1.0 + offset) : 1.0 / Log2(rank + 2.0);

    /// <summary>Reported DCG = the walk's DCG times this: 1/ln 2 for ln, ln 10/ln 2 for log10, else 1.</summary>
    public static double DiscountScale(int kind) =>
        kind == (int)DiscountKind.Natural ? 1.0 / Math.Log(2.0) : kind == (int)DiscountKind.Log10 ? Math.Log(10.0) / Math.Log(2.0) : 1.0;

    /// <summary>Sum of <see cref="Discount(int, double, int)"/> over the 0-based ranks [from, to); 0 when empty.</summary>
    public static double DiscountSum(int kind, double offset, int from, int to)
    {
        double sum = 0.0;
        for (int r = from; r < to; r++) sum += Discount(kind, offset, r);
        return sum;
    }

    private const double Ln2 = 0.69314718055994530942;

    /// <summary>
    /// log2(x) as ln(x) / ln(2). Not Math.Log2: ILGPU 1.5.3 has no mapping for it and emits a call to an
    /// unresolved extern 'Log2', which CUDA's PTX JIT rejects (seen on an H200 with driver 13.0).
    /// </summary>
    public static double Log2(double x) => Math.Log(x) / Ln2;

    /// <summary>Logistic sigmoid 1 / (1 + e^-x), computed on the side where exp cannot overflow.</summary>
    public static double Sigmoid(double x)
    {
        if (x >= 0)
        {
            double e = Math.Exp(-x);
            return 1.0 / (1.0 + e);
        }
        else
        {
            double e = Math.Exp(x);
            return e / (1.0 + e);
        }
    }

    /// <summary>log(1 + e^x) = max(x, 0) + log1p(e^-|x|); finite for every finite x.</summary>
    public static double Softplus(double x) => Math.Max(x, 0.0) + Log1p(Math.Exp(-Math.Abs(x)));

    /// <summary>log(sigmoid(x)) = -softplus(-x).</summary>
    public static double LogSigmoid(double x) => -Softplus(-x);

    /// <summary>log(1 + x) accurate for small x (no Math.Log1P in the BCL; this form is exact to rounding).</summary>
    public static double Log1p(double x)
    {
        double u = 1.0 + x;
        if (u == 1.0) return x;
        return Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>log(e^a + e^b) without overflow.</summary>
    public static double LogAddExp(double a, double b)
    {
        double max = Math.Max(a, b);
        if (double.IsNegativeInfinity(max)) return max;
        return max + Log1p(Math.Exp(-Math.Abs(a - b)));
    }

    /// <summary>
    /// Sum of <see cref="Discount(int)"/> over the 0-based ranks [from, to): the total discount a block of
    /// tied rows shares under averaged ties (McSherry-Najork). 0 when the range is empty.
    /// </summary>
    public static double DiscountSum(int from, int to)
    {
        double sum = 0.0;
        for (int r = from; r < to; r++) sum += 1.0 / Log2(r + 2.0);
        return sum;
    }

    /// <summary>
    /// ERR's probability that a row of this grade satisfies the user (Chapelle et al. 2009):
    /// (2^grade - 1) / 2^maxGrade, clamped to [0, 1] (grades above the maximum count as certain).
    /// </summary>
    public static double ErrSatisfaction(double grade, double maxGrade)
    {
        double p = (Math.Pow(2.0, grade) - 1.0) / Math.Pow(2.0, maxGrade);
        return Math.Min(Math.Max(p, 0.0), 1.0);
    }

    /// <summary>
    /// Expected precision at a relevant row placed uniformly at random inside a tie block (used by
    /// average precision under averaged ties): the block starts at 0-based rank <paramref name="blockStart"/>,
    /// holds <paramref name="blockSize"/> rows of which <paramref name="blockRelevant"/> are relevant,
    /// <paramref name="relevantBefore"/> relevant rows rank above the block, and the row sits at offset
    /// <paramref name="offset"/>. The other relevant rows of the block fall before it in expectation
    /// offset * (blockRelevant - 1) / (blockSize - 1) times (hypergeometric mean).
    /// </summary>
    public static double ExpectedPrecisionInTieBlock(int blockStart, int blockSize, int blockRelevant, int relevantBefore, int offset)
    {
        double othersBefore = blockSize > 1 ? offset * (double)(blockRelevant - 1) / (blockSize - 1) : 0.0;
        return (relevantBefore + 1.0 + othersBefore) / (blockStart + offset + 1.0);
    }

    /// <summary>
    /// A tie block's expected contribution to the sum of precisions that average precision divides: each
    /// offset inside the cut holds a relevant row with probability blockRelevant / blockSize, and then
    /// contributes <see cref="ExpectedPrecisionInTieBlock"/>. Offsets at or past <paramref name="cut"/> count nothing.
    /// </summary>
    public static double TieBlockPrecisionSum(int blockStart, int blockSize, int blockRelevant, int relevantBefore, int cut)
    {
        double share = blockRelevant / (double)blockSize, sum = 0.0;
        for (int offset = 0; offset < blockSize && blockStart + offset < cut; offset++)
            sum += share * ExpectedPrecisionInTieBlock(blockStart, blockSize, blockRelevant, relevantBefore, offset);
        return sum;
    }

    /// <summary>
    /// Expected reciprocal rank of the first relevant row of a tie block (no relevant row above it) whose rows
    /// are in uniformly random order, counting only places before <paramref name="cut"/>:
    /// P(first relevant at offset j) = C(size-1-j, r-1) / C(size, r), by recurrence over j.
    /// </summary>
    public static double TieBlockReciprocalRank(int blockStart, int blockSize, int blockRelevant, int cut)
    {
        double value = 0.0, probability = blockRelevant / (double)blockSize;
        for (int j = 0; j <= blockSize - blockRelevant && blockStart + j < cut; j++)
        {
            value += probability / (blockStart + j + 1);
            if (blockSize - j - 1 > 0) probability *= (blockSize - blockRelevant - j) / (double)(blockSize - j - 1);
        }
        return value;
    }

    /// <summary>
    /// Probability that at least one relevant row lands in the first <paramref name="places"/> places of a tie
    /// block of <paramref name="blockSize"/> rows, <paramref name="blockRelevant"/> of them relevant, in uniformly
    /// random order: 1 - C(size - relevant, places) / C(size, places), the product written out.
    /// </summary>
    public static double TieBlockHitProbability(int blockSize, int blockRelevant, int places)
    {
        double none = 1.0;
        for (int i = 0; i < places; i++) none *= (blockSize - blockRelevant - i) / (double)(blockSize - i);
        return 1.0 - (none > 0 ? none : 0.0);
    }
}
