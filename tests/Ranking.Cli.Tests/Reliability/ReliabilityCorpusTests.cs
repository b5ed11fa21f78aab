using System.Text.RegularExpressions;

namespace Ranking.Cli.Tests.Reliability;

/// <summary>
/// tests/corpus/reliability/MANIFEST.tsv: one line per case (file, accept|reject, where the message must
/// point, the ranking command). Run in-process: accepted cases exit 0; rejected ones exit 2 with one stderr
/// line naming the file (and line, or byte offset for binary caches) and no stack trace.
/// The data engineer's tests/corpus/data (ranking data validate) is run by DataCorpusTests.
/// </summary>
public class ReliabilityCorpusTests
{
    private static readonly string Corpus = SharedData.RepositoryPath("tests", "corpus", "reliability");

    private sealed record Case(int Line, string File, bool Accept, string Where, string Command);

    private static List<Case> Cases() => File.ReadAllLines(Path.Combine(Corpus, "MANIFEST.tsv"))
        .Select((text, i) => (text, i))
        .Where(t => t.text.Length > 0 && t.text[0] != '#')
        .Select(t =>
        {
            string[] f = t.text.Split('\t');
            Assert.True(f.Length == 4, $"MANIFEST.tsv line {t.i + 1}: 4 tab-separated fields expected");
            return new Case(t.i + 1, f[0], f[1] == "accept", f[2], f[3]);
        }).ToList();

    public static TheoryData<int> CaseLines()
    {
        var data = new TheoryData<int>();
        foreach (var c in Cases()) data.Add(c.Line);
        return data;
    }

    [Fact]
    public void TheCorpusIsBigAndEveryFileIsListed()
    {
        var cases = Cases();
        var listed = cases.Select(c => c.File).ToHashSet();
        var present = Directory.GetFiles(Corpus, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Corpus, p).Replace('\\', '/'))
            .Where(n => n is not ("MANIFEST.tsv" or ".gitattributes") && !n.EndsWith(".query", StringComparison.Ordinal))
            .ToHashSet();
        Assert.Empty(present.Except(listed));
        Assert.Empty(listed.Except(present));
        Assert.True(cases.Count(c => !c.Accept) >= 40, $"{cases.Count(c => !c.Accept)} rejected cases");
        foreach (string folder in new[] { "scores/", "models/", "rkds/", "csv/", "query/", "text/", "eval/" })
        {
            Assert.Contains(cases, c => c.File.StartsWith(folder, StringComparison.Ordinal) && c.Accept);
            Assert.Contains(cases, c => c.File.StartsWith(folder, StringComparison.Ordinal) && !c.Accept);
        }
    }

    [Theory]
    [MemberData(nameof(CaseLines))]
    public void CommandOnCorpusFile(int line)
    {
        var c = Cases().Single(x => x.Line == line);
        string file = Path.Combine(Corpus, c.File);
        string tmp = Directory.CreateTempSubdirectory("ranking-corpus-").FullName;
        try
        {
            string[] args = c.Command.Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(a => a.Replace("{f}", file).Replace("{c}", Corpus).Replace("{tmp}", tmp)).ToArray();
            var result = CliHarness.Run(args);
            string shown = $"{c.File} ({c.Command}): exit {result.ExitCode}\nstderr: {result.Stderr}";
            if (c.Accept)
            {
                Assert.True(result.ExitCode == ExitCodes.Ok, shown);
                return;
            }
            Assert.True(result.ExitCode == ExitCodes.BadInput, shown);
            string[] lines = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(lines.Length == 1, "one line expected: " + shown);
            Assert.DoesNotContain("   at ", result.Stderr);
            Assert.DoesNotContain("Exception", result.Stderr);
            // the message names the file (the sidecar .query counts as naming it)
            Assert.True(result.Stderr.Contains(Path.GetFileName(file), StringComparison.Ordinal), "file not named: " + shown);
            string pattern = c.Where switch
            {
                "line" => Regex.Escape(Path.GetFileName(file)) + @"(\.query)?:\d+(:\d+)?: ",
                "row" => Regex.Escape(Path.GetFileName(file)) + @": row \d+",
                "offset" => Regex.Escape(Path.GetFileName(file)) + @": byte \d+: ",
                "file" => Regex.Escape(Path.GetFileName(file)),
                _ => throw new InvalidDataException($"MANIFEST.tsv line {c.Line}: where must be line, offset or file"),
            };
            Assert.True(Regex.IsMatch(result.Stderr, pattern), $"expected /{pattern}/: " + shown);
            // a rejected run leaves no output behind
            Assert.Empty(Directory.GetFiles(tmp));
        }
        finally
        {
            Directory.Delete(tmp, recursive: true);
        }
    }
}
