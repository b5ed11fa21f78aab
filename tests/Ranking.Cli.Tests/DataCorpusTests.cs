using Ranking.Cli;

namespace Ranking.Cli.Tests;

/// <summary>
/// tests/corpus/data: malformed files of every reader (each listed in EXPECTED.tsv with the start of
/// its message) must give exit 2 and a file:line (or file: byte N) message; files under good/ are
/// legal-but-unusual (CRLF, BOM, tabs, trailing spaces, comments...) and must validate.
/// </summary>
public class DataCorpusTests
{
    private static readonly string Corpus = SharedData.RepositoryPath("tests", "corpus", "data");

    private static Dictionary<string, string> Expected() =>
        File.ReadAllLines(Path.Combine(Corpus, "EXPECTED.tsv"))
            .Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => l.Split('\t', 2))
            .ToDictionary(p => p[0], p => p[1]);

    public static TheoryData<string> BadFiles()
    {
        var data = new TheoryData<string>();
        foreach (string name in Expected().Keys.Order()) data.Add(name);
        return data;
    }

    public static TheoryData<string> GoodFiles()
    {
        var data = new TheoryData<string>();
        foreach (string path in Directory.GetFiles(Path.Combine(Corpus, "good")).Order())
            if (!path.EndsWith(".query", StringComparison.Ordinal)) data.Add(Path.GetFileName(path));
        return data;
    }

    [Fact]
    public void EveryCorpusFileIsListedAndThereAreEnoughKinds()
    {
        var listed = Expected();
        var present = Directory.GetFiles(Corpus).Select(Path.GetFileName)
            .Where(n => n is not ("EXPECTED.tsv" or "README.md" or ".gitattributes") && !n!.EndsWith(".query", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(present.Order(), listed.Keys.Order());
        Assert.True(listed.Count >= 25, $"{listed.Count} malformed files");
        foreach (string ext in new[] { ".txt", ".csv", ".tsv", ".rkds" }) Assert.Contains(listed.Keys, k => k.EndsWith(ext, StringComparison.Ordinal));
        Assert.Contains(listed.Keys, k => File.Exists(Path.Combine(Corpus, k + ".query")));
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void MalformedFileGivesExit2AndAFileLineMessage(string name)
    {
        string path = Path.Combine(Corpus, name);
        string expected = Path.Combine(Corpus, Expected()[name]);
        var validate = CliHarness.Run("data", "validate", path);
        Assert.Equal(ExitCodes.BadInput, validate.ExitCode);
        Assert.StartsWith("ranking: " + expected, validate.Stderr);
        Assert.Matches(@"^ranking: .+?(:\d+|: byte \d+)(:\d+)?: ", validate.Stderr);

        var stats = CliHarness.Run("data", "stats", path);
        Assert.Equal(ExitCodes.BadInput, stats.ExitCode);
        Assert.Equal("ranking: " + expected, stats.Stderr[..("ranking: " + expected).Length]);
        Assert.Single(stats.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("", stats.Stdout);
    }

    [Theory]
    [MemberData(nameof(GoodFiles))]
    public void LegalButUnusualFileValidates(string name)
    {
        var result = CliHarness.Run("data", "validate", Path.Combine(Corpus, "good", name));
        Assert.True(result.ExitCode == ExitCodes.Ok, result.Stderr);
        Assert.Contains("valid (", result.Stdout);
    }
}
