using System.Runtime.Intrinsics;

namespace Ranking.Models;

/// <summary>
/// A stack of dense layers, ReLU between them, one linear output: the shared body of
/// <see cref="LinearModel"/> (no hidden layer) and <see cref="MlpModel"/>. Parameters live in one flat
/// array, per layer the weights (inputs x outputs, row-major, so a forward pass is X * W) then the biases.
/// Dropout (inverted: kept units scaled by 1 / (1 - p)) applies after each hidden ReLU while training.
/// The output layer has <see cref="OutputWidth"/> units: 1 for a scorer, the embedding dimension for an
/// encoder (Ranking.Embeddings), with the same layers, kernels and payload.
/// </summary>
public sealed class DenseNetwork
{
    private DenseNetwork(int inputCount, int[] hidden, float dropout, float[] parameters, int outputWidth = 1)
    {
        if (outputWidth < 1) throw new ArgumentOutOfRangeException(nameof(outputWidth), "the output layer needs at least one unit.");
        OutputWidth = outputWidth;
        InputCount = inputCount;
        Hidden = hidden;
        Dropout = dropout;
        int layers = hidden.Length + 1;
        WeightOffsets = new int[layers];
        BiasOffsets = new int[layers];
        int at = 0, fanIn = inputCount;
        for (int l = 0; l < layers; l++)
        {
            int width = LayerWidth(l);
            WeightOffsets[l] = at;
            at += fanIn * width;
            BiasOffsets[l] = at;
            at += width;
            fanIn = width;
        }
        if (parameters.Length != at)
            throw new InvalidDataException($"the network {Describe(inputCount, hidden, outputWidth)} has {at} parameters, the payload holds {parameters.Length}.");
        Parameters = parameters;
    }

    /// <summary>Inputs of the first layer (the feature count).</summary>
    public int InputCount { get; }
    /// <summary>Units of the output layer: 1 for a scorer, the embedding dimension for an encoder.</summary>
    public int OutputWidth { get; }
    /// <summary>Widths of the hidden layers (empty for a linear model).</summary>
    public int[] Hidden { get; }
    /// <summary>Dropout probability after each hidden ReLU while training.</summary>
    public float Dropout { get; }
    /// <summary>Every weight and bias, in the layout the class summary describes.</summary>
    public float[] Parameters { get; }
    /// <summary>Hidden layers plus the output layer.</summary>
    public int LayerCount => Hidden.Length + 1;
    internal int[] WeightOffsets { get; }
    internal int[] BiasOffsets { get; }

    /// <summary>Units of a layer (the output layer has <see cref="OutputWidth"/>).</summary>
    public int LayerWidth(int layer) => layer < Hidden.Length ? Hidden[layer] : OutputWidth;
    /// <summary>Inputs of a layer.</summary>
    public int LayerInputs(int layer) => layer == 0 ? InputCount : Hidden[layer - 1];

    /// <summary>The shape as text, e.g. "784->256->128".</summary>
    public static string Describe(int inputs, int[] hidden, int outputWidth = 1) => string.Join("->", [inputs, .. hidden, outputWidth]);

    /// <summary>
    /// He initialisation (normal, std sqrt(2 / fan-in)) for layers feeding a ReLU, std sqrt(1 / fan-in)
    /// for the linear output, biases zero; a linear model (no hidden layer) starts at zero, the optimum of
    /// no information. A linear map to several outputs (an embedding projection) starts random instead:
    /// at zero every item would map to the same point. Seeded with our own generator so a seed means the
    /// same weights everywhere.
    /// </summary>
    public static DenseNetwork Create(int inputCount, IReadOnlyList<int> hidden, float dropout, ulong seed, int outputWidth = 1)
    {
        if (outputWidth < 1) throw new ArgumentOutOfRangeException(nameof(outputWidth), "the output layer needs at least one unit.");
        if (inputCount <= 0) throw new ArgumentOutOfRangeException(nameof(inputCount), "a model needs at least one feature.");
        foreach (int h in hidden)
            if (h <= 0) throw new ArgumentException($"hidden layer widths must be positive, got {h}.", nameof(hidden));
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), "dropout must be in [0, 1).");
        int[] widths = [.. hidden];
        int count = 0, fanIn = inputCount;
        foreach (int w in widths.Append(outputWidth)) { count += fanIn * w + w; fanIn = w; }
        var parameters = new float[count];
        var net = new DenseNetwork(inputCount, widths, dropout, parameters, outputWidth);
        if (widths.Length > 0 || outputWidth > 1)
        {
            var random = new ModelRandom(seed);
            for (int l = 0; l < net.LayerCount; l++)
            {
                int fan = net.LayerInputs(l), width = net.LayerWidth(l);
                double std = l < widths.Length ? Math.Sqrt(2.0 / fan) : Math.Sqrt(1.0 / fan);
                for (int i = 0; i < fan * width; i++) parameters[net.WeightOffsets[l] + i] = (float)(std * random.NextGaussian());
            }
        }
        return net;
    }

    /// <summary>A network from its shape and parameters (checked against the shape).</summary>
    public static DenseNetwork FromParameters(int inputCount, int[] hidden, float dropout, float[] parameters, int outputWidth = 1) =>
        new(inputCount, hidden, dropout, parameters, outputWidth);

    /// <summary>The weight blocks of each layer (what weight decay applies to).</summary>
    public IReadOnlyList<(int Offset, int Length)> WeightRanges() =>
        Enumerable.Range(0, LayerCount).Select(l => (WeightOffsets[l], LayerInputs(l) * LayerWidth(l))).ToArray();

    private const int PredictChunk = 2048;

    /// <summary>Inference (no dropout), in chunks of rows so memory stays bounded; <paramref name="scores"/> holds rows x <see cref="OutputWidth"/> values.</summary>
    public unsafe void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores, int threads)
    {
        if (features.Length < (long)rowCount * InputCount) throw new ArgumentException($"expected {rowCount} x {InputCount} features, got {features.Length} values.", nameof(features));
        if (scores.Length < (long)rowCount * OutputWidth) throw new ArgumentException($"{OutputWidth} output value(s) per row are required.", nameof(scores));
        int widest = Hidden.Length == 0 ? 1 : Hidden.Max();
        int chunk = Math.Min(PredictChunk, Math.Max(rowCount, 1));
        float[] ping = Hidden.Length > 0 ? new float[chunk * widest] : [];
        float[] pong = Hidden.Length > 1 ? new float[chunk * widest] : [];
        fixed (float* x0 = features, s = scores, p = Parameters, b1 = ping, b2 = pong)
        {
            for (int r0 = 0; r0 < rowCount; r0 += chunk)
            {
                int rows = Math.Min(chunk, rowCount - r0);
                float* x = x0 + (long)r0 * InputCount;
                int width = InputCount;
                float* next = b1, other = b2;
                for (int l = 0; l < Hidden.Length; l++)
                {
                    int outWidth = Hidden[l];
                    DenseKernels.Multiply(x, rows, width, p + WeightOffsets[l], outWidth, next, p + BiasOffsets[l], threads);
                    Relu(next, rows * outWidth);
                    x = next;
                    width = outWidth;
                    float* swap = next; next = other; other = swap;
                }
                int last = LayerCount - 1;
                DenseKernels.Multiply(x, rows, width, p + WeightOffsets[last], OutputWidth, s + (long)r0 * OutputWidth, p + BiasOffsets[last], threads);
            }
        }
    }

    private static unsafe void Relu(float* x, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8) Vector256.Max(Vector256.Load(x + i), Vector256<float>.Zero).Store(x + i);
        for (; i < n; i++) x[i] = MathF.Max(x[i], 0f);
    }

    /// <summary>
    /// Payload: "RKNN", version, inputs, hidden count, widths, dropout, [version 2: output width,] parameter
    /// count, parameters (little-endian). A scorer (one output) still writes version 1, byte for byte as before.
    /// </summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write(PayloadMagic);
            w.Write(OutputWidth == 1 ? 1 : PayloadVersion);
            w.Write(InputCount);
            w.Write(Hidden.Length);
            foreach (int h in Hidden) w.Write(h);
            w.Write(Dropout);
            if (OutputWidth != 1) w.Write(OutputWidth);
            w.Write(Parameters.Length);
            foreach (float v in Parameters) w.Write(v);
        }
        return stream.ToArray();
    }

    private const uint PayloadMagic = 0x4E4E4B52; // "RKNN"
    private const int PayloadVersion = 2;

    /// <summary>Reads a payload written by <see cref="ToBytes"/>; <paramref name="entry"/> names it in errors.</summary>
    public static DenseNetwork FromBytes(byte[] bytes, string entry)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes));
            if (r.ReadUInt32() != PayloadMagic) throw new InvalidDataException($"{entry}: not a network payload (bad magic).");
            int version = r.ReadInt32();
            if (version is not (1 or PayloadVersion)) throw new InvalidDataException($"{entry}: network payload version {version}, this build reads {PayloadVersion}.");
            int inputs = r.ReadInt32();
            int hiddenCount = r.ReadInt32();
            if (inputs <= 0 || hiddenCount < 0 || hiddenCount > 64) throw new InvalidDataException($"{entry}: bad network shape.");
            var hidden = new int[hiddenCount];
            for (int i = 0; i < hiddenCount; i++)
            {
                hidden[i] = r.ReadInt32();
                if (hidden[i] <= 0) throw new InvalidDataException($"{entry}: hidden layer {i + 1} has width {hidden[i]}.");
            }
            float dropout = r.ReadSingle();
            if (!(dropout >= 0 && dropout < 1)) throw new InvalidDataException($"{entry}: dropout {dropout} is outside [0, 1).");
            int outputWidth = version >= 2 ? r.ReadInt32() : 1;
            if (outputWidth < 1) throw new InvalidDataException($"{entry}: bad output width {outputWidth}.");
            int count = r.ReadInt32();
            // The shape's parameter count in 64 bits, so that crafted widths cannot overflow into a plausible number.
            long needed = 0, fanIn = inputs;
            foreach (long width in hidden.Append(outputWidth)) { needed += fanIn * width + width; fanIn = width; if (needed > int.MaxValue) break; }
            if (needed != count)
                throw new InvalidDataException($"{entry}: the network {Describe(inputs, hidden, outputWidth)} has {needed} parameters, the payload declares {count}.");
            if ((long)count * 4 != bytes.Length - r.BaseStream.Position)
                throw new InvalidDataException($"{entry}: parameter count {count} does not match the payload size.");
            var parameters = new float[count];
            for (int i = 0; i < count; i++)
            {
                parameters[i] = r.ReadSingle();
                if (!float.IsFinite(parameters[i])) throw new InvalidDataException($"{entry}: parameter {i} is {parameters[i]} (weights must be finite).");
            }
            return new DenseNetwork(inputs, hidden, dropout, parameters, outputWidth);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{entry}: the network payload is truncated.");
        }
    }
}
