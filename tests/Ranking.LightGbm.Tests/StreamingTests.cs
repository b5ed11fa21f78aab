using Ranking.Data;
using Ranking.LightGbm.Native;
using Ranking.Training;

namespace Ranking.LightGbm.Tests;

/// <summary>
/// Training from a streamed file (LGBM_DatasetCreateFromSampledColumn + LGBM_DatasetPushRows in chunks) grows
/// the same trees as training on the in-memory set when the sample holds every row (equal bins), and close
/// ones when bins come from a partial sample.
/// </summary>
public sealed class StreamingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ranking-stream-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static RankerOptions Options(int trees = 15)
    {
        var o = new RankerOptions { Seed = 7, Threads = 1, Iterations = trees };
        o.Parameters["leaves"] = "7";
        o.Parameters["min-data"] = "5";
        return o;
    }

    private (string Path, RankingDataset Data) Write(int queries, int seed)
    {
        var data = TinyData.Make(queries, 12, 6, seed);
        string path = Path.Combine(_dir, $"set{seed}.txt");
        DatasetWriter.WriteSvmLight(data, path, sparse: true);
        return (path, DatasetReader.Read(path, new DatasetReadOptions { KeepComments = false }));
    }

    private static DatasetRowStream Open(string path) => DatasetRowStream.Open(path, new DatasetReadOptions { BlockSize = 2048, Threads = 2 });

    [Theory]
    [InlineData("lambdarank")]
    [InlineData("rank_xendcg")]
    public void Streamed_native_training_equals_in_memory_training(string objective)
    {
        var (path, data) = Write(60, 1);
        var inMemory = (LightGbmModel)new LightGbmTrainer(objective, Options()).Train(new TrainingRequest { Train = data }).Model;
        var streamed = (LightGbmModel)new LightGbmTrainer(objective, Options()).TrainStreamed(Open(path), null, null, Options()).Model;
        Assert.Equal(15, streamed.Iterations);
        Assert.Equal(inMemory.ModelText, streamed.ModelText);
    }

    [Fact]
    public void Streamed_custom_objective_and_validation_equal_in_memory()
    {
        var (path, data) = Write(50, 2);
        var (_, valid) = Write(20, 3);
        var catalog = new RankerCatalog();
        LightGbmRankers.Register(catalog);
        var ranker = catalog.Compose("lambdarank", "gbdt");
        var metrics = Metrics.MetricSpec.ParseList("ndcg@10");
        var (a, ra) = RankerTraining.Train(ranker, data, valid, Options(10), "none", metrics, Metrics.NdcgContract.Default);
        var (b, rb) = RankerTraining.TrainStreamed(ranker, Open(path), valid, Options(10), "none", metrics, Metrics.NdcgContract.Default);
        Assert.Equal(((LightGbmModel)a.Model).ModelText, ((LightGbmModel)b.Model).ModelText);
        Assert.Equal(ra.ValidMetrics["ndcg@10"], rb.ValidMetrics["ndcg@10"]);
        Assert.Equal(a.Predict(valid), b.Predict(valid));
        Assert.Throws<ArgumentException>(() => RankerTraining.TrainStreamed(ranker, Open(path), valid, Options(10), "zscore", metrics, Metrics.NdcgContract.Default));
    }

    [Fact]
    public void Bins_from_a_partial_sample_give_close_predictions()
    {
        var (path, data) = Write(200, 4);
        var sampled = Options(20);
        sampled.Parameters["lightgbm.bin_construct_sample_cnt"] = "300"; // of 2,400 rows
        var full = (LightGbmModel)new LightGbmTrainer("lambdarank", Options(20)).Train(new TrainingRequest { Train = data }).Model;
        var part = (LightGbmModel)new LightGbmTrainer("lambdarank", sampled).TrainStreamed(Open(path), null, null, sampled).Model;
        Assert.NotEqual(full.ModelText, part.ModelText); // other bin boundaries
        var s1 = new float[data.RowCount];
        var s2 = new float[data.RowCount];
        full.Predict(data.Features, data.RowCount, s1);
        part.Predict(data.Features, data.RowCount, s2);
        double ndcgFull = TinyData.MeanNdcg(data, s1, 10), ndcgPart = TinyData.MeanNdcg(data, s2, 10);
        Assert.InRange(ndcgPart, ndcgFull - 0.03, ndcgFull + 0.03);
        double corr = Correlation(s1, s2);
        Assert.True(corr > 0.95, $"correlation {corr}");
    }

    [Fact]
    public void A_bad_line_fails_with_its_file_and_line()
    {
        var lines = File.ReadAllLines(Write(40, 5).Path);
        lines[333] = "2 qid:28 1:0.5 2:x";
        string bad = Path.Combine(_dir, "bad.txt");
        File.WriteAllLines(bad, lines);
        var ex = Assert.Throws<RankingDataException>(() => new LightGbmTrainer("lambdarank", Options()).TrainStreamed(Open(bad), null, null, Options()));
        Assert.Contains("bad.txt:334:", ex.Message);
    }

    [Fact]
    public void OpenMp_wait_policy_is_in_the_native_environment_once_LightGBM_is_loaded()
    {
        string? before = Environment.GetEnvironmentVariable(OpenMpEnvironment.WaitPolicy);
        using (LightGbmDataset.Create(TinyData.Make(3, 4, 2, 1), new LightGbmParameters { Threads = 1 }.Render())) { }
        string? native = OpenMpEnvironment.NativeValue(OpenMpEnvironment.WaitPolicy);
        if (Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is null)
            Assert.Equal(before ?? OpenMpEnvironment.DefaultPolicy, native);
        Assert.Equal(native, Environment.GetEnvironmentVariable(OpenMpEnvironment.WaitPolicy));
    }

    private static double Correlation(float[] a, float[] b)
    {
        double ma = a.Average(x => (double)x), mb = b.Average(x => (double)x), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }
}
