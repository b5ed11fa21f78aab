
namespace Ranking.Models;

/// <summary>
/// A scorer the gradient trainer can fit: its parameters are one flat array (so optimizers, clipping
/// and early-stopping snapshots are plain array loops) and it runs batched forward/backward passes
/// through a preallocated <see cref="IModelTrainingPass"/>.
/// </summary>
public interface IDifferentiableModel : IScoringModel
{
    /// <summary>Every trainable parameter, in a fixed layout; the trainer updates it in place.</summary>
    float[] Parameters { get; }

    /// <summary>Ranges of <see cref="Parameters"/> that weight decay applies to (weights; biases are not decayed).</summary>
    IReadOnlyList<(int Offset, int Length)> DecayedRanges { get; }

    /// <summary>Buffers for batches of up to <paramref name="maxRows"/> rows, allocated once.</summary>
    IModelTrainingPass CreateTrainingPass(int maxRows, int threads);
}

/// <summary>A model whose scores are one dense network's output (linear and MLP): a compute backend can run it.</summary>
public interface IDenseNetworkModel : IScoringModel
{
    /// <summary>The network that computes the model's scores (its parameters are the model's parameters).</summary>
    DenseNetwork Network { get; }
}

/// <summary>Forward and backward passes over one batch, reusing buffers allocated up front.</summary>
public interface IModelTrainingPass
{
    /// <summary>The most rows one <see cref="Forward"/> call takes (the buffers' size).</summary>
    int MaxRows { get; }

    /// <summary>
    /// Scores <paramref name="rows"/> rows of <paramref name="features"/> (row-major). With
    /// <paramref name="training"/> dropout is on, its mask drawn from <paramref name="dropoutKey"/>
    /// (the same key gives the same mask on any thread count). Keeps what <see cref="Backward"/> needs.
    /// </summary>
    void Forward(float[] features, int rows, float[] scores, bool training, ulong dropoutKey);

    /// <summary>Overwrites <paramref name="parameterGradients"/> with d loss / d parameters of the last forward batch.</summary>
    void Backward(float[] scoreGradients, int rows, float[] parameterGradients);
}
