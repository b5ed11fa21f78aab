using Ranking.Models;
using Ranking.Numerics;

namespace Ranking.Embeddings;

/// <summary>How the terms of a batch loss are averaged (pytorch-metric-learning's reducers).</summary>
public enum LossReducer
{
    /// <summary>Sum of every term over the number of terms (zeros included).</summary>
    Mean,
    /// <summary>Sum over the number of non-zero terms (AvgNonZeroReducer): easy triplets do not dilute the hard ones.</summary>
    MeanNonZero,
    /// <summary>Each anchor's terms averaged, then those means averaged over the anchors that have terms.</summary>
    PerAnchor,
    /// <summary>The plain sum of every row's loss: for losses whose row bodies weight their own terms (proxy-anchor).</summary>
    Sum,
}

/// <summary>A batch loss as configured: the loss, its miner, the distance and the reducer; every knob with its default.</summary>
public sealed record BatchLossOptions
{
    /// <summary>
    /// contrastive, triplet, multisim, supcon, ntxent (InfoNCE), sampled-softmax (NT-Xent with the log-Q correction);
    /// the proxy losses (against learnable class proxies, <see cref="ProxyLoss"/>): proxy-nca, proxy-nce (proxy-NCA's
    /// NCE estimator), proxy-anchor.
    /// </summary>
    public string Loss { get; init; } = "supcon";
    /// <summary>all, random, semihard, batchhard, multisim.</summary>
    public string Miner { get; init; } = "all";
    /// <summary>The distance the loss reads.</summary>
    public EmbeddingDistance Distance { get; init; } = EmbeddingDistance.Cosine;
    /// <summary>Null: the loss's default (mean non-zero for contrastive and triplet, mean otherwise).</summary>
    public LossReducer? Reducer { get; init; }
    /// <summary>Triplet margin (and the semi-hard window), in the distance's units.</summary>
    public float Margin { get; init; } = 0.1f;
    /// <summary>Contrastive positive margin; null: 0 for a distance, 1 for a similarity.</summary>
    public float? PositiveMargin { get; init; }
    /// <summary>Contrastive negative margin; null: 1 for a distance, 0.5 for a similarity.</summary>
    public float? NegativeMargin { get; init; }
    /// <summary>Multi-similarity alpha.</summary>
    public float Alpha { get; init; } = 2f;
    /// <summary>Multi-similarity beta.</summary>
    public float Beta { get; init; } = 50f;
    /// <summary>Multi-similarity base (a similarity; for a distance, a distance).</summary>
    public float Base { get; init; } = 0.5f;
    /// <summary>Softmax temperature of supcon / ntxent / sampled-softmax.</summary>
    public float Temperature { get; init; } = 0.1f;
    /// <summary>The multi-similarity miner's epsilon.</summary>
    public float MinerEpsilon { get; init; } = 0.1f;
    /// <summary>Negatives per anchor kept by the random miner.</summary>
    public int RandomNegatives { get; init; } = 1;
    /// <summary>Soft-margin triplet loss log(1 + exp(f_ap - f_an)).</summary>
    public bool SoftMargin { get; init; }
    /// <summary>Seed of the random miner.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Proxy losses: negative proxies sampled per batch besides the batch's own classes (0 = every proxy: the full softmax).</summary>
    public int ProxyNegatives { get; init; }
    /// <summary>Proxy-anchor's scale alpha (Kim et al.: 32); its margin delta is <see cref="Margin"/>.</summary>
    public float ProxyAlpha { get; init; } = 32f;

    /// <summary>Loss names the parser knows.</summary>
    public static IReadOnlyList<string> LossNames { get; } = ["contrastive", "triplet", "multisim", "supcon", "ntxent", "sampled-softmax", "proxy-nca", "proxy-nce", "proxy-anchor"];
    /// <summary>Miner names the parser knows.</summary>
    public static IReadOnlyList<string> MinerNames { get; } = ["all", "random", "semihard", "batchhard", "multisim"];

    /// <summary>The loss kind of <see cref="Loss"/>.</summary>
    public BatchLossKind LossKind => Loss.Trim().ToLowerInvariant() switch
    {
        "contrastive" => BatchLossKind.Contrastive,
        "triplet" => BatchLossKind.Triplet,
        "multisim" or "multi-similarity" or "ms" => BatchLossKind.MultiSimilarity,
        "supcon" => BatchLossKind.SupCon,
        "ntxent" or "infonce" or "nt-xent" or "sampled-softmax" or "proxy-nca" => BatchLossKind.NtXent,
        "proxy-nce" => BatchLossKind.Nce,
        "proxy-anchor" => BatchLossKind.ProxyAnchor,
        _ => throw new ArgumentException($"unknown loss '{Loss}'; known: {string.Join(", ", LossNames)}."),
    };

    /// <summary>True for the losses against learnable class proxies (trained by <see cref="ProxyLoss"/>, not against the batch).</summary>
    public bool IsProxyLoss => Loss.Trim().ToLowerInvariant() is "proxy-nca" or "proxy-nce" or "proxy-anchor";

    /// <summary>True for the in-batch sampled softmax with the log-Q correction.</summary>
    public bool LogQCorrection => Loss.Trim().Equals("sampled-softmax", StringComparison.OrdinalIgnoreCase);

    /// <summary>The miner kind of <see cref="Miner"/>.</summary>
    public MinerKind MinerKind => Miner.Trim().ToLowerInvariant() switch
    {
        "all" or "none" => MinerKind.All,
        "random" => MinerKind.Random,
        "semihard" or "semi-hard" => MinerKind.SemiHard,
        "batchhard" or "batch-hard" or "hard" => MinerKind.BatchHard,
        "multisim" or "multi-similarity" or "ms" => MinerKind.MultiSimilarity,
        _ => throw new ArgumentException($"unknown miner '{Miner}'; known: {string.Join(", ", MinerNames)}."),
    };

    /// <summary>The reducer in effect.</summary>
    public LossReducer EffectiveReducer => Reducer ?? LossKind switch
    {
        BatchLossKind.Contrastive or BatchLossKind.Triplet => LossReducer.MeanNonZero,
        BatchLossKind.ProxyAnchor => LossReducer.Sum,
        _ => LossReducer.Mean,
    };

    /// <summary>Checks every knob; an <see cref="ArgumentException"/> names the bad one.</summary>
    public BatchLossSettings Settings()
    {
        var loss = LossKind;
        var miner = MinerKind;
        if (!(Temperature > 0) || !float.IsFinite(Temperature)) throw new ArgumentException($"temperature must be positive, got {Temperature}.");
        if (!(Margin >= 0) || !float.IsFinite(Margin)) throw new ArgumentException($"margin must be non-negative, got {Margin}.");
        if (!(Alpha > 0) || !(Beta > 0)) throw new ArgumentException("multi-similarity alpha and beta must be positive.");
        if (RandomNegatives < 1) throw new ArgumentException("the random miner keeps at least one negative per anchor.");
        if (ProxyNegatives < 0) throw new ArgumentException($"--proxy-negatives must not be negative, got {ProxyNegatives}.");
        if (!(ProxyAlpha > 0) || !float.IsFinite(ProxyAlpha)) throw new ArgumentException($"proxy-anchor's alpha must be positive, got {ProxyAlpha}.");
        if (IsProxyLoss && miner != MinerKind.All) throw new ArgumentException($"the proxy loss '{Loss}' compares items with class proxies; it takes no miner (--miner all), got '{Miner}'.");
        if (loss == BatchLossKind.ProxyAnchor && EffectiveReducer != LossReducer.Sum)
            throw new ArgumentException("proxy-anchor weights its own two averages; it takes the sum reducer.");
        if (!IsProxyLoss && loss is BatchLossKind.Nce or BatchLossKind.ProxyAnchor) throw new ArgumentException($"'{Loss}' is a proxy loss.");
        bool similarity = Distance.IsSimilarity();
        return BatchLossSettings.ForDistance(loss, miner, similarity, Margin,
            PositiveMargin ?? (similarity ? 1f : 0f), NegativeMargin ?? (similarity ? 0.5f : 1f),
            loss == BatchLossKind.ProxyAnchor ? ProxyAlpha : Alpha, Beta, Base, Temperature, MinerEpsilon, RandomNegatives, SoftMargin, Seed);
    }
}

/// <summary>
/// The references a batch is compared with: the batch itself (they then get gradients too), or a
/// cross-batch memory's entries (no gradient flows into them). <see cref="SelfIndex"/> says where each
/// anchor sits among the references, so that self-pairs are left out.
/// </summary>
/// <param name="Embeddings">The references' embeddings, row-major, at least Count x dimension values.</param>
/// <param name="Labels">The class of each reference.</param>
/// <param name="Count">How many references are in use (a memory queue may be partly filled).</param>
/// <param name="SelfIndex">For each anchor of the batch, its own index among the references (that pair is left out); an index no reference has (e.g. -1) when it is not among them.</param>
/// <param name="AreTheBatch">True when the references are the batch itself (gradients flow into them too).</param>
/// <param name="LogQ">Per reference, the log of its class's sampling frequency (sampled softmax's logQ correction); null = none.</param>
public readonly record struct BatchReferences(float[] Embeddings, int[] Labels, int Count, int[] SelfIndex, bool AreTheBatch, float[]? LogQ = null);

/// <summary>
/// The step of a batch loss against given references: farness, the shared row body, the reducer and the chain
/// rule back to the anchors (and to references apart from the batch). <see cref="BatchLoss"/> on the CPU,
/// Ranking.Gpu.GpuBatchLoss on a device; <see cref="ProxyLoss"/> runs on either.
/// </summary>
public interface IBatchLossStep
{
    /// <summary>The options the loss was built from.</summary>
    BatchLossOptions Options { get; }
    /// <summary>The settings the shared row body receives.</summary>
    BatchLossSettings Settings { get; }
    /// <summary>See <see cref="BatchLoss.Compute"/>.</summary>
    double Compute(float[] embeddings, int[] labels, int count, int dim, BatchReferences references, float[] embeddingGradient, int iteration,
        float[]? referenceGradient = null, BatchLossSettings? settings = null);
    /// <summary>Statistics of the last batch's farness matrix (terms, non-zero terms, mean row spread, mean farness): what collapse detection watches.</summary>
    BatchStatistics LastStatistics { get; }
}

/// <summary>
/// One batch loss on the CPU: the farness matrix of the batch against its references, the shared row
/// body (<see cref="BatchLosses.Row"/>) per anchor in parallel, the reducer, and the chain rule back to
/// the embeddings through matrix products. Buffers grow to the largest batch seen and are reused.
/// </summary>
public sealed class BatchLoss : IBatchLossStep
{
    private readonly BatchLossSettings _settings;
    private float[] _farness = [], _gradient = [], _transposed = [], _scratch = [], _rowScale = [];
    private int[] _mask = [], _minerScratch = [];
    private RowLoss[] _rows = [];

    /// <summary>A loss from checked options.</summary>
    public BatchLoss(BatchLossOptions options, int threads = -1)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _settings = options.Settings();
        Threads = threads;
    }

    /// <summary>The options this loss was built from.</summary>
    public BatchLossOptions Options { get; }
    /// <summary>The settings the shared row body receives.</summary>
    public BatchLossSettings Settings => _settings;
    /// <summary>Worker threads; -1 = all cores.</summary>
    public int Threads { get; }

    /// <summary>Statistics of the last batch: terms, non-zero terms, the mean spread of a row's farness and the mean farness.</summary>
    public BatchStatistics LastStatistics { get; private set; }

    /// <summary>The last batch's farness matrix (batch x references, row-major); valid until the next call.</summary>
    public ReadOnlySpan<float> LastFarness => _farness;

    /// <summary>
    /// The reduced loss of a batch of <paramref name="count"/> embeddings (row-major, <paramref name="dim"/>
    /// wide, already normalised where the distance wants it) against <paramref name="references"/>, and
    /// d loss / d embeddings in <paramref name="embeddingGradient"/> (overwritten). With
    /// <paramref name="referenceGradient"/> (references that are not the batch: class proxies, another tower's
    /// items), d loss / d references is written there too (overwritten, Count x dim). <paramref name="settings"/>
    /// replaces the loss's settings for this batch (proxy-anchor's per-batch weights).
    /// </summary>
    public double Compute(float[] embeddings, int[] labels, int count, int dim, BatchReferences references, float[] embeddingGradient, int iteration,
        float[]? referenceGradient = null, BatchLossSettings? settings = null)
    {
        int m = references.Count;
        if (embeddingGradient.Length < count * dim) throw new ArgumentException("the gradient buffer is too small.", nameof(embeddingGradient));
        if (referenceGradient is not null && (references.AreTheBatch || referenceGradient.Length < (long)m * dim))
            throw new ArgumentException("a reference gradient needs references apart from the batch and room for Count x dim values.", nameof(referenceGradient));
        var rowSettings = settings ?? _settings;
        int scratchCells = rowSettings.Miner == MinerKind.SemiHard ? BatchLosses.SemiHardScratchCells(m) : 0;
        Grow(count, m, dim, scratchCells);
        FarnessMatrix(embeddings, count, dim, references, _farness);

        float[] farness = _farness, gradient = _gradient;
        int[] mask = _mask, minerScratch = _minerScratch;
        RowLoss[] rows = _rows;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Threads <= 0 ? -1 : Threads }, i =>
        {
            var row = new ArrayBatchRow(farness, mask, gradient, minerScratch, i * m, i * scratchCells, m, labels[i], references.Labels, references.SelfIndex[i], references.LogQ);
            rows[i] = BatchLosses.Row(ref row, rowSettings, iteration, i);
        });

        double loss = Reduce(count, m, references.SelfIndex);
        Backward(embeddings, count, dim, references, embeddingGradient, referenceGradient);
        return loss;
    }

    /// <summary>Applies the reducer: scales each row's gradient and returns the reduced loss.</summary>
    private double Reduce(int count, int m, int[] selfIndex)
    {
        double spread = 0, sum = 0;
        long pairs = 0;
        for (int i = 0; i < count; i++)
        {
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            for (int j = 0; j < m; j++)
            {
                if (j == selfIndex[i]) continue;
                float f = _farness[(long)i * m + j];
                lo = MathF.Min(lo, f);
                hi = MathF.Max(hi, f);
                sum += f;
                pairs++;
            }
            if (hi >= lo) spread += hi - lo;
        }
        double loss = ReducerScales(_rows, count, Options.EffectiveReducer, _settings.Sign, _rowScale, out long terms, out long nonZero);
        LastStatistics = new BatchStatistics(terms, nonZero, count == 0 ? 0 : spread / count, pairs == 0 ? 0 : sum / pairs);
        for (int i = 0; i < count; i++)
            System.Numerics.Tensors.TensorPrimitives.Multiply(_gradient.AsSpan(i * m, m), _rowScale[i], _gradient.AsSpan(i * m, m));
        return loss;
    }

    /// <summary>
    /// The reduced loss this batch would have if every embedding sat on one point: every pair's farness equal
    /// to <paramref name="farness"/> (for a collapse, the batch's mean farness), mined and reduced as in
    /// <see cref="Compute"/>. For the hard-margin triplet loss it is the margin, for the soft margin log 2.
    /// A loss pinned at this value while distances shrink is the signature of a collapse. Allocates; call it rarely.
    /// </summary>
    public double LossAtCollapse(int[] labels, int count, BatchReferences references, float farness, int iteration)
    {
        int m = references.Count;
        var constant = new float[m];
        Array.Fill(constant, farness);
        var mask = new int[m];
        var gradient = new float[m];
        var minerScratch = new int[BatchLosses.SemiHardScratchCells(m)];
        var rows = new RowLoss[count];
        for (int i = 0; i < count; i++)
        {
            var row = new ArrayBatchRow(constant, mask, gradient, minerScratch, 0, 0, m, labels[i], references.Labels, references.SelfIndex[i], references.LogQ);
            rows[i] = BatchLosses.Row(ref row, _settings, iteration, i);
        }
        return ReducerScales(rows, count, Options.EffectiveReducer, _settings.Sign, new float[count], out _, out _);
    }

    /// <summary>
    /// The reducer, shared by the CPU and GPU paths: the reduced loss, and per row the factor that turns its
    /// d (row loss) / d farness into d (reduced loss) / d value (the reducer's 1 / count times the distance's sign).
    /// </summary>
    public static double ReducerScales(ReadOnlySpan<RowLoss> rows, int count, LossReducer reducer, float sign, Span<float> rowScale, out long terms, out long nonZero)
    {
        terms = 0;
        nonZero = 0;
        int anchorsWithTerms = 0;
        for (int i = 0; i < count; i++)
        {
            terms += rows[i].Terms;
            nonZero += rows[i].NonZero;
            if (rows[i].Terms > 0) anchorsWithTerms++;
        }
        double loss = 0;
        for (int i = 0; i < count; i++)
        {
            double scale = reducer switch
            {
                LossReducer.Mean => terms == 0 ? 0 : 1.0 / terms,
                LossReducer.MeanNonZero => nonZero == 0 ? 0 : 1.0 / nonZero,
                LossReducer.Sum => 1.0,
                _ => rows[i].Terms == 0 ? 0 : 1.0 / ((double)rows[i].Terms * anchorsWithTerms),
            };
            loss += rows[i].Loss * scale;
            rowScale[i] = (float)(scale * sign);
        }
        return loss;
    }

    /// <summary>F = Sign * value of every (anchor, reference) pair: one matrix product plus, for L2, the squared norms.</summary>
    private void FarnessMatrix(float[] e, int count, int dim, BatchReferences refs, float[] farness)
    {
        int m = refs.Count;
        DenseKernels.Transpose(refs.Embeddings, m, dim, _transposed);
        DenseKernels.Multiply(e, count, dim, _transposed, m, farness, null, Threads);
        var distance = Options.Distance;
        if (distance.IsSimilarity())
        {
            System.Numerics.Tensors.TensorPrimitives.Negate(farness.AsSpan(0, count * m), farness.AsSpan(0, count * m));
            return;
        }
        var refNorms = _scratch;
        for (int j = 0; j < m; j++) { var r = refs.Embeddings.AsSpan(j * dim, dim); refNorms[j] = System.Numerics.Tensors.TensorPrimitives.Dot(r, r); }
        for (int i = 0; i < count; i++)
        {
            var a = e.AsSpan(i * dim, dim);
            float aa = System.Numerics.Tensors.TensorPrimitives.Dot(a, a);
            var row = farness.AsSpan(i * m, m);
            for (int j = 0; j < m; j++)
            {
                float sq = MathF.Max(aa + refNorms[j] - 2f * row[j], 0f);
                row[j] = distance == EmbeddingDistance.SquaredL2 ? sq : MathF.Sqrt(MathF.Max(sq, (float)EmbeddingDistances.MinSquaredDistance));
            }
        }
    }

    /// <summary>
    /// d loss / d embeddings from G = d loss / d value (in <c>_gradient</c>). Dot and cosine: dE = G R, plus
    /// G^T E when the references are the batch. L2 distances: with W = G (squared) or G / (2 D) (plain) scaled
    /// by 2, dE_i = 2 (sum_j W_ij) e_i - 2 (W R)_i, and the mirror term for batch references.
    /// </summary>
    private void Backward(float[] e, int count, int dim, BatchReferences refs, float[] dE, float[]? dR)
    {
        int m = refs.Count;
        var distance = Options.Distance;
        if (distance == EmbeddingDistance.L2)
        {
            for (long k = 0; k < (long)count * m; k++)
            {
                float d = _farness[k];
                _gradient[k] = d * d > EmbeddingDistances.MinSquaredDistance * 1.0001 ? _gradient[k] / (2f * d) : 0f;
            }
        }
        DenseKernels.Multiply(_gradient, count, m, refs.Embeddings, dim, dE, null, Threads);
        bool squared = !distance.IsSimilarity();
        if (squared)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(dE.AsSpan(0, count * dim), -2f, dE.AsSpan(0, count * dim));
            for (int i = 0; i < count; i++)
            {
                float rowSum = System.Numerics.Tensors.TensorPrimitives.Sum(_gradient.AsSpan(i * m, m));
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(e.AsSpan(i * dim, dim), 2f * rowSum, dE.AsSpan(i * dim, dim), dE.AsSpan(i * dim, dim));
            }
        }
        if (!refs.AreTheBatch && dR is null) return;
        // Reference j's share, G^T's side of each pair: the batch's own mirror term, or the references' gradient.
        var mirrorArray = dR ?? _scratch;
        var mirror = mirrorArray.AsSpan(0, m * dim);
        DenseKernels.MultiplyTransposedA(_gradient, count, m, e, dim, mirrorArray, Threads);
        if (squared)
        {
            System.Numerics.Tensors.TensorPrimitives.Multiply(mirror, -2f, mirror);
            for (int j = 0; j < m; j++)
            {
                float colSum = 0;
                for (int i = 0; i < count; i++) colSum += _gradient[(long)i * m + j];
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(refs.Embeddings.AsSpan(j * dim, dim), 2f * colSum, mirror.Slice(j * dim, dim), mirror.Slice(j * dim, dim));
            }
        }
        if (refs.AreTheBatch) System.Numerics.Tensors.TensorPrimitives.Add(dE.AsSpan(0, count * dim), mirror, dE.AsSpan(0, count * dim));
    }

    private void Grow(int count, int m, int dim, int scratchCellsPerRow)
    {
        long cells = (long)count * m;
        if (_farness.Length < cells) { _farness = new float[cells]; _gradient = new float[cells]; _mask = new int[cells]; }
        // Only the semi-hard miner sorts (a row's positives, in the row's own scratch cells).
        long minerCells = (long)count * scratchCellsPerRow;
        if (_minerScratch.Length < minerCells) _minerScratch = new int[minerCells];
        if (_transposed.Length < (long)m * dim) _transposed = new float[(long)m * dim];
        int scratch = Math.Max(m, Math.Max(count, m) * dim);
        if (_scratch.Length < scratch) _scratch = new float[scratch];
        if (_rows.Length < count) { _rows = new RowLoss[count]; _rowScale = new float[count]; }
    }
}

/// <summary>
/// Statistics of one batch: its terms, the non-zero ones, the mean over anchors of the spread (max - min) of a
/// row's farness, and the mean farness over every pair (self-pairs left out). Both fall on a collapse.
/// </summary>
public readonly record struct BatchStatistics(long Terms, long NonZero, double MeanRowSpread, double MeanFarness);

/// <summary>The CPU's <see cref="IBatchRow"/>: one row of the batch's farness, mask and gradient matrices.</summary>
internal struct ArrayBatchRow(float[] farness, int[] mask, float[] gradient, int[] minerScratch, int offset, int scratchOffset, int count, int label,
    int[] referenceLabels, int self, float[]? logQ) : IBatchRow
{
    public readonly int Count => count;
    public readonly float Farness(int j) => farness[offset + j];
    public readonly int Relation(int j) => j == self ? BatchLosses.NotAPair : referenceLabels[j] == label ? BatchLosses.Positive : BatchLosses.Negative;
    public readonly int Mask(int j) => mask[offset + j];
    public readonly void SetMask(int j, int value) => mask[offset + j] = value;
    public readonly float LogitCorrection(int j) => logQ is null ? 0f : logQ[j];
    public readonly float Gradient(int j) => gradient[offset + j];
    public readonly void SetGradient(int j, float value) => gradient[offset + j] = value;
    public readonly int Scratch(int i) => minerScratch[scratchOffset + i];
    public readonly void SetScratch(int i, int value) => minerScratch[scratchOffset + i] = value;
}
