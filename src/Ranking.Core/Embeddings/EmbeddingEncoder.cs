using Ranking.Models;

namespace Ranking.Embeddings;

/// <summary>
/// Maps an item's features to an embedding: a <see cref="DenseNetwork"/> whose output layer is the
/// embedding (no hidden layer: the linear projection of NCA/LMNN, a learned Mahalanobis metric; hidden
/// layers: the MLP), optionally L2-normalised. The same network, kernels and payload as the scorers.
/// </summary>
public sealed class EmbeddingEncoder
{
    /// <summary>The payload entry of the network inside a model file.</summary>
    public const string PayloadEntry = "encoder.bin";

    /// <summary>Wraps a network whose output width is the embedding dimension.</summary>
    public EmbeddingEncoder(DenseNetwork network, bool normalise)
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Normalise = normalise;
    }

    /// <summary>A freshly initialised encoder (He initialisation, seeded).</summary>
    public static EmbeddingEncoder Create(int inputCount, IReadOnlyList<int> hidden, int dimension, bool normalise, ulong seed) =>
        new(DenseNetwork.Create(inputCount, hidden, 0f, seed, dimension), normalise);

    /// <summary>The network (its parameters are what training updates).</summary>
    public DenseNetwork Network { get; }
    /// <summary>True when outputs are scaled to unit length.</summary>
    public bool Normalise { get; }
    /// <summary>Embedding dimension.</summary>
    public int Dimension => Network.OutputWidth;
    /// <summary>Features an item must have.</summary>
    public int InputCount => Network.InputCount;

    /// <summary>Embeds <paramref name="rows"/> items (row-major features); returns rows x <see cref="Dimension"/> values.</summary>
    public float[] Encode(ReadOnlySpan<float> features, int rows, int threads = -1)
    {
        var output = new float[(long)rows * Dimension];
        Network.Predict(features, rows, output, threads);
        if (Normalise) EmbeddingDistances.NormaliseRows(output, rows, Dimension, new float[rows]);
        return output;
    }

    /// <summary>Buffers for training on batches of up to <paramref name="maxRows"/> items.</summary>
    public TrainingPass CreateTrainingPass(int maxRows, int threads) => new(this, maxRows, threads);

    /// <summary>Forward and backward passes of the encoder over one batch, normalisation included.</summary>
    public sealed class TrainingPass
    {
        private readonly EmbeddingEncoder _encoder;
        private readonly IModelTrainingPass _pass;
        private readonly float[] _norms;
        private int _rows;

        internal TrainingPass(EmbeddingEncoder encoder, int maxRows, int threads)
        {
            _encoder = encoder;
            _pass = new DenseNetworkPass(encoder.Network, maxRows, threads);
            _norms = new float[Math.Max(1, maxRows)];
            Embeddings = new float[(long)Math.Max(1, maxRows) * encoder.Dimension];
        }

        /// <summary>The last forward batch's embeddings (normalised when the encoder normalises).</summary>
        public float[] Embeddings { get; }

        /// <summary>Embeds a batch; the result is in <see cref="Embeddings"/>.</summary>
        public void Forward(float[] features, int rows)
        {
            _pass.Forward(features, rows, Embeddings, training: true, dropoutKey: 0);
            if (_encoder.Normalise) EmbeddingDistances.NormaliseRows(Embeddings, rows, _encoder.Dimension, _norms);
            _rows = rows;
        }

        /// <summary>
        /// d loss / d parameters from d loss / d embeddings (<paramref name="embeddingGradient"/> is consumed:
        /// it is overwritten by the gradient before normalisation).
        /// </summary>
        public void Backward(float[] embeddingGradient, float[] parameterGradients)
        {
            if (_encoder.Normalise) EmbeddingDistances.NormaliseRowsBackward(Embeddings, _norms, embeddingGradient, _rows, _encoder.Dimension);
            _pass.Backward(embeddingGradient, _rows, parameterGradients);
        }
    }
}
