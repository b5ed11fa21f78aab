namespace Ranking.Models;

/// <summary>
/// A multi-layer perceptron scorer: hidden ReLU layers (optional dropout while training), one linear
/// output, He-initialised from a seed. Model family "mlp"; payload entry <see cref="PayloadEntry"/>.
/// </summary>
public sealed class MlpModel : IDifferentiableModel, IDenseNetworkModel, Ranking.Onnx.IOnnxExportable
{
    /// <summary>The model family name, "mlp", under which the payload loader is registered.</summary>
    public const string Family = "mlp";
    /// <summary>The payload entry holding every layer's weights and biases (<see cref="DenseNetwork"/>'s binary layout).</summary>
    public const string PayloadEntry = "weights.bin";

    /// <summary>A network featureCount -> hidden[0] -> ... -> 1 with ReLU hidden layers, weights drawn from <paramref name="seed"/> (He initialisation), and <paramref name="dropout"/> (0..1) on the hidden layers during training.</summary>
    public MlpModel(int featureCount, IReadOnlyList<int> hidden, float dropout = 0f, ulong seed = 42)
        : this(DenseNetwork.Create(featureCount, hidden, dropout, seed)) { }

    private MlpModel(DenseNetwork network) => Network = network;

    /// <summary>The network: ReLU hidden layers and one linear output.</summary>
    public DenseNetwork Network { get; }
    /// <summary>Always <see cref="Family"/>.</summary>
    public string ModelFamily => Family;
    /// <summary>Features per row the model reads (after the pipeline).</summary>
    public int FeatureCount => Network.InputCount;
    /// <summary>Widths of the hidden layers, input side first.</summary>
    public IReadOnlyList<int> Hidden => Network.Hidden;
    /// <summary>Probability (0..1) that a hidden unit is dropped during training; scoring never drops.</summary>
    public float Dropout => Network.Dropout;
    /// <summary>Threads for <see cref="Predict"/>; -1 = all cores. Scores do not depend on it.</summary>
    public int Threads { get; set; } = -1;
    /// <summary>Every layer's weights (inputs x outputs, row-major) then its biases, layer after layer; updated in place by the trainer.</summary>
    public float[] Parameters => Network.Parameters;
    /// <summary>The weight ranges of <see cref="Parameters"/>, one per layer (biases are not decayed).</summary>
    public IReadOnlyList<(int Offset, int Length)> DecayedRanges => Network.WeightRanges();

    /// <summary>Scores <paramref name="rowCount"/> row-major rows through the network (no dropout), in parallel over <see cref="Threads"/>.</summary>
    public void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores) => Network.Predict(features, rowCount, scores, Threads);

    /// <inheritdoc/>
    public IModelTrainingPass CreateTrainingPass(int maxRows, int threads) => new DenseNetworkPass(Network, maxRows, threads);

    /// <summary>The network as ONNX Gemm (and ReLU) nodes.</summary>
    public void AddScoring(Ranking.Onnx.OnnxGraphBuilder graph, string features, string score) =>
        OnnxExport.AddDenseNetwork(graph, Network, features, score);

    /// <summary>One entry, <see cref="PayloadEntry"/>: the network's bytes.</summary>
    public IReadOnlyDictionary<string, byte[]> SavePayload() => new Dictionary<string, byte[]> { [PayloadEntry] = Network.ToBytes() };

    /// <summary>Reads an MLP back from its payload; a missing or malformed entry is an <see cref="InvalidDataException"/>.</summary>
    public static MlpModel Load(IReadOnlyDictionary<string, byte[]> payload)
    {
        if (!payload.TryGetValue(PayloadEntry, out var bytes)) throw new InvalidDataException($"the MLP model's payload entry '{PayloadEntry}' is missing.");
        return new MlpModel(DenseNetwork.FromBytes(bytes, PayloadEntry));
    }
}
