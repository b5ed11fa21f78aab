using ILGPU;
using ILGPU.Runtime;
using Ranking.Numerics;

namespace Ranking.Gpu.Kernels;

/// <summary>
/// The device's <see cref="IBatchRow"/>: one anchor's row of the batch's farness, mask and gradient matrices
/// in device memory. <see cref="BatchLosses"/> runs on it unchanged, the same body as the CPU loop's.
/// </summary>
public struct DeviceBatchRow : IBatchRow
{
    /// <summary>Farness matrix (batch x references).</summary>
    public ArrayView<float> FarnessMatrix;
    /// <summary>Miner masks (batch x references).</summary>
    public ArrayView<int> MaskMatrix;
    /// <summary>d loss / d farness (batch x references).</summary>
    public ArrayView<float> GradientMatrix;
    /// <summary>The semi-hard miner's scratch, <see cref="ScratchCells"/> per row (a single cell for the other miners).</summary>
    public ArrayView<int> ScratchMatrix;
    /// <summary>Labels of the references.</summary>
    public ArrayView<int> ReferenceLabels;
    /// <summary>log q of each reference (read when <see cref="HasLogQ"/> is 1).</summary>
    public ArrayView<float> LogQ;
    /// <summary>The row's first cell.</summary>
    public long Offset;
    /// <summary>Scratch cells per row: <see cref="BatchLosses.SemiHardScratchCells"/> for the semi-hard miner, else 0.</summary>
    public int ScratchCells;
    /// <summary>The row's first scratch cell.</summary>
    public long ScratchOffset;
    /// <summary>References in the row.</summary>
    public int References;
    /// <summary>The anchor's label.</summary>
    public int Label;
    /// <summary>The anchor's own index among the references, or -1.</summary>
    public int Self;
    /// <summary>1 when the log-Q correction applies.</summary>
    public int HasLogQ;

    /// <inheritdoc/>
    public readonly int Count => References;
    /// <inheritdoc/>
    public readonly float Farness(int j) => FarnessMatrix[Offset + j];
    /// <inheritdoc/>
    public readonly int Relation(int j) => j == Self ? BatchLosses.NotAPair : ReferenceLabels[j] == Label ? BatchLosses.Positive : BatchLosses.Negative;
    /// <inheritdoc/>
    public readonly int Mask(int j) => MaskMatrix[Offset + j];
    /// <inheritdoc/>
    public readonly void SetMask(int j, int mask) => MaskMatrix[Offset + j] = mask;
    /// <inheritdoc/>
    public readonly float LogitCorrection(int j) => HasLogQ != 0 ? LogQ[j] : 0f;
    /// <inheritdoc/>
    public readonly float Gradient(int j) => GradientMatrix[Offset + j];
    /// <inheritdoc/>
    public readonly void SetGradient(int j, float gradient) => GradientMatrix[Offset + j] = gradient;
    /// <inheritdoc/>
    public readonly int Scratch(int i) => ScratchMatrix[ScratchOffset + i];
    /// <inheritdoc/>
    public readonly void SetScratch(int i, int value) => ScratchMatrix[ScratchOffset + i] = value;
}

/// <summary>
/// Kernels of metric learning: the batch's farness matrix (distance kinds 0 L2, 1 squared L2, 2 cosine on
/// normalised input, 3 dot, as Ranking.Embeddings.EmbeddingDistance), the mine-and-loss row body per anchor
/// (<see cref="BatchLosses.Row"/>, shared with the CPU), the reducer's row scaling, the chain rule back to
/// the embeddings, the cross-batch memory's enqueue, and exact k-nearest-neighbour search (a thread per
/// query keeping its best k keys in order; the same packed (farness, index) keys as the CPU, so ties break alike).
/// </summary>
public sealed class EmbeddingKernels
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float> _farness;
    private readonly Action<Index1D, DeviceBatchRow, ArrayView<int>, ArrayView<int>, BatchLossSettings, int, ArrayView<double>, ArrayView<int>, ArrayView<int>> _rows;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int> _scale;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int> _backward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int> _referenceBackward;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, int> _enqueue;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int, ArrayView<ulong>> _knn;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, int, ArrayView<float>, ArrayView<double>, ArrayView<int>> _statistics;

    /// <summary>Loads (compiles) the kernels for an accelerator.</summary>
    public EmbeddingKernels(Accelerator accelerator)
    {
        _farness = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, float>(FarnessKernel);
        _rows = accelerator.LoadAutoGroupedStreamKernel<Index1D, DeviceBatchRow, ArrayView<int>, ArrayView<int>, BatchLossSettings, int, ArrayView<double>, ArrayView<int>, ArrayView<int>>(RowKernel);
        _scale = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int>(ScaleRowsKernel);
        _backward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>(EmbeddingGradientKernel);
        _referenceBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>(ReferenceGradientKernel);
        _enqueue = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, int, int, int>(EnqueueKernel);
        _knn = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int, ArrayView<ulong>>(NearestKernel);
        _statistics = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, int, ArrayView<float>, ArrayView<double>, ArrayView<int>>(RowStatisticsKernel);
    }

    /// <summary>F (batch x references) = sign * value of each pair.</summary>
    public void Farness(ArrayView<float> embeddings, ArrayView<float> references, ArrayView<float> farness, int batch, int referenceCount, int dim, int distanceKind, float sign)
    {
        if ((long)batch * referenceCount > 0) _farness(batch * referenceCount, embeddings, references, farness, referenceCount, dim, distanceKind, sign);
    }

    /// <summary>
    /// Per anchor (a thread each), over its row of the farness matrix less its self-pair: the spread (max - min), the sum
    /// and the count of pairs: the batch statistics collapse detection watches, as <see cref="Ranking.Embeddings.BatchLoss"/> computes them.
    /// </summary>
    public void RowStatistics(ArrayView<float> farness, ArrayView<int> selfIndex, int batch, int referenceCount, ArrayView<float> rowSpread, ArrayView<double> rowSum, ArrayView<int> rowPairs)
    {
        if (batch > 0) _statistics(batch, farness, selfIndex, referenceCount, rowSpread, rowSum, rowPairs);
    }

    /// <summary>Mines and computes every anchor's row (a thread per anchor); writes each row's loss, terms and non-zero terms.</summary>
    public void Rows(int batch, DeviceBatchRow template, ArrayView<int> labels, ArrayView<int> selfIndex, BatchLossSettings settings, int iteration,
        ArrayView<double> rowLoss, ArrayView<int> rowTerms, ArrayView<int> rowNonZero)
    {
        if (batch > 0) _rows(batch, template, labels, selfIndex, settings, iteration, rowLoss, rowTerms, rowNonZero);
    }

    /// <summary>Multiplies each gradient row by its reducer scale.</summary>
    public void ScaleRows(ArrayView<float> gradient, ArrayView<float> rowScale, int batch, int referenceCount)
    {
        if ((long)batch * referenceCount > 0) _scale(batch * referenceCount, gradient, rowScale, referenceCount);
    }

    /// <summary>d loss / d embeddings (batch x dim) from G = d loss / d value; with <paramref name="referencesAreBatch"/> the mirror term too.</summary>
    public void EmbeddingGradient(ArrayView<float> gradient, ArrayView<float> embeddings, ArrayView<float> references, ArrayView<float> output,
        int batch, int referenceCount, int dim, int distanceKind, bool referencesAreBatch)
    {
        if ((long)batch * dim > 0) _backward(batch * dim, gradient, embeddings, references, output, batch, referenceCount, dim, distanceKind, referencesAreBatch ? 1 : 0);
    }

    /// <summary>d loss / d references (references x dim) from G, for references apart from the batch (class proxies, another tower's items).</summary>
    public void ReferenceGradient(ArrayView<float> gradient, ArrayView<float> embeddings, ArrayView<float> references, ArrayView<float> output,
        int batch, int referenceCount, int dim, int distanceKind)
    {
        if ((long)referenceCount * dim > 0) _referenceBackward(referenceCount * dim, gradient, embeddings, references, output, batch, referenceCount, dim, distanceKind);
    }

    /// <summary>Writes a batch into the memory ring from slot <paramref name="head"/> on; slot of item i = (head + i) mod capacity.</summary>
    public void Enqueue(ArrayView<float> embeddings, ArrayView<int> labels, ArrayView<float> memory, ArrayView<int> memoryLabels, ArrayView<int> slots, int batch, int dim, int head, int capacity)
    {
        if (batch > 0) _enqueue(batch * dim, embeddings, labels, memory, memoryLabels, slots, dim, head, capacity);
    }

    /// <summary>
    /// Each query's k smallest packed (farness, index) keys, in order, into <paramref name="keys"/> (queries x k). With
    /// <paramref name="leaveOneOut"/>, query q is reference q + <paramref name="queryOffset"/> and is skipped.
    /// </summary>
    public void Nearest(int queryCount, ArrayView<float> queries, ArrayView<float> references, int referenceCount, int dim, int k, int distanceKind, bool leaveOneOut, int queryOffset, ArrayView<ulong> keys)
    {
        if (queryCount > 0) _knn(queryCount, queries, references, referenceCount, dim, k, distanceKind, leaveOneOut ? 1 : 0, queryOffset, keys);
    }

    /// <summary>The value of one pair, computed the same way by every kernel.</summary>
    private static float PairValue(ArrayView<float> a, long aOffset, ArrayView<float> b, long bOffset, int dim, int distanceKind)
    {
        float dot = 0f, sq = 0f;
        for (int k = 0; k < dim; k++)
        {
            float x = a[aOffset + k], y = b[bOffset + k];
            dot += x * y;
            float diff = x - y;
            sq += diff * diff;
        }
        if (distanceKind == 0) return XMathSqrt(sq < 1e-12f ? 1e-12f : sq);
        if (distanceKind == 1) return sq;
        return dot;
    }

    private static float XMathSqrt(float x) => ILGPU.Algorithms.XMath.Sqrt(x);

    private static void FarnessKernel(Index1D index, ArrayView<float> e, ArrayView<float> r, ArrayView<float> farness, int referenceCount, int dim, int distanceKind, float sign)
    {
        int cell = index;
        long i = cell / referenceCount, j = cell % referenceCount;
        farness[cell] = sign * PairValue(e, i * dim, r, j * dim, dim, distanceKind);
    }

    private static void RowKernel(Index1D index, DeviceBatchRow template, ArrayView<int> labels, ArrayView<int> selfIndex, BatchLossSettings settings, int iteration,
        ArrayView<double> rowLoss, ArrayView<int> rowTerms, ArrayView<int> rowNonZero)
    {
        int anchor = index;
        var row = template;
        row.Offset = (long)anchor * template.References;
        row.ScratchOffset = (long)anchor * template.ScratchCells;
        row.Label = labels[anchor];
        row.Self = selfIndex[anchor];
        RowLoss result = BatchLosses.Row(ref row, settings, iteration, anchor);
        rowLoss[anchor] = result.Loss;
        rowTerms[anchor] = result.Terms;
        rowNonZero[anchor] = result.NonZero;
    }

    private static void ScaleRowsKernel(Index1D index, ArrayView<float> gradient, ArrayView<float> rowScale, int referenceCount)
    {
        int cell = index;
        gradient[cell] *= rowScale[cell / referenceCount];
    }

    private static void EmbeddingGradientKernel(Index1D index, ArrayView<float> g, ArrayView<float> e, ArrayView<float> r, ArrayView<float> output,
        int batch, int referenceCount, int dim, int distanceKind, int referencesAreBatch)
    {
        int cell = index;
        int i = cell / dim, k = cell % dim;
        float sum = 0f;
        float ei = e[(long)i * dim + k];
        for (int j = 0; j < referenceCount; j++)
        {
            float w = PairWeight(g[(long)i * referenceCount + j], e, (long)i * dim, r, (long)j * dim, dim, distanceKind);
            float rj = r[(long)j * dim + k];
            sum += distanceKind >= 2 ? w * rj : 2f * w * (ei - rj);
        }
        // Item i as reference of row j: V_ji depends on e_i too.
        if (referencesAreBatch != 0) sum = AddColumnTerms(sum, g, e, e, i, k, batch, referenceCount, dim, distanceKind);
        output[cell] = sum;
    }

    private static void ReferenceGradientKernel(Index1D index, ArrayView<float> g, ArrayView<float> e, ArrayView<float> r, ArrayView<float> output,
        int batch, int referenceCount, int dim, int distanceKind)
    {
        int cell = index;
        output[cell] = AddColumnTerms(0f, g, e, r, cell / dim, cell % dim, batch, referenceCount, dim, distanceKind);
    }

    /// <summary>
    /// Reference <paramref name="column"/>'s side of the chain rule, component <paramref name="k"/>: for every batch row
    /// i, W_i,column times d V_i,column / d x_column,k (x = <paramref name="references"/>), added to <paramref name="sum"/>
    /// in row order. The references' gradient, and the batch's mirror term when the references are the batch.
    /// </summary>
    private static float AddColumnTerms(float sum, ArrayView<float> g, ArrayView<float> e, ArrayView<float> references, int column, int k,
        int batch, int referenceCount, int dim, int distanceKind)
    {
        float xk = references[(long)column * dim + k];
        for (int i = 0; i < batch; i++)
        {
            float w = PairWeight(g[(long)i * referenceCount + column], e, (long)i * dim, references, (long)column * dim, dim, distanceKind);
            float ei = e[(long)i * dim + k];
            sum += distanceKind >= 2 ? w * ei : 2f * w * (xk - ei);
        }
        return sum;
    }

    /// <summary>The factor of a pair in the chain rule: G itself, or for L2 G / (2 D) (0 where the distance sits on its floor).</summary>
    private static float PairWeight(float g, ArrayView<float> a, long aOffset, ArrayView<float> b, long bOffset, int dim, int distanceKind)
    {
        if (distanceKind != 0) return g;
        float d = PairValue(a, aOffset, b, bOffset, dim, 0);
        return d * d > 1e-12f * 1.0001f ? g / (2f * d) : 0f;
    }

    private static void RowStatisticsKernel(Index1D index, ArrayView<float> farness, ArrayView<int> selfIndex, int referenceCount,
        ArrayView<float> rowSpread, ArrayView<double> rowSum, ArrayView<int> rowPairs)
    {
        int anchor = index;
        long offset = (long)anchor * referenceCount;
        int self = selfIndex[anchor], pairs = 0;
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        double sum = 0;
        for (int j = 0; j < referenceCount; j++)
        {
            if (j == self) continue;
            float f = farness[offset + j];
            lo = f < lo ? f : lo;
            hi = f > hi ? f : hi;
            sum += f;
            pairs++;
        }
        rowSpread[anchor] = hi >= lo ? hi - lo : 0f;
        rowSum[anchor] = sum;
        rowPairs[anchor] = pairs;
    }

    private static void EnqueueKernel(Index1D index, ArrayView<float> e, ArrayView<int> labels, ArrayView<float> memory, ArrayView<int> memoryLabels, ArrayView<int> slots,
        int dim, int head, int capacity)
    {
        int cell = index;
        int i = cell / dim, k = cell % dim;
        int slot = (head + i) % capacity;
        memory[(long)slot * dim + k] = e[cell];
        if (k == 0)
        {
            memoryLabels[slot] = labels[i];
            slots[i] = slot;
        }
    }

    private static void NearestKernel(Index1D index, ArrayView<float> queries, ArrayView<float> references, int referenceCount, int dim, int k, int distanceKind, int leaveOneOut, int queryOffset, ArrayView<ulong> keys)
    {
        int q = index;
        long row = (long)q * k;
        for (int t = 0; t < k; t++) keys[row + t] = ulong.MaxValue;
        for (int j = 0; j < referenceCount; j++)
        {
            if (leaveOneOut != 0 && j == q + queryOffset) continue;
            float value = PairValue(queries, (long)q * dim, references, (long)j * dim, dim, distanceKind);
            float farness = distanceKind >= 2 ? -value : value;
            ulong key = RankingMath.DescendingScoreKey(-farness, j);
            if (key >= keys[row + k - 1]) continue;
            // Insertion into the sorted list of the k best so far.
            int at = k - 1;
            while (at > 0 && keys[row + at - 1] > key)
            {
                keys[row + at] = keys[row + at - 1];
                at--;
            }
            keys[row + at] = key;
        }
    }
}
