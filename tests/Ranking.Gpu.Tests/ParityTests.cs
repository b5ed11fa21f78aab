using Ranking.Gpu.Diagnostics;
using Ranking.Metrics;

namespace Ranking.Gpu.Tests;

/// <summary>Every kernel against the CPU path (GpuParity: metrics under every contract, objectives, ranks).</summary>
public class ParityTests
{
    private static readonly ParityData Data = ParityData.Generate(seed: 11);

    public static TheoryData<int> ContractIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < GpuParity.Contracts().Count(); i++) data.Add(i);
        return data;
    }

    public static TheoryData<int> ObjectiveIndices()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < GpuParity.Objectives().Count(); i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(ContractIndices))]
    public void Metrics_match_the_cpu_evaluator(int contractIndex)
    {
        NdcgContract contract = GpuParity.Contracts().ElementAt(contractIndex);
        var result = GpuParity.CheckMetrics(TestDevice.Cpu, Data, contract);
        Assert.True(result.Passed, result.ToString());
    }

    [Theory]
    [MemberData(nameof(ContractIndices))]
    public void Metrics_from_the_segmented_sort_match_the_cpu_evaluator(int contractIndex)
    {
        NdcgContract contract = GpuParity.Contracts().ElementAt(contractIndex);
        var result = GpuParity.CheckMetrics(TestDevice.Cpu, Data, contract, sorted: true);
        Assert.True(result.Passed, result.ToString());
    }

    public static TheoryData<int, bool> DiversityCases()
    {
        var data = new TheoryData<int, bool>();
        for (int i = 0; i < GpuParity.DiversityContracts().Count(); i++)
            foreach (bool sorted in new[] { false, true }) data.Add(i, sorted);
        return data;
    }

    /// <summary>alpha-NDCG / alpha-DCG (the diversity kernel over counted or sorted rankings) against the CPU evaluator.</summary>
    [Theory]
    [MemberData(nameof(DiversityCases))]
    public void Diversity_metrics_match_the_cpu_evaluator(int contractIndex, bool sorted)
    {
        NdcgContract contract = GpuParity.DiversityContracts().ElementAt(contractIndex);
        var result = GpuParity.CheckDiversityMetrics(TestDevice.Cpu, Data, contract, sorted);
        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void Diversity_parity_data_is_not_degenerate()
    {
        // The judgements the parity check uses give many different alpha-NDCG values, and leave the unnamed query out.
        var (binary, _, ids) = GpuParity.DiversityJudgements(Data);
        var values = RankingEvaluator.Evaluate(Data.Labels, Data.Offsets, null, Data.Scores, MetricSpec.ParseList("alpha-ndcg@5"), NdcgContract.Default,
            documentIds: ids, subtopics: binary).PerQuery[0];
        Assert.True(double.IsNaN(values[2]));
        Assert.True(values.Where(double.IsFinite).Distinct().Count() > 15, string.Join(" ", values));
        Assert.True(binary.DocumentsNotInData > 0);
    }

    [Theory]
    [MemberData(nameof(ObjectiveIndices))]
    public void Objectives_match_the_cpu_path(int objectiveIndex)
    {
        var entry = GpuParity.Objectives().ElementAt(objectiveIndex);
        var results = GpuParity.CheckObjective(TestDevice.Cpu, Data, entry).ToList();
        Assert.NotEmpty(results);
        foreach (var r in results) Assert.True(r.Passed, r.ToString());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ranks_are_the_cpu_stable_order(bool sorted)
    {
        var result = GpuParity.CheckRanks(TestDevice.Cpu, Data, sorted);
        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void Long_query_forms_match_the_cpu_path()
    {
        var results = GpuParity.CheckRowParallelPairs(TestDevice.Cpu, Data).ToList();
        // ranknet x2, ranksvm x2, contrastive-pairs x1 (the sampled variants stay per query), ipw-ranknet x2,
        // ipw-lambdarank x2 (click-weighted pairs; IPW LambdaRank reads discounts of the ranks), listmle x2,
        // each with and without query weights.
        Assert.Equal(22, results.Count);
        foreach (var r in results) Assert.True(r.Passed, r.ToString());
    }

    [Fact]
    public void LambdaRank_with_sorted_ranks_matches_the_cpu_path()
    {
        var results = GpuParity.CheckSortedLambdaRank(TestDevice.Cpu, Data).ToList();
        Assert.NotEmpty(results);
        foreach (var r in results) Assert.True(r.Passed, r.ToString());
    }

    [Theory]
    [InlineData(new[] { 8, 5 })]
    [InlineData(new[] { 6 })]
    [InlineData(new int[0])]
    public void Mlp_forward_backward_and_adam_match_the_cpu(int[] hidden)
    {
        var result = GpuParity.CheckMlp(TestDevice.Cpu, hidden, seed: 3);
        Assert.True(result.Passed, result.ToString());
    }

    [Fact]
    public void A_wrong_kernel_result_is_caught()
    {
        // The comparison itself must be able to fail: perturb the GPU side by evaluating other scores.
        var shifted = Data with { Scores = Data.Scores.Select((s, i) => i % 3 == 0 ? -s : s).ToArray() };
        var metrics = MetricSpec.ParseList("ndcg@10");
        var cpu = RankingEvaluator.Evaluate(Data.Labels, Data.Offsets, null, Data.Scores, metrics, NdcgContract.Default).PerQuery[0];
        var gpu = new GpuMetricsBackend(TestDevice.Cpu).ComputePerQuery(shifted.Labels, shifted.Offsets, shifted.Scores, metrics, NdcgContract.Default, 4)[0];
        Assert.Contains(Enumerable.Range(0, cpu.Length), q => Math.Abs(cpu[q] - gpu[q]) > 1e-3);
    }
}
