using System.Text.Json.Nodes;

namespace Ranking.Cli.Tests;

public sealed class EmbedCommandTests() : TempFolderTests("ranking-embed-")
{
    [Fact]
    public void Synth_train_eval_encode_search_round_trip()
    {
        var synth = CliHarness.Run("embed", "synth", "--classes", "60", "--items", "8", "--dim", "12", "--latent", "4", "--train-classes", "40", "--out", P("s"));
        Assert.Equal(0, synth.ExitCode);
        string train = P("s-train-images-idx2"), test = P("s-test-images-idx2");
        var trained = CliHarness.Run("embed", "train", "--data", train, "--valid", test, "--loss", "supcon", "--miner", "all", "--epochs", "10",
            "--batch", "32", "--hidden", "32", "--dim", "8", "--lr", "0.003", "--seed", "1", "--memory", "96", "--out", P("m.rkm"), "--json", "--threads", "1");
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        var events = JsonNode.Parse(trained.Stdout)!["events"]!.AsArray();
        Assert.Equal(10, events.Count);

        var raw = JsonNode.Parse(CliHarness.Run("embed", "eval", "--raw", "--data", test, "--json").Stdout)!;
        var model = CliHarness.Run("embed", "eval", "--model", P("m.rkm"), "--data", test, "--json", "--nmi");
        Assert.True(model.ExitCode == 0, model.Stderr);
        var m = JsonNode.Parse(model.Stdout)!;
        foreach (string key in new[] { "precision_at_1", "r_precision", "map_at_r", "mrr", "knn_accuracy", "recall_at_1", "nmi" })
            Assert.InRange(m[key]!.GetValue<double>(), 0, 1);
        Assert.Equal("leave-one-out", m["mode"]!.GetValue<string>());
        Assert.Equal(160, m["queries"]!.GetValue<int>());
        // Training on the 40 seen classes helps retrieval among the 20 unseen ones.
        Assert.True(m["map_at_r"]!.GetValue<double>() > raw["map_at_r"]!.GetValue<double>(), $"model {m["map_at_r"]} vs raw {raw["map_at_r"]}");

        Assert.Equal(0, CliHarness.Run("embed", "encode", "--model", P("m.rkm"), "--data", test, "--out", P("e.csv")).ExitCode);
        string[] lines = File.ReadAllLines(P("e.csv"));
        Assert.Equal(161, lines.Length);
        Assert.Equal(9, lines[1].Split(',').Length);
        var search = CliHarness.Run("embed", "search", "--model", P("m.rkm"), "--data", test, "--references", train, "--k", "3");
        Assert.Equal(0, search.ExitCode);
        Assert.Equal(1 + 160 * 3, search.Stdout.TrimEnd().Split('\n').Length);
    }

    [Fact]
    public void Query_reference_mode_reports_its_mode()
    {
        File.WriteAllText(P("q.csv"), "class,x,y\na,0,1\nb,1,0\n");
        File.WriteAllText(P("r.csv"), "class,x,y\na,0,0.9\nb,0.8,0.1\na,0.1,1\n");
        var result = CliHarness.Run("embed", "eval", "--raw", "--data", P("q.csv"), "--references", P("r.csv"), "--json");
        Assert.Equal(0, result.ExitCode);
        var o = JsonNode.Parse(result.Stdout)!;
        Assert.Equal("query-reference", o["mode"]!.GetValue<string>());
        Assert.Equal(1.0, o["precision_at_1"]!.GetValue<double>());
    }

    [Fact]
    public void Bad_input_is_exit_code_2_with_a_clear_message()
    {
        File.WriteAllText(P("one.csv"), "class,x\na,1\na,2\na,3\n");
        var one = CliHarness.Run("embed", "train", "--data", P("one.csv"), "--out", P("x.rkm"), "--batch", "4");
        Assert.Equal(2, one.ExitCode);
        Assert.Contains("only 1 class", one.Stderr);
        Assert.False(File.Exists(P("x.rkm")));

        File.WriteAllText(P("singletons.csv"), "class,x\na,1\nb,2\nc,3\n");
        var single = CliHarness.Run("embed", "train", "--data", P("singletons.csv"), "--out", P("x.rkm"), "--batch", "4");
        Assert.Equal(2, single.ExitCode);
        Assert.Contains("every class has one item", single.Stderr);

        File.WriteAllText(P("nan.csv"), "class,x\na,1\na,NaN\nb,3\n");
        var nan = CliHarness.Run("embed", "eval", "--raw", "--data", P("nan.csv"));
        Assert.Equal(2, nan.ExitCode);
        Assert.Contains("nan.csv:3:3: bad feature value 'NaN'", nan.Stderr);

        File.WriteAllBytes(P("bad-images-idx3-ubyte"), [1, 2, 8, 3, 0, 0, 0, 1]);
        var magic = CliHarness.Run("embed", "eval", "--raw", "--data", P("bad-images-idx3-ubyte"));
        Assert.Equal(2, magic.ExitCode);
        Assert.Contains("byte 0: bad IDX magic number", magic.Stderr);

        var usage = CliHarness.Run("embed", "train", "--data", P("one.csv"), "--out", P("x.rkm"), "--loss", "hinge");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("unknown loss 'hinge'", usage.Stderr);
        Assert.Equal(2, CliHarness.Run("embed", "eval", "--data", P("one.csv")).ExitCode);
    }

    [Fact]
    public void Report_trains_every_recipe_and_seed_writes_markdown_json_and_plots_and_resumes()
    {
        Assert.Equal(0, CliHarness.Run("embed", "synth", "--classes", "40", "--items", "8", "--dim", "12", "--latent", "4", "--train-classes", "28", "--out", P("s")).ExitCode);
        string[] args = ["embed", "report", "--data", P("s-train-images-idx2"), "--test", P("s-test-images-idx2"),
            "--recipes", "supcon:all,triplet:semihard:margin=0.2", "--seeds", "1,2", "--epochs", "2", "--batch", "32", "--hidden", "16",
            "--dim", "6", "--lr", "0.003", "--targets", "supcon:all=0.5", "--threads", "1", "--out", P("report")];
        var first = CliHarness.Run(args);
        Assert.True(first.ExitCode == 0, first.Stderr);
        foreach (string f in new[] { "report.md", "results.json", "runs.jsonl", "map-at-r-per-epoch.png", "map-at-r-per-epoch.svg", "projection.png", "projection.svg" })
            Assert.True(File.Exists(Path.Combine(P("report"), f)), f);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(P("report"), "runs.jsonl")).Length);
        byte[] png = File.ReadAllBytes(Path.Combine(P("report"), "projection.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);

        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(P("report"), "results.json")))!;
        var recipes = results["recipes"]!.AsArray();
        Assert.Equal(["supcon:all", "triplet:semihard:margin=0.2"], recipes.Select(r => r!["recipe"]!.GetValue<string>()));
        foreach (var r in recipes)
        {
            var runs = r!["runs"]!.AsArray();
            Assert.Equal(2, runs.Count);
            // The recipe's MAP@R is the mean of its seeds' and each run logged one test MAP@R per epoch.
            Assert.Equal(runs.Average(x => x!["map_at_r"]!.GetValue<double>()), r["map_at_r"]!.GetValue<double>(), 12);
            Assert.All(runs, x => Assert.Equal(2, x!["epoch_map_at_r"]!.AsArray().Count));
            Assert.InRange(r["map_at_r"]!.GetValue<double>(), 0, 1);
            Assert.Equal(96, r["versus_raw"]!["queries"]!.GetValue<int>());
        }
        string best = results["best"]!.GetValue<string>();
        Assert.Null(recipes.Single(r => r!["recipe"]!.GetValue<string>() == best)!["versus_best"]);
        Assert.Equal(0.5, recipes[0]!["target"]!.GetValue<double>());
        string md = File.ReadAllText(Path.Combine(P("report"), "report.md"));
        Assert.Contains("| recipe | MAP@R |", md);
        Assert.Contains("![projection](projection.png)", md);
        Assert.Contains("triplet:semihard:margin=0.2", md);

        // Resuming trains nothing again: the runs file is read, the report rewritten with the same numbers.
        var again = CliHarness.Run([.. args, "--resume", "--json"]);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(results["recipes"]![0]!["map_at_r"]!.GetValue<double>(), JsonNode.Parse(again.Stdout)!["recipes"]![0]!["map_at_r"]!.GetValue<double>());
        Assert.Equal(4, File.ReadAllLines(Path.Combine(P("report"), "runs.jsonl")).Length);

        var bad = CliHarness.Run("embed", "report", "--data", P("s-train-images-idx2"), "--test", P("s-test-images-idx2"), "--recipes", "triplet:semihard:margin=x", "--out", P("r2"));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("margin takes a number", bad.Stderr);
    }
    [Fact]
    public void Report_recipes_set_the_proxy_losses_knobs_and_every_recipe_is_checked_before_training()
    {
        Assert.Equal(0, CliHarness.Run("embed", "synth", "--classes", "40", "--items", "8", "--dim", "12", "--latent", "4", "--train-classes", "28", "--out", P("s")).ExitCode);
        string[] common = ["embed", "report", "--data", P("s-train-images-idx2"), "--test", P("s-test-images-idx2"), "--seeds", "1", "--epochs", "1",
            "--batch", "32", "--hidden", "16", "--dim", "6", "--lr", "0.003", "--threads", "1"];
        var run = CliHarness.Run([.. common, "--recipes", "proxy-nca:all,proxy-nca:all:proxy-negatives=3:proxy-lr-scale=10,proxy-anchor:all:proxy-alpha=16", "--out", P("r"), "--json"]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var maps = JsonNode.Parse(run.Stdout)!["recipes"]!.AsArray().Select(r => r!["map_at_r"]!.GetValue<double>()).ToArray();
        Assert.Equal(3, maps.Length);
        // One seed, one thread: were the knobs ignored, the first two recipes would train the same model bit for bit.
        Assert.NotEqual(maps[0], maps[1]);

        var notProxy = CliHarness.Run([.. common, "--recipes", "supcon:all:proxy-negatives=5", "--out", P("r2")]);
        Assert.Equal(2, notProxy.ExitCode);
        Assert.Contains("knobs of the proxy losses", notProxy.Stderr);
        // The second recipe cannot take a memory: refused before the first recipe trains, nothing written.
        var withMemory = CliHarness.Run([.. common, "--recipes", "supcon:all,proxy-nca:all", "--memory", "64", "--out", P("r3")]);
        Assert.Equal(2, withMemory.ExitCode);
        Assert.Contains("drop --memory", withMemory.Stderr);
        Assert.False(Directory.Exists(P("r3")));
        var negative = CliHarness.Run([.. common, "--recipes", "proxy-nca:all:proxy-negatives=-1", "--out", P("r4")]);
        Assert.Equal(2, negative.ExitCode);
        Assert.Contains("proxy-negatives takes a non-negative integer", negative.Stderr);
    }
}
