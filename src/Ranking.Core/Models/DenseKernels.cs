using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ranking.Models;

/// <summary>
/// Row-major float32 matrix products for the linear and MLP models: the hot spot of training.
/// Register-blocked micro-kernels (6 rows x 16 columns = 12 Vector256 accumulators, one fused
/// multiply-add per element), cache-blocked so the streamed panels stay in L1/L2, parallel over
/// independent output tiles. Every output element is summed by one thread in a fixed order, so the
/// result is bit-identical for any thread count. Nothing here allocates except Parallel.For's own
/// bookkeeping.
/// </summary>
internal static unsafe class DenseKernels
{
    private const int RowTile = 6;
    private const int ColTile = 16;
    /// <summary>Rows per parallel task of <see cref="Multiply(float*, int, int, float*, int, float*, float*, int)"/>: a multiple of the row tile.</summary>
    private const int RowsPerTask = 96;
    /// <summary>Columns per parallel task of <see cref="Multiply(float*, int, int, float*, int, float*, float*, int)"/>: a multiple of the column tile.</summary>
    private const int ColumnsPerTask = 64;
    /// <summary>Rows of A and B kept hot while <see cref="MultiplyTransposedA(float*, int, int, float*, int, float*, int)"/> sweeps the output tiles.</summary>
    private const int ReductionBlock = 256;
    /// <summary>Below this many multiply-adds a product runs on the calling thread.</summary>
    private const long ParallelThreshold = 1 << 18;

    private static ParallelOptions Options(int threads) => new() { MaxDegreeOfParallelism = threads <= 0 ? -1 : threads };

    /// <summary>C[m x n] = A[m x k] * B[k x n] (+ bias[n] broadcast to every row when bias is not null).</summary>
    public static void Multiply(float* a, int m, int k, float* b, int n, float* c, float* bias, int threads)
    {
        int rowBlocks = (m + RowsPerTask - 1) / RowsPerTask;
        // Tasks are (row block, column group) tiles: a batch of 256 rows is only three row blocks, which two
        // threads would share 2:1; with groups of 64 columns a 256 x 256 product is twelve tiles.
        int columnGroups = n >= 2 * ColumnsPerTask ? (n + ColumnsPerTask - 1) / ColumnsPerTask : 1;
        int tasks = rowBlocks * columnGroups;
        if (threads == 1 || tasks <= 1 || (long)m * k * n < ParallelThreshold)
        {
            // Same blocking as the parallel path: a block of rows of A stays in L2 while every panel of B passes.
            for (int r0 = 0; r0 < m; r0 += RowsPerTask) MultiplyRows(a, r0, Math.Min(m, r0 + RowsPerTask), k, b, n, c, bias, 0, n);
            return;
        }
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c, pbias = (nint)bias;
        Parallel.For(0, tasks, Options(threads), t =>
        {
            int r0 = t / columnGroups * RowsPerTask, j0 = t % columnGroups * ColumnsPerTask;
            int j1 = t % columnGroups == columnGroups - 1 ? n : j0 + ColumnsPerTask;
            MultiplyRows((float*)pa, r0, Math.Min(m, r0 + RowsPerTask), k, (float*)pb, n, (float*)pc, (float*)pbias, j0, j1);
        });
    }

    /// <summary>Rows [r0, r1) and columns [j0, j1) of C (j0 a multiple of the column tile).</summary>
    private static void MultiplyRows(float* a, int r0, int r1, int k, float* b, int n, float* c, float* bias, int j0, int j1)
    {
        if (n == 1)
        {
            float b0 = bias == null ? 0f : bias[0];
            for (int i = r0; i < r1; i++) c[i] = Dot(a + (long)i * k, b, k) + b0;
            return;
        }
        int j = j0;
        for (; j + ColTile <= j1; j += ColTile)
        {
            float* biasJ = bias == null ? null : bias + j;
            int i = r0;
            for (; i + RowTile <= r1; i += RowTile)
                Kernel6x16(a + (long)i * k, k, k, b + j, n, c + (long)i * n + j, n, biasJ);
            for (; i < r1; i++)
                Kernel1x16(a + (long)i * k, k, b + j, n, c + (long)i * n + j, biasJ);
        }
        for (; j < j1; j++)
        {
            for (int i = r0; i < r1; i++)
            {
                float* row = a + (long)i * k;
                float sum = bias == null ? 0f : bias[j];
                for (int p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(row[p], b[(long)p * n + j], sum);
                c[(long)i * n + j] = sum;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Fma(Vector256<float> x, Vector256<float> y, Vector256<float> acc) =>
        Vector256.FusedMultiplyAdd(x, y, acc);

    /// <summary>6 rows of C (16 columns) = 6 rows of A (k long, stride lda) x a 16-column panel of B.</summary>
    private static void Kernel6x16(float* a, int k, int lda, float* b, int ldb, float* c, int ldc, float* bias)
    {
        Vector256<float> init0 = bias == null ? Vector256<float>.Zero : Vector256.Load(bias);
        Vector256<float> init1 = bias == null ? Vector256<float>.Zero : Vector256.Load(bias + 8);
        Vector256<float> c00 = init0, c01 = init1, c10 = init0, c11 = init1, c20 = init0, c21 = init1;
        Vector256<float> c30 = init0, c31 = init1, c40 = init0, c41 = init1, c50 = init0, c51 = init1;
        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (long)p * ldb;
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + 8);
            var x = Vector256.Create(a0[p]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector256.Create(a1[p]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector256.Create(a2[p]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector256.Create(a3[p]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector256.Create(a4[p]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector256.Create(a5[p]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
        }
        c00.Store(c); c01.Store(c + 8); c += ldc;
        c10.Store(c); c11.Store(c + 8); c += ldc;
        c20.Store(c); c21.Store(c + 8); c += ldc;
        c30.Store(c); c31.Store(c + 8); c += ldc;
        c40.Store(c); c41.Store(c + 8); c += ldc;
        c50.Store(c); c51.Store(c + 8);
    }

    private static void Kernel1x16(float* a, int k, float* b, int ldb, float* c, float* bias)
    {
        Vector256<float> c0 = bias == null ? Vector256<float>.Zero : Vector256.Load(bias);
        Vector256<float> c1 = bias == null ? Vector256<float>.Zero : Vector256.Load(bias + 8);
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (long)p * ldb;
            var x = Vector256.Create(a[p]);
            c0 = Fma(x, Vector256.Load(bp), c0);
            c1 = Fma(x, Vector256.Load(bp + 8), c1);
        }
        c0.Store(c);
        c1.Store(c + 8);
    }

    /// <summary>Dot product with a fixed summation order (two vector lanes, then the tail).</summary>
    public static float Dot(float* x, float* y, int n)
    {
        var s0 = Vector256<float>.Zero;
        var s1 = Vector256<float>.Zero;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            s0 = Fma(Vector256.Load(x + i), Vector256.Load(y + i), s0);
            s1 = Fma(Vector256.Load(x + i + 8), Vector256.Load(y + i + 8), s1);
        }
        if (i + 8 <= n)
        {
            s0 = Fma(Vector256.Load(x + i), Vector256.Load(y + i), s0);
            i += 8;
        }
        float sum = Vector256.Sum(s0 + s1);
        for (; i < n; i++) sum = MathF.FusedMultiplyAdd(x[i], y[i], sum);
        return sum;
    }

    /// <summary>
    /// C[k x n] = A^T B for A[m x k] and B[m x n] (C overwritten): the weight gradient of a layer.
    /// The reduction over the m rows runs in blocks of <see cref="ReductionBlock"/> rows, in order; within a
    /// block the 16-column strips of C are independent tasks, each sweeping every 6-row tile of C while its
    /// strip of B stays in L1.
    /// </summary>
    public static void MultiplyTransposedA(float* a, int m, int k, float* b, int n, float* c, int threads)
    {
        new Span<float>(c, k * n).Clear();
        if (n == 1)
        {
            // C is one column: C[p] = sum_i b[i] * A[i, p], a sweep of axpys over the rows of A.
            for (int i = 0; i < m; i++) Axpy(b[i], a + (long)i * k, c, k);
            return;
        }
        int strips = (n + ColTile - 1) / ColTile;
        bool parallel = threads != 1 && strips > 1 && (long)m * k * n >= ParallelThreshold;
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        for (int i0 = 0; i0 < m; i0 += ReductionBlock)
        {
            int i1 = Math.Min(m, i0 + ReductionBlock);
            if (parallel)
                Parallel.For(0, strips, Options(threads), s => TransposedStrip((float*)pa, k, (float*)pb, n, (float*)pc, i0, i1, s * ColTile));
            else
                for (int s = 0; s < strips; s++) TransposedStrip(a, k, b, n, c, i0, i1, s * ColTile);
        }
    }

    private static void TransposedStrip(float* a, int k, float* b, int n, float* c, int i0, int i1, int j)
    {
        if (j + ColTile <= n)
        {
            int p = 0;
            for (; p + RowTile <= k; p += RowTile) KernelAt6x16(a + p, k, b + j, n, c + (long)p * n + j, n, i0, i1);
            for (; p < k; p++) KernelAt1x16(a + p, k, b + j, n, c + (long)p * n + j, i0, i1);
            return;
        }
        for (int p = 0; p < k; p++)
            for (int jj = j; jj < n; jj++)
            {
                float sum = c[(long)p * n + jj];
                for (int i = i0; i < i1; i++) sum = MathF.FusedMultiplyAdd(a[(long)i * k + p], b[(long)i * n + jj], sum);
                c[(long)p * n + jj] = sum;
            }
    }

    /// <summary>C[6 x 16] += sum over rows i in [i0, i1) of A[i, 0..6]^T B[i, 0..16].</summary>
    private static void KernelAt6x16(float* a, int lda, float* b, int ldb, float* c, int ldc, int i0, int i1)
    {
        float* cr = c;
        var c00 = Vector256.Load(cr); var c01 = Vector256.Load(cr + 8); cr += ldc;
        var c10 = Vector256.Load(cr); var c11 = Vector256.Load(cr + 8); cr += ldc;
        var c20 = Vector256.Load(cr); var c21 = Vector256.Load(cr + 8); cr += ldc;
        var c30 = Vector256.Load(cr); var c31 = Vector256.Load(cr + 8); cr += ldc;
        var c40 = Vector256.Load(cr); var c41 = Vector256.Load(cr + 8); cr += ldc;
        var c50 = Vector256.Load(cr); var c51 = Vector256.Load(cr + 8);
        for (int i = i0; i < i1; i++)
        {
            float* bi = b + (long)i * ldb;
            float* ai = a + (long)i * lda;
            var b0 = Vector256.Load(bi);
            var b1 = Vector256.Load(bi + 8);
            var x = Vector256.Create(ai[0]); c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector256.Create(ai[1]); c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector256.Create(ai[2]); c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector256.Create(ai[3]); c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector256.Create(ai[4]); c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector256.Create(ai[5]); c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
        }
        c00.Store(c); c01.Store(c + 8); c += ldc;
        c10.Store(c); c11.Store(c + 8); c += ldc;
        c20.Store(c); c21.Store(c + 8); c += ldc;
        c30.Store(c); c31.Store(c + 8); c += ldc;
        c40.Store(c); c41.Store(c + 8); c += ldc;
        c50.Store(c); c51.Store(c + 8);
    }

    private static void KernelAt1x16(float* a, int lda, float* b, int ldb, float* c, int i0, int i1)
    {
        var c0 = Vector256.Load(c);
        var c1 = Vector256.Load(c + 8);
        for (int i = i0; i < i1; i++)
        {
            float* bi = b + (long)i * ldb;
            var x = Vector256.Create(a[(long)i * lda]);
            c0 = Fma(x, Vector256.Load(bi), c0);
            c1 = Fma(x, Vector256.Load(bi + 8), c1);
        }
        c0.Store(c);
        c1.Store(c + 8);
    }

    /// <summary>y[0..n) += alpha * x[0..n).</summary>
    public static void Axpy(float alpha, float* x, float* y, int n)
    {
        var va = Vector256.Create(alpha);
        int i = 0;
        for (; i + 8 <= n; i += 8) Fma(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(alpha, x[i], y[i]);
    }

    /// <summary>sums[j] = sum over rows of x[i, j] (the bias gradient), rows in order.</summary>
    public static void ColumnSums(float* x, int m, int n, float* sums)
    {
        new Span<float>(sums, n).Clear();
        for (int i = 0; i < m; i++)
        {
            float* row = x + (long)i * n;
            int j = 0;
            for (; j + 8 <= n; j += 8) (Vector256.Load(sums + j) + Vector256.Load(row + j)).Store(sums + j);
            for (; j < n; j++) sums[j] += row[j];
        }
    }

    /// <summary>dst[n x m] = src[m x n]^T.</summary>
    public static void Transpose(float* src, int m, int n, float* dst)
    {
        const int block = 32;
        for (int i0 = 0; i0 < m; i0 += block)
            for (int j0 = 0; j0 < n; j0 += block)
            {
                int i1 = Math.Min(m, i0 + block), j1 = Math.Min(n, j0 + block);
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j++)
                        dst[(long)j * m + i] = src[(long)i * n + j];
            }
    }

    /// <summary>Array form of <see cref="Multiply(float*, int, int, float*, int, float*, float*, int)"/> (for tests and callers without pointers).</summary>
    public static void Multiply(float[] a, int m, int k, float[] b, int n, float[] c, float[]? bias, int threads)
    {
        if (a.Length < (long)m * k || b.Length < (long)k * n || c.Length < (long)m * n || (bias is not null && bias.Length < n))
            throw new ArgumentException("matrix sizes do not match.");
        fixed (float* pa = a, pb = b, pc = c, pbias = bias) Multiply(pa, m, k, pb, n, pc, bias is null ? null : pbias, threads);
    }

    /// <summary>Array form of <see cref="MultiplyTransposedA(float*, int, int, float*, int, float*, int)"/>.</summary>
    public static void MultiplyTransposedA(float[] a, int m, int k, float[] b, int n, float[] c, int threads)
    {
        if (a.Length < (long)m * k || b.Length < (long)m * n || c.Length < (long)k * n) throw new ArgumentException("matrix sizes do not match.");
        fixed (float* pa = a, pb = b, pc = c) MultiplyTransposedA(pa, m, k, pb, n, pc, threads);
    }

    /// <summary>Array form of <see cref="Transpose(float*, int, int, float*)"/>.</summary>
    public static void Transpose(float[] src, int m, int n, float[] dst)
    {
        if (src.Length < (long)m * n || dst.Length < (long)m * n) throw new ArgumentException("matrix sizes do not match.");
        fixed (float* ps = src, pd = dst) Transpose(ps, m, n, pd);
    }
}
