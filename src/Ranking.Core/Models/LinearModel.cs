namespace Ranking.Models;

/// <summary>
/// score = w . x + b on pipeline-transformed features. Model family "linear"; payload entry
/// <see cref="PayloadEntry"/> (the shared dense-network format with no hidden layer).
/// </summary>
public sealed class LinearModel : IDifferentiableModel, IDenseNetworkModel, Ranking.Onnx.IOnnxExportable
{
    /// <summary>The model family name, "linear", under which the payload loader is registered.</summary>
    public const string Family = "linear";
    /// <summary>The payload entry holding the weights and bias (<see cref="DenseNetwork"/>'s binary layout).</summary>
    public const string PayloadEntry = "weights.bin";

    /// <summary>A model over <paramref name="featureCount"/> features with every weight and the bias 0.</summary>
    public LinearModel(int featureCount) : this(DenseNetwork.Create(featureCount, [], 0f, 0)) { }

    private LinearModel(DenseNetwork network)
    {
        if (network.Hidden.Length != 0) throw new InvalidDataException("a linear model has no hidden layer.");
        Network = network;
    }

    /// <summary>The network: <see cref="FeatureCount"/> inputs, no hidden layer, one output.</summary>
    public DenseNetwork Network { get; }
    /// <summary>Always <see cref="Family"/>.</summary>
    public string ModelFamily => Family;
    /// <summary>Features per row the model reads (after the pipeline).</summary>
    public int FeatureCount => Network.InputCount;
    /// <summary>Threads for <see cref="Predict"/>; -1 = all cores. Scores do not depend on it.</summary>
    public int Threads { get; set; } = -1;
    /// <summary>The weights, one per feature, then the bias: FeatureCount + 1 values, updated in place by the trainer.</summary>
    public float[] Parameters => Network.Parameters;
    /// <summary>The weights (a view of <see cref="Parameters"/>), one per feature.</summary>
    public ReadOnlySpan<float> Weights => Network.Parameters.AsSpan(0, FeatureCount);
    /// <summary>The constant added to every score.</summary>
    public float Bias => Network.Parameters[FeatureCount];
    /// <summary>The weights' range of <see cref="Parameters"/> (the bias is not decayed).</summary>
    public IReadOnlyList<(int Offset, int Length)> DecayedRanges => Network.WeightRanges();

    /// <summary>score = features . weights + bias for each of <paramref name="rowCount"/> row-major rows, in parallel over <see cref="Threads"/>.</summary>
    public void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores) => Network.Predict(features, rowCount, scores, Threads);

    /// <inheritdoc/>
    public IModelTrainingPass CreateTrainingPass(int maxRows, int threads) => new DenseNetworkPass(Network, maxRows, threads);

    /// <summary>The network as ONNX Gemm (and ReLU) nodes.</summary>
    public void AddScoring(Ranking.Onnx.OnnxGraphBuilder graph, string features, string score) =>
        OnnxExport.AddDenseNetwork(graph, Network, features, score);

    /// <summary>One entry, <see cref="PayloadEntry"/>: the network's bytes.</summary>
    public IReadOnlyDictionary<string, byte[]> SavePayload() => new Dictionary<string, byte[]> { [PayloadEntry] = Network.ToBytes() };

    /// <summary>Reads a linear model back from its payload; a missing entry or a network with hidden layers is an <see cref="InvalidDataException"/>.</summary>
    public static LinearModel Load(IReadOnlyDictionary<string, byte[]> payload)
    {
        if (!payload.TryGetValue(PayloadEntry, out var bytes)) throw new InvalidDataException($"the linear model's payload entry '{PayloadEntry}' is missing.");
        return new LinearModel(DenseNetwork.FromBytes(bytes, PayloadEntry));
    }
}
