using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ranking.Cli.Datasets;

/// <summary>One public learning-to-rank dataset as described by datasets/catalog.json.</summary>
internal sealed class DatasetEntry
{
    public required string Name { get; init; }
    public required string Title { get; init; }
    public required string Homepage { get; init; }
    /// <summary>Direct download, or null where the owner requires a request or a click-through licence.</summary>
    public string? DownloadUrl { get; init; }
    public string? Archive { get; init; }
    public string? ArchiveSha256 { get; init; }
    public string ChecksumSource { get; init; } = "not published";
    /// <summary>True when `fetch` must not download by itself (licence to accept, request to file, RAR archive).</summary>
    public bool ManualDownload { get; init; }
    public required string Format { get; init; }
    public int Features { get; init; }
    public string Grades { get; init; } = "";
    public long Queries { get; init; }
    public long Rows { get; init; }
    /// <summary>Fold folders relative to the dataset root ("." when the files sit at the root).</summary>
    public required IReadOnlyList<string> Folds { get; init; }
    public required string Train { get; init; }
    public string? Valid { get; init; }
    public required string Test { get; init; }
    /// <summary>Expected SHA-256 of files, by path relative to the dataset root.</summary>
    public IReadOnlyDictionary<string, string> FileSha256 { get; init; } = new Dictionary<string, string>();
    /// <summary>Set where the five parts can be rebuilt from Fold1 alone (LETOR's rotation).</summary>
    public FoldRotationSpec? Rotation { get; init; }
    public string Licence { get; init; } = "";
    public string Notes { get; init; } = "";
}

/// <summary>
/// How Fold1 holds all the parts: train = the first <see cref="TrainParts"/> parts in file order, then vali and
/// test one part each, with <see cref="PartQueries"/> queries per part.
/// </summary>
internal sealed class FoldRotationSpec
{
    public int TrainParts { get; init; }
    public required IReadOnlyList<int> PartQueries { get; init; }
}

/// <summary>The dataset catalogue (datasets/catalog.json, embedded in the tool).</summary>
internal sealed class DatasetCatalog
{
    public int Version { get; init; }
    public string Notes { get; init; } = "";
    public required IReadOnlyList<DatasetEntry> Datasets { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        ReadCommentHandling = JsonCommentHandling.Skip,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static DatasetCatalog Parse(string json) =>
        JsonSerializer.Deserialize<DatasetCatalog>(json, Json)
        ?? throw new InvalidDataException("dataset catalogue is empty.");

    /// <summary>The catalogue shipped inside the tool.</summary>
    public static DatasetCatalog LoadEmbedded()
    {
        using var stream = typeof(DatasetCatalog).Assembly.GetManifestResourceStream("Ranking.Cli.Datasets.catalog.json")
            ?? throw new InvalidOperationException("datasets/catalog.json is not embedded in this build.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    /// <summary>A dataset by name; an unknown name is a usage error that lists the known ones.</summary>
    public DatasetEntry Get(string name) =>
        Datasets.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new UsageException($"unknown dataset '{name}'; known: {string.Join(", ", Datasets.Select(d => d.Name))}.");
}
