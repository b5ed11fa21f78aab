using BenchmarkDotNet.Attributes;
using Ranking.Objectives;

namespace Ranking.Benchmarks;

/// <summary>
/// Gradients of every objective over a 1M-row, ~8.4k-query set shaped like MSLR-WEB (the `mslr-like`
/// preset's query lengths and grade shares; scores = grade + noise). Only labels, offsets and scores are
/// needed, so they are drawn here instead of generating 136 features per row (0.5 GB) with
/// SyntheticGenerator. Run: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*Objectives*' --job short
/// LambdaRank's throughput in pairs/s = <see cref="LambdaRankPairs"/> (printed at setup) / mean time.
/// </summary>
[MemoryDiagnoser]
public class ObjectivesBenchmarks
{
    private static ObjectiveSet? s_set;
    private IRankingObjective _objective = null!;
    private float[] _gradients = null!, _hessians = null!;

    [Params("lambdarank", "mse", "sigmoid-ce", "ranknet", "ranknet pairs-per-row=16", "ranksvm",
            "triplet", "triplet mining=semi-hard", "contrastive", "contrastive-pairs pairs-per-row=16", "listnet", "listmle",
            "approxndcg", "softmax", "sampled-softmax", "nce")]
    public string Objective { get; set; } = "lambdarank";

    [GlobalSetup]
    public void Setup()
    {
        s_set ??= ObjectiveSet.MslrLike(rows: 1_000_000, seed: 42);
        var parts = Objective.Split(' ', 2);
        var knobs = new Dictionary<string, string>();
        if (parts.Length > 1)
            foreach (var kv in parts[1].Split(';')) knobs[kv.Split('=')[0]] = kv.Split('=')[1];
        _objective = ObjectiveFactory.Create(parts[0], knobs, seed: 1);
        _gradients = new float[s_set.Labels.Length];
        _hessians = new float[s_set.Labels.Length];
        if (parts[0] == "lambdarank")
        {
            int k = knobs.TryGetValue("truncation", out var t) ? int.Parse(t) : 30;
            Console.WriteLine($"// {Objective}: {s_set.Labels.Length} rows, {s_set.Offsets.Length - 1} queries, {LambdaRankPairs(s_set.Offsets, k)} pairs visited (rank a < k, b > a)");
        }
    }

    [Benchmark]
    public double Gradients() => _objective.Compute(new ObjectiveBatch(s_set!.Labels, s_set.Scores, s_set.Offsets, null, iteration: 1), _gradients, _hessians);

    /// <summary>Pairs LambdaRank examines at truncation k (including equal-grade pairs it skips after one compare).</summary>
    public static long LambdaRankPairs(int[] offsets, int k)
    {
        long pairs = 0;
        for (int q = 0; q + 1 < offsets.Length; q++)
        {
            long n = offsets[q + 1] - offsets[q];
            for (long a = 0; a < Math.Min(k, n - 1); a++) pairs += n - 1 - a;
        }
        return pairs;
    }
}

/// <summary>
/// The target: LambdaRank, truncation 30, &gt;= 50M pairs/s on 2 cores. Pairs/s = the pair count
/// printed at setup / mean time. Threads 1 and all (the machine's cores).
/// </summary>
[MemoryDiagnoser]
public class ObjectivesLambdaRankThroughput
{
    private ObjectiveSet _set = null!;
    private LambdaRankObjective _objective = null!;
    private float[] _gradients = null!, _hessians = null!;

    [Params(1, -1)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _set = ObjectiveSet.MslrLike(rows: 1_000_000, seed: 42);
        _objective = new LambdaRankObjective(new LambdaRankOptions { Truncation = 30 });
        _gradients = new float[_set.Labels.Length];
        _hessians = new float[_set.Labels.Length];
        Console.WriteLine($"// lambdarank truncation 30: {_set.Labels.Length} rows, {_set.Offsets.Length - 1} queries, {ObjectivesBenchmarks.LambdaRankPairs(_set.Offsets, 30)} pairs, {Environment.ProcessorCount} cores");
    }

    [Benchmark]
    public double Gradients() => _objective.Compute(new ObjectiveBatch(_set.Labels, _set.Scores, _set.Offsets, null, 1, Threads), _gradients, _hessians);
}

/// <summary>Labels, scores and query offsets only.</summary>
public sealed record ObjectiveSet(float[] Labels, float[] Scores, int[] Offsets)
{
    /// <summary>MSLR-WEB-like: query length 1 + 119 chi2(3)/3 capped at 1250 (mean ~120), grades 0..4 with
    /// MSLR's shares, scores = 0.5 grade + N(0,1) so rankings are informative but imperfect.</summary>
    public static ObjectiveSet MslrLike(int rows, int seed)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        double[] shares = [0.52, 0.32, 0.134, 0.019, 0.007];
        var offsets = new List<int> { 0 };
        while (offsets[^1] < rows)
        {
            double a = Normal(), b = Normal(), c = Normal();
            int n = Math.Min(1250, 1 + (int)(119.0 * (a * a + b * b + c * c) / 3.0));
            offsets.Add(Math.Min(rows, offsets[^1] + n));
        }
        var labels = new float[rows];
        var scores = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            double u = rng.NextDouble();
            int g = 0;
            while (g < shares.Length - 1 && u >= shares[g]) { u -= shares[g]; g++; }
            labels[i] = g;
            scores[i] = (float)(0.5 * g + Normal());
        }
        return new ObjectiveSet(labels, scores, offsets.ToArray());
    }
}
