using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ranking.Models;

/// <summary>
/// Training-time forward and backward passes of a <see cref="DenseNetwork"/> over batches of up to
/// <see cref="MaxRows"/> rows. Every buffer (activations, ReLU/dropout derivative factors, back-propagated
/// gradients, transposed weights) is allocated once here, so a training step allocates nothing large.
/// </summary>
internal sealed unsafe class DenseNetworkPass : IModelTrainingPass
{
    private readonly DenseNetwork _net;
    private readonly int _threads;
    private readonly float[][] _activations; // per hidden layer: rows x width, after ReLU and dropout
    private readonly float[][] _factors;     // per hidden layer: d activation / d pre-activation (0, 1 or 1/(1-p))
    private readonly float[] _gradA, _gradB; // back-propagated gradients, ping-pong
    private readonly float[] _transposed;    // W^T of the layer being back-propagated
    private float[]? _input;
    private int _rows;

    public DenseNetworkPass(DenseNetwork net, int maxRows, int threads)
    {
        _net = net;
        _threads = threads;
        MaxRows = Math.Max(1, maxRows);
        _activations = net.Hidden.Select(w => NewPinned((long)MaxRows * w)).ToArray();
        _factors = net.Hidden.Select(w => NewPinned((long)MaxRows * w)).ToArray();
        int widest = net.Hidden.Length == 0 ? 0 : net.Hidden.Max();
        _gradA = NewPinned((long)MaxRows * widest);
        _gradB = net.Hidden.Length > 1 ? NewPinned((long)MaxRows * widest) : [];
        int largestHidden = 0;
        for (int l = 1; l < net.LayerCount; l++) largestHidden = Math.Max(largestHidden, net.LayerInputs(l) * net.LayerWidth(l));
        _transposed = NewPinned(largestHidden);
    }

    public int MaxRows { get; }

    public void Forward(float[] features, int rows, float[] scores, bool training, ulong dropoutKey)
    {
        if (rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), $"batch of {rows} rows exceeds the pass's {MaxRows}.");
        if (features.Length < (long)rows * _net.InputCount) throw new ArgumentException("too few features for the batch.", nameof(features));
        if (scores.Length < (long)rows * _net.OutputWidth) throw new ArgumentException($"{_net.OutputWidth} output value(s) per row are required.", nameof(scores));
        _input = features;
        _rows = rows;
        float dropout = training ? _net.Dropout : 0f;
        fixed (float* x0 = features, s = scores, p = _net.Parameters)
        {
            float* x = x0;
            int width = _net.InputCount;
            for (int l = 0; l < _net.Hidden.Length; l++)
            {
                int outWidth = _net.Hidden[l];
                float* h = Pinned(_activations[l]);
                DenseKernels.Multiply(x, rows, width, p + _net.WeightOffsets[l], outWidth, h, p + _net.BiasOffsets[l], _threads);
                Activate(h, Pinned(_factors[l]), rows * outWidth, dropout, dropoutKey + (ulong)l * 0x9E3779B97F4A7C15UL);
                x = h;
                width = outWidth;
            }
            DenseKernels.Multiply(x, rows, width, p + _net.WeightOffsets[^1], _net.OutputWidth, s, p + _net.BiasOffsets[^1], _threads);
        }
    }

    /// <summary>Workspace arrays live on the pinned object heap, so their address is stable.</summary>
    private static float* Pinned(float[] array) =>
        array.Length == 0 ? null : (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));

    private static float[] NewPinned(long length) => length == 0 ? [] : GC.AllocateArray<float>(checked((int)length), pinned: true);

    /// <summary>h = relu(z) * dropout mask; d = the factor that maps gradients back through both.</summary>
    private static void Activate(float* h, float* d, int n, float dropout, ulong key)
    {
        if (dropout <= 0f)
        {
            var one = Vector256.Create(1f);
            int i = 0;
            for (; i + 8 <= n; i += 8)
            {
                var z = Vector256.Load(h + i);
                var positive = Vector256.GreaterThan(z, Vector256<float>.Zero);
                (one & positive).Store(d + i);
                (z & positive).Store(h + i);
            }
            for (; i < n; i++)
            {
                float f = h[i] > 0f ? 1f : 0f;
                d[i] = f;
                h[i] *= f;
            }
            return;
        }
        float scale = 1f / (1f - dropout);
        for (int i = 0; i < n; i++)
        {
            bool kept = ModelRandom.UniformAt(key, (ulong)i) >= dropout;
            float f = kept && h[i] > 0f ? scale : 0f;
            d[i] = f;
            h[i] *= f;
        }
    }

    public void Backward(float[] scoreGradients, int rows, float[] parameterGradients)
    {
        if (_input is null || rows != _rows) throw new InvalidOperationException("Backward needs the Forward of the same batch first.");
        if (parameterGradients.Length != _net.Parameters.Length) throw new ArgumentException("one gradient per parameter is required.", nameof(parameterGradients));
        int hidden = _net.Hidden.Length;
        fixed (float* x0 = _input, ds = scoreGradients, p = _net.Parameters, g = parameterGradients)
        {
            // Output layer (OutputWidth columns): dW = H^T dS, db = column sums of dS.
            int lastIn = _net.LayerInputs(hidden), outWidth = _net.OutputWidth;
            float* lastInput = hidden > 0 ? Pinned(_activations[hidden - 1]) : x0;
            DenseKernels.MultiplyTransposedA(lastInput, rows, lastIn, ds, outWidth, g + _net.WeightOffsets[hidden], _threads);
            DenseKernels.ColumnSums(ds, rows, outWidth, g + _net.BiasOffsets[hidden]);
            if (hidden == 0) return;
            // dH = dS W^T: a one-column W (inputs x 1) is its own transpose in memory.
            float* grad = Pinned(_gradA), spare = Pinned(_gradB), wt = Pinned(_transposed);
            float* lastWeightsT = p + _net.WeightOffsets[hidden];
            if (outWidth > 1)
            {
                DenseKernels.Transpose(lastWeightsT, lastIn, outWidth, wt);
                lastWeightsT = wt;
            }
            DenseKernels.Multiply(ds, rows, outWidth, lastWeightsT, lastIn, grad, null, _threads);
            for (int l = hidden - 1; l >= 0; l--)
            {
                int width = _net.Hidden[l], inputs = _net.LayerInputs(l);
                Multiply(grad, Pinned(_factors[l]), rows * width); // through dropout and ReLU
                float* xin = l == 0 ? x0 : Pinned(_activations[l - 1]);
                DenseKernels.MultiplyTransposedA(xin, rows, inputs, grad, width, g + _net.WeightOffsets[l], _threads);
                DenseKernels.ColumnSums(grad, rows, width, g + _net.BiasOffsets[l]);
                if (l == 0) break;
                DenseKernels.Transpose(p + _net.WeightOffsets[l], inputs, width, wt);
                DenseKernels.Multiply(grad, rows, width, wt, inputs, spare, null, _threads);
                float* swap = grad; grad = spare; spare = swap;
            }
        }
    }

    private static void Multiply(float* x, float* factor, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8) (Vector256.Load(x + i) * Vector256.Load(factor + i)).Store(x + i);
        for (; i < n; i++) x[i] *= factor[i];
    }
}
