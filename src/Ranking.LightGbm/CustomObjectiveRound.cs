using Ranking.Data;
using Ranking.Objectives;

namespace Ranking.LightGbm;

/// <summary>
/// One boosting round driven by our objective: the booster's running training scores (LGBM_BoosterGetPredict,
/// kept current by LightGBM as trees are added) go to <see cref="IRankingObjective.Compute"/>, whose gradients
/// and Hessians go to LGBM_BoosterUpdateOneIterCustom. Buffers are allocated once per training.
/// </summary>
public sealed class CustomObjectiveRound
{
    private readonly IRankingObjective _objective;
    private readonly RankingDataset _train;
    private readonly int _threads;
    private readonly double[] _running;
    private readonly float[] _scores, _gradients, _hessians;

    /// <summary>Allocates the round's buffers for <paramref name="train"/>.</summary>
    /// <param name="objective">Our objective, which gives the gradients and Hessians of each round.</param>
    /// <param name="train">The training set the booster was built on (labels, queries, weights).</param>
    /// <param name="threads">Threads for our objective; -1 = all cores.</param>
    public CustomObjectiveRound(IRankingObjective objective, RankingDataset train, int threads)
    {
        _objective = objective;
        _train = train;
        _threads = threads;
        _running = new double[train.RowCount];
        _scores = new float[train.RowCount];
        _gradients = new float[train.RowCount];
        _hessians = new float[train.RowCount];
    }

    /// <summary>Boosts one round; returns our objective's loss at the scores before it and whether LightGBM could not split.</summary>
    public (double Loss, bool Finished) Run(LightGbmBooster booster, int iteration)
    {
        booster.GetPredict(0, _running);
        for (int i = 0; i < _running.Length; i++) _scores[i] = (float)_running[i];
        var batch = new ObjectiveBatch(_train.Labels, _scores, _train.GroupOffsets, _train.QueryWeights, iteration, _threads) { Positions = _train.Positions };
        double loss = _objective.Compute(batch, _gradients, _hessians);
        for (int i = 0; i < _gradients.Length; i++)
            if (!float.IsFinite(_gradients[i]) || !float.IsFinite(_hessians[i]))
                throw new InvalidOperationException($"objective {_objective.Name} gave a non-finite gradient or Hessian at row {i}.");
        return (loss, booster.UpdateOneIterCustom(_gradients, _hessians));
    }
}
