using Ranking.Knobs;

namespace Ranking.MLNet;

/// <summary>
/// The knobs of <see cref="FastTreeRankerTrainer"/>, declared once; defaults are FastTree's own (100 trees, 20
/// leaves, learning rate 0.2, 10 rows per leaf, gains 0,3,7,15,31, NDCG truncation 100), not LightGBM's.
/// </summary>
public sealed class FastTreeKnobs
{
    /// <summary>Boosting rounds.</summary>
    [Knob("boosting rounds (also RankerOptions.Iterations)", Aliases = "iterations", Min = 1)]
    public int Trees { get; init; } = 100;

    /// <summary>Leaves per tree.</summary>
    [Knob("leaves per tree", Min = 2)]
    public int Leaves { get; init; } = 20;

    /// <summary>Shrinkage per tree.</summary>
    [Knob("learning rate (also RankerOptions.LearningRate)", Aliases = "learning-rate", Min = 0, MinExclusive = true)]
    public double Lr { get; init; } = 0.2;

    /// <summary>Minimum rows per leaf.</summary>
    [Knob("minimum rows per leaf", Min = 1)]
    public int MinData { get; init; } = 10;

    /// <summary>Fraction of features each tree may use.</summary>
    [Knob("fraction of features each tree may use", Min = 0, MinExclusive = true, Max = 1)]
    public double FeatureFraction { get; init; } = 1;

    /// <summary>Histogram bins per feature.</summary>
    [Knob("histogram bins per feature", Min = 2)]
    public int MaxBin { get; init; } = 255;

    /// <summary>NDCG truncation of LambdaMART's gradients.</summary>
    [Knob("NDCG truncation of LambdaMART's gradients", Min = 1)]
    public int Truncation { get; init; } = 100;

    /// <summary>Gain per grade; a grade beyond the table fails.</summary>
    [Knob("gain per grade, comma-separated (grades beyond the list fail)")]
    public double[] LabelGain { get; init; } = [0, 3, 7, 15, 31];
}
