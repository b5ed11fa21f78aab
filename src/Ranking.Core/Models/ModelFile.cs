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
    /// <summary>Zip entry of the manifest (<see cref="ModelManifest"/> as JSON).</summary>
    public const string ManifestEntry = "manifest.json";
    /// <summary>Zip entry of the fitted feature pipeline (JSON).</summary>
    public const string PipelineEntry = "pipeline.json";
    /// <summary>Folder of the model's own payload entries inside the zip (payload/NAME for each entry of <see cref="IScoringModel.SavePayload"/>).</summary>
    public const string PayloadPrefix = "payload/";

    /// <summary>Entry timestamps are fixed so the bytes do not depend on when the model was saved.</summary>
    private static readonly DateTimeOffset FixedTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The raw container: a manifest (its entry checksums are filled in here), pipeline JSON and payload.</summary>
    public static void WriteContainer(string path, ModelManifest manifest, string pipelineJson, IReadOnlyDictionary<string, byte[]> payload)
    {
        var entries = new SortedDictionary<string, byte[]>(StringComparer.Ordinal) { [PipelineEntry] = Encoding.UTF8.GetBytes(pipelineJson) };
        foreach (var (name, bytes) in payload)
        {
            if (!IsEntryName(PayloadPrefix + name))
                throw new ArgumentException($"bad payload entry name '{name}' (letters, digits, '.', '-' and '_' only).");
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

    /// <summary>Reads and verifies a container within the default <see cref="ModelReadLimits"/>.</summary>
    public static (ModelManifest Manifest, string PipelineJson, IReadOnlyDictionary<string, byte[]> Payload) ReadContainer(string path) =>
        ReadContainer(path, ModelReadLimits.Default);

    /// <summary>
    /// Reads and verifies a container: manifest, pipeline JSON and payload (names without the "payload/" prefix).
    /// Entries are inflated within <paramref name="limits"/> (<see cref="BoundedZip"/>); every entry must be
    /// manifest.json, pipeline.json or payload/NAME (no path-like names), appear once, be listed in the manifest
    /// and match its SHA-256.
    /// </summary>
    public static (ModelManifest Manifest, string PipelineJson, IReadOnlyDictionary<string, byte[]> Payload) ReadContainer(string path, ModelReadLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: model file not found.", path);
        try
        {
            IReadOnlyList<(string Name, byte[] Bytes)> entries;
            using (var file = File.OpenRead(path)) entries = BoundedZip.ReadAll(file, limits);
            foreach (var (name, _) in entries)
                if (!IsEntryName(name)) throw Bad(path, $"entry '{BoundedZip.Printable(name)}' is not a model-file entry (manifest.json, pipeline.json or payload/NAME).");
            var byName = entries.ToDictionary(e => e.Name, e => e.Bytes, StringComparer.Ordinal);
            if (!byName.TryGetValue(ManifestEntry, out var manifestBytes)) throw Bad(path, "not a model file (no manifest.json inside).");
            ModelManifest manifest;
            try { manifest = ModelManifest.FromJson(manifestBytes); }
            catch (InvalidDataException ex) { throw Bad(path, ex.Message); }

            var contents = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (name, expected) in manifest.Entries)
            {
                if (!IsEntryName(name) || name == ManifestEntry) throw Bad(path, $"the manifest lists '{BoundedZip.Printable(name)}', which is not a model-file entry.");
                if (!byName.TryGetValue(name, out var bytes)) throw Bad(path, $"entry '{name}' listed in the manifest is missing (truncated or edited file).");
                string actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
                if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                    throw Bad(path, $"checksum of entry '{name}' does not match the manifest: the file is corrupted.");
                contents[name] = bytes;
            }
            foreach (var (name, _) in entries)
                if (name != ManifestEntry && !manifest.Entries.ContainsKey(name))
                    throw Bad(path, $"entry '{name}' is not listed in the manifest.");
            if (!contents.TryGetValue(PipelineEntry, out var pipeline)) throw Bad(path, "no pipeline.json inside.");
            var payload = contents.Where(c => c.Key.StartsWith(PayloadPrefix, StringComparison.Ordinal))
                .ToDictionary(c => c.Key[PayloadPrefix.Length..], c => c.Value, StringComparer.Ordinal);
            string pipelineJson;
            try { pipelineJson = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(pipeline); }
            catch (DecoderFallbackException) { throw Bad(path, "pipeline.json is not UTF-8 text."); }
            return (manifest, pipelineJson, payload);
        }
        catch (InvalidDataException ex)
        {
            // Over a limit, truncated zip (no central directory), bad deflate stream, CRC mismatch, a lying size.
            throw Bad(path, $"not a readable model file: {ex.Message}");
        }
        catch (Exception ex) when (ex is NotSupportedException or (IOException and not FileNotFoundException) or ArgumentException or OverflowException)
        {
            // Odd corruptions of zip headers (an unknown compression method, an impossible offset).
            throw Bad(path, $"not a readable model file (corrupted zip structure): {ex.Message}");
        }
    }

    /// <summary>manifest.json, pipeline.json or payload/NAME with a plain NAME: nothing a path could be made of.</summary>
    private static bool IsEntryName(string name)
    {
        if (name is ManifestEntry or PipelineEntry) return true;
        if (!name.StartsWith(PayloadPrefix, StringComparison.Ordinal)) return false;
        string rest = name[PayloadPrefix.Length..];
        return rest.Length is > 0 and <= 200 && rest != "." && rest != ".."
            && rest.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
    }

    private static RankingDataException Bad(string path, string what) => new(path, 0, 0, what);
}
