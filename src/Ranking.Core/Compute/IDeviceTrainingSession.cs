namespace Ranking.Compute;

/// <summary>
/// Mini-batch training of a dense network (linear or MLP) held on a device: the gradient trainer hands it
/// each epoch's query order and learning rate, and reads the parameters back once per epoch (validation,
/// snapshots). Batches, iteration numbers and the loss are the trainer's (see GradientTrainer).
/// </summary>
public interface IDeviceTrainingSession : IDisposable
{
    /// <summary>
    /// One epoch over the queries in <paramref name="queryOrder"/>, in batches of <paramref name="batchQueries"/>
    /// whole queries, each batch's gradients divided by its total query weight, one Adam step per batch;
    /// <paramref name="firstStep"/> numbers the first batch (it seeds sampling objectives). Returns the
    /// summed batch losses and the summed query weights.
    /// </summary>
    (double LossSum, double WeightSum) RunEpoch(int[] queryOrder, int batchQueries, float learningRate, int firstStep);

    /// <summary>Copies the device's current parameters into <paramref name="parameters"/>.</summary>
    void CopyParametersTo(float[] parameters);
}
