using System.Text.Json.Nodes;

namespace Ranking.Cli.Tests;

/// <summary>
/// <c>--backend</c> on <c>ranking embed train|eval|search|report</c>: the GPU backend (ILGPU's CPU accelerator here, with
/// the warning that says so) prints the CPU's numbers, and says which backend ran. Sizes are tiny: the CPU accelerator is slow.
/// </summary>
public sealed class EmbedBackendCommandTests() : TempFolderTests("ranking-embed-backend-")
{
    private static JsonNode Json(CliHarness.CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.Stderr);
        return JsonNode.Parse(result.Stdout)!;
    }

    private static void AssertGpuRan(CliHarness.CliResult result, JsonNode json)
    {
        // No GPU here: the kernels ran on ILGPU's CPU accelerator, and both the warning and the description say so.
        Assert.Contains("warning: no GPU found", result.Stderr);
        Assert.Contains("CPU accelerator", (string)json["backend"]!);
    }

    [Fact]
    public void Train_eval_and_search_on_the_gpu_backend_print_the_cpu_numbers()
    {
        Assert.Equal(0, CliHarness.Run("embed", "synth", "--classes", "16", "--items", "6", "--dim", "6", "--latent", "3", "--train-classes", "10", "--out", P("s")).ExitCode);
        string train = P("s-train-images-idx2"), test = P("s-test-images-idx2");
        string[] common = ["embed", "train", "--data", train, "--valid", test, "--loss", "supcon", "--epochs", "2", "--batch", "16", "--per-class", "4",
            "--max-batches", "3", "--hidden", "8", "--dim", "4", "--lr", "0.01", "--memory", "32", "--threads", "1", "--json"];
        var cpuRun = CliHarness.Run([.. common, "--out", P("cpu.rkm"), "--backend", "cpu"]);
        var cpu = Json(cpuRun);
        var gpuRun = CliHarness.Run([.. common, "--out", P("gpu.rkm"), "--backend", "gpu"]);
        var gpu = Json(gpuRun);
        AssertGpuRan(gpuRun, gpu);
        Assert.Contains("managed CPU", (string)cpu["backend"]!);
        var (cpuEvents, gpuEvents) = (cpu["events"]!.AsArray(), gpu["events"]!.AsArray());
        Assert.Equal(2, cpuEvents.Count);
        Assert.Equal(cpuEvents.Count, gpuEvents.Count);
        for (int e = 0; e < cpuEvents.Count; e++)
        {
            Assert.Equal((double)cpuEvents[e]!["loss"]!, (double)gpuEvents[e]!["loss"]!, 1e-4);
            Assert.Equal((double)cpuEvents[e]!["map_at_r"]!, (double)gpuEvents[e]!["map_at_r"]!, 1e-9);
        }

        // The CPU's model evaluated on either backend: the same metrics.
        string[] eval = ["embed", "eval", "--model", P("cpu.rkm"), "--data", test, "--references", train, "--json"];
        var cpuEval = Json(CliHarness.Run([.. eval, "--backend", "cpu"]));
        var gpuEvalRun = CliHarness.Run([.. eval, "--backend", "gpu"]);
        var gpuEval = Json(gpuEvalRun);
        AssertGpuRan(gpuEvalRun, gpuEval);
        Assert.True((double)cpuEval["map_at_r"]! > 0);
        foreach (string key in new[] { "precision_at_1", "r_precision", "map_at_r", "mrr", "knn_accuracy", "recall_at_1", "recall_at_8" })
            Assert.Equal((double)cpuEval[key]!, (double)gpuEval[key]!, 1e-9);
        Assert.Equal((int)cpuEval["k"]!, (int)gpuEval["k"]!);

        string[] search = ["embed", "search", "--model", P("gpu.rkm"), "--data", test, "--references", train, "--k", "3", "--json"];
        var cpuSearch = Json(CliHarness.Run([.. search, "--backend", "cpu"]))["neighbours"]!.AsArray();
        var gpuSearchRun = CliHarness.Run([.. search, "--backend", "gpu"]);
        var gpuSearch = Json(gpuSearchRun);
        AssertGpuRan(gpuSearchRun, gpuSearch);
        var gpuNeighbours = gpuSearch["neighbours"]!.AsArray();
        Assert.Equal(cpuSearch.Count, gpuNeighbours.Count);
        Assert.Equal(36 * 3, cpuSearch.Count);
        for (int i = 0; i < cpuSearch.Count; i++)
        {
            Assert.Equal((int)cpuSearch[i]!["reference"]!, (int)gpuNeighbours[i]!["reference"]!);
            Assert.Equal((double)cpuSearch[i]!["value"]!, (double)gpuNeighbours[i]!["value"]!, 1e-5);
        }
    }

    [Fact]
    public void Two_towers_and_the_report_run_on_the_gpu_backend()
    {
        Assert.Equal(0, CliHarness.Run("embed", "synth-pairs", "--items", "12", "--queries", "80", "--held-out", "0.25", "--seed", "3", "--out", P("w")).ExitCode);
        string[] pairs = ["embed", "train", "--pairs", P("w-train.pairs"), "--queries", P("w-queries.csv"), "--items", P("w-items.csv"),
            "--valid-pairs", P("w-held-out.pairs"), "--loss", "sampled-softmax", "--hidden", "8", "--dim", "4", "--batch", "8", "--epochs", "2",
            "--max-batches", "3", "--lr", "0.01", "--threads", "1", "--json"];
        var cpu = Json(CliHarness.Run([.. pairs, "--out", P("cpu.rkm"), "--backend", "cpu"]));
        var gpuRun = CliHarness.Run([.. pairs, "--out", P("gpu.rkm"), "--backend", "gpu"]);
        var gpu = Json(gpuRun);
        AssertGpuRan(gpuRun, gpu);
        var (cpuEvents, gpuEvents) = (cpu["events"]!.AsArray(), gpu["events"]!.AsArray());
        for (int e = 0; e < cpuEvents.Count; e++)
        {
            Assert.Equal((double)cpuEvents[e]!["loss"]!, (double)gpuEvents[e]!["loss"]!, 1e-4);
            Assert.Equal((double)cpuEvents[e]!["mrr"]!, (double)gpuEvents[e]!["mrr"]!, 1e-9);
        }
        string[] eval = ["embed", "eval", "--model", P("cpu.rkm"), "--pairs", P("w-held-out.pairs"), "--queries", P("w-queries.csv"), "--items", P("w-items.csv"), "--json"];
        var cpuEval = Json(CliHarness.Run([.. eval, "--backend", "cpu"]));
        var gpuEval = Json(CliHarness.Run([.. eval, "--backend", "gpu"]));
        Assert.Equal((double)cpuEval["mrr"]!, (double)gpuEval["mrr"]!, 1e-9);
        Assert.Equal((double)cpuEval["recall_at_5"]!, (double)gpuEval["recall_at_5"]!, 1e-9);

        Assert.Equal(0, CliHarness.Run("embed", "synth", "--classes", "12", "--items", "6", "--dim", "6", "--latent", "3", "--train-classes", "8", "--out", P("s")).ExitCode);
        string[] report = ["embed", "report", "--data", P("s-train-images-idx2"), "--test", P("s-test-images-idx2"), "--recipes", "supcon:all", "--seeds", "1",
            "--epochs", "1", "--batch", "16", "--max-batches", "2", "--hidden", "8", "--dim", "4", "--threads", "1", "--json"];
        var cpuReport = Json(CliHarness.Run([.. report, "--out", P("report-cpu"), "--backend", "cpu"]));
        var gpuReportRun = CliHarness.Run([.. report, "--out", P("report-gpu"), "--backend", "gpu"]);
        var gpuReport = Json(gpuReportRun);
        AssertGpuRan(gpuReportRun, gpuReport);
        Assert.Equal((double)cpuReport["recipes"]![0]!["map_at_r"]!, (double)gpuReport["recipes"]![0]!["map_at_r"]!, 1e-9);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("eval")]
    [InlineData("search")]
    [InlineData("report")]
    public void A_bad_backend_is_exit_code_2(string command)
    {
        File.WriteAllText(P("d.csv"), "class,x,y\na,0,1\na,0.1,1\nb,1,0\nb,1,0.1\n");
        string[] args = command switch
        {
            "train" => ["embed", "train", "--data", P("d.csv"), "--batch", "4", "--out", P("m.rkm")],
            "eval" => ["embed", "eval", "--raw", "--data", P("d.csv")],
            "search" => ["embed", "search", "--model", P("missing.rkm"), "--data", P("d.csv"), "--references", P("d.csv")],
            _ => ["embed", "report", "--data", P("d.csv"), "--test", P("d.csv"), "--out", P("r")],
        };
        var result = CliHarness.Run([.. args, "--backend", "tpu"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--backend", result.Stderr);
        Assert.False(File.Exists(P("m.rkm")));
    }
}
