namespace Ranking.Embeddings;

/// <summary>
/// The knobs of collapse detection, each with its default. A collapse is what batch-hard mining does to
/// Fashion-MNIST: the hardest positive and the hardest negative of every anchor are driven to the same
/// distance, the loss sticks at the value it has when every embedding sits on one point (for the triplet
/// loss, the margin), and the distances shrink towards 0.
/// </summary>
public sealed record CollapseDetection
{
    /// <summary>Stop training (with a warning event) when a collapse is seen; false: train on, no check.</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Consecutive batches the signature must hold before the warning.</summary>
    public int Window { get; init; } = 50;
    /// <summary>The loss counts as stuck when |loss - loss at collapse| is at most this fraction of the loss at collapse.</summary>
    public double LossTolerance { get; init; } = 0.02;
    /// <summary>Distances count as shrunk when a batch's mean row spread is below this fraction of the largest spread seen.</summary>
    public double SpreadFraction { get; init; } = 0.5;
    /// <summary>Below this fraction of the largest spread the embeddings have collapsed whatever the loss says.</summary>
    public double TotalSpreadFraction { get; init; } = 1e-3;

    /// <summary>Checks the knobs; an <see cref="ArgumentException"/> names the bad one.</summary>
    public void Validate()
    {
        if (Window < 1) throw new ArgumentException($"the collapse window must be at least 1 batch, got {Window}.");
        if (!(LossTolerance >= 0) || double.IsInfinity(LossTolerance)) throw new ArgumentException($"the collapse loss tolerance must be non-negative, got {LossTolerance}.");
        if (!(SpreadFraction > 0 && SpreadFraction <= 1)) throw new ArgumentException($"the collapse spread fraction must be in (0, 1], got {SpreadFraction}.");
        if (!(TotalSpreadFraction > 0 && TotalSpreadFraction <= SpreadFraction)) throw new ArgumentException($"the total-collapse spread fraction must be in (0, {SpreadFraction}], got {TotalSpreadFraction}.");
    }
}

/// <summary>
/// Watches a training batch by batch for a collapse (see <see cref="CollapseDetection"/>). A batch shows the
/// signature when its mean row spread of farness has fallen below <see cref="CollapseDetection.SpreadFraction"/>
/// of the largest spread seen so far and its loss is within <see cref="CollapseDetection.LossTolerance"/> of the
/// loss the batch would have if every embedding were one point; or when the spread has fallen below
/// <see cref="CollapseDetection.TotalSpreadFraction"/> of its peak (distances at 0, whatever the loss). The
/// warning comes after <see cref="CollapseDetection.Window"/> such batches in a row. The peak, not the first
/// batches, is the yardstick: a freshly initialised encoder maps everything close together, so its spread is small.
/// </summary>
public sealed class CollapseMonitor
{
    private readonly CollapseDetection _options;
    private int _run;

    /// <summary>A monitor with the given knobs (checked).</summary>
    public CollapseMonitor(CollapseDetection options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
    }

    /// <summary>The largest mean row spread seen so far.</summary>
    public double PeakSpread { get; private set; }
    /// <summary>Batches in a row that showed the signature.</summary>
    public int Run => _run;
    /// <summary>The loss at collapse of the last batch that was compared with it (NaN before any).</summary>
    public double LastLossAtCollapse { get; private set; } = double.NaN;

    /// <summary>
    /// Records one batch: its reduced loss, its mean row spread, and how to compute its loss at collapse (called
    /// only when the spread has already shrunk). Returns true once the collapse has held for the whole window.
    /// </summary>
    public bool Observe(double loss, double spread, Func<double> lossAtCollapse)
    {
        ArgumentNullException.ThrowIfNull(lossAtCollapse);
        if (!double.IsFinite(loss) || !double.IsFinite(spread)) { _run = 0; return false; }
        PeakSpread = Math.Max(PeakSpread, spread);
        bool signature = false;
        if (PeakSpread > 0 && spread < _options.TotalSpreadFraction * PeakSpread) signature = true;
        else if (PeakSpread > 0 && spread < _options.SpreadFraction * PeakSpread)
        {
            double atCollapse = lossAtCollapse();
            LastLossAtCollapse = atCollapse;
            signature = atCollapse != 0 && Math.Abs(loss - atCollapse) <= _options.LossTolerance * Math.Abs(atCollapse);
        }
        _run = signature ? _run + 1 : 0;
        return _run >= _options.Window;
    }
}
