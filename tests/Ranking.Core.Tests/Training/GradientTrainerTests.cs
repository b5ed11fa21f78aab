using Ranking.Data;
using Ranking.Models;
using Ranking.Objectives;
using Ranking.Training;

namespace Ranking.Core.Tests.Training;

public class GradientTrainerTests
{
    /// <summary>Squared error (s - y)^2 / 2, written here so these tests stand on the trainer alone.</summary>
    private sealed class SquaredError : IRankingObjective
    {
        public string Name => "test-mse";
        public ObjectiveFamily Family => ObjectiveFamily.Pointwise;
        public double Compute(in ObjectiveBatch batch, float[] gradients, float[] hessians)
        {
            double loss = 0;
            for (int q = 0; q < batch.QueryCount; q++)
            {
                float w = batch.QueryWeights?[q] ?? 1f;
                for (int i = batch.GroupOffsets[q]; i < batch.GroupOffsets[q + 1]; i++)
                {
                    double d = batch.Scores[i] - batch.Labels[i];
                    loss += w * d * d / 2;
                    gradients[i] = (float)(w * d);
                    hessians[i] = w;
                }
            }
            return loss;
        }
    }

    /// <summary>Queries of 3..12 rows; grade = a noisy linear function of the features, quantised to 0..4.</summary>
    internal static RankingDataset MakeSet(int queries, int features, ulong seed)
    {
        var r = new ModelRandom(seed);
        var offsets = new List<int> { 0 };
        var x = new List<float>();
        var y = new List<float>();
        for (int q = 0; q < queries; q++)
        {
            int n = 3 + r.NextInt(10);
            for (int i = 0; i < n; i++)
            {
                double t = 0;
                for (int j = 0; j < features; j++)
                {
                    float v = (float)r.NextGaussian();
                    x.Add(v);
                    t += (j % 3 == 0 ? 1.0 : -0.5) * v / Math.Sqrt(features);
                }
                y.Add(Math.Clamp(MathF.Round((float)(2 + 1.5 * t + 0.2 * r.NextGaussian())), 0, 4));
            }
            offsets.Add(y.Count);
        }
        return new RankingDataset([.. x], features, [.. y], [.. offsets]);
    }

    /// <summary>A validation "metric" that does not need the metrics module: minus the mean squared error.</summary>
    private static ValidationScorer NegativeMse(RankingDataset valid) => new(["neg-mse"], scores =>
    {
        double sum = 0;
        for (int i = 0; i < scores.Length; i++) sum += Math.Pow(scores[i] - valid.Labels[i], 2);
        return new Dictionary<string, double> { ["neg-mse"] = -sum / scores.Length };
    });

    private static GradientTrainer Trainer(string family, int threads = 1, int epochs = 15, string optimizer = "adam") =>
        new(new GradientTrainerOptions
        {
            ModelFamily = family, Hidden = [16, 8], Epochs = epochs, LearningRate = optimizer == "adam" ? 0.05 : 0.01,
            BatchQueries = 8, Threads = threads, Seed = 5, Optimizer = Enum.Parse<OptimizerKind>(optimizer, ignoreCase: true), EarlyStopping = 0, Schedule = LearningRateScheduleKind.Cosine,
        }, _ => new SquaredError());

    [Theory]
    [InlineData("linear", "adam")]
    [InlineData("mlp", "adam")]
    [InlineData("mlp", "sgd")]
    public void TrainingLowersTheLossAndFitsTheSignal(string family, string optimizer)
    {
        var train = MakeSet(120, 9, 1);
        var valid = MakeSet(40, 9, 2);
        var result = Trainer(family, optimizer: optimizer).Train(new TrainingRequest { Train = train, Valid = valid, ValidationScorer = NegativeMse(valid) });
        Assert.True(result.History[^1].TrainLoss < 0.5 * result.History[0].TrainLoss, $"loss {result.History[0].TrainLoss} -> {result.History[^1].TrainLoss}");
        Assert.True(result.ValidMetrics["neg-mse"] > -0.5, $"validation MSE {-result.ValidMetrics["neg-mse"]}");
        Assert.Equal(15, result.History.Count);
    }

    [Fact]
    public void SameSeedGivesBitIdenticalWeightsOnAnyThreadCount()
    {
        var train = MakeSet(80, 7, 3);
        var a = Trainer("mlp", threads: 1).Train(new TrainingRequest { Train = train });
        var b = Trainer("mlp", threads: 1).Train(new TrainingRequest { Train = train });
        var c = Trainer("mlp", threads: 2).Train(new TrainingRequest { Train = train });
        var pa = ((IDifferentiableModel)a.Model).Parameters;
        Assert.Equal(pa, ((IDifferentiableModel)b.Model).Parameters);
        Assert.Equal(pa, ((IDifferentiableModel)c.Model).Parameters);
    }

    [Fact]
    public void EarlyStoppingRestoresTheBestEpochsWeights()
    {
        var train = MakeSet(60, 5, 4);
        var valid = MakeSet(20, 5, 5);
        int call = 0;
        float[]? scoresAtBest = null;
        double[] sequence = [1, 2, 3, 2.5, 1, 0, 5];
        var scorer = new ValidationScorer(["made-up"], scores =>
        {
            if (call == 2) scoresAtBest = (float[])scores.Clone();
            return new Dictionary<string, double> { ["made-up"] = sequence[call++] };
        });
        var trainer = new GradientTrainer(new GradientTrainerOptions { ModelFamily = "mlp", Hidden = [8], Epochs = 7, EarlyStopping = 2, LearningRate = 0.01, Seed = 1 }, _ => new SquaredError());
        var events = new List<TrainingEvent>();
        var result = trainer.Train(new TrainingRequest { Train = train, Valid = valid, ValidationScorer = scorer }, new SyncProgress(events.Add));
        Assert.Equal(3, result.BestIteration);
        Assert.Equal(5, result.History.Count); // epochs 4 and 5 did not improve: stop
        Assert.Equal(5, events.Count);
        Assert.Equal(3.0, result.ValidMetrics["made-up"]);
        var now = new float[valid.RowCount];
        result.Model.Predict(valid.Features, valid.RowCount, now);
        Assert.Equal(scoresAtBest, now);
    }

    [Fact]
    public void OptionsOverlayAndRejectUnknownOrTreeKnobs()
    {
        var user = new RankerOptions { Iterations = 3, LearningRate = 0.5, Seed = 9 };
        user.Parameters["hidden"] = "32,16,8";
        user.Parameters["dropout"] = "0.1";
        user.Parameters["temperature"] = "2";
        var o = new GradientTrainerOptions().Apply(user, out var objectiveKnobs);
        Assert.Equal([32, 16, 8], o.Hidden);
        Assert.Equal(3, o.Epochs);
        Assert.Equal(0.5, o.LearningRate);
        Assert.Equal(9, o.Seed);
        Assert.Equal(0.1f, o.Dropout);
        Assert.Equal("2", objectiveKnobs["temperature"]);

        // A key that is not the trainer's is left for the objective; the ranker refuses it when neither takes it.
        var trees = new RankerOptions();
        trees.Parameters["leaves"] = "31";
        new GradientTrainerOptions().Apply(trees, out var left);
        Assert.Equal("31", left["leaves"]);
        var ranker = CoreRankers.Describe("mlp-listnet", "listnet", CoreRankers.MlpDefaults, "test");
        Assert.Contains("'leaves'", Assert.Throws<ArgumentException>(() => ranker.CreateTrainer(trees)).Message);
        var bad = new RankerOptions();
        bad.Parameters["hidden"] = "64,x";
        Assert.Throws<ArgumentException>(() => new GradientTrainerOptions().Apply(bad, out _));
    }

    private sealed class SyncProgress(Action<TrainingEvent> report) : IProgress<TrainingEvent>
    {
        public void Report(TrainingEvent value) => report(value);
    }
}
