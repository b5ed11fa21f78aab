namespace Ranking.Models;

/// <summary>
/// A multi-layer perceptron scorer: hidden ReLU layers (optional dropout while training), one linear
/// output, He-initialised from a seed. Model family "mlp"; payload entry <see cref="PayloadEntry"/>.
/// </summary>
public sealed class MlpModel : IDifferentiableModel, IDenseNetworkModel, Ranking.Onnx.IOnnxExportable
{
    public const string Family = "mlp";
    public const string PayloadEntry = "weights.bin";

    public MlpModel(int featureCount, IReadOnlyList<int> hidden, float dropout = 0f, ulong seed = 42)
        : this(DenseNetwork.Create(featureCount, hidden, dropout, seed)) { }

    private MlpModel(DenseNetwork network) => Network = network;

    public DenseNetwork Network { get; }
    public string ModelFamily => Family;
    public int FeatureCount => Network.InputCount;
    public IReadOnlyList<int> Hidden => Network.Hidden;
    public float Dropout => Network.Dropout;
    /// <summary>Threads for <see cref="Predict"/>; -1 = all cores. Scores do not depend on it.</summary>
    public int Threads { get; set; } = -1;
    public float[] Parameters => Network.Parameters;
    public IReadOnlyList<(int Offset, int Length)> DecayedRanges => Network.WeightRanges();

    public void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores) => Network.Predict(features, rowCount, scores, Threads);

    public IModelTrainingPass CreateTrainingPass(int maxRows, int threads) => new DenseNetworkPass(Network, maxRows, threads);

    /// <summary>The network as ONNX Gemm (and ReLU) nodes.</summary>
    public void AddScoring(Ranking.Onnx.OnnxGraphBuilder graph, string features, string score) =>
        OnnxExport.AddDenseNetwork(graph, Network, features, score);

    public IReadOnlyDictionary<string, byte[]> SavePayload() => new Dictionary<string, byte[]> { [PayloadEntry] = Network.ToBytes() };

    public static MlpModel Load(IReadOnlyDictionary<string, byte[]> payload)
    {
        if (!payload.TryGetValue(PayloadEntry, out var bytes)) throw new InvalidDataException($"the MLP model's payload entry '{PayloadEntry}' is missing.");
        return new MlpModel(DenseNetwork.FromBytes(bytes, PayloadEntry));
    }
}
