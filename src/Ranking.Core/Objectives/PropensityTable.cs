using System.Globalization;

namespace Ranking.Objectives;

/// <summary>
/// Examination propensities by display position, as the IPW objectives take them: the PBM form
/// <c>eta:1</c> (theta_k = (1/k)^eta) or a list <c>1,0.5,0.33,...</c> (position 1 first; positions past its
/// end take its last value), with clipping: a clicked row weighs 1 / max(theta_k, clip) (Joachims et al.
/// 2017's clipped IPS: bounded variance for a little bias at deep positions).
/// </summary>
public sealed class PropensityTable
{
    private readonly double[] _theta;

    /// <summary>A table of the given propensities (position 1 first), each in (0, 1].</summary>
    public PropensityTable(IReadOnlyList<double> propensities, double clip = 0.01)
    {
        ArgumentNullException.ThrowIfNull(propensities);
        if (propensities.Count == 0) throw new ArgumentException("at least one propensity is required.");
        foreach (double t in propensities)
            if (!(t > 0 && t <= 1)) throw new ArgumentException($"propensities must lie in (0, 1], got {t.ToString(CultureInfo.InvariantCulture)}.");
        if (!(clip >= 0 && clip <= 1)) throw new ArgumentException($"clip must lie in [0, 1], got {clip.ToString(CultureInfo.InvariantCulture)}.");
        _theta = propensities.ToArray();
        Clip = clip;
    }

    /// <summary>The lowest propensity a weight divides by.</summary>
    public double Clip { get; }

    /// <summary>The propensities as given (position 1 first).</summary>
    public IReadOnlyList<double> Propensities => _theta;

    /// <summary>theta of 1-based <paramref name="position"/>.</summary>
    public double Propensity(int position) => _theta[Math.Min(Math.Max(position, 1), _theta.Length) - 1];

    /// <summary>The inverse-propensity weight 1 / max(theta, clip) of a click at <paramref name="position"/>.</summary>
    public double InverseWeight(int position) => 1.0 / Math.Max(Propensity(position), Clip);

    /// <summary>
    /// The IPW weight of every row of <paramref name="batch"/>: label / max(theta_k, clip) for a clicked row (label
    /// &gt; 0: a click, or a dwell-weighted click) at display position k (<see cref="ObjectiveBatch.PositionOf"/>),
    /// 0 for the others. A label below 0 or not finite is an ArgumentException naming the row.
    /// </summary>
    public float[] ClickWeights(in ObjectiveBatch batch)
    {
        var weights = new float[batch.RowCount];
        for (int q = 0; q < batch.QueryCount; q++)
        {
            int start = batch.GroupOffsets[q];
            for (int r = start; r < batch.GroupOffsets[q + 1]; r++)
            {
                float label = batch.Labels[r];
                if (!(label >= 0) || float.IsInfinity(label)) throw new ArgumentException($"row {r}: label {label} is not a click count or weight (>= 0).");
                weights[r] = label > 0 ? (float)(label * InverseWeight(batch.PositionOf(r, start))) : 0f;
            }
        }
        return weights;
    }

    /// <summary>
    /// Parses <c>eta:X</c> (PBM propensities of positions 1..64) or a comma-separated list; bad text is an
    /// ArgumentException naming it.
    /// </summary>
    public static PropensityTable Parse(string text, double clip = 0.01)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim();
        if (t.StartsWith("eta:", StringComparison.OrdinalIgnoreCase))
        {
            if (!double.TryParse(t[4..], NumberStyles.Float, CultureInfo.InvariantCulture, out double eta) || !(eta >= 0) || !double.IsFinite(eta))
                throw new ArgumentException($"propensities '{text}': eta must be a finite number >= 0.");
            // The position-based model's examination (1/k)^eta (as Ranking.Clicks.ClickModel.Examination), positions 1..64.
            var theta = new double[64];
            for (int p = 1; p <= theta.Length; p++) theta[p - 1] = Math.Pow(1.0 / p, eta);
            return new PropensityTable(theta, clip);
        }
        var values = new List<double>();
        foreach (string part in t.Split(','))
        {
            if (!double.TryParse(part.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw new ArgumentException($"propensities '{text}': '{part.Trim()}' is not a number (give eta:X or a list such as 1,0.5,0.33).");
            values.Add(v);
        }
        return new PropensityTable(values, clip);
    }
}
