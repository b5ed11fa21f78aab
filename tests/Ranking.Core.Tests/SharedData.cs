namespace Ranking.Core.Tests;

/// <summary>
/// Finds ../shared/datasets (beside the repository). Tests that need it call
/// <c>Skip.If(SharedData.Root is null, SharedData.Missing)</c> so a fresh clone without it still passes.
/// </summary>
public static class SharedData
{
    public const string Missing = "../shared/datasets is not present beside the repository";

    public static string? Root { get; } = Find();

    public static string Path(params string[] parts) =>
        System.IO.Path.Combine([Root ?? throw new InvalidOperationException(Missing), .. parts]);

    /// <summary>A path inside this repository (a fixture such as tests/corpus/data), found above the test binaries.</summary>
    public static string RepositoryPath(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine([dir.FullName, .. parts]);
            if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException(System.IO.Path.Combine(parts) + " not found above " + AppContext.BaseDirectory);
    }

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
