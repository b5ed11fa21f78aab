using System.Globalization;
using System.Text.Json.Nodes;
using Ranking.Embeddings;

namespace Ranking.Cli.Tests;

/// <summary>
/// <c>ranking embed</c> on pair files end to end: synth-pairs, train two towers (queries and items of different widths)
/// and one shared encoder, encode each tower, search and eval with the query tower for queries and the item tower for
/// references, and the bad inputs (exit code 2, a message naming the file and line, nothing written).
/// </summary>
public sealed class EmbedPairCommandTests() : TempFolderTests("ranking-embed-pairs-")
{
    private void Synth(string prefix, params string[] extra)
    {
        var synth = CliHarness.Run(["embed", "synth-pairs", "--items", "40", "--queries", "1200", "--held-out", "0.25", "--seed", "3", "--out", P(prefix), .. extra]);
        Assert.True(synth.ExitCode == 0, synth.Stderr);
    }

    private CliHarness.CliResult TrainPairs(string prefix, string model, params string[] extra) =>
        CliHarness.Run(["embed", "train", "--pairs", P($"{prefix}-train.pairs"), "--queries", P($"{prefix}-queries.csv"), "--items", P($"{prefix}-items.csv"),
            "--valid-pairs", P($"{prefix}-held-out.pairs"), "--loss", "ntxent", "--hidden", "32", "--dim", "8", "--batch", "64", "--epochs", "8",
            "--lr", "0.003", "--seed", "5", "--threads", "1", "--out", P(model), .. extra]);

    [Fact]
    public void Two_towers_train_encode_search_and_eval_end_to_end()
    {
        Synth("w", "--separate-views", "--query-features", "6", "--item-features", "5");
        var trained = TrainPairs("w", "two.rkm", "--json");
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        var summary = JsonNode.Parse(trained.Stdout)!;
        Assert.Equal(2, (int)summary["towers"]!);
        Assert.Equal(900, (int)summary["pairs"]!);
        var events = summary["events"]!.AsArray();
        Assert.Equal(8, events.Count);
        double lastRecall = (double)events[^1]!["recall_at_1"]!, lastMrr = (double)events[^1]!["mrr"]!;
        Assert.True(lastRecall > 5.0 / 40, $"held-out Recall@1 {lastRecall} should be well above chance 1/40");

        // Encode each tower; the CSV holds what the library's loaded model gives.
        var model = EmbeddingModel.Load(P("two.rkm"));
        Assert.True(model.IsTwoTower);
        var queries = LabelledItemsReader.Read(P("w-queries.csv"), classOptional: true);
        var items = LabelledItemsReader.Read(P("w-items.csv"), classOptional: true);
        Assert.Equal(6, queries.Dimension);
        Assert.Equal(5, items.Dimension);
        foreach (var (tower, path, set) in new[] { ("query", "w-queries.csv", queries), ("item", "w-items.csv", items) })
        {
            var encoded = CliHarness.Run("embed", "encode", "--model", P("two.rkm"), "--tower", tower, "--data", P(path), "--out", P($"{tower}.csv"));
            Assert.True(encoded.ExitCode == 0, encoded.Stderr);
            string[] lines = File.ReadAllLines(P($"{tower}.csv"));
            Assert.Equal(set.Count + 1, lines.Length);
            float[] expected = model.Encode(set, EmbeddingTowers.Parse(tower), threads: 1);
            float[] row = lines[3].Split(',').Skip(1).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(expected.AsSpan(2 * 8, 8).ToArray(), row);
        }

        // Eval on the held-out pairs: the query tower against every item; the same numbers as the last epoch.
        var eval = CliHarness.Run("embed", "eval", "--model", P("two.rkm"), "--pairs", P("w-held-out.pairs"), "--queries", P("w-queries.csv"),
            "--items", P("w-items.csv"), "--json");
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        var report = JsonNode.Parse(eval.Stdout)!;
        Assert.Equal("pairs", (string)report["mode"]!);
        Assert.Equal(300, (int)report["queries"]!);
        Assert.Equal(lastRecall, (double)report["recall_at_1"]!, 12);
        Assert.Equal(lastMrr, (double)report["mrr"]!, 12);
        Assert.True((double)report["recall_at_10"]! >= (double)report["recall_at_5"]! && (double)report["recall_at_5"]! >= lastRecall);

        // The class-labelled eval and search read the two towers the same way: held-out queries labelled by their chosen
        // item, items labelled by their row, so P@1 is the pairs' Recall@1.
        var heldOut = File.ReadAllLines(P("w-held-out.pairs")).Where(l => !l.StartsWith('#')).Select(l => l.Split('\t').Select(int.Parse).ToArray()).ToArray();
        var queryLines = File.ReadAllLines(P("w-queries.csv"));
        File.WriteAllLines(P("q-labelled.csv"), new[] { queryLines[0] + ",class" }.Concat(heldOut.Select(p => $"{queryLines[p[0] + 1]},{p[1]}")));
        var itemLines = File.ReadAllLines(P("w-items.csv"));
        File.WriteAllLines(P("i-labelled.csv"), new[] { itemLines[0] + ",class" }.Concat(itemLines.Skip(1).Select((l, i) => $"{l},{i}")));
        var labelled = CliHarness.Run("embed", "eval", "--model", P("two.rkm"), "--data", P("q-labelled.csv"), "--references", P("i-labelled.csv"), "--json");
        Assert.True(labelled.ExitCode == 0, labelled.Stderr);
        Assert.Equal(lastRecall, (double)JsonNode.Parse(labelled.Stdout)!["precision_at_1"]!, 12);

        var search = CliHarness.Run("embed", "search", "--model", P("two.rkm"), "--data", P("q-labelled.csv"), "--references", P("w-items.csv"), "--k", "1", "--json");
        Assert.True(search.ExitCode == 0, search.Stderr);
        var neighbours = JsonNode.Parse(search.Stdout)!["neighbours"]!.AsArray();
        Assert.Equal(heldOut.Length, neighbours.Count);
        int hits = heldOut.Select((p, q) => (int)neighbours[q]!["reference"]! == p[1] ? 1 : 0).Sum();
        Assert.Equal(lastRecall, hits / (double)heldOut.Length, 12);
    }

    [Fact]
    public void One_shared_encoder_trains_on_the_same_pairs_and_two_towers_beat_it()
    {
        Synth("s");
        var one = TrainPairs("s", "one.rkm", "--towers", "1", "--json");
        Assert.True(one.ExitCode == 0, one.Stderr);
        Assert.Equal(1, (int)JsonNode.Parse(one.Stdout)!["towers"]!);
        Assert.False(EmbeddingModel.Load(P("one.rkm")).IsTwoTower);
        // A one-tower model encodes without --tower, as before.
        Assert.Equal(0, CliHarness.Run("embed", "encode", "--model", P("one.rkm"), "--data", P("s-items.csv"), "--out", P("e.csv")).ExitCode);
        var two = TrainPairs("s", "two.rkm", "--json");
        Assert.True(two.ExitCode == 0, two.Stderr);
        double Recall(string model) => (double)JsonNode.Parse(CliHarness.Run("embed", "eval", "--model", P(model), "--pairs", P("s-held-out.pairs"),
            "--queries", P("s-queries.csv"), "--items", P("s-items.csv"), "--json").Stdout)!["recall_at_1"]!;
        double oneRecall = Recall("one.rkm"), twoRecall = Recall("two.rkm");
        Assert.True(twoRecall > oneRecall + 0.1, $"two towers {twoRecall}, one shared encoder {oneRecall}");
    }

    [Fact]
    public void Bad_pair_input_is_exit_code_2_naming_the_file_and_nothing_is_written()
    {
        Synth("b", "--separate-views", "--query-features", "6", "--item-features", "5");
        string[] Sets(string pairs) => ["--pairs", P(pairs), "--queries", P("b-queries.csv"), "--items", P("b-items.csv")];
        void Refused(string expected, params string[] args)
        {
            var result = CliHarness.Run(args);
            Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Stderr}");
            Assert.True(result.Stderr.Contains(expected, StringComparison.Ordinal), $"expected '{expected}' in: {result.Stderr}");
            Assert.False(File.Exists(P("x.rkm")));
            Assert.False(File.Exists(P("x.csv")));
        }

        File.WriteAllText(P("past.pairs"), "0 1\n# a comment\n5 40\n");
        Refused($"{P("past.pairs")}:3:3: positive row 40 is past the 40 items of its set", ["embed", "train", .. Sets("past.pairs"), "--out", P("x.rkm")]);
        File.WriteAllText(P("query-past.pairs"), "1200 1\n");
        Refused($"{P("query-past.pairs")}:1:1: anchor row 1200 is past the 1200 items of its set", ["embed", "train", .. Sets("query-past.pairs"), "--out", P("x.rkm")]);
        File.WriteAllText(P("empty.pairs"), "# query_row item_row\n\n");
        Refused($"{P("empty.pairs")}:2: no pairs in the file", ["embed", "train", .. Sets("empty.pairs"), "--out", P("x.rkm")]);
        File.WriteAllText(P("one.pairs"), "3 4\n");
        Refused($"{P("one.pairs")}: 1 pair", ["embed", "train", .. Sets("one.pairs"), "--out", P("x.rkm")]);
        File.WriteAllText(P("same.pairs"), "3 4\n5 4\n");
        Refused("every pair chose item row 4", ["embed", "train", .. Sets("same.pairs"), "--out", P("x.rkm")]);
        Refused("one shared encoder needs one feature count", ["embed", "train", .. Sets("b-train.pairs"), "--towers", "1", "--out", P("x.rkm")]);
        Refused("--towers takes 1", ["embed", "train", .. Sets("b-train.pairs"), "--towers", "3", "--out", P("x.rkm")]);
        Refused("cross-batch memory is not supported for two towers", ["embed", "train", .. Sets("b-train.pairs"), "--batch", "32", "--memory", "64", "--out", P("x.rkm")]);
        Refused("--pairs needs --queries", ["embed", "train", "--pairs", P("b-train.pairs"), "--items", P("b-items.csv"), "--out", P("x.rkm")]);
        Refused("--data and --valid are for class-labelled items", ["embed", "train", .. Sets("b-train.pairs"), "--data", P("b-items.csv"), "--out", P("x.rkm")]);
        Refused("give --data TRAIN", ["embed", "train", "--out", P("x.rkm")]);
        Refused("--per-class is for class-labelled items", ["embed", "train", .. Sets("b-train.pairs"), "--per-class", "4", "--out", P("x.rkm")]);

        var trained = CliHarness.Run(["embed", "train", .. Sets("b-train.pairs"), "--epochs", "1", "--batch", "32", "--hidden", "8", "--dim", "4", "--out", P("two.rkm")]);
        Assert.True(trained.ExitCode == 0, trained.Stderr);
        // Encode: the tower is required for a two-tower model, and its width is checked against the data.
        Refused("a two-tower model: give --tower query or --tower item", "embed", "encode", "--model", P("two.rkm"), "--data", P("b-items.csv"), "--out", P("x.csv"));
        Refused($"{P("b-items.csv")}: 5 features, the model's query tower was trained on 6",
            "embed", "encode", "--model", P("two.rkm"), "--tower", "query", "--data", P("b-items.csv"), "--out", P("x.csv"));
        Refused("unknown tower 'user'", "embed", "encode", "--model", P("two.rkm"), "--tower", "user", "--data", P("b-items.csv"), "--out", P("x.csv"));
        Refused("a two-tower model embeds queries and references with different towers", "embed", "eval", "--model", P("two.rkm"), "--data", P("b-items.csv"));
        Refused($"{P("b-queries.csv")}: 6 features, the item tower takes 5",
            "embed", "eval", "--model", P("two.rkm"), "--pairs", P("b-held-out.pairs"), "--queries", P("b-queries.csv"), "--items", P("b-queries.csv"));

        Synth("c");
        var shared = CliHarness.Run(["embed", "train", "--pairs", P("c-train.pairs"), "--queries", P("c-queries.csv"), "--items", P("c-items.csv"), "--towers", "1",
            "--epochs", "1", "--batch", "32", "--hidden", "8", "--dim", "4", "--out", P("one.rkm")]);
        Assert.True(shared.ExitCode == 0, shared.Stderr);
        Refused("one shared encoder, no towers: drop --tower", "embed", "encode", "--model", P("one.rkm"), "--tower", "item", "--data", P("c-items.csv"), "--out", P("x.csv"));
    }
}
