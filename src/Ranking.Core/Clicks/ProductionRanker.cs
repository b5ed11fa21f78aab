using Ranking.Data;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.Clicks;

/// <summary>
/// The production ranker of the ULTR protocol (Joachims et al. 2017; Ai et al. 2018): a ranker trained on a
/// small seeded fraction of the judged training queries (1% in the literature), whose scores decide what a
/// simulated user sees. Deliberately weak, so clicks carry the bias of a mediocre ranking.
/// </summary>
public static class ProductionRanker
{
    /// <summary>
    /// Trains <paramref name="ranker"/> (default <c>linear-ranknet</c>) on ceil(fraction x queries) queries of
    /// <paramref name="train"/> drawn with <paramref name="seed"/> (at least one; no validation, default
    /// epochs) and returns the model with the query indices it saw.
    /// </summary>
    public static (RankingModel Model, int[] Queries) Train(RankingDataset train, double fraction, int seed, string ranker = "linear-ranknet", string? pipeline = null, int threads = -1)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentException($"the production ranker's share of training queries must be within (0, 1], got {fraction}.");
        int take = Math.Max(1, (int)Math.Ceiling(fraction * train.QueryCount));
        var order = Enumerable.Range(0, train.QueryCount).ToArray();
        var random = new SeededRandom((ulong)seed ^ 0x9E0D_0C7E_0000UL);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = random.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var queries = order[..take];
        Array.Sort(queries);
        var catalog = new RankerCatalog();
        CoreRankers.Register(catalog);
        var options = new RankerOptions { Seed = seed, Threads = threads };
        var (model, _) = RankerTraining.Train(catalog.Get(ranker), train.Materialize(queries), null, options, pipeline,
            MetricSpec.ParseList("ndcg@10"), NdcgContract.Default);
        return (model, queries);
    }
}
