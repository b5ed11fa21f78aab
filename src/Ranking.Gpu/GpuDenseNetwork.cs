using ILGPU;
using ILGPU.Runtime;
using Ranking.Gpu.Kernels;

namespace Ranking.Gpu;

/// <summary>
/// A Ranking.Models.DenseNetwork (linear or MLP, ReLU hidden layers, no dropout) held on the device for
/// training: parameters, their gradients, Adam's moments and the activations of one batch stay there;
/// a training step moves nothing but the loss. Same parameter layout as the CPU network (per layer the
/// weights, inputs x outputs row-major, then the biases), so parameters copy across unchanged.
/// </summary>
public sealed class GpuDenseNetwork : IDisposable
{
    private readonly GpuDevice _device;
    private readonly DenseKernels _kernels;
    private readonly int[] _widths;            // hidden widths, then 1
    private readonly int[] _weightOffsets, _biasOffsets;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _parameters, _gradients, _m, _v;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] _activations, _factors;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _unusedFactor;
    // The backward pass's two activation-gradient buffers, allocated on the first Backward: a network used
    // only for scoring (GpuComputeBackend.TryPredictDense) never needs them.
    private MemoryBuffer1D<float, Stride1D.Dense>? _gradA, _gradB;
    /// <summary>The widest layer's output count (1 for a linear model): the row length of the per-row buffers.</summary>
    private readonly int _widest;
    private int _adamSteps;

    /// <summary>Uploads <paramref name="parameters"/> (the CPU network's layout) and allocates activations for batches of up to <paramref name="maxRows"/> rows.</summary>
    public GpuDenseNetwork(GpuDevice device, int inputCount, IReadOnlyList<int> hidden, float[] parameters, int maxRows)
    {
        _device = device ?? throw new ArgumentNullException(nameof(device));
        InputCount = inputCount;
        Hidden = hidden.ToArray();
        MaxRows = Math.Max(1, maxRows);
        _widths = [.. Hidden, 1];
        _weightOffsets = new int[_widths.Length];
        _biasOffsets = new int[_widths.Length];
        int at = 0, fanIn = inputCount;
        for (int l = 0; l < _widths.Length; l++)
        {
            _weightOffsets[l] = at;
            at += fanIn * _widths[l];
            _biasOffsets[l] = at;
            at += _widths[l];
            fanIn = _widths[l];
        }
        if (parameters.Length != at) throw new ArgumentException($"the network {inputCount}->{string.Join("->", _widths)} has {at} parameters, got {parameters.Length}.", nameof(parameters));
        ParameterCount = at;
        _kernels = device.Kernels(a => new DenseKernels(a));
        var acc = device.Accelerator;
        lock (device.Sync)
        {
            _parameters = device.Upload(parameters);
            _gradients = acc.Allocate1D<float>(at);
            _m = acc.Allocate1D<float>(at);
            _v = acc.Allocate1D<float>(at);
            _m.MemSetToZero();
            _v.MemSetToZero();
            _activations = Hidden.Select(w => acc.Allocate1D<float>((long)MaxRows * w)).ToArray();
            _factors = Hidden.Select(w => acc.Allocate1D<float>((long)MaxRows * w)).ToArray();
            _widest = Math.Max(1, Hidden.Length == 0 ? 1 : Hidden.Max());
            _unusedFactor = acc.Allocate1D<float>((long)MaxRows * _widest);
            _unusedFactor.MemSetToZero();
        }
    }

    /// <summary>Features per input row.</summary>
    public int InputCount { get; }
    /// <summary>Widths of the hidden ReLU layers, input side first; empty for a linear model.</summary>
    public int[] Hidden { get; }
    /// <summary>The largest batch (in rows) one forward or backward pass takes: the activation buffers' size.</summary>
    public int MaxRows { get; }
    /// <summary>Weights and biases of every layer together.</summary>
    public int ParameterCount { get; }

    /// <summary>d loss / d parameters of the last <see cref="Backward"/> (device view).</summary>
    public ArrayView<float> Gradients => _gradients.View;

    private ArrayView<float> Weights(ArrayView<float> all, int layer) => all.SubView(_weightOffsets[layer], _biasOffsets[layer] - _weightOffsets[layer]);
    private ArrayView<float> Biases(ArrayView<float> all, int layer) => all.SubView(_biasOffsets[layer], _widths[layer]);
    /// <summary>A layer's weights and biases together (contiguous in the layout).</summary>
    private ArrayView<float> Layer(ArrayView<float> all, int layer) => all.SubView(_weightOffsets[layer], _biasOffsets[layer] + _widths[layer] - _weightOffsets[layer]);
    private int LayerInputs(int layer) => layer == 0 ? InputCount : _widths[layer - 1];
    private LayerShape Shape(int layer, int rows) => new() { Rows = rows, Inputs = LayerInputs(layer), Outputs = _widths[layer], Relu = layer < Hidden.Length ? 1 : 0 };

    /// <summary>Queues the forward pass of <paramref name="rows"/> rows (row-major features) into <paramref name="scores"/>.</summary>
    public void Forward(ArrayView<float> features, int rows, ArrayView<float> scores)
    {
        if (rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), $"batch of {rows} rows exceeds {MaxRows}.");
        if (rows == 0) return;
        var x = features.SubView(0, (long)rows * InputCount);
        for (int l = 0; l < Hidden.Length; l++)
        {
            var shape = Shape(l, rows);
            var h = _activations[l].View.SubView(0, (long)rows * shape.Outputs);
            _kernels.Forward(shape, x, Weights(_parameters.View, l), Biases(_parameters.View, l), h, _factors[l].View);
            x = h;
        }
        int last = Hidden.Length;
        _kernels.Forward(Shape(last, rows), x, Weights(_parameters.View, last), Biases(_parameters.View, last), scores.SubView(0, rows), _unusedFactor.View);
    }

    /// <summary>
    /// Queues the backward pass of the last forward batch: parameter gradients of
    /// sum_r scale * scoreGradients[r] * score_r (overwritten), as Ranking.Models' training pass.
    /// </summary>
    public void Backward(ArrayView<float> features, ArrayView<float> scoreGradients, float scale, int rows)
    {
        if (rows == 0) return;
        if (_gradA is null || _gradB is null)
        {
            _gradA = _device.Accelerator.Allocate1D<float>((long)MaxRows * _widest);
            _gradB = _device.Accelerator.Allocate1D<float>((long)MaxRows * _widest);
        }
        var grad = _gradA.View.SubView(0, rows);
        _kernels.Scale(scoreGradients.SubView(0, rows), scale, grad);
        int hidden = Hidden.Length;
        var lastShape = Shape(hidden, rows);
        ArrayView<float> lastInput = hidden > 0 ? _activations[hidden - 1].View : features;
        _kernels.LayerGradient(lastShape, lastInput, grad, Layer(_gradients.View, hidden));
        ArrayView<float> spare = _gradB.View;
        ArrayView<float> current = _gradA.View;
        for (int l = hidden - 1; l >= 0; l--)
        {
            // Through layer l+1's weights and layer l's ReLU: the gradient at layer l's pre-activation.
            var above = Shape(l + 1, rows);
            _kernels.InputGradient(above, current, Weights(_parameters.View, l + 1), _factors[l].View, spare);
            var shape = Shape(l, rows);
            ArrayView<float> input = l == 0 ? features : _activations[l - 1].View;
            _kernels.LayerGradient(shape, input, spare, Layer(_gradients.View, l));
            (current, spare) = (spare, current);
        }
    }

    /// <summary>One Adam step (Ranking.Training.AdamOptimizer's arithmetic) from the current gradients.</summary>
    public void AdamStep(float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
    {
        _adamSteps++;
        double c1 = 1 - Math.Pow(beta1, _adamSteps), c2 = 1 - Math.Pow(beta2, _adamSteps);
        var step = new DenseKernels.AdamStep
        {
            Beta1 = beta1,
            Beta2 = beta2,
            StepSize = (float)(learningRate * Math.Sqrt(c2) / c1),
            Epsilon = (float)(epsilon * Math.Sqrt(c2)),
        };
        _kernels.Adam(step, _parameters.View, _gradients.View, _m.View, _v.View);
    }

    /// <summary>Copies the current parameters to a new host array (counted as one download).</summary>
    public float[] DownloadParameters()
    {
        var p = new float[ParameterCount];
        lock (_device.Sync) _device.Download(_parameters.View, p);
        return p;
    }

    /// <summary>Copies the last backward pass's parameter gradients to a new host array (counted as one download).</summary>
    public float[] DownloadGradients()
    {
        var g = new float[ParameterCount];
        lock (_device.Sync) _device.Download(_gradients.View, g);
        return g;
    }

    /// <summary>Frees the parameters, gradients, Adam moments and activation buffers.</summary>
    public void Dispose()
    {
        _parameters.Dispose(); _gradients.Dispose(); _m.Dispose(); _v.Dispose();
        foreach (var b in _activations) b.Dispose();
        foreach (var b in _factors) b.Dispose();
        _gradA?.Dispose(); _gradB?.Dispose(); _unusedFactor.Dispose();
    }
}
