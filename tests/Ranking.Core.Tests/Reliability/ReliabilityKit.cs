using Ranking.Data;
using Ranking.Metrics;
using Ranking.Models;
using Ranking.Training;

namespace Ranking.Core.Tests.Reliability;

/// <summary>Shared helpers of the reliability tests: temp folders, tiny sets, a trained model file.</summary>
internal static class ReliabilityKit
{
    public static string TempDir() => Directory.CreateTempSubdirectory("ranking-rel-").FullName;

    public static RankerCatalog CoreCatalog()
    {
        var catalog = new RankerCatalog();
        CoreRankers.Register(catalog);
        return catalog;
    }

    /// <summary>A dataset from rows given as (qid, label, features).</summary>
    public static RankingDataset Set(params (long Qid, float Label, float[] Features)[] rows)
    {
        int f = rows[0].Features.Length;
        var features = rows.SelectMany(r => r.Features).ToArray();
        var labels = rows.Select(r => r.Label).ToArray();
        var offsets = new List<int> { 0 };
        var ids = new List<long> { rows[0].Qid };
        for (int i = 1; i < rows.Length; i++)
            if (rows[i].Qid != rows[i - 1].Qid) { offsets.Add(i); ids.Add(rows[i].Qid); }
        offsets.Add(rows.Length);
        return new RankingDataset(features, f, labels, offsets.ToArray(), ids.ToArray());
    }

    public const string SvmText = "2 qid:1 1:0.5 2:1 # d1\n0 qid:1 1:0.1 2:0\n1 qid:2 1:0.3 3:0.2\n0 qid:2 1:-0.9 2:4e-3\n3 qid:3 2:1.5\n";
    public const string CsvText = "label,qid,f1,f2\n2,1,0.5,1\n0,1,0.1,0\n1,2,0.3,0.2\n0,2,-0.9,4e-3\n";
    public const string QueryData = "2 1:0.5 2:1\n0 1:0.1 2:0\n1 1:0.3 2:0.2\n0 1:0.9 2:0.4\n";
    public const string QuerySizes = "2\n2\n";
    public const string ScoresText = "0.5\n0.1\n-2\n3\n1e30\n";

    /// <summary>A small model file's bytes (linear RankNet, 2 epochs).</summary>
    public static byte[] ModelBytes(string dir)
    {
        var set = Set((1, 2, [0.5f, 1]), (1, 0, [0.1f, 0]), (2, 1, [0.3f, 0.2f]), (2, 0, [0.9f, 0.4f]));
        var (model, _) = RankerTraining.Train(CoreCatalog().Get("linear-ranknet"), set, null, new RankerOptions { Iterations = 2, Threads = 1 },
            null, [], NdcgContract.Default);
        string path = Path.Combine(dir, "seed.rkm");
        model.Save(path);
        return File.ReadAllBytes(path);
    }

    public static bool AllFinite(IEnumerable<float> values) => values.All(float.IsFinite);
}

/// <summary>Tests that measure process-wide GC allocation run alone (no other test allocating meanwhile).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationMeasuringCollection
{
    public const string Name = "allocation-measuring";
}
