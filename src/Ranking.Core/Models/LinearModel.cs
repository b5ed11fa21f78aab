namespace Ranking.Models;

/// <summary>
/// score = w . x + b on pipeline-transformed features. Model family "linear"; payload entry
/// <see cref="PayloadEntry"/> (the shared dense-network format with no hidden layer).
/// </summary>
public sealed class LinearModel : IDifferentiableModel, IDenseNetworkModel, Ranking.Onnx.IOnnxExportable
{
    public const string Family = "linear";
    public const string PayloadEntry = "weights.bin";

    public LinearModel(int featureCount) : this(DenseNetwork.Create(featureCount, [], 0f, 0)) { }

    private LinearModel(DenseNetwork network)
    {
        if (network.Hidden.Length != 0) throw new InvalidDataException("a linear model has no hidden layer.");
        Network = network;
    }

    public DenseNetwork Network { get; }
    public string ModelFamily => Family;
    public int FeatureCount => Network.InputCount;
    /// <summary>Threads for <see cref="Predict"/>; -1 = all cores. Scores do not depend on it.</summary>
    public int Threads { get; set; } = -1;
    public float[] Parameters => Network.Parameters;
    /// <summary>The weights (a view of <see cref="Parameters"/>), one per feature.</summary>
    public ReadOnlySpan<float> Weights => Network.Parameters.AsSpan(0, FeatureCount);
    public float Bias => Network.Parameters[FeatureCount];
    public IReadOnlyList<(int Offset, int Length)> DecayedRanges => Network.WeightRanges();

    public void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores) => Network.Predict(features, rowCount, scores, Threads);

    public IModelTrainingPass CreateTrainingPass(int maxRows, int threads) => new DenseNetworkPass(Network, maxRows, threads);

    /// <summary>The network as ONNX Gemm (and ReLU) nodes.</summary>
    public void AddScoring(Ranking.Onnx.OnnxGraphBuilder graph, string features, string score) =>
        OnnxExport.AddDenseNetwork(graph, Network, features, score);

    public IReadOnlyDictionary<string, byte[]> SavePayload() => new Dictionary<string, byte[]> { [PayloadEntry] = Network.ToBytes() };

    public static LinearModel Load(IReadOnlyDictionary<string, byte[]> payload)
    {
        if (!payload.TryGetValue(PayloadEntry, out var bytes)) throw new InvalidDataException($"the linear model's payload entry '{PayloadEntry}' is missing.");
        return new LinearModel(DenseNetwork.FromBytes(bytes, PayloadEntry));
    }
}
