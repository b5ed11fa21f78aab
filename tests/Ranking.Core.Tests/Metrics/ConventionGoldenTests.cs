using Ranking.Data;
using Ranking.Metrics;
using Ranking.Numerics;

namespace Ranking.Core.Tests.Metrics;

/// <summary>
/// The conventions of trec_eval, TF-Ranking, scikit-learn, torchmetrics and ranx (issue 17), pinned on small
/// lists: numbers worked out by hand from each tool's documented definition, or taken from the examples in the
/// tools' own documentation (docstrings of tfr.keras.metrics, sklearn.metrics.dcg_score, torchmetrics'
/// retrieval_average_precision), as each test says.
/// </summary>
public class ConventionGoldenTests
{
    private static double One(string metric, string contract, float[] labels, float[] scores,
        IReadOnlyList<string?>? ids = null, float[]? weights = null) =>
        RankingEvaluator.Evaluate(labels, [0, labels.Length], null, scores, MetricSpec.ParseList(metric), NdcgContract.Parse(contract),
            documentIds: ids, documentWeights: weights).PerQuery[0][0];

    [Fact]
    public void TF_Ranking_docstring_examples_MAP_at_2_ARP_and_OPA()
    {
        // tfr.keras.metrics docstrings: y_true [[0, 1, 1]], y_pred [[3, 1, 2]].
        Assert.Equal(0.25, One("map@2", "tfr", [0, 1, 1], [3, 1, 2]), 12);
        Assert.Equal(2.5, One("arp", "tfr", [0, 1, 1], [3, 1, 2]), 12);
        // OPA: y_true [[0, 1, 2]], y_pred [[3, 1, 2]]: one pair of three in order.
        Assert.Equal(1.0 / 3, One("opa", "tfr", [0, 1, 2], [3, 1, 2]), 12);
    }

    [Fact]
    public void AP_at_k_divides_by_min_k_R_all_R_or_the_hits_as_chosen()
    {
        // Relevant, non-relevant, relevant, relevant: AP@2's sum of precisions is 1 (one hit at place 1).
        float[] labels = [1, 0, 1, 1], scores = [4, 3, 2, 1];
        Assert.Equal(0.5, One("map@2", "default", labels, scores), 12);               // / min(2, 3)
        Assert.Equal(1.0 / 3, One("map@2", "trec", labels, scores, ["d", "c", "b", "a"]), 12); // / R
        Assert.Equal(1.0 / 3, One("map@2:denom=all", "default", labels, scores), 12);
        Assert.Equal(1.0, One("map@2", "torchmetrics", labels, scores), 12);          // / hits in the top 2
        Assert.Equal(0.5, One("map@2:denom=min", "tfr", labels, scores), 12);          // the metric overrides the preset
    }

    [Fact]
    public void Torchmetrics_docstring_example_average_precision()
    {
        // retrieval_average_precision(tensor([0.2, 0.3, 0.5]), tensor([True, False, True])) = 0.8333.
        Assert.Equal(5.0 / 6, One("map", "torchmetrics", [1, 0, 1], [0.2f, 0.3f, 0.5f]), 12);
    }

    [Fact]
    public void Sklearn_dcg_score_docstring_examples_and_its_log_base()
    {
        float[] relevance = [10, 0, 0, 1, 5], scores = [0.1f, 0.2f, 0.3f, 4, 70];
        Assert.Equal(5 + 1 / Math.Log2(3) + 10 / Math.Log2(6), One("dcg", "sklearn", relevance, scores), 12);   // 9.49...
        Assert.Equal(5 + 1 / Math.Log2(3), One("dcg@2", "sklearn", relevance, scores), 12);                    // 5.63...
        Assert.Equal(7.5, One("dcg@1", "sklearn", relevance, [1, 0, 0, 0, 1]), 12);                            // tie of 10 and 5
        // log_base=10: 5/log10(2) + 1/log10(3) + 10/log10(6).
        Assert.Equal(31.556515838110883, One("dcg", "sklearn,discount=log10", relevance, scores), 10);
        // NDCG does not depend on the log base; 1/rank discounts (TF-Ranking's custom rank_discount_fn) do change it.
        Assert.Equal(One("ndcg", "sklearn", relevance, scores), One("ndcg", "sklearn,discount=log10", relevance, scores), 12);
        Assert.Equal(0.5, One("ndcg", "sklearn,discount=rank", [0, 1], [2, 1]), 12);
        Assert.Equal(1 / Math.Log2(3), One("ndcg", "sklearn", [0, 1], [2, 1]), 12);
    }

    [Fact]
    public void Negative_grades_are_refused_unless_the_contract_allows_them()
    {
        var error = Assert.Throws<RankingDataException>(() => One("dcg", "sklearn", [-1, 2], [1, 0]));
        Assert.Contains("negative", error.Message);
        // scikit-learn's dcg_score takes them: -1/log2(2) + 2/log2(3).
        Assert.Equal(0.26185950714291506, One("dcg", "sklearn,negative=allow", [-1, 2], [1, 0]), 12);
    }

    [Fact]
    public void Trec_breaks_score_ties_by_document_id_descending_and_needs_ids()
    {
        // Three tied scores; trec_eval ranks c, b, a: the relevant "b" is second.
        float[] labels = [1, 0, 0], scores = [1, 1, 1];
        string[] ids = ["b", "a", "c"];
        Assert.Equal(0.5, One("mrr", "trec", labels, scores, ids), 12);
        Assert.Equal(1.0, One("mrr", "trec,ties=input", labels, scores, ids), 12);
        Assert.Throws<RankingDataException>(() => One("mrr", "trec", labels, scores));
    }

    [Fact]
    public void Dataset_doc_ids_come_from_LETOR_comments()
    {
        Assert.Equal("GX004-93-7097963", DocumentIds.FromComment(" docid = GX004-93-7097963 inc = 0.04 prob = 0.86"));
        Assert.Equal("D17", DocumentIds.FromComment(" D17 "));
        var data = new RankingDataset(new float[3], 1, [1, 0, 0], [0, 3], [7], rowComments: ["docid = b", "docid = a", "docid = c"]);
        var report = RankingEvaluator.Evaluate(data, [1, 1, 1], MetricSpec.ParseList("mrr"), NdcgContract.FromPreset("trec"));
        Assert.Equal(0.5, report.PerQuery[0][0], 12);
    }

    [Fact]
    public void Relevance_level_counts_grades_at_or_above_it()
    {
        float[] labels = [1, 2, 0, 2], scores = [4, 3, 2, 1];
        Assert.Equal(2.0 / 4, One("p@4:level=2", "default", labels, scores), 12);
        Assert.Equal(3.0 / 4, One("p@4", "default", labels, scores), 12);
        Assert.Equal(2.0 / 4, One("p@4", "default,level=2", labels, scores), 12);
        Assert.Equal(0.5, One("mrr", "default,level=2", labels, scores), 12);
    }

    [Fact]
    public void R_precision_success_and_bpref_by_hand()
    {
        // R = 3; the top 3 hold 2 relevant rows.
        Assert.Equal(2.0 / 3, One("rprec", "default", [1, 0, 1, 0, 1], [5, 4, 3, 2, 1]), 12);
        Assert.Equal(0.0, One("success@2", "default", [0, 0, 1], [3, 2, 1]), 12);
        Assert.Equal(1.0, One("hit@3", "default", [0, 0, 1], [3, 2, 1]), 12);
        // Three tied rows, one relevant: P(it is first) = 1/3; P(within two places) = 1 - (2/3)(1/2) = 2/3.
        Assert.Equal(1.0 / 3, One("success@1", "default", [0, 0, 1], [1, 1, 1]), 12);
        Assert.Equal(2.0 / 3, One("success@2", "default", [0, 0, 1], [1, 1, 1]), 12);
        // bpref (trec_eval's formula), R = N = 2: non-rel, rel (1 - 1/2), non-rel, rel (1 - 2/2) -> 0.5 / 2.
        Assert.Equal(0.25, One("bpref", "default", [0, 1, 0, 1], [4, 3, 2, 1]), 12);
        Assert.Equal(1.0, One("bpref", "default", [1, 1, 0, 0], [4, 3, 2, 1]), 12);
    }

    [Fact]
    public void Averaged_ties_give_ARP_and_OPA_expectations()
    {
        // Two tied rows of grades 1 and 0: ARP puts the relevant row at place 1.5; OPA's one pair counts 1/2.
        Assert.Equal(1.5, One("arp", "default", [1, 0], [1, 1]), 12);
        Assert.Equal(0.5, One("opa", "default", [1, 0], [1, 1]), 12);
        Assert.Equal(0.0, One("opa", "default,ties=pessimistic", [1, 0], [1, 1]), 12);
    }

    [Fact]
    public void Document_weights_multiply_gains_and_reorder_the_ideal_list()
    {
        // TF-Ranking's per-item weights: weighted gains 2*(2^1-1) = 2 and 1*(2^2-1) = 3; the ideal list sorts them.
        double expected = (2 + 3 / Math.Log2(3)) / (3 + 2 / Math.Log2(3));
        Assert.Equal(expected, One("ndcg", "tfr", [1, 2], [2, 1], weights: [2, 1]), 12);
        Assert.Equal(0.9134015924715543, expected, 12);
    }

    [Fact]
    public void Unjudged_rows_are_removed_with_judged_only_or_count_as_non_relevant()
    {
        float[] labels = [-1, 1, 0], scores = [3, 2, 1];
        Assert.Equal(1.0, One("mrr", "default,unjudged=-1,judged=only", labels, scores), 12);
        Assert.Equal(0.5, One("mrr", "default,unjudged=-1", labels, scores), 12);
        Assert.Equal(1.0, One("ndcg", "default,unjudged=-1,judged=only", labels, scores), 12);
        Assert.Throws<ArgumentException>(() => NdcgContract.Parse("default,judged=only"));
    }

    [Fact]
    public void Whole_list_metrics_refuse_a_cut_off_and_options_are_named()
    {
        Assert.Throws<FormatException>(() => MetricSpec.Parse("arp@5"));
        Assert.Throws<FormatException>(() => MetricSpec.Parse("map:denom=some"));
        Assert.Equal("map@10:denom=all", MetricSpec.Parse("MAP@10:denom=all").Name);
        Assert.Equal("p@5:level=2", MetricSpec.Parse("p@5:level=2").Name);
        Assert.Equal(ApDenominator.AllRelevant, NdcgContract.FromPreset("trec").ApDenominator);
        Assert.Contains("docno-descending", NdcgContract.FromPreset("trec").Describe());
    }

    [Fact]
    public void InfAP_by_hand_with_pooled_unjudged_and_unpooled_rows()
    {
        // trec_eval's m_infAP.c. Ranked: relevant, pooled-unjudged (-1), non-relevant, relevant, outside the pool
        // (grade -2 marked unjudged by the contract: a document the qrels do not name), relevant. R = 3 judged relevant.
        const double e = Ranking.Numerics.MetricWalks.InferredApEpsilon;
        double place3 = 1.0 / 4 + 3.0 / 4 * (3.0 / 3) * ((1 + e) / (2 + 2 * e));       // 1 rel, 1 non-rel, 1 unjudged above
        double place5 = 1.0 / 6 + 5.0 / 6 * (4.0 / 5) * ((2 + e) / (3 + 2 * e));       // 2 rel, 1 non-rel, 1 unjudged above
        double expected = (1 + place3 + place5) / 3;
        Assert.Equal(expected, One("infap", "default,unjudged=-2", [1, -1, 0, 1, -2, 1], [6, 5, 4, 3, 2, 1]), 12);
        Assert.Equal(0.745370, expected, 6);
        // The same rows without the pool marks: the -1 row is a judged non-relevant row for AP, the -2 row too.
        Assert.Equal((1 + 2.0 / 4 + 3.0 / 6) / 3, One("map", "default,ties=input", [1, 0, 0, 1, 0, 1], [6, 5, 4, 3, 2, 1]), 12);
        Assert.Throws<FormatException>(() => MetricSpec.Parse("infap@10"));
        Assert.Equal("infap:level=2", MetricSpec.Parse("infAP:level=2").Name);
    }

    [Fact]
    public void InfAP_with_complete_judgements_is_AP()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 50; trial++)
        {
            int n = 1 + rng.Next(40);
            float[] labels = Enumerable.Range(0, n).Select(_ => (float)rng.Next(3)).ToArray();
            float[] scores = Enumerable.Range(0, n).Select(_ => (float)rng.Next(10)).ToArray();
            foreach (string contract in new[] { "trec", "default,ties=input", "default,ties=pessimistic,level=2" })
            {
                var ids = Enumerable.Range(0, n).Select(i => $"d{i:D2}").ToArray();
                double infap = One("infap", contract, labels, scores, ids), ap = One("map", contract, labels, scores, ids);
                // Equal up to trec_eval's epsilon e in the precision estimate: each relevant row's term is off by at most e.
                Assert.True(Math.Abs(infap - ap) <= 2 * Ranking.Numerics.MetricWalks.InferredApEpsilon, $"{contract}: infAP {infap} vs AP {ap}");
            }
        }
    }
}
