using System.Runtime.CompilerServices;

namespace Ranking.Numerics;

// FaceNet's semi-hard triplets, mined in O(P log P + B + N) per anchor instead of O(P N): the triplet loss over them
// and the semi-hard miner of the pair losses. One body for the CPU loop and the ILGPU kernel (no allocation, no
// throw path, no BCL call but BitConverter's bit casts, which ILGPU maps; an argument of a call on the row is a
// local or plain arithmetic, never another call: see IQueryRows for ILGPU's PTX rule).
//
// Per anchor: the P positives are sorted by farness s_1 <= ... <= s_P, and with t_i = s_i + m (single precision, as
// InSemiHardWindow adds) also sorted, a negative at f is in the window of positive i iff s_i < f and !(t_i <= f):
// i in [first, end) with end = #{s_i < f} and first = #{t_i <= f}. Both ranks come from a table over B equal-width
// buckets of [s_1, t_P): bucket(v) = floor((v - s_1) * B / (t_P - s_1)) is monotone in v, so every s_i in a lower
// bucket than f's is < f and every s_i in a higher one is > f; the table holds, per bucket k, how many s_i (and t_i)
// lie in buckets below k, and the rank is that count plus f's own bucket: its first two values compared without a
// branch, a walk on past them (+inf sentinels end it; with B = 4P buckets it is rarely needed). The comparisons are the
// window's own (s_i < f, f < t_i), so the windows, and the terms, loss and gradient, are those of scanning every
// (p, n) pair.

public static partial class BatchLosses
{
    /// <summary>Rank-table buckets per positive (fewer when the row's scratch is short).</summary>
    private const int BucketsPerPositive = 4;

    /// <summary>2^-27 (exact): see <see cref="SortedPositives.ExactHinges"/>.</summary>
    private const float TwoToMinus27 = 1f / 134217728f;

    /// <summary>Positives sorted by insertion up to this many, by heapsort past it (a memory row's thousands).</summary>
    private const int InsertionSortLimit = 32;

    // Where a semi-hard body reads its positives: the kept pairs (the mask), every pair (it writes mask = relation and
    // clears the gradient in the same pass: the triplet loss of Row), or the relations (the miner, which clears the mask).
    private const int KeptPairs = 0, AllPairs = 1, Relations = 2;

    /// <summary>
    /// Scratch cells (<see cref="IBatchRow.Scratch"/>) one row of <paramref name="references"/> references needs for the
    /// semi-hard miner: the positives' references and farness (one row's worth each, and two sentinels), the difference
    /// array of the windows and the rank table (the rest).
    /// </summary>
    public static int SemiHardScratchCells(int references) => 3 * references + 8;

    /// <summary>
    /// The triplet loss over the semi-hard triplets of the row's kept pairs (every kept positive p and kept negative n
    /// with <see cref="InSemiHardWindow"/>): the same terms, loss and gradient as scanning every (p, n) pair, in
    /// O(P log P + N) instead of O(P N) (see the file's note on the rank table). With the hinge, a negative's gradient
    /// is minus the number of positive terms in its window, a positive's the number of windows that hold it (a
    /// difference array over the sorted positives), and the loss sum_p k_p (f_ap + m) - sum_n c_n f_an. The soft margin
    /// visits each triplet of the windows (the windows only, not every pair). Expects the gradient cleared (as
    /// <see cref="Loss"/> does).
    /// </summary>
    public static RowLoss SemiHardTriplet<TRow>(ref TRow row, float margin, bool soft) where TRow : struct, IBatchRow =>
        SemiHardTriplet(ref row, margin, soft, KeptPairs);

    private static RowLoss SemiHardTriplet<TRow>(ref TRow rowOfCaller, float margin, bool soft, int source) where TRow : struct, IBatchRow
    {
        var sorted = SortPositives(ref rowOfCaller, source, margin);
        if (sorted.Buckets == 0) return new RowLoss();
        if (soft) return SoftSemiHardTriplet(rowOfCaller, sorted, margin);
        return sorted.ExactHinges
            ? HingeSemiHardTriplet<TRow, HingesExact>(ref rowOfCaller, sorted, margin)
            : HingeSemiHardTriplet<TRow, HingesChecked>(ref rowOfCaller, sorted, margin);
    }

    /// <summary>Whether the hinge loop checks each window's first hinge: a type, so that the JIT and ILGPU compile two loops.</summary>
    private interface IHingeCheck
    {
        bool Needed { get; }
    }

    /// <summary>The row's hinges are exact (<see cref="SortedPositives.ExactHinges"/>): no check.</summary>
    private struct HingesExact : IHingeCheck
    {
        public readonly bool Needed => false;
    }

    /// <summary>Each window's first hinge is checked (and the first positive one searched for if it is not).</summary>
    private struct HingesChecked : IHingeCheck
    {
        public readonly bool Needed => true;
    }

    /// <summary>
    /// The hinge over the windows, O(1) per negative after its window: a negative's gradient is minus the number of
    /// positive terms in its window, a positive's the number of windows holding it (a difference array over the
    /// sorted positives), the loss sum_p k_p (f_ap + m) - sum_n c_n f_an.
    /// </summary>
    private static RowLoss HingeSemiHardTriplet<TRow, TCheck>(ref TRow rowOfCaller, SortedPositives sorted, float margin)
        where TRow : struct, IBatchRow where TCheck : struct, IHingeCheck
    {
        var result = new RowLoss();
        // A copy of the row (its fields are array or view handles) that is never passed by ref: the JIT keeps its
        // fields in registers, while through a ref it reloads them after every store (a store might alias the struct).
        TRow row = rowOfCaller;
        int n = row.Count, values = sorted.Values, runs = sorted.Runs;
        for (int q = 0; q < n; q++)
        {
            if (row.Mask(q) != Negative) continue;
            float fn = row.Farness(q);
            if (!(fn > sorted.Low && fn < sorted.High)) continue;
            int cell = sorted.Table + 2 * Bucket(sorted, fn);
            WindowOfNegative(row, values, cell, fn, margin, out int first, out int end, out float firstFarness);
            result.Terms += end - first;
            // The hinge is positive on a suffix of the window (it grows with f_ap): all of it where the row's hinges are
            // exact (see SortedPositives.ExactHinges), else unless f_an is within rounding of f_ap + m. An empty window
            // (first == end) adds and removes the same run: no branch on it.
            int positiveFrom = first;
            if (default(TCheck).Needed && (first < end) & !(TripletTerm(firstFarness, fn, margin, false, out _) > 0))
                positiveFrom = FirstPositiveHinge(row, values, first, end, fn, margin);
            int count = end - positiveFrom;
            result.NonZero += count;
            result.Loss -= (double)count * fn;
            row.SetGradient(q, -count);
            AddToScratch(row, runs + positiveFrom, 1);
            AddToScratch(row, runs + end, -1);
        }
        int running = 0;
        for (int at = 0; at < sorted.Count; at++)
        {
            running += row.Scratch(runs + at);
            int p = row.Scratch(at);
            row.SetGradient(p, running);
            float fp = SortedFarness(row, values, at);
            result.Loss += running * ((double)fp + margin);
        }
        return result;
    }

    /// <summary>The soft margin: each triplet of the windows (the windows only, not every pair) with its own slope.</summary>
    private static RowLoss SoftSemiHardTriplet<TRow>(TRow row, SortedPositives sorted, float margin) where TRow : struct, IBatchRow
    {
        var result = new RowLoss();
        int n = row.Count, values = sorted.Values;
        for (int q = 0; q < n; q++)
        {
            if (row.Mask(q) != Negative) continue;
            float fn = row.Farness(q);
            if (!(fn > sorted.Low && fn < sorted.High)) continue;
            int cell = sorted.Table + 2 * Bucket(sorted, fn);
            WindowOfNegative(row, values, cell, fn, margin, out int first, out int end, out _);
            result.Terms += end - first;
            double gradNegative = 0.0;
            for (int at = first; at < end; at++)
            {
                int p = row.Scratch(at);
                float fp = SortedFarness(row, values, at);
                double term = TripletTerm(fp, fn, margin, true, out double slope);
                if (term <= 0) continue;
                result.Loss += term;
                result.NonZero++;
                gradNegative += slope;
                float gradient = row.Gradient(p);
                row.SetGradient(p, gradient + (float)slope);
            }
            row.SetGradient(q, (float)-gradNegative);
        }
        return result;
    }

    /// <summary>
    /// The semi-hard miner for the pair losses: keeps every positive and negative that form a triplet inside
    /// <see cref="InSemiHardWindow"/>, by the same windows as <see cref="SemiHardTriplet{TRow}(ref TRow, float, bool)"/>.
    /// </summary>
    private static void MineSemiHard<TRow>(ref TRow rowOfCaller, float margin) where TRow : struct, IBatchRow
    {
        var sorted = SortPositives(ref rowOfCaller, Relations, margin);
        if (sorted.Buckets == 0) return;
        TRow row = rowOfCaller;   // see SemiHardTriplet
        int n = row.Count, values = sorted.Values, runs = sorted.Runs;
        for (int q = 0; q < n; q++)
        {
            if (row.Relation(q) != Negative) continue;
            float fn = row.Farness(q);
            if (!(fn > sorted.Low && fn < sorted.High)) continue;
            int cell = sorted.Table + 2 * Bucket(sorted, fn);
            WindowOfNegative(row, values, cell, fn, margin, out int first, out int end, out _);
            if (first == end) continue;
            row.SetMask(q, Negative);
            AddToScratch(row, runs + first, 1);
            AddToScratch(row, runs + end, -1);
        }
        int running = 0;
        for (int at = 0; at < sorted.Count; at++)
        {
            running += row.Scratch(runs + at);
            int p = row.Scratch(at);
            if (running > 0) row.SetMask(p, Positive);
        }
    }

    /// <summary>
    /// A row's positives sorted by farness, in its scratch: cells [0, Count) hold the references, [Values, Values +
    /// Count + 1] their farness bits and two +inf sentinels, [Runs, Runs + Count] the difference array of the windows, and
    /// from Table on, per bucket k = 0..Buckets, the number of s_i (cell 2k) and of t_i (cell 2k + 1) in buckets below k.
    /// Buckets is 0 when no window can hold anything (no positive, a margin of 0, or no room between s_1 and t_P).
    /// </summary>
    private struct SortedPositives
    {
        public int Count, Values, Runs, Table, Buckets;
        /// <summary>s_1 and t_P: only a negative strictly between them can be in a window.</summary>
        public float Low, High;
        /// <summary>Buckets / (High - Low), or 0 (one bucket) when that is not finite.</summary>
        public float Scale;
        /// <summary>
        /// True when every triplet of the row's windows has a positive hinge as <see cref="TripletTerm"/> computes it, so
        /// none needs checking. A window's f_an &lt; fl(f_ap + m) means f_an &lt; f_ap + m exactly (a float below the
        /// rounded sum is below the exact one), and (double)f_ap - f_an is exact when the two exponents differ by at most
        /// 28 (24 + 28 + 1 bits fit a double's 53), so the double hinge is the exact positive one. That holds when
        /// [Low, High] keeps away from 0 by 2^-27 of its largest magnitude A (every f_ap and f_an in it then lies in
        /// [2^-27 A, A]), with A a normal float.
        /// </summary>
        public bool ExactHinges;
    }

    /// <summary>
    /// The first pass over the row (positives from <paramref name="source"/>, see <see cref="KeptPairs"/>), the sort,
    /// the sentinels, the cleared difference array and the rank table.
    /// </summary>
    private static SortedPositives SortPositives<TRow>(ref TRow rowOfCaller, int source, float margin) where TRow : struct, IBatchRow
    {
        TRow row = rowOfCaller;   // see HingeSemiHardTriplet
        int n = row.Count, count = 0;
        var sorted = new SortedPositives { Values = n };
        for (int j = 0; j < n; j++)
        {
            int relation;
            if (source == KeptPairs) relation = row.Mask(j);
            else
            {
                relation = row.Relation(j);
                row.SetMask(j, source == AllPairs ? relation : NotAPair);
                if (source == AllPairs) row.SetGradient(j, 0f);
            }
            if (relation != Positive) continue;
            float f = row.Farness(j);
            // Up to InsertionSortLimit positives, each is inserted in order as it comes; past that they are appended
            // and the whole is heapsorted below.
            int at = count;
            if (count < InsertionSortLimit) at = InsertionPoint(row, n, count, f);
            row.SetScratch(at, j);
            row.SetScratch(n + at, BitConverter.SingleToInt32Bits(f));
            count++;
        }
        sorted.Count = count;
        if (count == 0) return sorted;
        if (count > InsertionSortLimit) HeapSort(ref rowOfCaller, n, count);
        int infinity = BitConverter.SingleToInt32Bits(float.PositiveInfinity);
        row.SetScratch(n + count, infinity);
        row.SetScratch(n + count + 1, infinity);
        sorted.Low = SortedFarness(row, n, 0);
        float highest = SortedFarness(row, n, count - 1);
        sorted.High = highest + margin;
        if (!(margin > 0) || !(sorted.High > sorted.Low)) return sorted;

        sorted.Runs = 2 * n + 2;
        sorted.Table = sorted.Runs + count + 1;
        // The scratch's 3n + 8 cells leave room for (n + 3 - count) / 2 + 1 table entries after the runs: at least 2.
        sorted.Buckets = Math.Min(BucketsPerPositive * count, (n + 3 - count) / 2);
        float largest = Math.Max(Math.Abs(sorted.Low), Math.Abs(sorted.High)), nearZero = largest * TwoToMinus27;
        sorted.ExactHinges = largest >= 1e-30f && (sorted.Low >= nearZero || sorted.High <= -nearZero);
        float scale = sorted.Buckets / (sorted.High - sorted.Low);
        sorted.Scale = scale <= float.MaxValue ? scale : 0f;
        for (int at = 0; at <= count; at++) row.SetScratch(sorted.Runs + at, 0);
        FillRankTable(row, sorted, margin);
        return sorted;
    }

    /// <summary>
    /// The rank table: entry 2k counts the s_i in buckets below k, entry 2k + 1 the t_i = s_i + m. By histogram (clear,
    /// count each value into the entry after its bucket, prefix sums): no loop whose length depends on the data.
    /// </summary>
    private static void FillRankTable<TRow>(TRow row, SortedPositives sorted, float margin) where TRow : struct, IBatchRow
    {
        int table = sorted.Table, entries = 2 * sorted.Buckets + 2;
        for (int cell = 0; cell < entries; cell++) row.SetScratch(table + cell, 0);
        for (int i = 0; i < sorted.Count; i++)
        {
            float s = SortedFarness(row, sorted.Values, i);
            int below = table + 2 * Bucket(sorted, s) + 2;
            AddToScratch(row, below, 1);
            float t = s + margin;
            int belowT = table + 2 * Bucket(sorted, t) + 3;
            AddToScratch(row, belowT, 1);
        }
        int countS = 0, countT = 0;
        for (int cell = table; cell < table + entries; cell += 2)
        {
            countS += row.Scratch(cell);
            row.SetScratch(cell, countS);
            int next = cell + 1;
            countT += row.Scratch(next);
            row.SetScratch(next, countT);
        }
    }

    /// <summary>The rank table's bucket of a value in [Low, High]: monotone in the value, in [0, Buckets - 1].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Bucket(SortedPositives sorted, float value)
    {
        float x = (value - sorted.Low) * sorted.Scale;
        int last = sorted.Buckets - 1;
        return x < last ? (int)x : last;
    }

    /// <summary>
    /// The run [first, end) of the sorted positives whose semi-hard window holds a negative at <paramref name="fn"/>
    /// (Low &lt; fn &lt; High): end = #{s_i &lt; fn}, first = min(#{!(fn &lt; s_i + m)}, end), both the terms of
    /// <see cref="InSemiHardWindow"/>, each the rank table's count at <paramref name="cell"/> (fn's bucket) plus a
    /// walk over that bucket (the +inf sentinels end it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WindowOfNegative<TRow>(TRow row, int values, int cell, float fn, float margin, out int first, out int end, out float firstFarness)
        where TRow : struct, IBatchRow
    {
        // The bucket's first two values are compared without a branch (counts of a sorted run: the comparisons hold on a
        // prefix); only a bucket with more members walks on (rare with 4P buckets, so the branch predicts well).
        end = row.Scratch(cell);
        float fp = SortedFarness(row, values, end), fpNext = SortedFarness(row, values, end + 1);
        int below = (fp < fn ? 1 : 0) + (fpNext < fn ? 1 : 0);
        end += below;
        if (below == 2)
        {
            fp = SortedFarness(row, values, end);
            while (fp < fn)
            {
                end++;
                fp = SortedFarness(row, values, end);
            }
        }
        int next = cell + 1;
        first = row.Scratch(next);
        fp = SortedFarness(row, values, first);
        fpNext = SortedFarness(row, values, first + 1);
        int passed = (fn < fp + margin ? 0 : 1) + (fn < fpNext + margin ? 0 : 1);
        if (passed == 1) fp = fpNext;
        first += passed;
        if (passed == 2)
        {
            fp = SortedFarness(row, values, first);
            while (!(fn < fp + margin))
            {
                first++;
                fp = SortedFarness(row, values, first);
            }
        }
        firstFarness = fp;
        if (first > end) first = end;
    }

    /// <summary>The farness of the positive at sorted position <paramref name="at"/> (+inf at positions Count and Count + 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SortedFarness<TRow>(TRow row, int values, int at) where TRow : struct, IBatchRow
    {
        int cell = values + at;
        return BitConverter.Int32BitsToSingle(row.Scratch(cell));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddToScratch<TRow>(TRow row, int cell, int value) where TRow : struct, IBatchRow
    {
        int current = row.Scratch(cell);
        row.SetScratch(cell, current + value);
    }

    /// <summary>The first position in [first, end) of the sorted positives whose hinge term with <paramref name="fn"/> is positive.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]   // no call in the hot loop: SysV keeps no float register across one
    private static int FirstPositiveHinge<TRow>(TRow row, int values, int first, int end, float fn, float margin) where TRow : struct, IBatchRow
    {
        int lo = first, hi = end;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            float fp = SortedFarness(row, values, mid);
            if (TripletTerm(fp, fn, margin, false, out _) > 0) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>
    /// Makes room in the sorted (reference, farness bits) pairs at cells [0, count) and [values, values + count) for a
    /// positive at <paramref name="farness"/>: shifts the farther ones up one cell and returns the freed position.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InsertionPoint<TRow>(TRow row, int values, int count, float farness) where TRow : struct, IBatchRow
    {
        int at = count;
        while (at > 0)
        {
            int previousBits = row.Scratch(values + at - 1);
            if (!(BitConverter.Int32BitsToSingle(previousBits) > farness)) break;
            int previous = row.Scratch(at - 1);
            row.SetScratch(values + at, previousBits);
            row.SetScratch(at, previous);
            at--;
        }
        return at;
    }

    /// <summary>Sorts the (reference, farness bits) pairs at cells [0, count) and [values, values + count) by farness: a heapsort, in place, no recursion.</summary>
    private static void HeapSort<TRow>(ref TRow row, int values, int count) where TRow : struct, IBatchRow
    {
        for (int start = count / 2 - 1; start >= 0; start--) SiftDown(ref row, values, start, count);
        for (int end = count - 1; end > 0; end--)
        {
            int topItem = row.Scratch(0), topBits = row.Scratch(values);
            int lastItem = row.Scratch(end), lastBits = row.Scratch(values + end);
            row.SetScratch(0, lastItem);
            row.SetScratch(values, lastBits);
            row.SetScratch(end, topItem);
            row.SetScratch(values + end, topBits);
            SiftDown(ref row, values, 0, end);
        }
    }

    private static void SiftDown<TRow>(ref TRow row, int values, int root, int count) where TRow : struct, IBatchRow
    {
        int item = row.Scratch(root), bits = row.Scratch(values + root);
        float key = BitConverter.Int32BitsToSingle(bits);
        while (true)
        {
            int child = 2 * root + 1;
            if (child >= count) break;
            int childBits = row.Scratch(values + child);
            float childKey = BitConverter.Int32BitsToSingle(childBits);
            if (child + 1 < count)
            {
                int rightBits = row.Scratch(values + child + 1);
                float rightKey = BitConverter.Int32BitsToSingle(rightBits);
                if (rightKey > childKey)
                {
                    child++;
                    childBits = rightBits;
                    childKey = rightKey;
                }
            }
            if (!(childKey > key)) break;
            int childItem = row.Scratch(child);
            row.SetScratch(root, childItem);
            row.SetScratch(values + root, childBits);
            root = child;
        }
        row.SetScratch(root, item);
        row.SetScratch(values + root, bits);
    }
}
