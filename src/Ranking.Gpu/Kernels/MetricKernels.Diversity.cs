using ILGPU;
using ILGPU.Runtime;
using Ranking.Numerics;

namespace Ranking.Gpu.Kernels;

// The diversity metrics' part of the metric kernels (alpha-NDCG, alpha-DCG): its own file, so each kernel file
// holds one family.
public sealed partial class MetricKernels
{
    /// <summary>What the diversity walk reads: the ranking, the subtopic judgements and their scratch.</summary>
    public struct DiversityInputs
    {
        /// <summary>The set's rows and queries.</summary>
        public QueryArrays Query;
        /// <summary>The metric (alpha-NDCG or alpha-DCG, its cut-off, empty value and alpha) and the contract's discount.</summary>
        public MetricKernelSettings Settings;
        /// <summary>Rows in ranking order, laid out as <see cref="WalkInputs.Order"/>.</summary>
        public ArrayView<int> Order;
        /// <summary>The subtopic judgements (CSR arrays by row) and the walk's scratch: coverage per query subtopic, taken flag per candidate.</summary>
        public SubtopicArrays Subtopics;
    }

    /// <summary>One query's alpha-NDCG or alpha-DCG from its ordered rows and subtopic judgements, a thread per query.</summary>
    private static void DiversityKernel(Index1D index, DiversityInputs d, ArrayView<double> perQuery)
    {
        var qa = d.Query;
        int q = index + qa.QueryBase;
        int start = qa.Offsets[q], n = qa.Offsets[q + 1] - start;
        if (n <= 0)
        {
            perQuery[q] = double.NaN;
            return;
        }
        var j = d.Subtopics;
        var query = new DeviceSubtopicQuery
        {
            Order = d.Order, Seg = start - qa.RowBase, N = n, Judgements = j,
            FirstCandidate = j.CandidateOffsets[q], Candidates = j.CandidateOffsets[q + 1] - j.CandidateOffsets[q],
            CoverageBase = j.CoverageOffsets[q], Subtopics = j.CoverageOffsets[q + 1] - j.CoverageOffsets[q],
            DiscountKind = d.Settings.Discount, DiscountOffset = d.Settings.DiscountOffset,
        };
        perQuery[q] = DiversityWalks.Evaluate(query, d.Settings.Walk, d.Settings.Alpha);
    }
}
