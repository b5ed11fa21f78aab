using Google.Protobuf;
using Ranking.Data;
using Ranking.Models;
using Ranking.Onnx.Proto;

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

/// <summary>
/// Exports a <see cref="RankingModel"/> to ONNX: one graph from raw features to scores, holding the fitted
/// feature pipeline and the scorer, which ONNX Runtime (and so Vespa, Triton and any ONNX Runtime service)
/// loads as is. Per-query pipeline steps (query-minmax, query-zscore) cannot be computed row by row and are
/// refused with a <see cref="NotSupportedException"/> that says so.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX model as bytes.</summary>
    public static byte[] ToBytes(RankingModel model) => Build(model).ToByteArray();

    /// <summary>Writes the ONNX model to <paramref name="path"/> atomically (a temp file, then a rename).</summary>
    public static void Save(RankingModel model, string path)
    {
        byte[] bytes = ToBytes(model);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    internal static ModelProto Build(RankingModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Model is not IOnnxExportable scorer)
            throw new NotSupportedException($"model family '{model.Model.ModelFamily}' has no ONNX export.");
        var graph = new OnnxGraphBuilder();
        graph.Reserve(OnnxFormat.FeaturesInput);
        graph.Reserve(OnnxFormat.ScoreOutput);
        string features = model.Pipeline.AddOnnxNodes(graph, OnnxFormat.FeaturesInput);
        scorer.AddScoring(graph, features, OnnxFormat.ScoreOutput);

        graph.Graph.Input.Add(TensorInfo(OnnxFormat.FeaturesInput, "N", model.Pipeline.InputFeatureCount));
        graph.Graph.Output.Add(TensorInfo(OnnxFormat.ScoreOutput, "N", null));
        var manifest = model.Manifest;
        graph.Graph.DocString = $"ranker {manifest.Ranker}, model {manifest.ModelFamily}, pipeline {model.Pipeline.Spec}: raw features in, one score per row out";

        var proto = new ModelProto
        {
            IrVersion = OnnxFormat.IrVersion,
            ProducerName = "Ranking",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            Domain = "ranking",
            ModelVersion = 1,
            DocString = "A learning-to-rank model exported by Ranking: input 'features' (float [N, F], raw), output 'score' (float [N]).",
            Graph = graph.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxFormat.Opset });
        if (graph.UsesMLDomain) proto.OpsetImport.Add(new OperatorSetIdProto { Domain = OnnxFormat.MLDomain, Version = OnnxFormat.MLOpset });
        foreach (var (key, value) in new[]
        {
            ("ranker", manifest.Ranker), ("objective", manifest.Objective), ("model_family", manifest.ModelFamily),
            ("pipeline", model.Pipeline.Spec), ("input_features", model.Pipeline.InputFeatureCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        })
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value ?? "" });
        return proto;
    }

    private static ValueInfoProto TensorInfo(string name, string rows, int? columns)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = rows });
        if (columns is int c) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = c });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
