using Ranking.Training;

namespace Ranking.Cli;

/// <summary>The catalog every command reads: Core's rankers plus those of the tree projects.</summary>
internal static class CatalogFactory
{
    public static RankerCatalog CreateDefault()
    {
        var catalog = new RankerCatalog();
        CoreRankers.Register(catalog);
        // One line per tree project (Ranking.LightGbm, Ranking.MLNet) below.
        Ranking.LightGbm.LightGbmRankers.Register(catalog);
        Ranking.MLNet.MLNetRankers.Register(catalog);
        return catalog;
    }
}
