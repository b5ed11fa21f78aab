using System.Text.Json.Nodes;

namespace Ranking.Cli.Tests;

/// <summary>`ranking embed` with proxy losses and with two towers for pair files.</summary>
public sealed class EmbedProxyCommandTests() : TempFolderTests("ranking-embproxy-")
{
    [Fact]
    public void Proxy_nca_with_sampled_negatives_trains_saves_its_proxies_and_evaluates()
    {
        Assert.Equal(0, CliHarness.Run("embed", "synth", "--classes", "90", "--items", "6", "--dim", "12", "--latent", "4", "--train-classes", "60", "--out", P("s")).ExitCode);
        string train = P("s-train-images-idx2"), test = P("s-test-images-idx2");
        var trained = CliHarness.Run("embed", "train", "--data", train, "--loss", "proxy-nca", "--proxy-negatives", "10", "--temperature", "0.5",
            "--proxy-lr-scale", "10", "--epochs", "3", "--batch", "16", "--per-class", "2", "--hidden", "16", "--dim", "8", "--lr", "0.003", "--out", P("p.rkm"), "--threads", "1");
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        Assert.Contains("60 proxies, 10 negatives per batch", trained.Stdout);
        using (var zip = System.IO.Compression.ZipFile.OpenRead(P("p.rkm")))
            Assert.Contains(zip.Entries, e => e.FullName.EndsWith("proxies.bin", StringComparison.Ordinal));
        var eval = CliHarness.Run("embed", "eval", "--model", P("p.rkm"), "--data", test, "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        Assert.InRange(JsonNode.Parse(eval.Stdout)!["map_at_r"]!.GetValue<double>(), 0, 1);
    }

    [Fact]
    public void Proxy_losses_refuse_bad_input_with_exit_code_2()
    {
        File.WriteAllText(P("one.csv"), "class,x\na,1\na,2\na,3\na,4\n");
        var one = CliHarness.Run("embed", "train", "--data", P("one.csv"), "--loss", "proxy-anchor", "--out", P("x.rkm"), "--batch", "4");
        Assert.Equal(2, one.ExitCode);
        Assert.Contains("one.csv: only 1 class", one.Stderr);
        Assert.False(File.Exists(P("x.rkm")));
        File.WriteAllText(P("two.csv"), "class,x\na,1\na,2\nb,3\nb,4\n");
        var memory = CliHarness.Run("embed", "train", "--data", P("two.csv"), "--loss", "proxy-nca", "--memory", "8", "--out", P("x.rkm"), "--batch", "4");
        Assert.Equal(2, memory.ExitCode);
        Assert.Contains("drop --memory", memory.Stderr);
        var miner = CliHarness.Run("embed", "train", "--data", P("two.csv"), "--loss", "proxy-nca", "--miner", "semihard", "--out", P("x.rkm"), "--batch", "4");
        Assert.Equal(2, miner.ExitCode);
        Assert.Contains("takes no miner", miner.Stderr);
        var negatives = CliHarness.Run("embed", "train", "--data", P("two.csv"), "--loss", "proxy-nca", "--proxy-negatives", "-1", "--out", P("x.rkm"), "--batch", "4");
        Assert.Equal(2, negatives.ExitCode);
        Assert.Contains("--proxy-negatives", negatives.Stderr);
        Assert.False(File.Exists(P("x.rkm")));
    }
}
