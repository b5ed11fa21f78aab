using System.Runtime.Intrinsics;

namespace Ranking.Models;

/// <summary>
/// A stack of dense layers, ReLU between them, one linear output: the shared body of
/// <see cref="LinearModel"/> (no hidden layer) and <see cref="MlpModel"/>. Parameters live in one flat
/// array, per layer the weights (inputs x outputs, row-major, so a forward pass is X * W) then the biases.
/// Dropout (inverted: kept units scaled by 1 / (1 - p)) applies after each hidden ReLU while training.
/// </summary>
public sealed class DenseNetwork
{
    private DenseNetwork(int inputCount, int[] hidden, float dropout, float[] parameters)
    {
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
            throw new InvalidDataException($"the network {Describe(inputCount, hidden)} has {at} parameters, the payload holds {parameters.Length}.");
        Parameters = parameters;
    }

    public int InputCount { get; }
    /// <summary>Widths of the hidden layers (empty for a linear model).</summary>
    public int[] Hidden { get; }
    public float Dropout { get; }
    public float[] Parameters { get; }
    public int LayerCount => Hidden.Length + 1;
    internal int[] WeightOffsets { get; }
    internal int[] BiasOffsets { get; }

    public int LayerWidth(int layer) => layer < Hidden.Length ? Hidden[layer] : 1;
    public int LayerInputs(int layer) => layer == 0 ? InputCount : Hidden[layer - 1];

    public static string Describe(int inputs, int[] hidden) => string.Join("->", [inputs, .. hidden, 1]);

    /// <summary>
    /// He initialisation (normal, std sqrt(2 / fan-in)) for layers feeding a ReLU, std sqrt(1 / fan-in)
    /// for the linear output, biases zero; a linear model (no hidden layer) starts at zero, the optimum of
    /// no information. Seeded with our own generator so a seed means the same weights everywhere.
    /// </summary>
    public static DenseNetwork Create(int inputCount, IReadOnlyList<int> hidden, float dropout, ulong seed)
    {
        if (inputCount <= 0) throw new ArgumentOutOfRangeException(nameof(inputCount), "a model needs at least one feature.");
        foreach (int h in hidden)
            if (h <= 0) throw new ArgumentException($"hidden layer widths must be positive, got {h}.", nameof(hidden));
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), "dropout must be in [0, 1).");
        int[] widths = [.. hidden];
        int count = 0, fanIn = inputCount;
        foreach (int w in widths.Append(1)) { count += fanIn * w + w; fanIn = w; }
        var parameters = new float[count];
        var net = new DenseNetwork(inputCount, widths, dropout, parameters);
        if (widths.Length > 0)
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

    public static DenseNetwork FromParameters(int inputCount, int[] hidden, float dropout, float[] parameters) =>
        new(inputCount, hidden, dropout, parameters);

    public IReadOnlyList<(int Offset, int Length)> WeightRanges() =>
        Enumerable.Range(0, LayerCount).Select(l => (WeightOffsets[l], LayerInputs(l) * LayerWidth(l))).ToArray();

    private const int PredictChunk = 2048;

    /// <summary>Inference (no dropout), in chunks of rows so memory stays bounded.</summary>
    public unsafe void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores, int threads)
    {
        if (features.Length < (long)rowCount * InputCount) throw new ArgumentException($"expected {rowCount} x {InputCount} features, got {features.Length} values.", nameof(features));
        if (scores.Length < rowCount) throw new ArgumentException("one score per row is required.", nameof(scores));
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
                DenseKernels.Multiply(x, rows, width, p + WeightOffsets[last], 1, s + r0, p + BiasOffsets[last], threads);
            }
        }
    }

    private static unsafe void Relu(float* x, int n)
    {
        int i = 0;
        for (; i + 8 <= n; i += 8) Vector256.Max(Vector256.Load(x + i), Vector256<float>.Zero).Store(x + i);
        for (; i < n; i++) x[i] = MathF.Max(x[i], 0f);
    }

    /// <summary>Payload: "RKNN", version, inputs, hidden count, widths, dropout, parameter count, parameters (little-endian).</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write(PayloadMagic);
            w.Write(PayloadVersion);
            w.Write(InputCount);
            w.Write(Hidden.Length);
            foreach (int h in Hidden) w.Write(h);
            w.Write(Dropout);
            w.Write(Parameters.Length);
            foreach (float v in Parameters) w.Write(v);
        }
        return stream.ToArray();
    }

    private const uint PayloadMagic = 0x4E4E4B52; // "RKNN"
    private const int PayloadVersion = 1;

    public static DenseNetwork FromBytes(byte[] bytes, string entry)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes));
            if (r.ReadUInt32() != PayloadMagic) throw new InvalidDataException($"{entry}: not a network payload (bad magic).");
            int version = r.ReadInt32();
            if (version != PayloadVersion) throw new InvalidDataException($"{entry}: network payload version {version}, this build reads {PayloadVersion}.");
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
            int count = r.ReadInt32();
            // The shape's parameter count in 64 bits, so that crafted widths cannot overflow into a plausible number.
            long needed = 0, fanIn = inputs;
            foreach (long width in hidden.Append(1)) { needed += fanIn * width + width; fanIn = width; if (needed > int.MaxValue) break; }
            if (needed != count)
                throw new InvalidDataException($"{entry}: the network {Describe(inputs, hidden)} has {needed} parameters, the payload declares {count}.");
            if ((long)count * 4 != bytes.Length - r.BaseStream.Position)
                throw new InvalidDataException($"{entry}: parameter count {count} does not match the payload size.");
            var parameters = new float[count];
            for (int i = 0; i < count; i++)
            {
                parameters[i] = r.ReadSingle();
                if (!float.IsFinite(parameters[i])) throw new InvalidDataException($"{entry}: parameter {i} is {parameters[i]} (weights must be finite).");
            }
            return new DenseNetwork(inputs, hidden, dropout, parameters);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{entry}: the network payload is truncated.");
        }
    }
}
