namespace Ranking.Onnx;

/// <summary>The ONNX versions and names an exported model uses.</summary>
public static class OnnxFormat
{
    /// <summary>ONNX IR version 8 (ONNX 1.13+; ONNX Runtime 1.14+).</summary>
    public const long IrVersion = 8;
    /// <summary>The default (ai.onnx) operator set: 17.</summary>
    public const long Opset = 17;
    /// <summary>The ai.onnx.ml operator set: 3 (TreeEnsembleRegressor with double thresholds).</summary>
    public const long MLOpset = 3;
    /// <summary>The domain of the tree-ensemble operator.</summary>
    public const string MLDomain = "ai.onnx.ml";
    /// <summary>The graph's input: raw features, float [N, input features], as read from a data file.</summary>
    public const string FeaturesInput = "features";
    /// <summary>The graph's output: one float score per row, [N].</summary>
    public const string ScoreOutput = "score";
    /// <summary>An exported encoder's output: one embedding per row, float [N, dimension] (unit length when the encoder normalises).</summary>
    public const string EmbeddingOutput = "embedding";
}

/// <summary>A scorer that can write itself as ONNX nodes.</summary>
public interface IOnnxExportable
{
    /// <summary>
    /// Adds the nodes that turn <paramref name="features"/> (float [N, the model's feature count], the feature
    /// pipeline's output) into <paramref name="score"/> (float [N]).
    /// </summary>
    void AddScoring(OnnxGraphBuilder graph, string features, string score);
}
