using System.Runtime.CompilerServices;
using Ranking.LightGbm;

namespace Ranking.LightGbm.Tests;

/// <summary>The README's gbdt knob table is the declarations (<see cref="GbdtKnobs"/>, <see cref="LightGbmParameters"/>), printed.</summary>
public class ReadmeKnobTableTests
{
    private static string Readme([CallerFilePath] string here = "")
        => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "README.md"));

    [Fact]
    public void TheGbdtKnobTableIsTheDeclaredOne()
    {
        string path = Readme();
        Assert.True(File.Exists(path), $"{path} is absent");
        string table = GbdtKnobs.KnobsFor(GbdtKnobs.NativeLambdaRank).ToMarkdown([("lambdamart", GbdtKnobs.Defaults(GbdtKnobs.NativeLambdaRank))]);
        Assert.True(File.ReadAllText(path).ReplaceLineEndings("\n").Contains(table, StringComparison.Ordinal),
            "README.md should hold the gbdt rankers' knob table exactly as declared:\n" + table);
    }

    [Fact]
    public void NativeLambdaRankAloneTakesItsThreeKnobs()
    {
        var all = GbdtKnobs.KnobsFor(GbdtKnobs.NativeLambdaRank).Parameters.Select(k => k.Name).ToArray();
        var xendcg = GbdtKnobs.KnobsFor("rank_xendcg").Parameters.Select(k => k.Name).ToArray();
        Assert.Equal(["label-gain", "sigmoid", "truncation"], all.Except(xendcg).Order(StringComparer.Ordinal));
    }
}
