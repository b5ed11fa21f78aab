namespace Ranking.LightGbm.Tests;

/// <summary>Finds ../shared/datasets beside the repository; tests needing it skip when it is absent.</summary>
internal static class SharedData
{
    public const string Missing = "../shared/datasets is not present beside the repository";

    public static string? Root { get; } = Find();

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Root ?? throw new InvalidOperationException(Missing), .. parts]);

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "shared", "datasets");
            if (Directory.Exists(candidate)) return candidate;
            string sibling = System.IO.Path.Combine(dir.FullName, "..", "shared", "datasets");
            if (Directory.Exists(sibling) && File.Exists(System.IO.Path.Combine(dir.FullName, "Ranking.sln")))
                return System.IO.Path.GetFullPath(sibling);
        }
        return null;
    }
}
