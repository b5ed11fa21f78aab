using BenchmarkDotNet.Attributes;
using Ranking.Data;

namespace Ranking.Benchmarks;

/// <summary>
/// Reading an mslr-like set of about 100k rows x 136 features (830 queries, seed 1, ~126 MB of
/// SVMlight text, ~53 MB as .rkds): text parse on all cores and on one, and the binary cache load.
/// Throughput: file bytes / mean time (the set-up prints both sizes).
/// Run: dotnet run -c Release --project benchmarks/Ranking.Benchmarks -- --filter '*DataBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class DataBenchmarks
{
    private string _text = "", _cache = "";

    [GlobalSetup]
    public void Setup()
    {
        _text = Path.Combine(BenchmarkData.CacheDirectory, "data-mslr-like-q830-s1.txt");
        _cache = Path.ChangeExtension(_text, ".rkds");
        if (!File.Exists(_text) || !File.Exists(_cache))
        {
            var set = SyntheticGenerator.Generate(new SyntheticOptions { Preset = "mslr-like", Queries = 830, Seed = 1 });
            DatasetWriter.WriteSvmLight(set.Data, _text);
            RkdsFile.Write(set.Data, _cache);
        }
        Console.WriteLine($"// DataBenchmarks: text {new FileInfo(_text).Length} bytes, rkds {new FileInfo(_cache).Length} bytes, {DatasetReader.Read(_cache).RowCount} rows");
    }

    [Benchmark(Baseline = true)]
    public RankingDataset ParseText() => DatasetReader.Read(_text, new DatasetReadOptions { KeepComments = false });

    [Benchmark]
    public RankingDataset ParseTextOneThread() => DatasetReader.Read(_text, new DatasetReadOptions { KeepComments = false, Threads = 1 });

    [Benchmark]
    public RankingDataset LoadRkds() => RkdsFile.Read(_cache);
}
