using Ranking.Core.Tests.Reliability;
using Ranking.Models;

namespace Ranking.Cli.Tests.Reliability;

/// <summary>
/// The three hand-made model files of issue 18, through `ranking predict`: each is refused with exit code 2 and one
/// clear stderr line, and no scores file is written. Before, the zip bomb grew the process to 5.2 GB and died with
/// exit 1, and the two LightGBM payloads (valid checksums) aborted the process inside LightGBM's parser (exit 134).
/// </summary>
public class UntrustedModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ranking-untrusted-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (string Model, string Data) TrainLambdaMart()
    {
        string data = Path.Combine(_dir, "data.txt"), model = Path.Combine(_dir, "lm.rkm");
        Assert.Equal(0, CliHarness.Run("data", "generate", "--preset", "small", "--queries", "40", "--seed", "3", "--out", data).ExitCode);
        var trained = CliHarness.Run("train", "--train", data, "--ranker", "lambdamart", "--trees", "10", "--threads", "1", "--out", model, "--json");
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        return (model, data);
    }

    /// <summary>The model's LightGBM text edited, the manifest's SHA-256 recomputed (as an attacker would).</summary>
    private string WithModelText(string model, string name, Func<string, string> edit)
    {
        var (manifest, pipeline, payload) = ModelFile.ReadContainer(model);
        var edited = payload.ToDictionary(p => p.Key, p => p.Value);
        edited["lightgbm-model.txt"] = System.Text.Encoding.UTF8.GetBytes(edit(System.Text.Encoding.UTF8.GetString(payload["lightgbm-model.txt"])));
        string path = Path.Combine(_dir, name);
        ModelFile.WriteContainer(path, manifest, pipeline, edited);
        return path;
    }

    private string Predict(string model, string data)
    {
        string scores = Path.Combine(_dir, Path.GetFileNameWithoutExtension(model) + ".scores");
        var result = CliHarness.Run("predict", "--model", model, "--data", data, "--out", scores);
        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
        Assert.False(File.Exists(scores));
        string line = result.Stderr.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("   at ", line);
        Assert.StartsWith("ranking: " + model + ": ", line);
        return line;
    }

    [Fact]
    public void A_zip_bomb_model_is_exit_2()
    {
        var (model, data) = TrainLambdaMart();
        var entries = ZipForge.EntriesOf(File.ReadAllBytes(model));
        entries[entries.FindIndex(e => e.Name == ModelFile.ManifestEntry)] = ZipForge.ZeroBomb(ModelFile.ManifestEntry, 100);
        string bomb = Path.Combine(_dir, "bomb.rkm");
        File.WriteAllBytes(bomb, ZipForge.Write(entries));
        Assert.Contains("'manifest.json' inflates to 1,677,721,600 bytes; the limit is 268,435,456 (raise it with --max-model-size", Predict(bomb, data));
    }

    [Fact]
    public void A_negative_split_feature_with_valid_checksums_is_exit_2()
    {
        var (model, data) = TrainLambdaMart();
        // The edit: "-5 " prepended to the first split_feature line (one value too many, the first negative).
        string prepended = WithModelText(model, "prepended.rkm", t => ReplaceFirst(t, "split_feature=", "split_feature=-5 "));
        Assert.Contains("cannot read the gbdt model inside: the gbdt model payload is not a LightGBM model: lightgbm-model.txt line", Predict(prepended, data));
        Assert.Contains("split_feature holds", Predict(prepended, data));
        // The same with the count kept: the first index replaced by -5.
        string replaced = WithModelText(model, "replaced.rkm", t =>
        {
            int at = t.IndexOf("split_feature=", StringComparison.Ordinal) + "split_feature=".Length;
            return t[..at] + "-5" + t[t.IndexOfAny([' ', '\n'], at)..];
        });
        Assert.Contains("splits on feature -5; the model has", Predict(replaced, data));
        // Predicting the untouched model still works.
        Assert.Equal(0, CliHarness.Run("predict", "--model", model, "--data", data, "--out", Path.Combine(_dir, "ok.scores")).ExitCode);
    }

    [Theory]
    [InlineData("999999999", "num_leaves=999999999 is outside 1..131072")]
    [InlineData("99999999999999999999999999", "num_leaves value 0 '99999999999999999999999999' is not an integer")]
    public void A_huge_num_leaves_is_exit_2(string leaves, string expected)
    {
        var (model, data) = TrainLambdaMart();
        string path = WithModelText(model, $"leaves-{leaves.Length}.rkm", t => SetFirstValue(t, "num_leaves=", leaves));
        Assert.Contains(expected, Predict(path, data));
    }

    private static string ReplaceFirst(string text, string what, string with)
    {
        int at = text.IndexOf(what, StringComparison.Ordinal);
        return text[..at] + with + text[(at + what.Length)..];
    }

    /// <summary>The first line starting with <paramref name="key"/> gets <paramref name="value"/> after it.</summary>
    private static string SetFirstValue(string text, string key, string value)
    {
        int at = text.IndexOf(key, StringComparison.Ordinal) + key.Length;
        return text[..at] + value + text[text.IndexOf('\n', at)..];
    }
}
