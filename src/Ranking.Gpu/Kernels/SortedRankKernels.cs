using Ranking.Numerics;
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
/// (<see cref="RankingMath.DescendingScoreKey(float, int)"/>: integers, so ILGPU.Algorithms' float radix-sort bug does
/// not apply), the value the row. ILGPU's radix sort is a least-significant-digit sort, which is stable
/// (every pass must keep the order of the previous one), and the keys are laid out in row order, so equal
/// keys keep input order: the ranks equal the CPU path's stable sort exactly.
/// </summary>
public sealed class SortedRankKernels
{
    /// <summary>
    /// Where kernels switch from counting to sorting: when counting would compare each row with more rows
    /// than this on average (<see cref="DeviceQuerySet.ComparisonsPerRow"/>: sum of squared query lengths /
    /// rows). mslr-like data (~200) stays on counting; one 100k-row query beside 1M short rows (~9,000)
    /// sorts. A judgement, not a measurement: no GPU was at hand when it was set.
    /// </summary>
    public const int DefaultSortFrom = 2048;

    private readonly Accelerator _accelerator;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, ArrayView<ulong>, ArrayView<int>> _scoreKeys;
    private readonly Action<Index1D, QueryArrays, ArrayView<double>, ArrayView<ulong>, ArrayView<int>> _gainKeys;
    private readonly Action<Index1D, QueryArrays, ArrayView<int>, ArrayView<int>> _scatter;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, int, ArrayView<ulong>, ArrayView<int>> _gradeKeys;
    private readonly Action<Index1D, QueryArrays, ArrayView<float>, ArrayView<ulong>, ArrayView<int>> _scoreKeysOfRows;
    private readonly Action<Index1D, QueryArrays, ArrayView<ulong>, ArrayView<int>> _queryKeysOfRows;

    private readonly RadixSortPairs<ulong, Stride1D.Dense, int, Stride1D.Dense> _sort;

    /// <summary>Compiles the key, scatter and radix-sort kernels on <paramref name="accelerator"/>.</summary>
    public SortedRankKernels(Accelerator accelerator)
    {
        _accelerator = accelerator;
        _scoreKeys = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, ArrayView<ulong>, ArrayView<int>>(ScoreKeyKernel);
        _gainKeys = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<double>, ArrayView<ulong>, ArrayView<int>>(GainKeyKernel);
        _scatter = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<int>, ArrayView<int>>(ScatterKernel);
        _gradeKeys = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, int, ArrayView<ulong>, ArrayView<int>>(GradeKeyKernel);
        _scoreKeysOfRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<float>, ArrayView<ulong>, ArrayView<int>>(ScoreKeyOfRowKernel);
        _queryKeysOfRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, QueryArrays, ArrayView<ulong>, ArrayView<int>>(QueryKeyOfRowKernel);
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
            SecondInts = accelerator.Allocate1D<int>(Math.Max(1, rows));
        }

        /// <summary>Rows the buffers were sized for.</summary>
        public int Rows { get; }
        internal MemoryBuffer1D<ulong, Stride1D.Dense> Keys { get; }
        internal MemoryBuffer1D<int, Stride1D.Dense> SortedRows { get; }
        internal MemoryBuffer1D<int, Stride1D.Dense> Temp { get; }
        /// <summary>
        /// A second int per row, beside the sorted rows: LambdaRank's ideal ranks, or the metrics' ideal order
        /// (kept while the rows are sorted again by score).
        /// </summary>
        public MemoryBuffer1D<int, Stride1D.Dense> SecondInts { get; }

        /// <summary>Frees the keys, rows and sort storage.</summary>
        public void Dispose()
        {
            Keys.Dispose();
            SortedRows.Dispose();
            Temp.Dispose();
            SecondInts.Dispose();
        }
    }

    /// <summary>Scratch for sorting <paramref name="rows"/> rows (the caller disposes it).</summary>
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
        var (keys, rows) = Views(buffers, n);
        if (byGain) _gainKeys(n, range.Arrays, gains, keys, rows);
        else _scoreKeys(n, range.Arrays, scores, keys, rows);
        _sort(_accelerator.DefaultStream, keys, rows, buffers.Temp.View);
        _scatter(n, range.Arrays, rows, ranks);
    }

    /// <summary>ranks[row] = the row's stable place by score descending within its query (ties in input order).</summary>
    public void RanksByScore(QueryRange range, Buffers buffers, ArrayView<float> scores, ArrayView<int> ranks) =>
        Ranks(range, buffers, scores, default, byGain: false, ranks);

    /// <summary>
    /// The rows of every query of <paramref name="range"/> in ranking order, query after query: by score
    /// descending, then (<paramref name="gradeOrder"/> 1) grade ascending or (-1) grade descending, then input
    /// position; 0 = score then position. Returns the view holding the rows (index = sorted place - RowBase).
    /// <paramref name="tieGrades"/> replaces the grades as the tie-breaking values (document-id keys).
    /// A grade order costs a second sort: first by grade, then stably by query and score.
    /// </summary>
    public ArrayView<int> Order(QueryRange range, Buffers buffers, ArrayView<float> scores, int gradeOrder, ArrayView<float> tieGrades = default)
    {
        int n = range.RowCount;
        if (n == 0) return buffers.SortedRows.View;
        var (keys, rows) = Views(buffers, n);
        if (gradeOrder == 0)
        {
            _scoreKeys(n, range.Arrays, scores, keys, rows);
        }
        else
        {
            _gradeKeys(n, range.Arrays, tieGrades.IsValid ? tieGrades : range.Arrays.Labels, gradeOrder, keys, rows);
            _sort(_accelerator.DefaultStream, keys, rows, buffers.Temp.View);
            _scoreKeysOfRows(n, range.Arrays, scores, keys, rows);
        }
        _sort(_accelerator.DefaultStream, keys, rows, buffers.Temp.View);
        return buffers.SortedRows.View;
    }

    /// <summary>
    /// The rows of every query in descending gain order (the ideal ranking), query after query, in
    /// <see cref="Buffers.SecondInts"/> (index = sorted place - RowBase), so a later sort by score leaves it
    /// intact; see <see cref="Ranks"/> on rounding.
    /// </summary>
    public ArrayView<int> OrderByGain(QueryRange range, Buffers buffers, ArrayView<double> gains)
    {
        int n = range.RowCount;
        if (n == 0) return buffers.SecondInts.View;
        var (keys, _) = Views(buffers, n);
        var rows = buffers.SecondInts.View.SubView(0, n);
        _gainKeys(n, range.Arrays, gains, keys, rows);
        _sort(_accelerator.DefaultStream, keys, rows, buffers.Temp.View);
        return buffers.SecondInts.View;
    }

    /// <summary>
    /// The keys and rows a caller fills (keys[i] and rows[i] for row RowBase + i) before
    /// <see cref="OrderWithinQueries"/>.
    /// </summary>
    public (ArrayView<ulong> Keys, ArrayView<int> Rows) KeyViews(Buffers buffers, int n) => Views(buffers, Math.Max(1, n));

    /// <summary>
    /// Sorts the caller's 64-bit keys (from <see cref="KeyViews"/>), then stably by query: each query's rows
    /// in key order, equal keys in input order (two stable sorts, least significant first). Returns the rows
    /// (index = sorted place - RowBase).
    /// </summary>
    public ArrayView<int> OrderWithinQueries(QueryRange range, Buffers buffers)
    {
        int n = range.RowCount;
        if (n == 0) return buffers.SortedRows.View;
        var (keys, rows) = Views(buffers, n);
        _sort(_accelerator.DefaultStream, keys, rows, buffers.Temp.View);
        _queryKeysOfRows(n, range.Arrays, keys, rows);
        _sort(_accelerator.DefaultStream, keys, rows, buffers.Temp.View);
        return buffers.SortedRows.View;
    }

    private static void QueryKeyOfRowKernel(Index1D index, QueryArrays qa, ArrayView<ulong> keys, ArrayView<int> rows) =>
        keys[index] = QueryKey(qa, rows[index]);

    /// <summary>The first <paramref name="n"/> keys and rows of the buffers (checked to fit).</summary>
    private static (ArrayView<ulong> Keys, ArrayView<int> Rows) Views(Buffers buffers, int n)
    {
        if (buffers.Rows < n) throw new ArgumentException($"the sort buffers hold {buffers.Rows} rows, the range has {n}.", nameof(buffers));
        return (buffers.Keys.View.SubView(0, n), buffers.SortedRows.View.SubView(0, n));
    }

    private static void GradeKeyKernel(Index1D index, QueryArrays qa, ArrayView<float> labels, int gradeOrder, ArrayView<ulong> keys, ArrayView<int> rows)
    {
        int row = index + qa.RowBase;
        uint descending = RankingMath.DescendingScoreKey(labels[row]);
        keys[index] = gradeOrder > 0 ? ~descending : descending;
        rows[index] = row;
    }

    private static void ScoreKeyOfRowKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, ArrayView<ulong> keys, ArrayView<int> rows)
    {
        int row = rows[index];
        keys[index] = QueryKey(qa, row) | RankingMath.DescendingScoreKey(scores[row]);
    }

    private static void ScoreKeyKernel(Index1D index, QueryArrays qa, ArrayView<float> scores, ArrayView<ulong> keys, ArrayView<int> rows)
    {
        int row = index + qa.RowBase;
        keys[index] = QueryKey(qa, row) | RankingMath.DescendingScoreKey(scores[row]);
        rows[index] = row;
    }

    private static void GainKeyKernel(Index1D index, QueryArrays qa, ArrayView<double> gains, ArrayView<ulong> keys, ArrayView<int> rows)
    {
        int row = index + qa.RowBase;
        keys[index] = QueryKey(qa, row) | RankingMath.DescendingScoreKey((float)gains[row]);
        rows[index] = row;
    }

    /// <summary>The row's query, relative to the launch, in the key's high half.</summary>
    private static ulong QueryKey(QueryArrays qa, int row) => (ulong)(uint)(qa.RowQuery[row] - qa.QueryBase) << 32;

    private static void ScatterKernel(Index1D index, QueryArrays qa, ArrayView<int> sortedRows, ArrayView<int> ranks)
    {
        // Queries are contiguous in row order, so query q's rows occupy sorted places [Offsets[q], Offsets[q+1]) - RowBase.
        int row = sortedRows[index];
        int q = qa.RowQuery[row];
        ranks[row] = index + qa.RowBase - qa.Offsets[q];
    }
}
