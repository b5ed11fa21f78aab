using System.Globalization;
using Ranking.Data;
using Ranking.Training;

namespace Ranking.LightGbm.Tests;

/// <summary>
/// The entry point of this test assembly when started as a process: `dotnet Ranking.LightGbm.Tests.dll
/// lightgbm-worker MACHINES PORT SHARD OUT` trains one machine of a data-parallel LightGBM run on its shard
/// of <see cref="DistributedSet"/> and writes the model text to OUT. The test runner never calls it.
/// </summary>
public static class DistributedWorker
{
    public static RankingDataset DistributedSet() => TinyData.Make(queries: 400, docsPerQuery: 15, features: 8, seed: 100, noise: 5);
    public static RankingDataset DistributedTestSet() => TinyData.Make(queries: 150, docsPerQuery: 15, features: 8, seed: 101, noise: 5);

    public static RankerOptions Options(string? machines, int port, string? shard)
    {
        var o = new RankerOptions { Seed = 5, Threads = 1 };
        o.Parameters["trees"] = "40";
        o.Parameters["leaves"] = "15";
        if (machines is not null)
        {
            o.Parameters["machines"] = machines;
            o.Parameters["local-port"] = port.ToString(CultureInfo.InvariantCulture);
            o.Parameters["num-machines"] = machines.Split(',').Length.ToString(CultureInfo.InvariantCulture);
        }
        if (shard is not null) o.Parameters["shard"] = shard;
        return o;
    }

    public static int Main(string[] args)
    {
        if (args.Length != 5 || args[0] != "lightgbm-worker") return 64;
        try
        {
            var trainer = new LightGbmTrainer("lambdarank", Options(args[1], int.Parse(args[2], CultureInfo.InvariantCulture), args[3]));
            var model = (LightGbmModel)trainer.Train(new TrainingRequest { Train = DistributedSet() }).Model;
            File.WriteAllText(args[4], model.ModelText);
            return 0;
        }
        catch (Exception e) when (e is LightGbmException or ArgumentException)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
    }
}
