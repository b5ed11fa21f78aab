using Ranking.Embeddings;

namespace Ranking.Core.Tests.Embeddings;

public class CollapseTests
{
    private static (float[] E, int[] Labels) RandomBatch(int count, int dim, int classes, int seed)
    {
        var random = new Random(seed);
        float[] e = Enumerable.Range(0, count * dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        EmbeddingDistances.NormaliseRows(e, count, dim, new float[count]);
        return (e, Enumerable.Range(0, count).Select(i => i % classes).ToArray());
    }

    [Fact]
    public void Loss_at_collapse_is_worked_out_by_hand_for_each_loss()
    {
        var (e, labels) = RandomBatch(12, 4, 3, 1);
        var refs = BatchLossTests.Self(e, labels);
        double AtCollapse(BatchLossOptions o) => new BatchLoss(o, threads: 1).LossAtCollapse(labels, labels.Length, refs, -1f, 0);
        // Triplet: every term is d_ap - d_an + m = m; mean over the non-zero terms = m. Soft margin: softplus(0) = log 2.
        Assert.Equal(0.1, AtCollapse(new BatchLossOptions { Loss = "triplet", Miner = "batchhard", Margin = 0.1f }), 6);
        Assert.Equal(0.25, AtCollapse(new BatchLossOptions { Loss = "triplet", Miner = "all", Margin = 0.25f }), 6);
        Assert.Equal(Math.Log(2), AtCollapse(new BatchLossOptions { Loss = "triplet", Miner = "batchhard", SoftMargin = true }), 6);
        // Contrastive on cosine at similarity 1: positives [1 - 1]_+ = 0, negatives [1 - 0.5]_+ = 0.5; mean over non-zero = 0.5.
        Assert.Equal(0.5, AtCollapse(new BatchLossOptions { Loss = "contrastive", Miner = "all" }), 6);
        // SupCon with every logit equal: log(11 others) - the logit + the logit = log 11 per anchor.
        Assert.Equal(Math.Log(11), AtCollapse(new BatchLossOptions { Loss = "supcon", Miner = "all" }), 5);
        // Semi-hard mining finds no triplet inside an empty window: nothing to be stuck at.
        Assert.Equal(0, AtCollapse(new BatchLossOptions { Loss = "triplet", Miner = "semihard" }));
    }

    [Fact]
    public void Batch_statistics_report_the_spread_and_mean_without_self_pairs()
    {
        // 1-D cosine on unit vectors +1, +1, -1: similarities to the others are row 0: 1, -1; row 1: 1, -1; row 2: -1, -1.
        float[] e = [1, 1, -1];
        int[] labels = [0, 0, 1];
        var loss = new BatchLoss(new BatchLossOptions { Loss = "contrastive" }, threads: 1);
        loss.Compute(e, labels, 3, 1, BatchLossTests.Self(e, labels), new float[3], 0);
        // Farness = -similarity: spreads 2, 2, 0; mean farness (-1 + 1 - 1 + 1 + 1 + 1) / 6 = 1/3.
        Assert.Equal(4.0 / 3, loss.LastStatistics.MeanRowSpread, 6);
        Assert.Equal(1.0 / 3, loss.LastStatistics.MeanFarness, 6);
    }

    [Fact]
    public void Monitor_warns_after_the_window_only_while_the_loss_is_pinned_and_the_spread_shrunk()
    {
        var monitor = new CollapseMonitor(new CollapseDetection { Window = 3, LossTolerance = 0.02, SpreadFraction = 0.5, TotalSpreadFraction = 1e-3 });
        int evaluations = 0;
        double AtCollapse() { evaluations++; return 0.1; }
        // Growing spread: the peak is 2; the loss at collapse is never asked for while the spread is large.
        Assert.False(monitor.Observe(0.3, 1.0, AtCollapse));
        Assert.False(monitor.Observe(0.1, 2.0, AtCollapse));
        Assert.Equal(0, evaluations);
        // Spread 0.8 < 0.5 x 2 and the loss at 0.101 (within 2% of 0.1): two batches, one short of the window.
        Assert.False(monitor.Observe(0.101, 0.8, AtCollapse));
        Assert.False(monitor.Observe(0.099, 0.8, AtCollapse));
        Assert.Equal(2, monitor.Run);
        // A batch whose loss left the margin (0.15) resets the run.
        Assert.False(monitor.Observe(0.15, 0.8, AtCollapse));
        Assert.Equal(0, monitor.Run);
        Assert.False(monitor.Observe(0.1, 0.5, AtCollapse));
        Assert.False(monitor.Observe(0.1, 0.5, AtCollapse));
        Assert.True(monitor.Observe(0.1, 0.5, AtCollapse));
        Assert.Equal(0.1, monitor.LastLossAtCollapse);

        // Distances at 0 (below 1e-3 of the peak) are a collapse whatever the loss says.
        var total = new CollapseMonitor(new CollapseDetection { Window = 2 });
        Assert.False(total.Observe(5, 1.0, () => throw new InvalidOperationException("not needed")));
        Assert.False(total.Observe(5, 1e-4, () => throw new InvalidOperationException("not needed")));
        Assert.True(total.Observe(5, 1e-4, () => throw new InvalidOperationException("not needed")));

        // A loss pinned at the margin while the spread stays large (a healthy plateau) is no collapse.
        var healthy = new CollapseMonitor(new CollapseDetection { Window = 2 });
        for (int i = 0; i < 10; i++) Assert.False(healthy.Observe(0.1, 1.0, () => 0.1));
        Assert.Throws<ArgumentException>(() => new CollapseMonitor(new CollapseDetection { Window = 0 }));
        Assert.Throws<ArgumentException>(() => new CollapseMonitor(new CollapseDetection { SpreadFraction = 0.1, TotalSpreadFraction = 0.2 }));
    }

    private static EmbeddingTrainerOptions SmallRun(string loss, string miner) => new()
    {
        Loss = new BatchLossOptions { Loss = loss, Miner = miner }, Hidden = [256], Dimension = 128, Epochs = 30, BatchSize = 256,
        LearningRate = 1e-3, Seed = 1, Threads = 2,
    };

    [SkippableFact]
    public void Batch_hard_on_fashion_mnist_collapses_and_training_stops_with_a_warning()
    {
        Skip.IfNot(Directory.Exists(EmbeddingDataTests.FashionMnist), EmbeddingDataTests.FashionMissing);
        // 2,560 training images: ten batches of 256 per epoch, 30 epochs at most. Batch-hard mining drives the mean spread of
        // distances from about 0.5 to under 0.01 within a few dozen batches while the loss settles at the margin (0.1).
        var train = LabelledItemsReader.Read(Path.Combine(EmbeddingDataTests.FashionMnist, "train-images-idx3-ubyte.gz"), limit: 2560);
        var events = new List<EmbeddingTrainingEvent>();
        var model = EmbeddingTrainer.Train(train, SmallRun("triplet", "batchhard"), progress: events.Add);
        Assert.True(model.Collapsed);
        var warning = Assert.Single(events, e => e.Warning is not null);
        Assert.Same(warning, events[^1]);
        Assert.Contains("collapse", warning.Warning);
        Assert.True(warning.Epoch < 30, $"stopped at epoch {warning.Epoch}");
        Assert.InRange(warning.Loss, 0.1, 0.11);
        Assert.True(warning.Spread < 0.05 * events[0].Spread, $"spread {warning.Spread} vs {events[0].Spread} in the first epoch");

        // The same run with detection off trains every epoch and says nothing.
        var quiet = EmbeddingTrainer.Train(train, SmallRun("triplet", "batchhard") with { Epochs = 12, Collapse = new CollapseDetection { Enabled = false } });
        Assert.False(quiet.Collapsed);
        Assert.Equal(12, quiet.Events.Count);
        Assert.All(quiet.Events, e => Assert.Null(e.Warning));
    }

    [SkippableTheory]
    [InlineData("supcon", "all")]
    [InlineData("triplet", "semihard")]
    [InlineData("contrastive", "all")]
    public void Healthy_losses_on_the_same_run_raise_no_warning(string loss, string miner)
    {
        Skip.IfNot(Directory.Exists(EmbeddingDataTests.FashionMnist), EmbeddingDataTests.FashionMissing);
        var train = LabelledItemsReader.Read(Path.Combine(EmbeddingDataTests.FashionMnist, "train-images-idx3-ubyte.gz"), limit: 2560);
        var model = EmbeddingTrainer.Train(train, SmallRun(loss, miner) with { Epochs = 12 });
        Assert.False(model.Collapsed);
        Assert.Equal(12, model.Events.Count);
        Assert.All(model.Events, e => Assert.Null(e.Warning));
    }
}
