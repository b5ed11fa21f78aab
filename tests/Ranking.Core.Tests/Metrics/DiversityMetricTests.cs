using Ranking.Data;
using Ranking.Metrics;

namespace Ranking.Core.Tests.Metrics;

/// <summary>
/// alpha-NDCG (Clarke et al., SIGIR 2008) as TREC's ndeval computes it, and alpha-DCG as TF-Ranking's
/// AlphaDCGMetric: values worked out by hand below (the greedy ideal included), TF-Ranking's docstring examples,
/// ndeval's tie rule for the greedy ideal, the qrels reader's join and its errors, and a direct implementation of
/// the definition on random lists.
/// </summary>
public class DiversityMetricTests
{
    /// <summary>1/log2(rank + 1) for a 1-based rank: ndeval's discount.</summary>
    private static double D(int rank) => 1 / Math.Log2(rank + 1);

    /// <summary>One query; <paramref name="subtopics"/>[row] are the row's subtopics (grades 1, or the given ones).</summary>
    private static double[] Values(string metrics, float[] scores, int[][] subtopics, int[][]? grades = null, string contract = "default")
    {
        var judgements = Judgements([0, scores.Length], subtopics, grades);
        var report = RankingEvaluator.Evaluate(new float[scores.Length], [0, scores.Length], null, scores, MetricSpec.ParseList(metrics),
            NdcgContract.Parse(contract), subtopics: judgements);
        return report.PerQuery.Select(v => v[0]).ToArray();
    }

    private static SubtopicJudgements Judgements(int[] groupOffsets, int[][] subtopics, int[][]? grades = null)
    {
        var offsets = new int[subtopics.Length + 1];
        for (int r = 0; r < subtopics.Length; r++) offsets[r + 1] = offsets[r] + subtopics[r].Length;
        return new SubtopicJudgements(groupOffsets, offsets, subtopics.SelectMany(s => s).ToArray(), grades?.SelectMany(g => g).ToArray());
    }

    [Fact]
    public void Alpha_NDCG_by_hand_with_the_greedy_ideal()
    {
        // Rows d0 {A, B}, d1 {A}, d2 {C}, d3 {} ranked in that order; alpha = 0.5.
        // Gains: d0 = 1 + 1 = 2; d1 = A seen once: 0.5; d2 = 1; d3 = 0.
        double dcg4 = 2 * D(1) + 0.5 * D(2) + 1 * D(3);
        // Greedy ideal: d0 (2); then d2 (1) beats d1 (0.5); then d1 (0.5).
        double ideal4 = 2 * D(1) + 1 * D(2) + 0.5 * D(3);
        int[][] subtopics = [[0, 1], [0], [2], []];
        var v = Values("alpha-ndcg@4,alpha-ndcg@2,alpha-dcg@4,alpha-ndcg", [4, 3, 2, 1], subtopics);
        Assert.Equal(dcg4 / ideal4, v[0], 12);
        Assert.Equal(0.977276, v[0], 6);
        Assert.Equal((2 + 0.5 * D(2)) / (2 + 1 * D(2)), v[1], 12);
        Assert.Equal(dcg4, v[2], 12);
        Assert.Equal(v[0], v[3], 12);
        // alpha = 0: plain subtopic counts (d1 and d2 tie at 1 in the ideal); alpha = 1: a subtopic counts once.
        var a0 = Values("alpha-ndcg@2:alpha=0,alpha-ndcg@4:alpha=1", [4, 3, 2, 1], subtopics);
        Assert.Equal((2 + 1 * D(2)) / (2 + 1 * D(2)), a0[0], 12);
        Assert.Equal((2 * D(1) + 1 * D(3)) / (2 * D(1) + 1 * D(2)), a0[1], 12);
        // The best order d0, d2, d1 scores 1 at every cut.
        Assert.All(Values("alpha-ndcg@1,alpha-ndcg@2,alpha-ndcg@3,alpha-ndcg", [4, 2, 3, 1], subtopics), x => Assert.Equal(1.0, x, 12));
    }

    [Fact]
    public void The_greedy_ideal_is_not_always_optimal_so_alpha_NDCG_can_exceed_1_as_in_ndeval()
    {
        // alpha = 1 (pure coverage): A = {1,2,3,4}, B = {1,2,5}, C = {3,4,6}. Greedy takes A (4 new), then B or C (1 new):
        // 4 + 1 D(2). Ranking B then C covers 3 + 3: 3 + 3 D(2), more than the greedy "ideal".
        int[][] subtopics = [[1, 2, 3, 4], [1, 2, 5], [3, 4, 6]];
        double v = Values("alpha-ndcg@2:alpha=1", [1, 3, 2], subtopics)[0];
        Assert.Equal((3 + 3 * D(2)) / (4 + 1 * D(2)), v, 12);
        Assert.True(v > 1);
    }

    [Fact]
    public void TF_Ranking_AlphaDCGMetric_docstring_examples()
    {
        // tfr.keras.metrics.AlphaDCGMetric: y_true [[[0, 1], [1, 0], [1, 1]]], y_pred [[3, 1, 2]] -> 2.1963947.
        Assert.Equal(2.1963947, Values("alpha-dcg", [3, 1, 2], [[1], [0], [0, 1]], contract: "tfr")[0], 6);
        // Ragged example: lists [[0,0],[1,0]] / [[1,1],[0,2],[1,0]], scores [2,1] / [2,5,4] -> mean 1.8184297
        // (the grade 2 counts twice: gain 2 (1 - alpha)^0, and the subtopic's later gains fall by (1 - alpha)^2).
        var judgements = Judgements([0, 2, 5], [[], [0], [0, 1], [1], [0]], [[], [1], [1, 1], [2], [1]]);
        var report = RankingEvaluator.Evaluate(new float[5], [0, 2, 5], null, [2, 1, 2, 5, 4], MetricSpec.ParseList("alpha-dcg"),
            NdcgContract.FromPreset("tfr"), subtopics: judgements);
        Assert.Equal(1.8184297, report.Means["alpha-dcg"], 6);
        Assert.Equal(D(2), report.PerQuery[0][0], 12);
        Assert.Equal(2 + D(2) + 0.75 * D(3), report.PerQuery[0][1], 12);
    }

    [Fact]
    public void Ties_in_the_greedy_ideal_go_to_the_largest_docno_as_in_ndeval()
    {
        // alpha = 1, documents a = {1,2}, b = {3,4}, d = {2,3}: all gain 2 at the first step. ndeval takes the largest
        // docno, d, after which a and b add 1 each: ideal@2 = 2 + 1 D(2). (Taking a first would give 2 + 2 D(2).)
        // The run ranks a then b: 2 + 2 D(2).
        string dir = Directory.CreateTempSubdirectory("ranking-subtopics-").FullName;
        try
        {
            string qrels = Path.Combine(dir, "qrels.txt");
            File.WriteAllText(qrels, "7 1 a 1\n7 2 a 1\n7 3 b 1\n7 4 b 1\n7 2 d 1\n7 3 d 1\n");
            var judgements = SubtopicJudgements.Read(qrels, [7], [0, 3], ["a", "b", "d"]);
            var report = RankingEvaluator.Evaluate(new float[3], [0, 3], null, [3, 2, 1], MetricSpec.ParseList("alpha-ndcg@2:alpha=1"),
                NdcgContract.FromPreset("trec"), documentIds: ["a", "b", "d"], subtopics: judgements);
            Assert.Equal((2 + 2 * D(2)) / (2 + 1 * D(2)), report.PerQuery[0][0], 12);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_qrels_file_joins_by_query_and_docno_and_its_judged_documents_make_the_ideal()
    {
        string dir = Directory.CreateTempSubdirectory("ranking-subtopics-").FullName;
        try
        {
            string qrels = Path.Combine(dir, "qrels.txt");
            // Topic 5: rows x, y, z; "w" is judged relevant but is not a row; a 0 judgement and a grade 2 (binary: 1).
            // Topic 6 is not in the data; query 9 of the data is not in the file.
            File.WriteAllText(qrels, "\uFEFF5 1 x 1\r\n5 2 x 0\n\n5 2 y 2\n5 1 w 1\n5 3 w 1\n6 1 q 1\n");
            long[] queryIds = [5, 9];
            int[] offsets = [0, 3, 5];
            string[] ids = ["x", "y", "z", "x", "y"];
            var judgements = SubtopicJudgements.Read(qrels, queryIds, offsets, ids);
            Assert.Equal(new[] { true, false }, judgements.JudgedQueries);
            Assert.Equal(1, judgements.DocumentsNotInData);
            Assert.Equal(1, judgements.TopicsNotInData);
            var report = RankingEvaluator.Evaluate(new float[5], offsets, null, [3, 2, 1, 2, 1], MetricSpec.ParseList("alpha-ndcg@3,alpha-dcg@3"),
                NdcgContract.FromPreset("trec"), queryIds: queryIds, documentIds: ids, subtopics: judgements);
            // Run: x {1} = 1, y {2} = 1, z = 0 -> 1 + D(2). Greedy ideal over x, y, w: w {1,3} (2), then y {2} (1), x (0.5).
            Assert.Equal((1 + D(2)) / (2 + D(2) + 0.5 * D(3)), report.PerQuery[0][0], 12);
            Assert.True(double.IsNaN(report.PerQuery[0][1]));
            Assert.Equal(report.PerQuery[0][0], report.Means["alpha-ndcg@3"], 12);
            Assert.Equal(1 + D(2), report.PerQuery[1][0], 12);
            // Graded reading keeps y's grade 2.
            var graded = SubtopicJudgements.Read(qrels, queryIds, offsets, ids, binary: false);
            var gradedReport = RankingEvaluator.Evaluate(new float[5], offsets, null, [3, 2, 1, 2, 1], MetricSpec.ParseList("alpha-dcg@3"),
                NdcgContract.FromPreset("trec"), documentIds: ids, subtopics: graded);
            Assert.Equal(1 + 2 * D(2), gradedReport.PerQuery[0][0], 12);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("5 1 x\n", ":1: expected 4 fields")]
    [InlineData("5 1 x 1\n5 1 x 1 extra\n", ":2: expected 4 fields")]
    [InlineData("5 1 x 1\nfive 1 x 1\n", ":2:1: topic 'five' is not an integer")]
    [InlineData("5 1 x 1\n5 1 y yes\n", ":2:7: judgment 'yes' is not an integer")]
    [InlineData("5 1 x 1\n5 2 y 1\n5 1 x 0\n", ":3:5: topic 5 subtopic 1 document 'x' is judged again (first at line 1)")]
    [InlineData("", "empty")]
    [InlineData("\n  \n", "empty")]
    public void Bad_qrels_lines_are_named_by_file_and_line(string text, string expected)
    {
        string dir = Directory.CreateTempSubdirectory("ranking-subtopics-").FullName;
        try
        {
            string qrels = Path.Combine(dir, "bad.txt");
            File.WriteAllText(qrels, text);
            var error = Assert.Throws<RankingDataException>(() => SubtopicJudgements.Read(qrels, [5], [0, 2], ["x", "y"]));
            Assert.StartsWith(qrels, error.Message);
            Assert.Contains(expected, error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Rows_must_carry_distinct_document_ids_to_be_joined()
    {
        string dir = Directory.CreateTempSubdirectory("ranking-subtopics-").FullName;
        try
        {
            string qrels = Path.Combine(dir, "qrels.txt");
            File.WriteAllText(qrels, "5 1 x 1\n");
            var twice = Assert.Throws<RankingDataException>(() => SubtopicJudgements.Read(qrels, [5], [0, 2], ["x", "x"], dataSource: "data.txt"));
            Assert.Equal("data.txt: row 2 (query 5): document 'x' appears twice in the query (first at row 1)", twice.Message);
            var missing = Assert.Throws<RankingDataException>(() => SubtopicJudgements.Read(qrels, [5], [0, 2], ["x", null], dataSource: "data.txt"));
            Assert.Contains("row 2 (query 5): no document id", missing.Message);
            var data = new RankingDataset(new float[2], 1, [1, 0], [0, 2], [5]);
            Assert.Throws<RankingDataException>(() => SubtopicJudgements.Read(qrels, data));
            var letor = new RankingDataset(new float[2], 1, [1, 0], [0, 2], [5], rowComments: ["docid = y", "docid = x"]);
            var judgements = SubtopicJudgements.Read(qrels, letor);
            Assert.Equal(new[] { 0, 0, 1 }, judgements.RowOffsets);
            // The dataset overload of the evaluator takes them: x (second row) ranks first.
            var report = RankingEvaluator.Evaluate(letor, [1, 2], MetricSpec.ParseList("alpha-ndcg@1"), NdcgContract.Default, subtopics: judgements);
            Assert.Equal(1.0, report.PerQuery[0][0], 12);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Diversity_metrics_without_judgements_say_what_is_missing()
    {
        var error = Assert.Throws<RankingDataException>(() =>
            RankingEvaluator.Evaluate([1, 0], [0, 2], null, [1, 2], MetricSpec.ParseList("ndcg@2,alpha-ndcg@10"), NdcgContract.Default));
        Assert.Contains("alpha-ndcg@10 reads subtopic judgements", error.Message);
        var wrongShape = Judgements([0, 1], [[0]]);
        Assert.Throws<RankingDataException>(() =>
            RankingEvaluator.Evaluate([1, 0], [0, 2], null, [1, 2], MetricSpec.ParseList("alpha-ndcg@10"), NdcgContract.Default, subtopics: wrongShape));
        Assert.Throws<ArgumentException>(() => new SubtopicJudgements([0, 2], [0, 1], [0]));
        Assert.Throws<ArgumentException>(() => new SubtopicJudgements([0, 1], [0, 1], [-1]));
    }

    [Fact]
    public void Metric_names_and_the_alpha_option()
    {
        Assert.Equal("alpha-ndcg@10", MetricSpec.Parse("alpha-nDCG@10:alpha=0.5").Name);
        Assert.Equal("alpha-ndcg@10:alpha=0.25", MetricSpec.Parse("alpha_ndcg@10:alpha=0.25").Name);
        Assert.Equal(0.25, MetricSpec.Parse("alpha-dcg@5:alpha=0.25").Alpha);
        Assert.True(MetricSpec.Parse("alpha-ndcg").IsDiversity);
        Assert.Throws<FormatException>(() => MetricSpec.Parse("alpha-ndcg@10:alpha=1.5"));
        Assert.Throws<FormatException>(() => MetricSpec.Parse("ndcg@10:alpha=0.5"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MetricSpec(MetricKind.AlphaNdcg, 10, alpha: -0.1));
    }

    [Fact]
    public void Judged_only_removes_unjudged_rows_and_their_subtopics()
    {
        // Row 0 is unjudged (-1) and covers subtopic 0 as row 1 does: judged=only removes it, so rows 1 and 2 cover two
        // subtopics in the top 2; kept, rows 0 and 1 repeat one.
        var judgements = Judgements([0, 3], [[0], [0], [1]]);
        var report = RankingEvaluator.Evaluate([-1, 1, 1], [0, 3], null, [3, 2, 1], MetricSpec.ParseList("alpha-dcg@2"),
            NdcgContract.Parse("default,unjudged=-1,judged=only"), subtopics: judgements);
        Assert.Equal(1 + D(2), report.PerQuery[0][0], 12);
        var kept = RankingEvaluator.Evaluate([-1, 1, 1], [0, 3], null, [3, 2, 1], MetricSpec.ParseList("alpha-dcg@2"),
            NdcgContract.Parse("default,unjudged=-1"), subtopics: judgements);
        Assert.Equal(1 + 0.5 * D(2), kept.PerQuery[0][0], 12);
    }

    /// <summary>
    /// The definition written out naively (dictionaries, a full stable sort, the greedy over every row) against the
    /// evaluator on random lists, through its insertion, selection and full-sort paths and on several threads.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(17)]
    public void Random_lists_match_a_direct_implementation_of_the_definition(int seed)
    {
        var rng = new Random(seed);
        var offsets = new List<int> { 0 };
        var scores = new List<float>();
        var sets = new List<int[]>();
        var grades = new List<int[]>();
        for (int q = 0; q < 60; q++)
        {
            int n = 1 + rng.Next(q % 3 == 0 ? 200 : 25), subtopics = 1 + rng.Next(6);
            for (int i = 0; i < n; i++)
            {
                scores.Add(rng.Next(3) == 0 ? rng.Next(4) : (float)rng.NextDouble());
                int[] set = Enumerable.Range(0, subtopics).Where(_ => rng.Next(3) == 0).ToArray();
                sets.Add(set);
                grades.Add(set.Select(_ => 1 + rng.Next(2)).ToArray());
            }
            offsets.Add(scores.Count);
        }
        var judgements = Judgements(offsets.ToArray(), sets.ToArray(), grades.ToArray());
        // Short cut-offs only (the top-k insertion buffer), a cut-off past 32 (selection), and the whole list (full sort).
        string[][] lists =
        [
            ["alpha-ndcg@1", "alpha-ndcg@3", "alpha-ndcg@10", "alpha-ndcg@5:alpha=0.8"],
            ["alpha-ndcg@40", "alpha-dcg@20:alpha=0.3"],
            ["alpha-ndcg", "alpha-ndcg@10", "ndcg@10"],
        ];
        foreach (var (names, threads) in lists.SelectMany(l => new[] { (l, 1), (l, 3) }))
        {
            var report = RankingEvaluator.Evaluate(new float[scores.Count], offsets.ToArray(), null, scores.ToArray(),
                MetricSpec.ParseList(string.Join(",", names)), NdcgContract.Default, threads: threads, subtopics: judgements);
            for (int m = 0; m < names.Length; m++)
            {
                var spec = MetricSpec.Parse(names[m]);
                if (!spec.IsDiversity) continue;
                for (int q = 0; q + 1 < offsets.Count; q++)
                {
                    int start = offsets[q], n = offsets[q + 1] - start;
                    var rows = Enumerable.Range(start, n).ToArray();
                    var ranked = rows.OrderByDescending(r => scores[r]).ToArray();   // stable: input order among ties
                    int cut = spec.K == 0 ? n : Math.Min(spec.K, n);
                    double dcg = DirectAlphaDcg(ranked.Take(cut), sets, grades, spec.Alpha);
                    double expected = dcg;
                    if (spec.Kind == MetricKind.AlphaNdcg)
                    {
                        double ideal = DirectGreedyIdeal(rows, cut, sets, grades, spec.Alpha);
                        expected = ideal > 0 ? dcg / ideal : 1.0;
                    }
                    Assert.Equal(expected, report.PerQuery[m][q], 10);
                }
            }
        }
    }

    /// <summary>ndeval's bookkeeping: a factor per subtopic, multiplied by (1 - alpha) once per covering (per grade unit).</summary>
    private static double DirectAlphaDcg(IEnumerable<int> ranked, List<int[]> sets, List<int[]> grades, double alpha)
    {
        var factor = new Dictionary<int, double>();
        double dcg = 0;
        int rank = 1;
        foreach (int row in ranked)
        {
            dcg += DirectGain(row, sets, grades, factor) * D(rank++);
            Cover(row, sets, grades, factor, alpha);
        }
        return dcg;
    }

    private static double DirectGain(int row, List<int[]> sets, List<int[]> grades, Dictionary<int, double> factor) =>
        sets[row].Select((t, e) => grades[row][e] * factor.GetValueOrDefault(t, 1.0)).Sum();

    private static void Cover(int row, List<int[]> sets, List<int[]> grades, Dictionary<int, double> factor, double alpha)
    {
        for (int e = 0; e < sets[row].Length; e++)
            for (int g = 0; g < grades[row][e]; g++)
                factor[sets[row][e]] = factor.GetValueOrDefault(sets[row][e], 1.0) * (1 - alpha);
    }

    private static double DirectGreedyIdeal(int[] rows, int cut, List<int[]> sets, List<int[]> grades, double alpha)
    {
        var left = rows.ToList();
        var chosen = new List<int>();
        var factor = new Dictionary<int, double>();
        for (int rank = 0; rank < cut && left.Count > 0; rank++)
        {
            int best = left[0];
            foreach (int row in left)
                if (DirectGain(row, sets, grades, factor) > DirectGain(best, sets, grades, factor)) best = row;
            Cover(best, sets, grades, factor, alpha);
            chosen.Add(best);
            left.Remove(best);
        }
        return DirectAlphaDcg(chosen, sets, grades, alpha);
    }
}
