namespace Ranking.Clicks;

/// <summary>How simulated users examine and click a result list.</summary>
public enum ClickModelKind
{
    /// <summary>
    /// Position-based model (Richardson et al. 2007; Joachims et al. 2017): a row at position k is examined
    /// with probability theta_k = (1/k)^eta, independently of the other rows, and clicked when examined with
    /// probability P(click | grade).
    /// </summary>
    PositionBased,

    /// <summary>
    /// Cascade model (Craswell et al. 2008): the user reads from the top, clicks a row with probability
    /// P(click | grade) and stops after the first click.
    /// </summary>
    Cascade,

    /// <summary>
    /// Dynamic Bayesian network (Chapelle and Zhang 2009): reads from the top; clicks with P(click | grade);
    /// after a click is satisfied with probability (2^g - 1) / 2^gmax (ERR's R(g)) and stops; otherwise goes
    /// on to the next row with probability <see cref="ClickModel.Perseverance"/>.
    /// </summary>
    Dbn,
}

/// <summary>
/// A click model with its parameters: examination by position, click probability by grade with noise
/// epsilon- / epsilon+ (Chapelle et al.; Ai et al. SIGIR 2018): P(click | examined, g) =
/// eps- + (eps+ - eps-) (2^g - 1) / (2^gmax - 1), so an irrelevant row is still clicked with eps- and a
/// perfect one with eps+.
/// </summary>
public sealed record ClickModel
{
    /// <summary>PBM, cascade or DBN.</summary>
    public ClickModelKind Kind { get; init; } = ClickModelKind.PositionBased;

    /// <summary>PBM's severity of position bias: theta_k = (1/k)^eta (0 = no bias).</summary>
    public double Eta { get; init; } = 1.0;

    /// <summary>epsilon-: click probability of an examined row of grade 0.</summary>
    public double NoiseNegative { get; init; } = 0.1;

    /// <summary>epsilon+: click probability of an examined row of the top grade.</summary>
    public double NoisePositive { get; init; } = 1.0;

    /// <summary>The top grade of the scale (4 for MSLR, 2 for MQ2008); grades above it click with eps+.</summary>
    public double MaxGrade { get; init; } = 4.0;

    /// <summary>DBN: probability of reading on after an unsatisfying row.</summary>
    public double Perseverance { get; init; } = 0.9;

    /// <summary>Checks every parameter; ArgumentException naming the bad one.</summary>
    public void Validate()
    {
        if (!(Eta >= 0) || !double.IsFinite(Eta)) throw new ArgumentException($"eta must be finite and >= 0, got {Eta}.");
        if (!(NoiseNegative >= 0 && NoiseNegative <= 1)) throw new ArgumentException($"epsilon- must be within [0, 1], got {NoiseNegative}.");
        if (!(NoisePositive >= 0 && NoisePositive <= 1)) throw new ArgumentException($"epsilon+ must be within [0, 1], got {NoisePositive}.");
        if (NoiseNegative > NoisePositive) throw new ArgumentException($"epsilon- ({NoiseNegative}) must not exceed epsilon+ ({NoisePositive}).");
        if (!(MaxGrade > 0) || !double.IsFinite(MaxGrade)) throw new ArgumentException($"the top grade must be positive, got {MaxGrade}.");
        if (!(Perseverance >= 0 && Perseverance <= 1)) throw new ArgumentException($"perseverance must be within [0, 1], got {Perseverance}.");
    }

    /// <summary>PBM examination probability theta_k = (1/k)^eta of 1-based position k.</summary>
    public double Examination(int position) => Math.Pow(1.0 / position, Eta);

    /// <summary>The true PBM propensities of positions 1..k (index 0 = position 1).</summary>
    public double[] Propensities(int k)
    {
        var theta = new double[k];
        for (int p = 1; p <= k; p++) theta[p - 1] = Examination(p);
        return theta;
    }

    /// <summary>P(click | examined, grade) = eps- + (eps+ - eps-) (2^g - 1) / (2^gmax - 1), capped at eps+.</summary>
    public double Attractiveness(double grade)
    {
        double share = (Math.Pow(2.0, Math.Min(Math.Max(grade, 0.0), MaxGrade)) - 1.0) / (Math.Pow(2.0, MaxGrade) - 1.0);
        return NoiseNegative + (NoisePositive - NoiseNegative) * share;
    }

    /// <summary>DBN: probability that a clicked row of this grade satisfies the user, (2^g - 1) / 2^gmax.</summary>
    public double Satisfaction(double grade)
        => Math.Min(1.0, (Math.Pow(2.0, Math.Min(Math.Max(grade, 0.0), MaxGrade)) - 1.0) / Math.Pow(2.0, MaxGrade));

    /// <summary>
    /// The probability of a click at each position of a shown list of grades (exact under every model:
    /// PBM theta_k a(g_k); cascade and DBN by the forward recursion over "still reading"). The simulator's
    /// chi-squared test compares its click rates with these.
    /// </summary>
    public double[] ClickProbabilities(ReadOnlySpan<float> shownGrades)
    {
        var p = new double[shownGrades.Length];
        double reading = 1.0;
        for (int k = 0; k < shownGrades.Length; k++)
        {
            double a = Attractiveness(shownGrades[k]);
            switch (Kind)
            {
                case ClickModelKind.PositionBased:
                    p[k] = Examination(k + 1) * a;
                    break;
                case ClickModelKind.Cascade:
                    p[k] = reading * a;
                    reading *= 1.0 - a;
                    break;
                default:
                    p[k] = reading * a;
                    double satisfied = Satisfaction(shownGrades[k]);
                    reading *= a * (1.0 - satisfied) * Perseverance + (1.0 - a) * Perseverance;
                    break;
            }
        }
        return p;
    }
}
