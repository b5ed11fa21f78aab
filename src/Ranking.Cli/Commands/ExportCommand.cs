using System.CommandLine;
using System.Text.Json.Nodes;
using Ranking.Models;
using Ranking.Onnx;

namespace Ranking.Cli.Commands;

/// <summary>
/// <c>ranking export --model M --out model.onnx [--format onnx]</c>: writes a model file as one ONNX graph from raw
/// features to scores (the fitted feature pipeline included), which ONNX Runtime and the stacks built on it load.
/// A model or pipeline step that has no ONNX form (per-query normalisation) is bad input: exit 2, nothing written.
/// </summary>
internal static class ExportCommand
{
    /// <summary>The formats <c>--format</c> accepts.</summary>
    public static readonly string[] Formats = ["onnx"];

    /// <summary>The <c>export</c> command.</summary>
    public static Command Create()
    {
        var modelPath = new Option<string>("--model") { Description = "Model file written by 'ranking train'.", Required = true };
        var output = new Option<string>("--out") { Description = "The exported file (e.g. model.onnx).", Required = true };
        var format = new Option<string>("--format") { Description = "Export format: onnx.", DefaultValueFactory = _ => "onnx" };
        var json = SharedOptions.Json("Print a JSON summary.");
        var command = new Command("export", "Export a model file for serving: ONNX with the feature pipeline in the graph (input 'features' [N,F] raw, output 'score' [N]).")
            { modelPath, output, format, json };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(modelPath)!, outPath = parse.GetValue(output)!, chosen = parse.GetValue(format)!.Trim().ToLowerInvariant();
            if (!Formats.Contains(chosen)) throw new UsageException($"--format: '{chosen}' is not one of {string.Join(", ", Formats)}.");
            var model = RankingModel.Load(path, CatalogFactory.CreateDefault());
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
}
