using Ranking.Data;
using Ranking.Numerics;

namespace Ranking.Clicks;

/// <summary>Randomised interventions on the production ranking, for propensity estimation.</summary>
public enum ClickIntervention
{
    /// <summary>Show the production ranking as it is.</summary>
    None,

    /// <summary>
    /// Randomised swap (Joachims et al. WSDM 2017): each session draws k uniformly from 1..TopK and swaps the
    /// rows at production ranks 1 and k (k = 1 leaves the list alone), so every row is seen at two
    /// positions and CTR ratios reveal theta_k / theta_1 with no relevance model.
    /// </summary>
    SwapWithFirst,
}

/// <summary>Settings of <see cref="ClickSimulator.Simulate"/>.</summary>
public sealed record ClickSimulationOptions
{
    /// <summary>Total sessions; each draws its query uniformly (ignored when <see cref="SessionsPerQuery"/> &gt; 0).</summary>
    public int Sessions { get; init; } = 100_000;
    /// <summary>When &gt; 0, exactly this many sessions per query (session s shows query s mod Q).</summary>
    public int SessionsPerQuery { get; init; }
    /// <summary>How many rows each session shows (the production ranking's top k).</summary>
    public int TopK { get; init; } = 10;
    /// <summary>How users examine and click.</summary>
    public ClickModel Model { get; init; } = new();
    /// <summary>Randomised interventions (none by default).</summary>
    public ClickIntervention Intervention { get; init; } = ClickIntervention.None;
    /// <summary>Seed of every draw: the same seed gives the same log, byte for byte, on any thread count.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Worker threads; -1 = all cores. The log does not depend on it.</summary>
    public int Threads { get; init; } = -1;
    /// <summary>
    /// A stochastic production ranker (0, the default, is the deterministic one): each session ranks its
    /// query by a Plackett-Luce draw, score + T sd_q G with G standard Gumbel noise per row and sd_q the standard
    /// deviation of the query's production scores (the Gumbel-max form of sampling from softmax(score / (T sd_q))).
    /// Rows below the deterministic top k then get shown too, which removes the item-selection bias a fixed top k
    /// leaves (Oosterhuis and de Rijke, WSDM 2020: policy-aware IPW needs every row a non-zero chance to be seen).
    /// </summary>
    public double ProductionTemperature { get; init; }
}

/// <summary>
/// The simulation protocol of unbiased learning to rank (Joachims et al. WSDM 2017; Ai et al. SIGIR 2018):
/// a production ranker's scores rank each query, the top k is shown, and clicks follow a click model on
/// the rows' true grades. Every draw comes from a counter-based stream keyed by (seed, session)
/// (<see cref="RankingMath.RandomUnit"/>), so sessions are simulated in parallel and the log repeats
/// exactly for a seed.
/// </summary>
public static class ClickSimulator
{
    /// <summary>Simulates a click log over <paramref name="data"/> ranked by <paramref name="productionScores"/> (one per row).</summary>
    public static ClickLog Simulate(RankingDataset data, ReadOnlySpan<float> productionScores, ClickSimulationOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Model.Validate();
        if (productionScores.Length != data.RowCount) throw new ArgumentException($"{productionScores.Length} production scores for {data.RowCount} rows.");
        if (options.TopK < 1) throw new ArgumentException($"top-k must be at least 1, got {options.TopK}.");
        if (!(options.ProductionTemperature >= 0) || !double.IsFinite(options.ProductionTemperature))
            throw new ArgumentException($"the production temperature must be finite and >= 0, got {options.ProductionTemperature}.");
        if (options.SessionsPerQuery < 0) throw new ArgumentException($"sessions per query must not be negative, got {options.SessionsPerQuery}.");
        long total = options.SessionsPerQuery > 0 ? (long)options.SessionsPerQuery * data.QueryCount : options.Sessions;
        if (total < 1 || total > int.MaxValue / Math.Max(1, options.TopK)) throw new ArgumentException($"the number of sessions must be within 1..{int.MaxValue / Math.Max(1, options.TopK)}, got {total}.");
        for (int r = 0; r < data.RowCount; r++)
            if (!float.IsFinite(productionScores[r])) throw new ArgumentException($"production score of row {r} is {productionScores[r]}: scores must be finite.");

        // The production ranking of each query, cut at k: rows sorted by score, ties by row (stable).
        int k = options.TopK;
        var topOffsets = new int[data.QueryCount + 1];
        for (int q = 0; q < data.QueryCount; q++) topOffsets[q + 1] = topOffsets[q] + Math.Min(k, data.QueryLength(q));
        var top = new int[topOffsets[^1]];
        var keys = new ulong[data.RowCount];
        for (int q = 0; q < data.QueryCount; q++)
        {
            int start = data.GroupOffsets[q], n = data.QueryLength(q);
            var qk = keys.AsSpan(start, n);
            for (int i = 0; i < n; i++) qk[i] = RankingMath.DescendingScoreKey(productionScores[start + i], i);
            qk.Sort();
            for (int i = 0; i < topOffsets[q + 1] - topOffsets[q]; i++) top[topOffsets[q] + i] = RankingMath.KeyIndex(qk[i]);
        }

        int sessions = (int)total;
        var sessionQuery = new int[sessions];
        var offsets = new int[sessions + 1];
        for (int s = 0; s < sessions; s++)
        {
            int q = options.SessionsPerQuery > 0 ? s % data.QueryCount : RankingMath.RandomIndex(Stream(options.Seed, s), 0, data.QueryCount);
            sessionQuery[s] = q;
            offsets[s + 1] = offsets[s] + topOffsets[q + 1] - topOffsets[q];
        }
        var shown = new int[offsets[^1]];
        var clicked = new byte[offsets[^1]];
        var model = options.Model;
        var examination = model.Propensities(k);
        double temperature = options.ProductionTemperature;
        var noiseScale = temperature > 0 ? QueryNoiseScales(data, productionScores, temperature) : [];
        float[] scores = temperature > 0 ? productionScores.ToArray() : [];
        int longest = 0;
        for (int q = 0; q < data.QueryCount; q++) longest = Math.Max(longest, data.QueryLength(q));
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Threads <= 0 ? -1 : options.Threads };
        Parallel.For(0, (sessions + 4095) / 4096, parallel, chunk =>
        {
            var sampled = temperature > 0 ? new ulong[longest] : [];
            for (int s = chunk * 4096, end = Math.Min(sessions, s + 4096); s < end; s++)
            {
                ulong stream = Stream(options.Seed, s);
                int q = sessionQuery[s], from = offsets[s], m = offsets[s + 1] - from;
                if (temperature > 0) SampleTop(scores.AsSpan(data.GroupOffsets[q], data.QueryLength(q)), noiseScale[q], stream, 2 + 3L * k, sampled, shown.AsSpan(from, m));
                else top.AsSpan(topOffsets[q], m).CopyTo(shown.AsSpan(from, m));
                if (options.Intervention == ClickIntervention.SwapWithFirst && m > 1)
                {
                    int swap = RankingMath.RandomIndex(stream, 1, m);   // 0 = control
                    (shown[from], shown[from + swap]) = (shown[from + swap], shown[from]);
                }
                int rowBase = data.GroupOffsets[q];
                for (int j = 0; j < m; j++)
                {
                    double grade = data.Labels[rowBase + shown[from + j]];
                    double a = model.Attractiveness(grade);
                    bool click;
                    if (model.Kind == ClickModelKind.PositionBased)
                    {
                        click = RankingMath.RandomUnit(stream, 2 + j) < examination[j] * a;
                    }
                    else
                    {
                        click = RankingMath.RandomUnit(stream, 2 + j) < a;
                        bool stop = model.Kind == ClickModelKind.Cascade
                            ? click
                            : (click && RankingMath.RandomUnit(stream, 2 + k + j) < model.Satisfaction(grade))
                              || RankingMath.RandomUnit(stream, 2 + 2L * k + j) >= model.Perseverance;
                        clicked[from + j] = click ? (byte)1 : (byte)0;
                        if (stop) break;   // rows below stay unexamined: 0
                        continue;
                    }
                    clicked[from + j] = click ? (byte)1 : (byte)0;
                }
            }
        });
        return new ClickLog(data, sessionQuery, offsets, shown, clicked);
    }

    /// <summary>T times the standard deviation of each query's production scores (T alone where they are all equal).</summary>
    private static double[] QueryNoiseScales(RankingDataset data, ReadOnlySpan<float> scores, double temperature)
    {
        var scale = new double[data.QueryCount];
        for (int q = 0; q < data.QueryCount; q++)
        {
            int start = data.GroupOffsets[q], n = data.QueryLength(q);
            double mean = 0, square = 0;
            for (int i = 0; i < n; i++) mean += scores[start + i];
            mean /= n;
            for (int i = 0; i < n; i++) square += (scores[start + i] - mean) * (scores[start + i] - mean);
            double sd = Math.Sqrt(square / n);
            scale[q] = temperature * (sd > 0 ? sd : 1.0);
        }
        return scale;
    }

    /// <summary>
    /// One Plackett-Luce ranking's top <c>shown.Length</c> rows: each row's score plus scale times a standard
    /// Gumbel draw (counter <paramref name="counter"/> + row of the session's stream), sorted descending, ties by row.
    /// </summary>
    private static void SampleTop(ReadOnlySpan<float> scores, double scale, ulong stream, long counter, ulong[] buffer, Span<int> shown)
    {
        int n = scores.Length;
        var keys = buffer.AsSpan(0, n);
        for (int i = 0; i < n; i++)
        {
            double u = RankingMath.RandomUnit(stream, counter + i) + 0.5 / 9007199254740992.0;   // (0, 1): the Gumbel draw stays finite
            keys[i] = RankingMath.DescendingScoreKey((float)(scores[i] - scale * Math.Log(-Math.Log(u))), i);
        }
        // Partial selection: only the first shown.Length keys need to be in order.
        int m = shown.Length;
        for (int j = 0; j < m; j++)
        {
            int best = j;
            for (int i = j + 1; i < n; i++) if (keys[i] < keys[best]) best = i;
            (keys[j], keys[best]) = (keys[best], keys[j]);
            shown[j] = RankingMath.KeyIndex(keys[j]);
        }
    }

    /// <summary>The random stream of one session.</summary>
    private static ulong Stream(int seed, int session) => RankingMath.StreamKey(seed, 0x0C11C, session);
}
