using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Ranking.Data;

namespace Ranking.Models;

/// <summary>
/// The model file: one zip container holding manifest.json (see <see cref="ModelManifest"/>), pipeline.json
/// (the fitted feature pipeline) and the model family's payload entries under "payload/". Written through
/// <see cref="AtomicFile"/> (temp file + rename), with fixed entry times and order so identical models give
/// identical bytes. Reading checks the format version and the SHA-256 of every entry; a truncated,
/// corrupted or foreign file is a <see cref="RankingDataException"/> naming the file and what is wrong.
/// </summary>
public static partial class ModelFile
{
    public const string ManifestEntry = "manifest.json";
    public const string PipelineEntry = "pipeline.json";
    public const string PayloadPrefix = "payload/";

    /// <summary>Entry timestamps are fixed so the bytes do not depend on when the model was saved.</summary>
    private static readonly DateTimeOffset FixedTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The raw container: a manifest (its entry checksums are filled in here), pipeline JSON and payload.</summary>
    public static void WriteContainer(string path, ModelManifest manifest, string pipelineJson, IReadOnlyDictionary<string, byte[]> payload)
    {
        var entries = new SortedDictionary<string, byte[]>(StringComparer.Ordinal) { [PipelineEntry] = Encoding.UTF8.GetBytes(pipelineJson) };
        foreach (var (name, bytes) in payload)
        {
            if (string.IsNullOrEmpty(name) || name.Contains('\\') || name.StartsWith('/') || name.Contains(".."))
                throw new ArgumentException($"bad payload entry name '{name}'.");
            entries[PayloadPrefix + name] = bytes;
        }
        var hashes = entries.ToDictionary(e => e.Key, e => Convert.ToHexStringLower(SHA256.HashData(e.Value)), StringComparer.Ordinal);
        byte[] manifestBytes = manifest.WithEntries(hashes).ToJsonBytes();
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            Add(zip, ManifestEntry, manifestBytes);
            foreach (var (name, bytes) in entries) Add(zip, name, bytes);
        });
    }

    private static void Add(ZipArchive zip, string name, byte[] bytes)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
        entry.LastWriteTime = FixedTime;
        using var s = entry.Open();
        s.Write(bytes);
    }

    /// <summary>Reads and verifies a container: manifest, pipeline JSON and payload (names without the "payload/" prefix).</summary>
    public static (ModelManifest Manifest, string PipelineJson, IReadOnlyDictionary<string, byte[]> Payload) ReadContainer(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: model file not found.", path);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var manifestEntry = zip.GetEntry(ManifestEntry) ?? throw Bad(path, "not a model file (no manifest.json inside).");
            ModelManifest manifest;
            try { manifest = ModelManifest.FromJson(ReadEntry(manifestEntry)); }
            catch (InvalidDataException ex) when (ex.Message.StartsWith("model format version", StringComparison.Ordinal) || ex.Message.StartsWith("manifest.json", StringComparison.Ordinal))
            { throw Bad(path, ex.Message); }

            var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (name, expected) in manifest.Entries)
            {
                var entry = zip.GetEntry(name) ?? throw Bad(path, $"entry '{name}' listed in the manifest is missing (truncated or edited file).");
                byte[] bytes = ReadEntry(entry);
                string actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
                if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                    throw Bad(path, $"checksum of entry '{name}' does not match the manifest: the file is corrupted.");
                contents[name] = bytes;
            }
            foreach (var entry in zip.Entries)
                if (entry.FullName != ManifestEntry && !manifest.Entries.ContainsKey(entry.FullName))
                    throw Bad(path, $"entry '{entry.FullName}' is not listed in the manifest.");
            if (!contents.TryGetValue(PipelineEntry, out var pipeline)) throw Bad(path, "no pipeline.json inside.");
            var payload = contents.Where(c => c.Key.StartsWith(PayloadPrefix, StringComparison.Ordinal))
                .ToDictionary(c => c.Key[PayloadPrefix.Length..], c => c.Value, StringComparer.Ordinal);
            return (manifest, Encoding.UTF8.GetString(pipeline), payload);
        }
        catch (InvalidDataException ex)
        {
            // Truncated zip (no central directory), bad deflate stream or CRC mismatch.
            throw Bad(path, $"not a readable model file (truncated or corrupted): {ex.Message}");
        }
        catch (Exception ex) when (ex is NotSupportedException or (IOException and not FileNotFoundException) or ArgumentException or OverflowException)
        {
            // Odd corruptions of zip headers (an unknown compression method, an impossible offset).
            throw Bad(path, $"not a readable model file (corrupted zip structure): {ex.Message}");
        }
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry)
    {
        using var s = entry.Open();
        using var buffer = new MemoryStream();
        s.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static RankingDataException Bad(string path, string what) => new(path, 0, 0, what);
}
