using Ranking.Data;

namespace Ranking.Clicks;

/// <summary>
/// Turns a click log into a training set every ranker can read: one query group per distinct session
/// (same query, same shown rows in the same order, same clicks), its query weight the number of sessions
/// collapsed into it; labels are the clicks (1/0), <see cref="RankingDataset.Positions"/> the display
/// positions 1..n, features the rows' features. Trained on as is, it is the naive estimator (clicks as
/// labels); the <c>ipw-*</c> and <c>unbiased-lambdarank</c> objectives and LightGBM's position GAM read
/// the positions to correct the bias. Written as text it is a LightGBM-ready file with <c>FILE.position</c>.
/// </summary>
public static class ClickTrainingSet
{
    /// <summary>Builds the set; sessions without a click are left out unless <paramref name="keepUnclicked"/> (they carry no pair and no positive).</summary>
    public static RankingDataset Build(ClickLog log, bool keepUnclicked = false)
    {
        ArgumentNullException.ThrowIfNull(log);
        var data = log.Data;
        var groupOf = new Dictionary<(int Query, ulong Hash), List<int>>();   // candidates by hash; equality checked
        var representative = new List<int>();
        var counts = new List<int>();
        for (int s = 0; s < log.SessionCount; s++)
        {
            int from = log.SessionOffsets[s], to = log.SessionOffsets[s + 1];
            bool anyClick = false;
            ulong hash = 0xCBF29CE484222325UL;
            for (int e = from; e < to; e++)
            {
                anyClick |= log.Clicked[e] != 0;
                hash = (hash ^ (ulong)(uint)log.ShownRow[e]) * 0x100000001B3UL;
                hash = (hash ^ log.Clicked[e]) * 0x100000001B3UL;
            }
            if (!anyClick && !keepUnclicked) continue;
            var key = (log.SessionQuery[s], hash);
            if (!groupOf.TryGetValue(key, out var candidates)) groupOf[key] = candidates = [];
            int group = -1;
            foreach (int g in candidates)
                if (SameSession(log, representative[g], s)) { group = g; break; }
            if (group < 0)
            {
                group = representative.Count;
                representative.Add(s);
                counts.Add(0);
                candidates.Add(group);
            }
            counts[group]++;
        }
        if (representative.Count == 0)
            throw new ArgumentException("the click log has no session with a click: nothing to learn from.");

        int rows = 0;
        foreach (int s in representative) rows += log.SessionOffsets[s + 1] - log.SessionOffsets[s];
        int f = data.FeatureCount;
        var features = new float[(long)rows * f];
        var labels = new float[rows];
        var positions = new int[rows];
        var offsets = new int[representative.Count + 1];
        var ids = new long[representative.Count];
        var weights = new float[representative.Count];
        int at = 0;
        for (int g = 0; g < representative.Count; g++)
        {
            int s = representative[g], q = log.SessionQuery[s], rowBase = data.GroupOffsets[q];
            for (int e = log.SessionOffsets[s]; e < log.SessionOffsets[s + 1]; e++, at++)
            {
                int row = rowBase + log.ShownRow[e];
                Array.Copy(data.Features, (long)row * f, features, (long)at * f, f);
                labels[at] = log.Clicked[e];
                positions[at] = e - log.SessionOffsets[s] + 1;
            }
            offsets[g + 1] = at;
            ids[g] = data.QueryIds[q];
            weights[g] = counts[g];
        }
        return new RankingDataset(features, f, labels, offsets, ids, weights, null, $"clicks:{data.Source}", positions);
    }

    /// <summary>
    /// One query group per logged query holding every row the log ever showed for it, labelled with an estimate
    /// of the row's click probability when examined, from all of the query's sessions at once (query weight 1:
    /// every query counts once, as in the skyline on graded data):
    /// <list type="bullet">
    /// <item><see cref="ClickLabelCorrection.None"/> (naive): clicks / sessions of the query, the mean click.</item>
    /// <item><see cref="ClickLabelCorrection.PositionIpw"/> (Joachims et al. 2017): sum over sessions of
    /// c / max(theta_k, clip) at the position k it was shown at, divided by the query's sessions; unbiased for
    /// P(click | examined) times P(shown in the top k).</item>
    /// <item><see cref="ClickLabelCorrection.PolicyAware"/> (Oosterhuis and de Rijke, WSDM 2020): clicks divided
    /// by the row's expected examinations, max(sum over its sessions of theta_k, clip x sessions); the
    /// propensity of being examined includes the chance of being shown at all, so with a stochastic production
    /// ranker the label is consistent for P(click | examined) of every row, shown often or rarely.</item>
    /// </list>
    /// Under a deterministic production ranker a row always sits at one position, and the two corrections give the
    /// same labels. Trained on with <c>ipw-softmax</c> at <c>propensities=1</c> (the labels are already corrected),
    /// this is the listwise IPW loss of each session summed per query: the same expected loss, one group per
    /// query instead of one per distinct session, so no group weighs thousands of sessions.
    /// </summary>
    /// <param name="log">The click log.</param>
    /// <param name="correction">How clicks become labels.</param>
    /// <param name="propensities">theta_k of positions 1..K (index 0 = position 1); positions beyond K use theta_K. Ignored by <see cref="ClickLabelCorrection.None"/>.</param>
    /// <param name="clip">The smallest propensity a click is divided by (0 = none); clipping trades a bias (rows deep in the list are under-weighted) for bounded variance.</param>
    public static RankingDataset BuildPerQuery(ClickLog log, ClickLabelCorrection correction, IReadOnlyList<double>? propensities = null, double clip = 0)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (correction != ClickLabelCorrection.None)
        {
            if (propensities is null || propensities.Count == 0) throw new ArgumentException("IPW labels need the propensities of positions 1..K.");
            foreach (double t in propensities)
                if (!(t > 0 && t <= 1)) throw new ArgumentException($"propensities must lie in (0, 1], got {t}.");
        }
        if (!(clip >= 0 && clip <= 1)) throw new ArgumentException($"clip must lie in [0, 1], got {clip}.");
        var data = log.Data;
        double Theta(int position) => propensities![Math.Min(position, propensities.Count) - 1];

        var sessionsOf = new int[data.QueryCount];
        var clicks = new double[data.RowCount];
        var examinations = new double[data.RowCount];   // PositionIpw: sum c / max(theta, clip); PolicyAware: sum theta
        var seen = new bool[data.RowCount];
        for (int s = 0; s < log.SessionCount; s++)
        {
            int q = log.SessionQuery[s], from = log.SessionOffsets[s], rowBase = data.GroupOffsets[q];
            sessionsOf[q]++;
            for (int e = from; e < log.SessionOffsets[s + 1]; e++)
            {
                int row = rowBase + log.ShownRow[e], position = e - from + 1;
                seen[row] = true;
                clicks[row] += log.Clicked[e];
                if (correction == ClickLabelCorrection.PositionIpw)
                    examinations[row] += log.Clicked[e] / Math.Max(Theta(position), clip);
                else if (correction == ClickLabelCorrection.PolicyAware)
                    examinations[row] += Theta(position);
            }
        }

        var groups = new List<int>();
        int rows = 0;
        for (int q = 0; q < data.QueryCount; q++)
        {
            if (sessionsOf[q] == 0) continue;
            bool anyClick = false;
            int count = 0;
            for (int r = data.GroupOffsets[q]; r < data.GroupOffsets[q + 1]; r++)
                if (seen[r]) { count++; anyClick |= clicks[r] > 0; }
            if (!anyClick) continue;
            groups.Add(q);
            rows += count;
        }
        if (groups.Count == 0) throw new ArgumentException("the click log has no session with a click: nothing to learn from.");

        int f = data.FeatureCount;
        var features = new float[(long)rows * f];
        var labels = new float[rows];
        var offsets = new int[groups.Count + 1];
        var ids = new long[groups.Count];
        int at = 0;
        for (int g = 0; g < groups.Count; g++)
        {
            int q = groups[g];
            double n = sessionsOf[q];
            for (int r = data.GroupOffsets[q]; r < data.GroupOffsets[q + 1]; r++)
            {
                if (!seen[r]) continue;
                Array.Copy(data.Features, (long)r * f, features, (long)at * f, f);
                labels[at++] = (float)(correction switch
                {
                    ClickLabelCorrection.None => clicks[r] / n,
                    ClickLabelCorrection.PositionIpw => examinations[r] / n,
                    _ => clicks[r] / Math.Max(examinations[r], clip * n),
                });
            }
            offsets[g + 1] = at;
            ids[g] = data.QueryIds[q];
        }
        return new RankingDataset(features, f, labels, offsets, ids, null, null, $"clicks-per-query:{data.Source}");
    }

    private static bool SameSession(ClickLog log, int a, int b)
    {
        if (log.SessionQuery[a] != log.SessionQuery[b]) return false;
        int fa = log.SessionOffsets[a], fb = log.SessionOffsets[b], n = log.SessionOffsets[a + 1] - fa;
        if (log.SessionOffsets[b + 1] - fb != n) return false;
        for (int i = 0; i < n; i++)
            if (log.ShownRow[fa + i] != log.ShownRow[fb + i] || log.Clicked[fa + i] != log.Clicked[fb + i]) return false;
        return true;
    }
}

/// <summary>How <see cref="ClickTrainingSet.BuildPerQuery"/> turns a row's clicks into its label.</summary>
public enum ClickLabelCorrection
{
    /// <summary>Naive: the mean click per session of the query.</summary>
    None,
    /// <summary>IPW by display position: each click divided by the (clipped) propensity of the position it was shown at.</summary>
    PositionIpw,
    /// <summary>Policy-aware IPW: clicks divided by the row's expected examinations over the sessions (ratio estimate of P(click | examined)).</summary>
    PolicyAware,
}
