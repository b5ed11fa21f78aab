using System.CommandLine;
using System.Text.Json.Nodes;
using Ranking.Embeddings;
using Ranking.Models;
using Ranking.Onnx;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>ranking export --model M --out model.onnx [--format onnx]</c>: writes a model file as one ONNX graph from raw
/// features to scores (the fitted feature pipeline included), which ONNX Runtime and the stacks built on it load.
/// A model or pipeline step that has no ONNX form (per-query normalisation) is bad input: exit 2, nothing written.
/// An embedding model (<c>ranking embed train</c>) exports its encoder: input 'features' [N,F], output 'embedding' [N,dim].
/// </summary>
internal static class ExportCommand
{
    /// <summary>The formats <c>--format</c> accepts.</summary>
    public static readonly string[] Formats = ["onnx", "lightgbm-json", "xgboost-json"];

    /// <summary>The <c>export</c> command.</summary>
    public static Command Create()
    {
        var modelPath = new Option<string>("--model") { Description = "Model file written by 'ranking train' or 'ranking embed train'.", Required = true };
        var output = new Option<string>("--out") { Description = "The exported file (e.g. model.onnx).", Required = true };
        var format = new Option<string>("--format")
        {
            Description = "Export format: onnx (every family, pipeline in the graph); lightgbm-json (LightGBM's dump_model JSON, read by Vespa) "
                + "or xgboost-json (XGBoost's JSON tree dump, read by the Elasticsearch/OpenSearch LTR plugins) for tree models with no pipeline.",
            DefaultValueFactory = _ => "onnx",
        };
        var json = SharedOptions.Json("Print a JSON summary.");
        var tower = new Option<string?>("--tower") { Description = "A two-tower embedding model: the tower to export (query|item), one ONNX file per tower." };
        var command = new Command("export", "Export a model file for serving: ONNX with the feature pipeline in the graph (input 'features' [N,F] raw, output 'score' [N]); an embedding model's encoder gives output 'embedding' [N,dim].")
            { modelPath, output, format, json, tower };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(modelPath)!, outPath = parse.GetValue(output)!, chosen = parse.GetValue(format)!.Trim().ToLowerInvariant();
            if (!Formats.Contains(chosen)) throw new UsageException($"--format: '{chosen}' is not one of {string.Join(", ", Formats)}.");
            var (manifest, _, _) = ModelFile.ReadContainer(path);
            if (manifest.ModelFamily == EmbeddingModel.Family)
            {
                if (chosen != "onnx") throw new UsageException($"{path}: an embedding model exports as onnx only, not {chosen}.");
                var embedding = EmbeddingModel.Load(path);
                string? towerName = parse.GetValue(tower);
                if (embedding.IsTwoTower && towerName is null) throw new UsageException($"{path}: a two-tower model exports one tower per file: give --tower query or --tower item.");
                if (!embedding.IsTwoTower && towerName is not null) throw new UsageException($"{path}: one shared encoder, no towers: drop --tower.");
                EmbeddingTower? which = null;
                if (towerName is not null)
                {
                    try { which = EmbeddingTowers.Parse(towerName); }
                    catch (ArgumentException ex) { throw new UsageException(ex.Message); }
                }
                ExportEncoder(embedding, path, outPath, chosen, parse.GetValue(json), which);
                return ExitCodes.Ok;
            }
            if (parse.GetValue(tower) is not null) throw new UsageException($"{path}: --tower is for two-tower embedding models.");
            var model = RankingModel.Load(path, CatalogFactory.CreateDefault());
            if (chosen != "onnx")
            {
                ExportTrees(model, path, outPath, chosen, parse.GetValue(json));
                return ExitCodes.Ok;
            }
            byte[] bytes;
            try
            {
                bytes = OnnxExport.ToBytes(model);
            }
            catch (NotSupportedException ex)
            {
                throw new UsageException($"{path}: cannot export to ONNX: {ex.Message}");
            }
            Ranking.Data.AtomicFile.WriteAllBytes(outPath, bytes);
            if (parse.GetValue(json))
                CliJson.Print(new JsonObject
                {
                    ["model"] = path, ["out"] = outPath, ["format"] = chosen, ["ranker"] = model.Manifest.Ranker,
                    ["model_family"] = model.Manifest.ModelFamily, ["pipeline"] = model.Pipeline.Spec,
                    ["input_features"] = model.Pipeline.InputFeatureCount, ["ir_version"] = OnnxFormat.IrVersion,
                    ["opset"] = OnnxFormat.Opset, ["bytes"] = bytes.Length,
                });
            else
                Console.Out.WriteLine($"{outPath}: ONNX (IR {OnnxFormat.IrVersion}, opset {OnnxFormat.Opset}), {model.Manifest.Ranker} ({model.Manifest.ModelFamily}), pipeline {model.Pipeline.Spec}, input 'features' [N,{model.Pipeline.InputFeatureCount}], output 'score' [N]");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Writes an embedding model's encoder as ONNX (features in, embeddings out) and reports it.</summary>
    private static void ExportEncoder(EmbeddingModel model, string path, string outPath, string format, bool json, EmbeddingTower? tower)
    {
        byte[] bytes = EmbeddingOnnx.ToBytes(model, tower);
        Ranking.Data.AtomicFile.WriteAllBytes(outPath, bytes);
        var encoder = model.Tower(tower ?? EmbeddingTower.Query);
        if (json)
            CliJson.Print(new JsonObject
            {
                ["model"] = path, ["out"] = outPath, ["format"] = format, ["model_family"] = EmbeddingModel.Family,
                ["input_features"] = encoder.InputCount, ["dimension"] = encoder.Dimension, ["normalise"] = encoder.Normalise,
                ["distance"] = model.Distance.Name(), ["ir_version"] = OnnxFormat.IrVersion, ["opset"] = OnnxFormat.Opset, ["bytes"] = bytes.Length,
                ["tower"] = tower?.Name(),
            });
        else
            Console.Out.WriteLine($"{outPath}: ONNX (IR {OnnxFormat.IrVersion}, opset {OnnxFormat.Opset}), {(tower is { } t ? $"{t.Name()} tower, " : "")}embedding encoder {DenseNetwork.Describe(encoder.InputCount, encoder.Network.Hidden, encoder.Dimension)}{(encoder.Normalise ? ", L2-normalised" : "")}, input 'features' [N,{encoder.InputCount}], output 'embedding' [N,{encoder.Dimension}]");
    }

    /// <summary>
    /// Writes a tree model as LightGBM's or XGBoost's JSON. Neither format holds a feature pipeline, so a model trained
    /// behind one (other than "none") is refused: its trees split transformed features, not the raw ones a server sends.
    /// </summary>
    private static void ExportTrees(RankingModel model, string path, string outPath, string format, bool json)
    {
        if (model.Model is not ITreeEnsembleModel trees)
            throw new UsageException($"{path}: --format {format} writes tree models (gbdt, fasttree); this is a {model.Manifest.ModelFamily} model (use --format onnx).");
        if (!model.Pipeline.IsIdentity)
            throw new UsageException($"{path}: --format {format} cannot hold the feature pipeline '{model.Pipeline.Spec}' (the trees split transformed features); train with --pipeline none, or use --format onnx.");
        TreeEnsemble ensemble;
        try
        {
            ensemble = trees.ToTreeEnsemble();
        }
        catch (NotSupportedException ex)
        {
            throw new UsageException($"{path}: cannot export to {format}: {ex.Message}");
        }
        int features = model.Pipeline.InputFeatureCount;
        string text = format == "lightgbm-json" ? LightGbmJsonDump.Write(ensemble, features) : XgboostJsonDump.Write(ensemble, features);
        Ranking.Data.AtomicFile.WriteAllText(outPath, text);
        if (json)
            CliJson.Print(new JsonObject
            {
                ["model"] = path, ["out"] = outPath, ["format"] = format, ["ranker"] = model.Manifest.Ranker,
                ["model_family"] = model.Manifest.ModelFamily, ["input_features"] = features, ["trees"] = ensemble.Trees.Count,
                ["base_score"] = ensemble.BaseScore, ["bytes"] = System.Text.Encoding.UTF8.GetByteCount(text),
            });
        else
            Console.Out.WriteLine($"{outPath}: {format}, {model.Manifest.Ranker} ({model.Manifest.ModelFamily}), {ensemble.Trees.Count} trees over {features} features"
                + (format == "xgboost-json" ? " (features named f0..f" + (features - 1) + ")" : ""));
    }
}
