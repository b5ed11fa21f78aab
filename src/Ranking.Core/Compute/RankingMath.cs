namespace Ranking.Compute;

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
    public static double Discount(int rank) => 1.0 / Math.Log2(rank + 2.0);

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
}
