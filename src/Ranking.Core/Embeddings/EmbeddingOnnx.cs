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
    /// <summary>
    /// The encoder of <paramref name="model"/> as ONNX bytes; for a two-tower model, the graph of one
    /// <paramref name="tower"/> (required there, and refused for a one-tower model), whose name the metadata carries.
    /// </summary>
    public static byte[] ToBytes(EmbeddingModel model, EmbeddingTower? tower = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.IsTwoTower && tower is null) throw new ArgumentException("a two-tower model exports one tower at a time: give the tower (query or item).", nameof(tower));
        if (!model.IsTwoTower && tower is not null) throw new ArgumentException($"a one-tower model has no {tower.Value.Name()} tower: export it without one.", nameof(tower));
        var encoder = model.Tower(tower ?? EmbeddingTower.Query);
        string network = DenseNetwork.Describe(encoder.InputCount, encoder.Network.Hidden, encoder.Dimension);
        string distance = model.Distance.Name();
        string which = tower is { } t ? $"{t.Name()} tower of a two-tower " : "";
        var metadata = new List<(string, string)>
        {
            ("model_family", EmbeddingModel.Family), ("network", network), ("normalise", encoder.Normalise ? "true" : "false"),
            ("distance", distance), ("dimension", encoder.Dimension.ToString(CultureInfo.InvariantCulture)),
            ("input_features", encoder.InputCount.ToString(CultureInfo.InvariantCulture)),
        };
        if (tower is { } named) metadata.Add(("tower", named.Name()));
        var proto = OnnxExport.BuildEncoder(encoder.Network, encoder.Normalise,
            $"{which}embedding encoder {network}{(encoder.Normalise ? ", L2-normalised" : "")}, distance {distance}: features in, one embedding per row out",
            [.. metadata]);
        return Google.Protobuf.MessageExtensions.ToByteArray(proto);
    }

    /// <summary>Writes the encoder (or one <paramref name="tower"/> of a two-tower model) of <paramref name="model"/> as ONNX to <paramref name="path"/> atomically (a temp file, then a rename).</summary>
    public static void Save(EmbeddingModel model, string path, EmbeddingTower? tower = null)
    {
        byte[] bytes = ToBytes(model, tower);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
