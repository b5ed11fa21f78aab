using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.RadixSortOperations;
using ILGPU.Runtime;
using Ranking.Compute;

namespace Ranking.Gpu.Kernels;

/// <summary>
/// Every row's place within its query from one segmented sort, for sets with long queries where counting
/// (each row compares itself with every row of its query: O(n^2) per query) costs too much. The sort key
/// is the query (relative to the launch) in the high 32 bits and the row's descending key in the low 32
/// (<see cref="RankingMath.DescendingScoreKey"/>: integers, so ILGPU.Algorithms' float radix-sort bug does
/// not apply), the value the row. ILGPU's radix sort is a least-significant-digit sort, which is stable
/// (every pass must keep the order of the previous one), and the keys are laid out in row order, so equal
/// keys keep input order: the ranks equal the CPU path's stable sort exactly.
/// </summary>
public sealed class SortedRankKernels
{
    private readonly Accelerator _accelerator;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, ArrayView<double>, int, ArrayView<ulong>, ArrayView<int>> _keys;
    private readonly Action<Index1D, QueryArrays, ArrayView<int>, ArrayView<int>> _scatter;
    private readonly RadixSortPairs<ulong, Stride1D.Dense, int, Stride1D.Dense> _sort;

    public SortedRankKernels(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _keys = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, ArrayView<double>, int, ArrayView<ulong>, ArrayView<int>>(KeyKernel);
        _scatter = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<int>, ArrayView<int>>(ScatterKernel);
        _sort = accelerator.CreateRadixSortPairs<ulong, Stride1D.Dense, int, Stride1D.Dense, AscendingUInt64>();
    }

    /// <summary>Scratch of one set for <see cref="Ranks"/>: keys, rows and the sort's temporary storage.</summary>
    public sealed class Buffers : IDisposable
    {
        internal Buffers(Accelerator accelerator, int rows)
        {
            Rows = rows;
            Keys = accelerator.Allocate1D<ulong>(Math.Max(1, rows));
            SortedRows = accelerator.Allocate1D<int>(Math.Max(1, rows));
            long temp = accelerator.ComputeRadixSortPairsTempStorageSize<ulong, int, AscendingUInt64>(Math.Max(1, rows));
            Temp = accelerator.Allocate1D<int>(Math.Max(1, temp));
            SecondRanks = accelerator.Allocate1D<int>(Math.Max(1, rows));
        }

        public int Rows { get; }
        internal MemoryBuffer1D<ulong, Stride1D.Dense> Keys { get; }
        internal MemoryBuffer1D<int, Stride1D.Dense> SortedRows { get; }
        internal MemoryBuffer1D<int, Stride1D.Dense> Temp { get; }
        /// <summary>An int per row for a second ranking (by gain, say) beside the caller's own.</summary>
        public MemoryBuffer1D<int, Stride1D.Dense> SecondRanks { get; }

        public void Dispose()
        {
            Keys.Dispose();
            SortedRows.Dispose();
            Temp.Dispose();
            SecondRanks.Dispose();
        }
    }

    public Buffers Allocate(int rows) => new(_accelerator, rows);

    /// <summary>
    /// ranks[row] = the row's 0-based place in its query for every row of <paramref name="range"/>: by score
    /// descending (<paramref name="byGain"/> false; ties in input order) or by gain descending (true; the
    /// gain rounded to float for the key, so gains closer than float precision keep input order).
    /// </summary>
    public void Ranks(QueryRange range, Buffers buffers, ArrayView<float> scores, ArrayView<double> gains, bool byGain, ArrayView<int> ranks)
    {
        int n = range.RowCount;
        if (n == 0) return;
        if (buffers.Rows < n) throw new ArgumentException("the sort buffers are smaller than the range.", nameof(buffers));
        var keys = buffers.Keys.View.SubView(0, n);
        var rows = buffers.SortedRows.View.SubView(0, n);
        _keys(n, range.Arrays, scores, gains, byGain ? 1 : 0, keys, rows);
        _sort(_accelerator.DefaultStream, keys, rows, buffers.Temp.View);
        _scatter(n, range.Arrays, rows, ranks);
    }

    private static void KeyKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, ArrayView<double> gains, int byGain, ArrayView<ulong> keys, ArrayView<int> rows)
    {
        int row = index + qa.RowBase;
        ulong query = (ulong)(uint)(qa.RowQuery[row] - qa.QueryBase);
        float value = byGain != 0 ? (float)gains[row] : scores[row];
        keys[index] = (query << 32) | RankingMath.DescendingScoreKey(value);
        rows[index] = row;
    }

    private static void ScatterKernel(Index1D index, QueryArrays qa, ArrayView<int> sortedRows, ArrayView<int> ranks)
    {
        // Queries are contiguous in row order, so query q's rows occupy sorted places [Offsets[q], Offsets[q+1]) - RowBase.
        int row = sortedRows[index];
        int q = qa.RowQuery[row];
        ranks[row] = index + qa.RowBase - qa.Offsets[q];
    }
}
