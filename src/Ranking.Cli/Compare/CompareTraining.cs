using Ranking.Data;
using Ranking.Metrics;
using Ranking.Training;

namespace Ranking.Cli.Compare;

/// <summary>How compare trains a ranker.</summary>
public static class CompareTraining
{
    /// <summary>
    /// The ranker's own trainer on the sets as given (no feature pipeline), validated with our evaluator.
    /// </summary>
    public static TrainedRanker Direct(RankerDescriptor ranker, RankingDataset train, RankingDataset? valid,
        RankerOptions options, IReadOnlyList<MetricSpec> validMetrics, NdcgContract contract, IProgress<TrainingEvent>? progress)
    {
        var trainer = ranker.CreateTrainer(options);
        ValidationScorer? scorer = valid is null ? null : new ValidationScorer(validMetrics.Select(m => m.Name).ToList(),
            scores => RankingEvaluator.Evaluate(valid, scores, validMetrics, contract, options.Threads).Means);
        var result = trainer.Train(new TrainingRequest { Train = train, Valid = valid, ValidationScorer = scorer, Options = options }, progress);
        return new TrainedRanker(data =>
        {
            var scores = new float[data.RowCount];
            result.Model.Predict(data.Features, data.RowCount, scores);
            return scores;
        }, result);
    }
}
