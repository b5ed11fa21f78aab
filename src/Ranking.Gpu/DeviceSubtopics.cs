using ILGPU;
using ILGPU.Runtime;
using Ranking.Metrics;

namespace Ranking.Gpu;

/// <summary>
/// <see cref="SubtopicJudgements"/> on the device, as a kernel argument: the CSR arrays indexed by absolute row,
/// query and candidate, and the diversity walk's scratch (coverage per query subtopic, taken flag per candidate).
/// </summary>
public struct SubtopicArrays
{
    /// <summary>rows + 1 offsets into <see cref="RowSubtopics"/> / <see cref="RowGrades"/>.</summary>
    public ArrayView<int> RowOffsets;
    /// <summary>Each row's relevant subtopics, numbered within its query.</summary>
    public ArrayView<int> RowSubtopics;
    /// <summary>Their grades.</summary>
    public ArrayView<int> RowGrades;
    /// <summary>queries + 1 offsets into <see cref="Coverage"/>: query q's subtopics are [CoverageOffsets[q], CoverageOffsets[q + 1]).</summary>
    public ArrayView<int> CoverageOffsets;
    /// <summary>queries + 1 offsets into the candidates.</summary>
    public ArrayView<int> CandidateOffsets;
    /// <summary>candidates + 1 offsets into <see cref="CandidateSubtopics"/> / <see cref="CandidateGrades"/>.</summary>
    public ArrayView<int> CandidateEntryOffsets;
    /// <summary>Each candidate's relevant subtopics, numbered within its query.</summary>
    public ArrayView<int> CandidateSubtopics;
    /// <summary>Their grades.</summary>
    public ArrayView<int> CandidateGrades;
    /// <summary>Scratch: (1 - alpha)^(times covered) per query subtopic.</summary>
    public ArrayView<double> Coverage;
    /// <summary>Scratch: 1 when the greedy ideal has placed the candidate.</summary>
    public ArrayView<int> Taken;
}

/// <summary>Subtopic judgements uploaded once for a metric evaluation; disposing frees the device buffers.</summary>
public sealed class DeviceSubtopicJudgements : IDisposable
{
    private readonly MemoryBuffer1D<int, Stride1D.Dense>[] _ints;
    private readonly MemoryBuffer1D<double, Stride1D.Dense> _coverage;

    /// <summary>Uploads <paramref name="judgements"/> to <paramref name="device"/>.</summary>
    public DeviceSubtopicJudgements(GpuDevice device, SubtopicJudgements judgements)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(judgements);
        var coverageOffsets = new int[judgements.QueryCount + 1];
        for (int q = 0; q < judgements.QueryCount; q++) coverageOffsets[q + 1] = coverageOffsets[q] + judgements.SubtopicCounts[q];
        int candidates = judgements.CandidateEntryOffsets.Length - 1;
        _ints =
        [
            device.Upload(judgements.RowOffsets), device.Upload(judgements.RowSubtopics), device.Upload(judgements.RowGrades),
            device.Upload(coverageOffsets), device.Upload(judgements.CandidateOffsets), device.Upload(judgements.CandidateEntryOffsets),
            device.Upload(judgements.CandidateSubtopics), device.Upload(judgements.CandidateGrades), device.Upload(new int[candidates]),
        ];
        _coverage = device.Upload(new double[coverageOffsets[^1]]);
        Arrays = new SubtopicArrays
        {
            RowOffsets = _ints[0].View, RowSubtopics = _ints[1].View, RowGrades = _ints[2].View, CoverageOffsets = _ints[3].View,
            CandidateOffsets = _ints[4].View, CandidateEntryOffsets = _ints[5].View, CandidateSubtopics = _ints[6].View,
            CandidateGrades = _ints[7].View, Taken = _ints[8].View, Coverage = _coverage.View,
        };
    }

    /// <summary>The kernel argument.</summary>
    public SubtopicArrays Arrays { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var buffer in _ints) buffer.Dispose();
        _coverage.Dispose();
    }
}
