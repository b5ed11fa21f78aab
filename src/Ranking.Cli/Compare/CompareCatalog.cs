using Ranking.Training;

namespace Ranking.Cli.Compare;

/// <summary>The catalog and the training entry point compare and demo use.</summary>
public static class CompareCatalog
{
    public static RankerCatalog Create()
    {
        var catalog = new RankerCatalog();
        Ranking.LightGbm.LightGbmRankers.Register(catalog);
        Ranking.MLNet.MLNetRankers.Register(catalog);
        return catalog;
    }

    public static readonly TrainRanker Train = CompareTraining.Direct;
}
