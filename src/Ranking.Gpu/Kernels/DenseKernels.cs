using ILGPU;
using ILGPU.Runtime;

namespace Ranking.Gpu.Kernels;

/// <summary>The shapes of one dense layer, as plain kernel fields.</summary>
public struct LayerShape
{
    /// <summary>Rows of the batch.</summary>
    public int Rows;
    /// <summary>Inputs per row (the previous layer's width, or the feature count).</summary>
    public int Inputs;
    /// <summary>Outputs per row (the layer's width; 1 for the output layer).</summary>
    public int Outputs;
    /// <summary>1: ReLU after the layer (hidden layers); 0: linear (the output layer).</summary>
    public int Relu;
}

/// <summary>
/// The MLP's products on the device, in the layout of Ranking.Models.DenseNetwork (per layer: weights
/// inputs x outputs row-major, then biases) and the Adam update of Ranking.Training.AdamOptimizer.
/// A thread per output element, float32 accumulation in a fixed order (as the CPU's float kernels),
/// no atomics: every value is summed by one thread, so results repeat.
/// </summary>
public sealed class DenseKernels : IDisposable
{
    private readonly Action<Index1D, LayerShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _forward;
    private readonly Action<Index1D, LayerShape, int, ArrayView<float>, ArrayView<float>, ArrayView<float>> _layerGradient;
    private readonly Action<Index1D, int, int, ArrayView<float>, ArrayView<float>> _sumChunks;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _partials;
    private const int PartialCapacity = 1 << 21;

    /// <summary>Rows per chunk of a gradient reduction: enough threads to fill a GPU, few enough chunks to sum.</summary>
    private const int RowsPerChunk = 64;
    private const int MaxChunks = 64;
    private readonly Action<Index1D, LayerShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _inputGradient;
    private readonly Action<Index1D, ArrayView<float>, float, ArrayView<float>> _scale;
    private readonly Action<Index1D, AdamStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> _adam;

    /// <summary>One Adam update's constants, bias corrections folded into the step size and epsilon (as Ranking.Training.AdamOptimizer does).</summary>
    public struct AdamStep
    {
        /// <summary>Beta1, Beta2: decay rates of the first and second moments; StepSize: learning rate times sqrt(1 - Beta2^t) / (1 - Beta1^t); Epsilon: the denominator's floor times sqrt(1 - Beta2^t).</summary>
        public float Beta1, Beta2, StepSize, Epsilon;
    }

    /// <summary>Compiles the dense kernels on <paramref name="accelerator"/> and allocates the reduction scratch (8 MiB).</summary>
    public DenseKernels(Accelerator accelerator)
    {
        _forward = accelerator.LoadAutoGroupedStreamKernel<Index1D, LayerShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ForwardKernel);
        _layerGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, LayerShape, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>(LayerGradientKernel);
        _sumChunks = accelerator.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>>(SumChunksKernel);
        _partials = accelerator.Allocate1D<float>(PartialCapacity);
        _inputGradient = accelerator.LoadAutoGroupedStreamKernel<Index1D, LayerShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(InputGradientKernel);
        _scale = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float, ArrayView<float>>(ScaleKernel);
        _adam = accelerator.LoadAutoGroupedStreamKernel<Index1D, AdamStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(AdamKernel);
    }

    /// <summary>output = act(input W + bias); factor = d act / d z (1 or 0; unused without ReLU).</summary>
    public void Forward(LayerShape shape, ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias, ArrayView<float> output, ArrayView<float> factor) =>
        _forward(shape.Rows * shape.Outputs, shape, input, weights, bias, output, factor);

    /// <summary>
    /// A layer's parameter gradients in one reduction (overwritten): dW = input^T dOut and db = column sums of
    /// dOut, written to <paramref name="layerGradient"/> = the layer's weights then biases, contiguous as in
    /// the parameter layout ((inputs + 1) x outputs: the biases are the weights of an input that is always 1).
    /// The sum over rows is split into chunks of 64 rows (a thread per parameter and chunk), then the chunk
    /// sums are added in chunk order: a thread per parameter looping over thousands of rows would leave most
    /// of a GPU idle. Two launches per layer (one for weights and biases together: the training loop is
    /// launch-bound on small batches).
    /// </summary>
    public void LayerGradient(LayerShape shape, ArrayView<float> input, ArrayView<float> outputGradient, ArrayView<float> layerGradient)
    {
        int size = (shape.Inputs + 1) * shape.Outputs, chunks = Chunks(shape.Rows, size);
        var partials = _partials.View.SubView(0, (long)size * chunks);
        _layerGradient(size * chunks, shape, chunks, input, outputGradient, partials);
        _sumChunks(size, size, chunks, partials, layerGradient);
    }

    /// <summary>Chunks for a reduction over <paramref name="rows"/> rows of <paramref name="size"/> sums (as many as the scratch holds).</summary>
    private static int Chunks(int rows, int size) =>
        Math.Max(1, Math.Min(Math.Min((rows + RowsPerChunk - 1) / RowsPerChunk, MaxChunks), PartialCapacity / Math.Max(1, size)));

    /// <summary>dIn = (dOut W^T) * factor of the layer below (its ReLU derivative).</summary>
    public void InputGradient(LayerShape shape, ArrayView<float> outputGradient, ArrayView<float> weights, ArrayView<float> inputFactor, ArrayView<float> inputGradient) =>
        _inputGradient(shape.Rows * shape.Inputs, shape, outputGradient, weights, inputFactor, inputGradient);

    /// <summary>target = source * factor.</summary>
    public void Scale(ArrayView<float> source, float factor, ArrayView<float> target)
    {
        if (target.Length > 0) _scale((int)target.Length, source, factor, target);
    }

    /// <summary>One Adam step in place: m and v are the moments, updated with <paramref name="gradients"/>, then <paramref name="parameters"/> -= StepSize m / (sqrt(v) + Epsilon).</summary>
    public void Adam(AdamStep step, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v) =>
        _adam((int)parameters.Length, step, parameters, gradients, m, v);

    /// <summary>Frees the reduction scratch.</summary>
    public void Dispose() => _partials.Dispose();

    private static void ForwardKernel(Index1D index, LayerShape s, ArrayView<float> input, ArrayView<float> weights, ArrayView<float> bias, ArrayView<float> output, ArrayView<float> factor)
    {
        int r = index / s.Outputs, o = index - r * s.Outputs;
        long row = (long)r * s.Inputs;
        float z = 0f;
        for (int k = 0; k < s.Inputs; k++) z += input[row + k] * weights[(long)k * s.Outputs + o];
        z += bias[o];
        if (s.Relu != 0)
        {
            bool positive = z > 0f;
            output[index] = positive ? z : 0f;
            factor[index] = positive ? 1f : 0f;
        }
        else output[index] = z;
    }

    /// <summary>The rows [from, to) of chunk c when <paramref name="rows"/> rows are split into <paramref name="chunks"/>.</summary>
    private static void ChunkRows(int rows, int chunks, int c, out int from, out int to)
    {
        int per = (rows + chunks - 1) / chunks;
        from = c * per;
        to = from + per < rows ? from + per : rows;
    }

    private static void LayerGradientKernel(Index1D index, LayerShape s, int chunks, ArrayView<float> input, ArrayView<float> outputGradient, ArrayView<float> partials)
    {
        int size = (s.Inputs + 1) * s.Outputs;
        int c = index / size, e = index - c * size;
        int k = e / s.Outputs, o = e - k * s.Outputs;
        ChunkRows(s.Rows, chunks, c, out int from, out int to);
        float sum = 0f;
        if (k < s.Inputs)
        {
            for (int r = from; r < to; r++) sum += input[(long)r * s.Inputs + k] * outputGradient[(long)r * s.Outputs + o];
        }
        else
        {
            // The bias: the weight of an input that is always 1.
            for (int r = from; r < to; r++) sum += outputGradient[(long)r * s.Outputs + o];
        }
        partials[index] = sum;
    }

    private static void SumChunksKernel(Index1D index, int size, int chunks, ArrayView<float> partials, ArrayView<float> target)
    {
        float sum = 0f;
        for (int c = 0; c < chunks; c++) sum += partials[(long)c * size + index];
        target[index] = sum;
    }

    private static void InputGradientKernel(Index1D index, LayerShape s, ArrayView<float> outputGradient, ArrayView<float> weights, ArrayView<float> inputFactor, ArrayView<float> inputGradient)
    {
        int r = index / s.Inputs, k = index - r * s.Inputs;
        float sum = 0f;
        long row = (long)r * s.Outputs, w = (long)k * s.Outputs;
        for (int o = 0; o < s.Outputs; o++) sum += outputGradient[row + o] * weights[w + o];
        inputGradient[index] = sum * inputFactor[index];
    }

    private static void ScaleKernel(Index1D index, ArrayView<float> source, float factor, ArrayView<float> target) =>
        target[index] = source[index] * factor;

    /// <summary>Ranking.Training.AdamOptimizer.Step, element by element (bias correction folded into StepSize and Epsilon on the host).</summary>
    private static void AdamKernel(Index1D index, AdamStep a, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v)
    {
        float g = gradients[index];
        float mi = a.Beta1 * m[index] + (1 - a.Beta1) * g;
        float vi = a.Beta2 * v[index] + (1 - a.Beta2) * g * g;
        m[index] = mi;
        v[index] = vi;
        // Math.Sqrt in double then rounded: the correctly rounded float square root, as MathF.Sqrt on the CPU
        // (MathF members are not all mapped by ILGPU's PTX back end; Math.Sqrt is).
        parameters[index] -= a.StepSize * mi / ((float)Math.Sqrt(vi) + a.Epsilon);
    }
}
