using System.Globalization;
using Ranking.Data;
using Ranking.Models;
using Ranking.Onnx;

namespace Ranking.Embeddings;

/// <summary>
/// An <see cref="EmbeddingModel"/>'s encoder as ONNX: input <see cref="OnnxFormat.FeaturesInput"/> (float
/// [N, input features]), output <see cref="OnnxFormat.EmbeddingOutput"/> (float [N, dimension]): the network's Gemm
/// and ReLU layers, then the L2 normalisation of each row when the encoder normalises (a zero row stays zero, as
/// <see cref="EmbeddingEncoder.Encode"/> leaves it). The model's metadata names the network, the normalisation,
/// the distance and the dimension. Same IR and opset versions as <see cref="OnnxExport"/>.
/// </summary>
public static class EmbeddingOnnx
{
    /// <summary>The encoder of <paramref name="model"/> as ONNX bytes.</summary>
    public static byte[] ToBytes(EmbeddingModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var encoder = model.Encoder;
        string network = DenseNetwork.Describe(encoder.InputCount, encoder.Network.Hidden, encoder.Dimension);
        string distance = model.Distance.Name();
        var proto = OnnxExport.BuildEncoder(encoder.Network, encoder.Normalise,
            $"embedding encoder {network}{(encoder.Normalise ? ", L2-normalised" : "")}, distance {distance}: features in, one embedding per row out",
            [
                ("model_family", EmbeddingModel.Family), ("network", network), ("normalise", encoder.Normalise ? "true" : "false"),
                ("distance", distance), ("dimension", encoder.Dimension.ToString(CultureInfo.InvariantCulture)),
                ("input_features", encoder.InputCount.ToString(CultureInfo.InvariantCulture)),
            ]);
        return Google.Protobuf.MessageExtensions.ToByteArray(proto);
    }

    /// <summary>Writes the encoder of <paramref name="model"/> as ONNX to <paramref name="path"/> atomically (a temp file, then a rename).</summary>
    public static void Save(EmbeddingModel model, string path)
    {
        byte[] bytes = ToBytes(model);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
