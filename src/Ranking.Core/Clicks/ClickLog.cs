using Ranking.Data;

namespace Ranking.Clicks;

/// <summary>
/// Logged impressions over a judged (or unjudged) <see cref="RankingDataset"/>: per session the query, the
/// documents shown in display order (as rows of that query in the dataset) and which were clicked. Entry j
/// of a session was shown at position j + 1. Flat arrays, so 10^6 sessions of 10 rows take ~90 MB.
/// </summary>
public sealed class ClickLog
{
    /// <summary>Builds a log; checks the shape (offsets, rows inside their query, clicks 0/1).</summary>
    public ClickLog(RankingDataset data, int[] sessionQuery, int[] sessionOffsets, int[] shownRow, byte[] clicked, float[]? dwell = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(sessionQuery);
        ArgumentNullException.ThrowIfNull(sessionOffsets);
        ArgumentNullException.ThrowIfNull(shownRow);
        ArgumentNullException.ThrowIfNull(clicked);
        if (sessionOffsets.Length != sessionQuery.Length + 1 || sessionOffsets[0] != 0 || sessionOffsets[^1] != shownRow.Length)
            throw new ArgumentException("session offsets must start at 0, hold one entry per session plus one, and end at the entry count.");
        if (clicked.Length != shownRow.Length) throw new ArgumentException("one click flag per shown entry is required.");
        if (dwell is not null && dwell.Length != shownRow.Length) throw new ArgumentException("one dwell value per shown entry is required.");
        for (int s = 0; s < sessionQuery.Length; s++)
        {
            int q = sessionQuery[s];
            if ((uint)q >= (uint)data.QueryCount) throw new ArgumentException($"session {s}: query {q} is not in the set.");
            if (sessionOffsets[s + 1] <= sessionOffsets[s]) throw new ArgumentException($"session {s} shows nothing.");
            int n = data.QueryLength(q);
            for (int e = sessionOffsets[s]; e < sessionOffsets[s + 1]; e++)
                if ((uint)shownRow[e] >= (uint)n) throw new ArgumentException($"session {s}: row {shownRow[e]} is not one of query {q}'s {n} rows.");
        }
        Data = data;
        SessionQuery = sessionQuery;
        SessionOffsets = sessionOffsets;
        ShownRow = shownRow;
        Clicked = clicked;
        Dwell = dwell;
    }

    /// <summary>The set whose rows the log shows (features, and the true grades when judged).</summary>
    public RankingDataset Data { get; }
    /// <summary>Query index (into <see cref="Data"/>) of each session.</summary>
    public int[] SessionQuery { get; }
    /// <summary>Session s owns entries [SessionOffsets[s], SessionOffsets[s + 1]), in display order.</summary>
    public int[] SessionOffsets { get; }
    /// <summary>Per entry: the shown row, counted from 0 within its query.</summary>
    public int[] ShownRow { get; }
    /// <summary>Per entry: 1 when clicked, else 0.</summary>
    public byte[] Clicked { get; }
    /// <summary>Optional per-entry dwell time (or purchase value) from the log file; null when absent.</summary>
    public float[]? Dwell { get; }

    /// <summary>Number of sessions.</summary>
    public int SessionCount => SessionQuery.Length;
    /// <summary>Number of shown entries over all sessions.</summary>
    public int EntryCount => ShownRow.Length;
    /// <summary>Number of clicks over all sessions.</summary>
    public long ClickCount { get { long c = 0; foreach (byte b in Clicked) c += b; return c; } }

    /// <summary>The largest number of rows any session shows (the deepest position).</summary>
    public int MaxPosition
    {
        get { int m = 0; for (int s = 0; s < SessionCount; s++) m = Math.Max(m, SessionOffsets[s + 1] - SessionOffsets[s]); return m; }
    }

    /// <summary>
    /// Sessions summed into counts per (query, row, position): impressions and clicks, ordered by query,
    /// row, then position. What propensity estimators and click-through rates read.
    /// </summary>
    public ClickCounts Aggregate()
    {
        var counts = new Dictionary<(int Query, int Row, int Position), (long Impressions, long Clicks)>();
        for (int s = 0; s < SessionCount; s++)
        {
            int q = SessionQuery[s];
            for (int e = SessionOffsets[s]; e < SessionOffsets[s + 1]; e++)
            {
                var key = (q, ShownRow[e], e - SessionOffsets[s] + 1);
                counts.TryGetValue(key, out var c);
                counts[key] = (c.Impressions + 1, c.Clicks + Clicked[e]);
            }
        }
        var keys = counts.Keys.OrderBy(k => k.Query).ThenBy(k => k.Row).ThenBy(k => k.Position).ToArray();
        var result = new ClickCounts(Data, keys.Length);
        for (int i = 0; i < keys.Length; i++)
        {
            var (imp, clk) = counts[keys[i]];
            result.Query[i] = keys[i].Query;
            result.Row[i] = keys[i].Row;
            result.Position[i] = keys[i].Position;
            result.Impressions[i] = imp;
            result.Clicks[i] = clk;
        }
        return result;
    }

    /// <summary>Click-through rate per position 1..<see cref="MaxPosition"/> (index 0 = position 1) over all sessions.</summary>
    public double[] ClickRateByPosition()
    {
        int k = MaxPosition;
        var shown = new long[k];
        var clicks = new long[k];
        for (int s = 0; s < SessionCount; s++)
            for (int e = SessionOffsets[s]; e < SessionOffsets[s + 1]; e++)
            {
                int p = e - SessionOffsets[s];
                shown[p]++;
                clicks[p] += Clicked[e];
            }
        var rate = new double[k];
        for (int p = 0; p < k; p++) rate[p] = shown[p] == 0 ? double.NaN : clicks[p] / (double)shown[p];
        return rate;
    }

    /// <summary>
    /// Mean over sessions of the NDCG of the list shown, on the true grades of <see cref="Data"/> (gain 2^g - 1,
    /// discount 1/log2(rank + 1), ideal = the query's best <c>shown length</c> rows; a query without a relevant
    /// row counts 1): what users were served, e.g. the cost of a stochastic production ranker's exploration.
    /// </summary>
    public double ShownNdcg()
    {
        var idealOf = new double[Data.QueryCount];
        int longest = MaxPosition;
        for (int q = 0; q < Data.QueryCount; q++)
        {
            var grades = Data.Labels.AsSpan(Data.GroupOffsets[q], Data.QueryLength(q)).ToArray();
            Array.Sort(grades, (a, b) => b.CompareTo(a));
            double ideal = 0;
            for (int i = 0; i < Math.Min(longest, grades.Length); i++) ideal += Numerics.RankingMath.ExponentialGain(grades[i]) * Numerics.RankingMath.Discount(i);
            idealOf[q] = ideal;
        }
        double total = 0;
        for (int s = 0; s < SessionCount; s++)
        {
            int q = SessionQuery[s], rowBase = Data.GroupOffsets[q];
            if (!(idealOf[q] > 0)) { total += 1; continue; }
            double dcg = 0;
            for (int e = SessionOffsets[s]; e < SessionOffsets[s + 1]; e++)
                dcg += Numerics.RankingMath.ExponentialGain(Data.Labels[rowBase + ShownRow[e]]) * Numerics.RankingMath.Discount(e - SessionOffsets[s]);
            total += dcg / idealOf[q];
        }
        return SessionCount == 0 ? double.NaN : total / SessionCount;
    }

    /// <summary>The first <paramref name="sessions"/> sessions (a learning curve over log size); shares no arrays.</summary>
    public ClickLog Take(int sessions)
    {
        if (sessions < 0 || sessions > SessionCount) throw new ArgumentOutOfRangeException(nameof(sessions));
        int entries = SessionOffsets[sessions];
        return new ClickLog(Data, SessionQuery[..sessions], SessionOffsets[..(sessions + 1)], ShownRow[..entries], Clicked[..entries], Dwell?[..entries]);
    }
}

/// <summary>Impressions and clicks per (query, row, position), from <see cref="ClickLog.Aggregate"/>.</summary>
public sealed class ClickCounts
{
    internal ClickCounts(RankingDataset data, int count)
    {
        Data = data;
        Query = new int[count];
        Row = new int[count];
        Position = new int[count];
        Impressions = new long[count];
        Clicks = new long[count];
    }

    /// <summary>The set the rows belong to.</summary>
    public RankingDataset Data { get; }
    /// <summary>Query index of each entry.</summary>
    public int[] Query { get; }
    /// <summary>Row within its query (from 0).</summary>
    public int[] Row { get; }
    /// <summary>1-based display position.</summary>
    public int[] Position { get; }
    /// <summary>How often the row was shown at that position.</summary>
    public long[] Impressions { get; }
    /// <summary>How often it was clicked there.</summary>
    public long[] Clicks { get; }
    /// <summary>Number of (query, row, position) entries.</summary>
    public int Count => Query.Length;
}
