namespace Ranking.Objectives;

/// <summary>Help lines of knobs that several objectives' options declare alike (each options type still declares its own knob).</summary>
internal static class ObjectiveKnobText
{
    public const string Sigma = "RankNet's sigma, the steepness of the pair sigmoid (alias: sigmoid)";
    public const string Margin = "hinge margin";
    public const string Negatives = "k: negatives (or noise rows) drawn or mined per positive";
    public const string Threshold = "a row is relevant (positive) when its grade is above this";
}
