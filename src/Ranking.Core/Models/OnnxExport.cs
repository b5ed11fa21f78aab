using Google.Protobuf;
using Ranking.Data;
using Ranking.Onnx;
using Ranking.Onnx.Proto;

namespace Ranking.Models;

/// <summary>
/// Exports a <see cref="RankingModel"/> to ONNX (it sits with the models, above <c>Ranking.Onnx</c>'s graph
/// builder, so the export layer depends on the models and not the other way round): one graph from raw features to scores, holding the fitted
/// feature pipeline and the scorer, which ONNX Runtime (and so Vespa, Triton and any ONNX Runtime service)
/// loads as is. Per-query pipeline steps (query-minmax, query-zscore) cannot be computed row by row and are
/// refused with a <see cref="NotSupportedException"/> that says so. (An embedding model's encoder exports through
/// Ranking.Embeddings.EmbeddingOnnx, from features to embeddings.)
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

        var proto = NewModel(graph, "A learning-to-rank model exported by Ranking: input 'features' (float [N, F], raw), output 'score' (float [N]).");
        foreach (var (key, value) in new[]
        {
            ("ranker", manifest.Ranker), ("objective", manifest.Objective), ("model_family", manifest.ModelFamily),
            ("pipeline", model.Pipeline.Spec), ("input_features", model.Pipeline.InputFeatureCount.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        })
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value ?? "" });
        return proto;
    }

    /// <summary>The model around <paramref name="graph"/>: IR version, producer, and the operator sets the graph uses.</summary>
    private static ModelProto NewModel(OnnxGraphBuilder graph, string description)
    {
        var proto = new ModelProto
        {
            IrVersion = OnnxFormat.IrVersion,
            ProducerName = "Ranking",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "",
            Domain = "ranking",
            ModelVersion = 1,
            DocString = description,
            Graph = graph.Graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxFormat.Opset });
        if (graph.UsesMLDomain) proto.OpsetImport.Add(new OperatorSetIdProto { Domain = OnnxFormat.MLDomain, Version = OnnxFormat.MLOpset });
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

    /// <summary>
    /// The dense network of a linear or MLP model: per layer X W + b (Gemm), ReLU between layers, a linear output
    /// reshaped to [N]. Weights are the model's float parameters, row-major inputs x outputs.
    /// </summary>
    internal static void AddDenseNetwork(OnnxGraphBuilder g, DenseNetwork network, string features, string score) =>
        g.Flatten(DenseLayers(g, network, features), score);

    /// <summary>
    /// The layers of <paramref name="network"/> over <paramref name="features"/> (float [N, inputs]): per layer X W + b
    /// (Gemm), ReLU between layers; returns the name of the last layer's output, float [N, output width].
    /// </summary>
    internal static string DenseLayers(OnnxGraphBuilder g, DenseNetwork network, string features)
    {
        string x = features;
        for (int l = 0; l < network.LayerCount; l++)
        {
            int inputs = network.LayerInputs(l), width = network.LayerWidth(l);
            float[] w = network.Parameters.AsSpan(network.WeightOffsets[l], inputs * width).ToArray();
            float[] b = network.Parameters.AsSpan(network.BiasOffsets[l], width).ToArray();
            string y = g.Node("Gemm", [x, g.Floats($"layer{l}_weights", w, inputs, width), g.Floats($"layer{l}_bias", b, width)], $"layer{l}");
            x = l < network.LayerCount - 1 ? g.Node("Relu", [y], $"layer{l}_relu") : y;
        }
        return x;
    }

    /// <summary>
    /// An encoder graph: input <see cref="OnnxFormat.FeaturesInput"/> (float [N, inputs]), output
    /// <see cref="OnnxFormat.EmbeddingOutput"/> (float [N, output width]): the network's Gemm and ReLU layers, then,
    /// with <paramref name="normalise"/>, each row divided by its L2 norm. <paramref name="metadata"/> goes into the
    /// model's metadata properties.
    /// </summary>
    internal static ModelProto BuildEncoder(DenseNetwork network, bool normalise, string docString, IEnumerable<(string Key, string Value)> metadata)
    {
        ArgumentNullException.ThrowIfNull(network);
        var graph = new OnnxGraphBuilder();
        graph.Reserve(OnnxFormat.FeaturesInput);
        graph.Reserve(OnnxFormat.EmbeddingOutput);
        string x = DenseLayers(graph, network, OnnxFormat.FeaturesInput);
        if (normalise) x = OnnxSteps.L2NormaliseRows(graph, x);
        graph.NodeTo("Identity", [x], OnnxFormat.EmbeddingOutput, "");

        graph.Graph.Input.Add(TensorInfo(OnnxFormat.FeaturesInput, "N", network.InputCount));
        graph.Graph.Output.Add(TensorInfo(OnnxFormat.EmbeddingOutput, "N", network.OutputWidth));
        graph.Graph.DocString = docString;
        var proto = NewModel(graph, $"An embedding encoder exported by Ranking: input 'features' (float [N, {network.InputCount}]), output 'embedding' (float [N, {network.OutputWidth}]).");
        foreach (var (key, value) in metadata)
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return proto;
    }
}
