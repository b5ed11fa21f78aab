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
