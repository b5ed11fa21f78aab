using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Ranking.Objectives;
using Ranking.Training;

namespace Ranking.Core.Tests.Knobs;

/// <summary>The README's knob tables are the declarations, printed: a knob changed in code and not in the README fails here.</summary>
public partial class ReadmeKnobTablesTests
{
    private static string Readme([CallerFilePath] string here = "")
        => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "..", "README.md"));

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex CellSeparator();

    [SkippableFact]
    public void TheObjectivesTableListsEveryObjectiveWithItsDeclaredKnobs()
    {
        string path = Readme();
        Skip.IfNot(File.Exists(path), $"{path} is absent");
        var rows = File.ReadAllLines(path).Where(l => l.StartsWith("| `", StringComparison.Ordinal)).ToArray();
        var problems = new List<string>();
        foreach (var name in ObjectiveFactory.Names)
        {
            string expected = ObjectiveFactory.KnobsOf(name).Summary(ObjectiveFactory.DefaultOptionsOf(name));
            var row = rows.FirstOrDefault(r => r.StartsWith($"| `{name}` | ", StringComparison.Ordinal) && CellSeparator().Split(r).Length == 6);
            if (row is null) { problems.Add($"no row for objective '{name}'; expected | `{name}` | family | {expected} | Hessian |"); continue; }
            string cell = CellSeparator().Split(row)[3].Trim();
            if (cell != expected) problems.Add($"objective '{name}': README says '{cell}', the declarations say '{expected}'");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [SkippableFact]
    public void TheTrainerKnobTableIsTheDeclaredOne()
    {
        string path = Readme();
        Skip.IfNot(File.Exists(path), $"{path} is absent");
        string table = GradientTrainerOptions.Knobs.ToMarkdown([("mlp", CoreRankers.MlpDefaults), ("linear", CoreRankers.LinearDefaults)]);
        Assert.True(File.ReadAllText(path).ReplaceLineEndings("\n").Contains(table, StringComparison.Ordinal),
            "README.md should hold the gradient trainer's knob table exactly as declared:\n" + table);
    }
}
