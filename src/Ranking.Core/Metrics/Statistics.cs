namespace Ranking.Metrics;

/// <summary>
/// The few special functions the paired t-test needs, written here so Core needs no math package:
/// log-gamma (Lanczos, g = 7, 9 terms; relative error ~1e-15), the regularized incomplete beta
/// function I_x(a, b) (continued fraction evaluated by the modified Lentz method, using the symmetry
/// I_x(a,b) = 1 - I_{1-x}(b,a) where the fraction converges slowly), and Student's t distribution.
/// </summary>
public static class Statistics
{
    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
    ];

    /// <summary>ln Γ(x) for x &gt; 0.</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5) return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x); // reflection
        x -= 1;
        double sum = Lanczos[0];
        for (int i = 1; i < Lanczos.Length; i++) sum += Lanczos[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    /// <summary>The regularized incomplete beta function I_x(a, b) for a, b &gt; 0 and x in [0, 1].</summary>
    public static double RegularizedIncompleteBeta(double x, double a, double b)
    {
        if (!(a > 0) || !(b > 0)) throw new ArgumentOutOfRangeException(nameof(a), "a and b must be positive.");
        if (double.IsNaN(x)) return double.NaN;
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        // x^a (1-x)^b / (a B(a,b)), in logs
        double logFront = a * Math.Log(x) + b * Math.Log(1 - x) - (LogGamma(a) + LogGamma(b) - LogGamma(a + b));
        if (x < (a + 1) / (a + b + 2))
            return Math.Exp(logFront) * BetaContinuedFraction(x, a, b) / a;
        return 1 - Math.Exp(logFront) * BetaContinuedFraction(1 - x, b, a) / b;
    }

    /// <summary>Continued fraction of I_x(a,b) (terms d_{2m} and d_{2m+1}), modified Lentz.</summary>
    private static double BetaContinuedFraction(double x, double a, double b)
    {
        const double Tiny = 1e-300, Epsilon = 1e-16;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        if (Math.Abs(d) < Tiny) d = Tiny;
        d = 1 / d;
        double f = d;
        for (int m = 1; m <= 10_000; m++)
        {
            int m2 = 2 * m;
            double even = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + even * d; if (Math.Abs(d) < Tiny) d = Tiny;
            c = 1 + even / c; if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            f *= d * c;
            double odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + odd * d; if (Math.Abs(d) < Tiny) d = Tiny;
            c = 1 + odd / c; if (Math.Abs(c) < Tiny) c = Tiny;
            d = 1 / d;
            double delta = d * c;
            f *= delta;
            if (Math.Abs(delta - 1) < Epsilon) break;
        }
        return f;
    }

    /// <summary>P(T &lt;= t) for Student's t with <paramref name="degreesOfFreedom"/> (&gt; 0, may be fractional).</summary>
    public static double StudentTCdf(double t, double degreesOfFreedom)
    {
        if (!(degreesOfFreedom > 0)) throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom));
        if (double.IsNaN(t)) return double.NaN;
        if (double.IsPositiveInfinity(t)) return 1;
        if (double.IsNegativeInfinity(t)) return 0;
        double tail = 0.5 * RegularizedIncompleteBeta(degreesOfFreedom / (degreesOfFreedom + t * t), degreesOfFreedom / 2, 0.5);
        return t > 0 ? 1 - tail : tail;
    }

    /// <summary>Two-sided p-value P(|T| &gt;= |t|).</summary>
    public static double StudentTTwoSidedPValue(double t, double degreesOfFreedom)
    {
        if (!(degreesOfFreedom > 0)) throw new ArgumentOutOfRangeException(nameof(degreesOfFreedom));
        if (double.IsNaN(t)) return double.NaN;
        if (double.IsInfinity(t)) return 0;
        return RegularizedIncompleteBeta(degreesOfFreedom / (degreesOfFreedom + t * t), degreesOfFreedom / 2, 0.5);
    }

    /// <summary>
    /// Two-sided paired t-test of mean(differences) = 0 over n values: t = mean / (sd / sqrt(n)), n - 1 degrees
    /// of freedom. NaN when n &lt; 2; when every difference is equal the p-value is 1 (all zero) or 0.
    /// </summary>
    public static double PairedTTestPValue(ReadOnlySpan<double> differences)
    {
        int n = differences.Length;
        if (n < 2) return double.NaN;
        double mean = 0;
        foreach (double d in differences) mean += d;
        mean /= n;
        double ss = 0;
        foreach (double d in differences) ss += (d - mean) * (d - mean);
        double sd = Math.Sqrt(ss / (n - 1));
        if (sd == 0 || sd < 1e-15 * Math.Abs(mean)) return mean == 0 ? 1 : 0;
        double t = mean / (sd / Math.Sqrt(n));
        return StudentTTwoSidedPValue(t, n - 1);
    }
}
