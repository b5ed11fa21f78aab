using ILGPU;
using Ranking.Numerics;

namespace Ranking.Gpu.Kernels;

/// <summary>
/// One query's rows in ranking order on the device, for <see cref="MetricWalks"/>: the ranking and the ideal
/// ranking (rows by descending gain) come from a segmented sort or from counting ranks, query after query, so
/// this query's places are [Seg, Seg + N) of the order views.
/// </summary>
internal struct SortedRankedQuery : IRankedQuery
{
    /// <summary>Rows in ranking order.</summary>
    public ArrayView<int> Order;
    /// <summary>Rows in descending gain order (read by NDCG only).</summary>
    public ArrayView<int> IdealOrder;
    public ArrayView<float> Labels;
    public ArrayView<float> Scores;
    public ArrayView<double> Gains;
    /// <summary>The query's first row.</summary>
    public int Start;
    /// <summary>The query's first place in the order views (its first row minus the launch's first row).</summary>
    public int Seg;
    public int N;
    /// <summary>A <see cref="DiscountKind"/> and its offset.</summary>
    public int DiscountKind;
    public double DiscountOffset;

    public readonly int RowCount => N;

    public readonly float Grade(int place) => Labels[Order[Seg + place]];

    public readonly double Gain(int place) => Gains[Order[Seg + place]];

    public readonly double IdealGain(int place) => Gains[IdealOrder[Seg + place]];

    public readonly int CountRelevant(double threshold) => DeviceRows.CountRelevant(Labels, Start, N, threshold);

    public readonly int BlockEnd(int start)
    {
        uint score = RankingMath.DescendingScoreKey(Scores[Order[Seg + start]]);
        int e = start + 1;
        while (e < N && RankingMath.DescendingScoreKey(Scores[Order[Seg + e]]) == score) e++;
        return e;
    }

    public readonly double GainSum(int from, int to)
    {
        double sum = 0.0;
        for (int p = from; p < to; p++) sum += Gain(p);
        return sum;
    }

    public readonly double GradeSum(int from, int to)
    {
        double sum = 0.0;
        for (int p = from; p < to; p++) sum += Grade(p);
        return sum;
    }

    public readonly int RelevantIn(int from, int to, double threshold)
    {
        int r = 0;
        for (int p = from; p < to; p++) if (Grade(p) > threshold) r++;
        return r;
    }

    public readonly double Discount(int rank) => RankingMath.Discount(DiscountKind, DiscountOffset, rank);

    public readonly double DiscountSum(int from, int to) => RankingMath.DiscountSum(DiscountKind, DiscountOffset, from, to);
}

/// <summary>
/// The top <see cref="Held"/> places of one query, kept by one thread in small buffers in its local memory
/// (see <see cref="MetricKernels"/>' top-k kernel), for <see cref="MetricWalks"/>. Under averaged ties the run
/// of tied rows at the cut may reach past it: its held rows are the last held places, the rest (same score,
/// later rows: the tail) are read from the query in input order, only as a block total, as the CPU sums them.
/// </summary>
internal struct TopKRankedQuery : IRankedQuery
{
    /// <summary>Held order keys: score key in the high half, tie-policy grade key in the low half.</summary>
    public ArrayView<ulong> Keys;
    /// <summary>Held rows' positions in the query.</summary>
    public ArrayView<int> Positions;
    /// <summary>The largest gains, descending (NDCG only).</summary>
    public ArrayView<double> IdealGains;
    public int Held;
    public ArrayView<float> Labels;
    public ArrayView<float> Scores;
    public ArrayView<double> Gains;
    public int Start;
    public int N;
    public int DiscountKind;
    public double DiscountOffset;
    /// <summary>Score key of the last held place, and how many rows with it follow the last held row.</summary>
    public uint BoundaryScore;
    public int TailCount;

    public readonly int RowCount => N;

    public readonly float Grade(int place) => Labels[Start + Positions[place]];

    public readonly double Gain(int place) => Gains[Start + Positions[place]];

    public readonly double IdealGain(int place) => IdealGains[place];

    public readonly int CountRelevant(double threshold) => DeviceRows.CountRelevant(Labels, Start, N, threshold);

    public readonly int BlockEnd(int start)
    {
        uint score = (uint)(Keys[start] >> 32);
        if (score == BoundaryScore) return Held + TailCount;
        int e = start + 1;
        while (e < Held && (uint)(Keys[e] >> 32) == score) e++;
        return e;
    }

    /// <summary>Rows after the last held row with the boundary score: the places [Held, Held + TailCount) in order.</summary>
    private readonly bool InTail(int position) => RankingMath.DescendingScoreKey(Scores[Start + position]) == BoundaryScore;

    public readonly double GainSum(int from, int to)
    {
        double sum = 0.0;
        for (int p = from; p < to && p < Held; p++) sum += Gain(p);
        if (to > Held)
            for (int p = Positions[Held - 1] + 1; p < N; p++)
                if (InTail(p)) sum += Gains[Start + p];
        return sum;
    }

    public readonly double GradeSum(int from, int to)
    {
        double sum = 0.0;
        for (int p = from; p < to && p < Held; p++) sum += Grade(p);
        if (to > Held)
            for (int p = Positions[Held - 1] + 1; p < N; p++)
                if (InTail(p)) sum += Labels[Start + p];
        return sum;
    }

    public readonly int RelevantIn(int from, int to, double threshold)
    {
        int r = 0;
        for (int p = from; p < to && p < Held; p++) if (Grade(p) > threshold) r++;
        if (to > Held)
            for (int p = Positions[Held - 1] + 1; p < N; p++)
                if (InTail(p) && Labels[Start + p] > threshold) r++;
        return r;
    }

    /// <summary>Counts the tail (rows after the last held one with its score): needed when ties are averaged.</summary>
    public void CountTail()
    {
        BoundaryScore = (uint)(Keys[Held - 1] >> 32);
        TailCount = 0;
        for (int p = Positions[Held - 1] + 1; p < N; p++)
            if (InTail(p)) TailCount++;
    }

    public readonly double Discount(int rank) => RankingMath.Discount(DiscountKind, DiscountOffset, rank);

    public readonly double DiscountSum(int from, int to) => RankingMath.DiscountSum(DiscountKind, DiscountOffset, from, to);
}

/// <summary>Row scans both device queries share.</summary>
internal static class DeviceRows
{
    /// <summary>Rows [start, start + n) with a grade above the threshold.</summary>
    public static int CountRelevant(ArrayView<float> labels, int start, int n, double threshold)
    {
        int r = 0;
        for (int i = start; i < start + n; i++) if (labels[i] > threshold) r++;
        return r;
    }
}

/// <summary>
/// One query's ranking (from counting or the segmented sort, as <see cref="SortedRankedQuery"/>) with its subtopic
/// judgements and this query's slices of the walk's scratch, for <see cref="DiversityWalks"/>.
/// </summary>
internal struct DeviceSubtopicQuery : ISubtopicRankedQuery
{
    /// <summary>Rows in ranking order; this query's places are [Seg, Seg + N).</summary>
    public ArrayView<int> Order;
    public int Seg;
    public int N;
    public SubtopicArrays Judgements;
    /// <summary>The query's first candidate, candidate count, first coverage slot and subtopic count.</summary>
    public int FirstCandidate;
    public int Candidates;
    public int CoverageBase;
    public int Subtopics;
    public int DiscountKind;
    public double DiscountOffset;

    public readonly int RowCount => N;

    public readonly int SubtopicCount => Subtopics;

    public readonly int CandidateCount => Candidates;

    public readonly int RowEntryCount(int place)
    {
        int row = Order[Seg + place];
        return Judgements.RowOffsets[row + 1] - Judgements.RowOffsets[row];
    }

    public readonly int RowSubtopic(int place, int entry) => Judgements.RowSubtopics[Judgements.RowOffsets[Order[Seg + place]] + entry];

    public readonly int RowGrade(int place, int entry) => Judgements.RowGrades[Judgements.RowOffsets[Order[Seg + place]] + entry];

    public readonly int CandidateEntryCount(int candidate) =>
        Judgements.CandidateEntryOffsets[FirstCandidate + candidate + 1] - Judgements.CandidateEntryOffsets[FirstCandidate + candidate];

    public readonly int CandidateSubtopic(int candidate, int entry) =>
        Judgements.CandidateSubtopics[Judgements.CandidateEntryOffsets[FirstCandidate + candidate] + entry];

    public readonly int CandidateGrade(int candidate, int entry) =>
        Judgements.CandidateGrades[Judgements.CandidateEntryOffsets[FirstCandidate + candidate] + entry];

    public readonly double Coverage(int subtopic) => Judgements.Coverage[CoverageBase + subtopic];

    public readonly void SetCoverage(int subtopic, double value) => Judgements.Coverage[CoverageBase + subtopic] = value;

    public readonly bool Taken(int candidate) => Judgements.Taken[FirstCandidate + candidate] != 0;

    public readonly void SetTaken(int candidate, bool taken) => Judgements.Taken[FirstCandidate + candidate] = taken ? 1 : 0;

    public readonly double Discount(int rank) => RankingMath.Discount(DiscountKind, DiscountOffset, rank);
}
