namespace Ranking.Benchmarks;

/// <summary>Where benchmark inputs live: generated sets are cached under the system temp folder.</summary>
public static class BenchmarkData
{
    public static string CacheDirectory
    {
        get
        {
            string dir = Path.Combine(Path.GetTempPath(), "ranking-bench");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>../shared/datasets, found by walking up from the current folder; null when absent.</summary>
    public static string? SharedDatasets()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "datasets");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }
}
