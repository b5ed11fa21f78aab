using System.Text.Json.Nodes;

namespace Ranking.Cli.Tests;

public class EvalCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("eval-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    // Two queries: q1 grades 3,2,0,1 (the preset golden query), q2 grades 0,0.
    private string Data() => File("data.txt",
        "3 qid:1 1:0.1\n2 qid:1 1:0.2\n0 qid:1 1:0.3\n1 qid:1 1:0.4\n0 qid:2 1:0.5\n0 qid:2 1:0.6\n");

    private string Scores() => File("scores.txt", "0.5\n0.5\n0.9\n0.1\n1\n2\n");

    [Fact]
    public void PrintsJsonWithContractCountsAndMetrics()
    {
        var r = CliHarness.Run("eval", "--data", Data(), "--scores", Scores(), "--metrics", "ndcg@3,map", "--contract", "sklearn", "--json");
        Assert.Equal(0, r.ExitCode);
        var json = JsonNode.Parse(r.Stdout)!.AsObject();
        Assert.Equal("sklearn", (string)json["contract"]!["name"]!);
        Assert.Equal(2, (int)json["queries"]!);
        Assert.Equal(6, (int)json["rows"]!);
        // q1 = 0.5937437632688622 (scikit-learn's ndcg_score), q2 empty = 0 under sklearn
        Assert.Equal(0.5937437632688622 / 2, (double)json["metrics"]!["ndcg@3"]!, 12);
    }

    [Fact]
    public void PrintsATableByDefaultAndWritesPerQueryCsv()
    {
        string csv = Path.Combine(_dir, "out", "per-query.csv");
        var r = CliHarness.Run("eval", "--data", Data(), "--scores", Scores(), "--contract", "default,empty=omit", "--per-query", csv);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("contract: custom:", r.Stdout);
        Assert.Contains("ndcg@10", r.Stdout);
        Assert.Contains("queries: 2  rows: 6", r.Stdout);
        string[] lines = System.IO.File.ReadAllLines(csv);
        Assert.Equal("query_id,rows,weight,ndcg@1,ndcg@3,ndcg@5,ndcg@10,map,mrr@10,err@10", lines[0]);
        Assert.StartsWith("1,4,1,", lines[1]);
        Assert.StartsWith("2,2,1,,", lines[2]); // left out: empty cell
    }

    [Fact]
    public void BaselineAddsTheComparison()
    {
        string baseline = File("base.txt", "0.1\n0.2\n0.3\n0.4\n1\n2\n");
        var r = CliHarness.Run("eval", "--data", Data(), "--scores", Scores(), "--baseline-scores", baseline, "--metrics", "ndcg@3", "--json", "--resamples", "200");
        Assert.Equal(0, r.ExitCode);
        var json = JsonNode.Parse(r.Stdout)!.AsObject();
        var cmp = json["comparison"]!["ndcg@3"]!;
        double diff = (double)json["metrics"]!["ndcg@3"]! - (double)json["baseline"]!["metrics"]!["ndcg@3"]!;
        Assert.Equal(diff, (double)cmp["meanDifference"]!, 12);
        var table = CliHarness.Run("eval", "--data", Data(), "--scores", Scores(), "--baseline-scores", baseline, "--metrics", "ndcg@3");
        Assert.Contains("p-value", table.Stdout);
        Assert.Contains("95% CI", table.Stdout);
    }

    [Theory]
    [InlineData("0.5\n0.5\n0.9\n0.1\n1\n", ":6", "ends after 5 scores")]
    [InlineData("0.5\n0.5\nx\n0.1\n1\n2\n", ":3:1:", "not a number")]
    [InlineData("0.5\n0.5\nnan\n0.1\n1\n2\n", ":3:1:", "NaN")]
    public void BadScoresExitWithCode2AndNameTheLine(string text, string where, string what)
    {
        string scores = File("bad.txt", text);
        var r = CliHarness.Run("eval", "--data", Data(), "--scores", scores);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(scores + where, r.Stderr);
        Assert.Contains(what, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void UnknownMetricOrContractIsAUsageError()
    {
        Assert.Equal(2, CliHarness.Run("eval", "--data", Data(), "--scores", Scores(), "--metrics", "bleu").ExitCode);
        var r = CliHarness.Run("eval", "--data", Data(), "--scores", Scores(), "--contract", "nope");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("lightgbm", r.Stderr);
        Assert.Equal(2, CliHarness.Run("eval", "--data", Path.Combine(_dir, "none.txt"), "--scores", Scores()).ExitCode);
    }

    [Fact]
    public void GradeOutsideTheGainTableIsBadInput()
    {
        string data = File("grade7.txt", "7 qid:1 1:0.1\n0 qid:1 1:0.2\n");
        string scores = File("two.txt", "1\n2\n");
        var r = CliHarness.Run("eval", "--data", data, "--scores", scores, "--contract", "mlnet");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("grade 7", r.Stderr);
    }

    [Fact]
    public void Trec_contract_reads_doc_ids_from_LETOR_comments_and_new_metrics_print()
    {
        // Three tied scores: trec_eval ranks docno c, b, a, so the relevant "b" is second.
        string data = File("trec.txt", "1 qid:1 1:0.1 # docid = b\n0 qid:1 1:0.2 # docid = a\n0 qid:1 1:0.3 # docid = c\n");
        string scores = File("trec-scores.txt", "1\n1\n1\n");
        var r = CliHarness.Run("eval", "--data", data, "--scores", scores, "--metrics", "mrr,success@1,rprec,bpref,opa,arp", "--contract", "trec", "--json");
        Assert.Equal(0, r.ExitCode);
        var metrics = JsonNode.Parse(r.Stdout)!["metrics"]!;
        Assert.Equal(0.5, (double)metrics["mrr"]!, 12);
        Assert.Equal(0.0, (double)metrics["success@1"]!, 12);
        Assert.Equal(0.0, (double)metrics["rprec"]!, 12);
        Assert.Equal(2.0, (double)metrics["arp"]!, 12);
    }

    [Fact]
    public void Doc_weights_multiply_gains_and_a_missing_line_exits_2()
    {
        string data = File("w.txt", "1 qid:1 1:0.1\n2 qid:1 1:0.2\n");
        string scores = File("w-scores.txt", "2\n1\n");
        var r = CliHarness.Run("eval", "--data", data, "--scores", scores, "--metrics", "ndcg", "--contract", "tfr", "--doc-weights", File("w-weights.txt", "2\n1\n"), "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal((2 + 3 / Math.Log2(3)) / (3 + 2 / Math.Log2(3)), (double)JsonNode.Parse(r.Stdout)!["metrics"]!["ndcg"]!, 12);
        var bad = CliHarness.Run("eval", "--data", data, "--scores", scores, "--doc-weights", File("short.txt", "2\n"));
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public void Alpha_ndcg_reads_subtopic_judgements_joined_by_docno_and_compares_to_a_baseline()
    {
        // Query 1: rows x {1, 2}, y {1}, z {3}; query 2 is not in the qrels (left out). alpha = 0.5, ndeval's discount.
        string data = File("div.txt", "1 qid:1 1:0.1 # docid = x\n1 qid:1 1:0.2 # docid = y\n1 qid:1 1:0.3 # docid = z\n0 qid:2 1:0.4 # docid = x\n");
        string qrels = File("div-qrels.txt", "1 1 x 1\n1 2 x 1\n1 1 y 1\n1 3 z 1\n1 2 y 0\n3 1 x 1\n");
        string scores = File("div-scores.txt", "3\n2\n1\n5\n");
        string baseline = File("div-base.txt", "3\n1\n2\n5\n");
        var r = CliHarness.Run("eval", "--data", data, "--scores", scores, "--metrics", "alpha-ndcg@2,alpha-ndcg@3:alpha=1", "--subtopics", qrels,
            "--baseline-scores", baseline, "--json");
        Assert.Equal(0, r.ExitCode);
        var json = JsonNode.Parse(r.Stdout)!;
        double d2 = 1 / Math.Log2(3);
        // Ranked x, y: 2 + 0.5 d2; the greedy ideal and the baseline take x, z: 2 + 1 d2.
        Assert.Equal((2 + 0.5 * d2) / (2 + d2), (double)json["metrics"]!["alpha-ndcg@2"]!, 12);
        Assert.Equal(1.0, (double)json["baseline"]!["metrics"]!["alpha-ndcg@2"]!, 12);
        Assert.Equal((2 + 0.5 * d2) / (2 + d2) - 1, (double)json["comparison"]!["alpha-ndcg@2"]!["meanDifference"]!, 12);
        Assert.Equal(1, (int)json["comparison"]!["alpha-ndcg@2"]!["queries"]!);
        Assert.Equal(1, (int)json["subtopics"]!["judgedQueries"]!);
        Assert.Equal(1, (int)json["subtopics"]!["topicsNotInData"]!);
        // alpha = 1: x, y, z cover 2 + 0 + 1; the ideal x, z covers 3 by place 2.
        Assert.Equal((2 + 1 / Math.Log2(4)) / (2 + d2), (double)json["metrics"]!["alpha-ndcg@3:alpha=1"]!, 12);
        var table = CliHarness.Run("eval", "--data", data, "--scores", scores, "--metrics", "alpha-ndcg@2", "--subtopics", qrels);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("alpha-ndcg@2", table.Stdout);
        Assert.Contains("subtopics: 1 queries judged", table.Stdout);
    }

    [Fact]
    public void A_bad_subtopics_file_or_none_exits_2_naming_the_line()
    {
        string data = File("div2.txt", "1 qid:1 1:0.1 # docid = x\n1 qid:1 1:0.2 # docid = y\n");
        string scores = File("div2-scores.txt", "2\n1\n");
        string bad = File("div2-qrels.txt", "1 1 x 1\n1 1 y\n");
        var r = CliHarness.Run("eval", "--data", data, "--scores", scores, "--metrics", "alpha-ndcg@10", "--subtopics", bad);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(bad + ":2: expected 4 fields", r.Stderr);
        var none = CliHarness.Run("eval", "--data", data, "--scores", scores, "--metrics", "alpha-ndcg@10");
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("alpha-ndcg@10 reads subtopic judgements", none.Stderr);
        var noIds = CliHarness.Run("eval", "--data", Data(), "--scores", Scores(), "--metrics", "alpha-ndcg@10", "--subtopics", File("ok.txt", "1 1 x 1\n"));
        Assert.Equal(2, noIds.ExitCode);
        Assert.Contains("document id", noIds.Stderr);
    }
}
