namespace Ranking.Models;

/// <summary>
/// A trained scorer: one score per row from features that have already been through the fitted
/// feature pipeline. Linear, MLP, LightGBM and FastTree models all implement it.
/// </summary>
public interface IScoringModel
{
    /// <summary>"linear", "mlp", "gbdt", "fasttree", ...: the key its payload loader is registered under.</summary>
    string ModelFamily { get; }

    /// <summary>Features per row the model reads.</summary>
    int FeatureCount { get; }

    /// <summary>Scores <paramref name="rowCount"/> rows of row-major features into <paramref name="scores"/>.</summary>
    void Predict(ReadOnlySpan<float> features, int rowCount, Span<float> scores);

    /// <summary>
    /// The model's own payload for the model file: entry name -> bytes (weights, LightGBM model text,
    /// an ML.NET zip). The loader registered for <see cref="ModelFamily"/> reads the same entries back.
    /// </summary>
    IReadOnlyDictionary<string, byte[]> SavePayload();
}

/// <summary>Reads a model family's payload entries back into a scorer.</summary>
public delegate IScoringModel ModelPayloadLoader(IReadOnlyDictionary<string, byte[]> payload);

/// <summary>Where a model file finds the payload loader of its model family (the ranker catalog is one).</summary>
public interface IModelLoaders
{
    /// <summary>The loader registered for <paramref name="family"/>; an unknown family is an <see cref="ArgumentException"/> naming the known ones.</summary>
    ModelPayloadLoader GetLoader(string family);
}

/// <summary>A device that can score a dense network (a compute backend); the model file's Predict hands linear and MLP models to it.</summary>
public interface IDenseNetworkScorer
{
    /// <summary>
    /// Scores <paramref name="rowCount"/> rows of row-major <paramref name="features"/> with
    /// <paramref name="network"/> (inference: no dropout) on this device, into <paramref name="scores"/>;
    /// false where it does not (the CPU backend): the caller then runs the network's own Predict. Same scores
    /// as that to float rounding (1e-5 relative).
    /// </summary>
    bool TryPredictDense(DenseNetwork network, float[] features, int rowCount, float[] scores);
}
