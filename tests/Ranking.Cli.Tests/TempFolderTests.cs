namespace Ranking.Cli.Tests;

/// <summary>
/// A command test class's scratch folder: xUnit makes one instance per test, so each test gets its own folder under the
/// system's temporary path (named by <paramref name="prefix"/> and a fresh GUID), deleted after the test.
/// </summary>
public abstract class TempFolderTests(string prefix) : IDisposable
{
    /// <summary>The test's scratch folder (created with the instance).</summary>
    protected string Dir { get; } = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"))).FullName;

    /// <summary>A path inside <see cref="Dir"/>.</summary>
    protected string P(string name) => Path.Combine(Dir, name);

    /// <summary>Deletes the folder; a file still held open (e.g. by a mapped model) leaves it behind rather than fail the test.</summary>
    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        GC.SuppressFinalize(this);
    }
}
