using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Ranking.Cli.Datasets;

/// <summary>
/// Where datasets live on this machine (a data root holding one folder per catalogue name) and how they get
/// there: download, or unpack/copy what the user already has. Nothing is left half-copied: files land in a
/// staging folder inside the root and are moved into place only when everything arrived.
/// </summary>
internal sealed class DatasetStore(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>--root, else $RANKING_DATASETS, else ~/.ranking/datasets.</summary>
    public static DatasetStore Resolve(string? root)
    {
        root ??= Environment.GetEnvironmentVariable("RANKING_DATASETS");
        root ??= Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ranking", "datasets");
        return new DatasetStore(root);
    }

    public string DirectoryOf(DatasetEntry entry) => Path.Combine(Root, entry.Name);

    /// <summary>Folds whose train and test files are present (text or .rkds).</summary>
    public IReadOnlyList<string> PresentFolds(DatasetEntry entry) =>
        entry.Folds.Where(f => HasFile(Path.Combine(DirectoryOf(entry), f), entry.Train)
                            && HasFile(Path.Combine(DirectoryOf(entry), f), entry.Test)).ToList();

    private static bool HasFile(string dir, string name) =>
        File.Exists(Path.Combine(dir, name)) || File.Exists(Path.Combine(dir, Path.ChangeExtension(name, ".rkds")));

    /// <summary>
    /// Downloads the dataset's archive (when the catalogue allows it and the machine has internet), or takes
    /// <paramref name="from"/>: a .zip, .tar.gz/.tgz or .tar archive, or a folder, and puts the dataset under the root.
    /// </summary>
    public string Fetch(DatasetEntry entry, string? from, TextWriter log, HttpClient? http = null)
    {
        string staging = Path.Combine(Root, $".staging-{entry.Name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        try
        {
            if (from is null)
            {
                string archive = Download(entry, staging, log, http);
                Unpack(entry, archive, Path.Combine(staging, "unpacked"), log);
            }
            else if (Directory.Exists(from))
            {
                log.WriteLine($"copying {Path.GetFullPath(from)}");
                CopyDirectory(from, Path.Combine(staging, "unpacked"));
            }
            else if (File.Exists(from))
            {
                Unpack(entry, from, Path.Combine(staging, "unpacked"), log);
            }
            else throw new FileNotFoundException($"{from}: no such file or folder.", from);

            string found = FindDatasetFolder(entry, Path.Combine(staging, "unpacked"));
            string target = DirectoryOf(entry);
            MergeInto(found, target);
            log.WriteLine($"{entry.Name}: files are in {target}");
            return target;
        }
        finally
        {
            try { Directory.Delete(staging, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static string Download(DatasetEntry entry, string staging, TextWriter log, HttpClient? http)
    {
        if (entry.ManualDownload || entry.DownloadUrl is null)
            throw new UsageException(
                $"{entry.Name} cannot be downloaded automatically ({entry.Licence}) Get it from {entry.Homepage} yourself, " +
                $"then run: ranking datasets fetch {entry.Name} --from ARCHIVE-or-FOLDER");
        string path = Path.Combine(staging, entry.Archive ?? $"{entry.Name}.download");
        log.WriteLine($"downloading {entry.DownloadUrl}");
        try
        {
            using var client = http ?? new HttpClient { Timeout = TimeSpan.FromHours(2) };
            using var response = client.GetAsync(entry.DownloadUrl, HttpCompletionOption.ResponseHeadersRead).GetAwaiter().GetResult();
            response.EnsureSuccessStatusCode();
            using var body = response.Content.ReadAsStream();
            using var file = File.Create(path);
            body.CopyTo(file);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
        {
            throw new UsageException(
                $"could not download {entry.Name} from {entry.DownloadUrl} ({ex.Message}); this machine may have no internet. " +
                $"Download {entry.Archive ?? "the archive"} elsewhere and run: ranking datasets fetch {entry.Name} --from FILE");
        }
        return path;
    }

    private static void Unpack(DatasetEntry entry, string archive, string into, TextWriter log)
    {
        string name = archive.ToLowerInvariant();
        if (entry.ArchiveSha256 is { } expected && Path.GetFileName(archive).Equals(entry.Archive, StringComparison.OrdinalIgnoreCase))
        {
            string actual = Sha256Of(archive);
            if (!actual.Equals(expected, StringComparison.OrdinalIgnoreCase))
                throw new InvalidDataException($"{archive}: SHA-256 {actual} differs from the catalogue's {expected} ({entry.ChecksumSource}).");
            log.WriteLine($"{Path.GetFileName(archive)}: SHA-256 matches ({entry.ChecksumSource})");
        }
        log.WriteLine($"unpacking {archive}");
        Directory.CreateDirectory(into);
        if (name.EndsWith(".zip"))
            ZipFile.ExtractToDirectory(archive, into);
        else if (name.EndsWith(".tar.gz") || name.EndsWith(".tgz"))
        {
            using var file = File.OpenRead(archive);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            TarFile.ExtractToDirectory(gz, into, overwriteFiles: false);
        }
        else if (name.EndsWith(".tar"))
            TarFile.ExtractToDirectory(archive, into, overwriteFiles: false);
        else
            throw new UsageException(
                $"{archive}: cannot unpack this kind of archive here (zip, tar.gz, tgz and tar are supported). " +
                "Unpack it yourself (e.g. 'unrar x MQ2008.rar', 'tar xjf FILE.tar.bz2') and pass the folder with --from.");
    }

    /// <summary>
    /// The folder that holds the dataset's folds: the unpacked tree itself or a folder below it (archives usually
    /// wrap everything in one top folder). A folder holding train/test files directly is taken as Fold1.
    /// </summary>
    internal static string FindDatasetFolder(DatasetEntry entry, string unpacked)
    {
        var candidates = new Queue<(string Dir, int Depth)>();
        candidates.Enqueue((unpacked, 0));
        string? looseFold = null;
        while (candidates.Count > 0)
        {
            var (dir, depth) = candidates.Dequeue();
            if (entry.Folds.Any(f => File.Exists(Path.Combine(dir, f, entry.Train)) || File.Exists(Path.Combine(dir, f, entry.Test))))
                return dir;
            if (looseFold is null && File.Exists(Path.Combine(dir, entry.Train)) && File.Exists(Path.Combine(dir, entry.Test)))
                looseFold = dir;
            if (depth < 3)
                foreach (var sub in Directory.GetDirectories(dir).Order(StringComparer.Ordinal)) candidates.Enqueue((sub, depth + 1));
        }
        if (looseFold is not null && entry.Folds.Count > 0)
        {
            // A bare fold folder (e.g. ../shared/datasets/mq2008/Fold1): wrap it as the first fold.
            // Beside the unpacked tree, not inside it: the loose fold may be the tree itself.
            string wrapped = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(unpacked))!, ".as-fold");
            string fold = Path.Combine(wrapped, entry.Folds[0]);
            Directory.CreateDirectory(wrapped);
            Directory.Move(looseFold, fold);
            return wrapped;
        }
        throw new InvalidDataException(
            $"no {entry.Train}/{entry.Test} found for {entry.Name} (looked for {string.Join(", ", entry.Folds.Select(f => Path.Combine(f, entry.Train)))} up to three folders deep).");
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var dir in Directory.GetDirectories(from))
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    /// <summary>Moves every file of <paramref name="from"/> into <paramref name="to"/>, replacing files of the same name.</summary>
    private static void MergeInto(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Move(file, Path.Combine(to, Path.GetFileName(file)), overwrite: true);
        foreach (var dir in Directory.GetDirectories(from))
            MergeInto(dir, Path.Combine(to, Path.GetFileName(dir)));
    }

    public static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Makes a fetched dataset ready for compare: rebuilds the missing folds from Fold1 where the catalogue
    /// allows it, verifies every file (checksums where known), and converts each split to .rkds beside its text
    /// file (skipped when the .rkds is newer, unless <paramref name="force"/>). Valid and test are read with
    /// the training set's feature count so every split of a fold has the same columns.
    /// </summary>
    public void Prepare(DatasetEntry entry, TextWriter log, bool force = false)
    {
        string dir = DirectoryOf(entry);
        if (!Directory.Exists(dir))
            throw new UsageException($"{entry.Name} is not in {Root}; run 'ranking datasets fetch {entry.Name}' first.");
        string fold1 = Path.Combine(dir, entry.Folds[0]);
        if (entry.Rotation is { } rotation && entry.Valid is not null
            && entry.Folds.Skip(1).Any(f => !File.Exists(Path.Combine(dir, f, entry.Test))))
        {
            log.WriteLine($"{entry.Name}: only {entry.Folds[0]} is here; rebuilding the other folds by rotating its {rotation.PartQueries.Count} parts (datasets/README.md)");
            foreach (var path in LetorFoldRotation.Build(fold1, dir, rotation, entry.Train, entry.Valid, entry.Test))
                log.WriteLine($"  wrote {Path.GetRelativePath(dir, path)}");
        }
        foreach (var line in Verify(entry)) log.WriteLine(line);
        foreach (var fold in entry.Folds)
        {
            string foldDir = fold == "." ? dir : Path.Combine(dir, fold);
            int? features = null;
            foreach (var split in new[] { entry.Train, entry.Valid, entry.Test })
            {
                if (split is null) continue;
                string text = Path.Combine(foldDir, split);
                string rkds = Path.Combine(foldDir, RkdsName(split));
                if (!force && File.Exists(rkds) && File.GetLastWriteTimeUtc(rkds) >= File.GetLastWriteTimeUtc(text))
                {
                    features ??= Ranking.Data.RkdsFile.Read(rkds).FeatureCount;
                    log.WriteLine($"{Path.GetRelativePath(dir, rkds)}: up to date");
                    continue;
                }
                var data = Ranking.Data.DatasetReader.Read(text, new Ranking.Data.DatasetReadOptions
                {
                    FeatureCount = features, DropExtraFeatures = features is not null, KeepComments = false,
                });
                features ??= data.FeatureCount;
                Ranking.Data.RkdsFile.Write(data, rkds);
                log.WriteLine($"{Path.GetRelativePath(dir, rkds)}: {data.QueryCount} queries, {data.RowCount} rows, {data.FeatureCount} features");
            }
        }
    }

    /// <summary>"train.txt" -> "train.rkds", "set1.train.txt" -> "set1.train.rkds".</summary>
    internal static string RkdsName(string split) => Path.ChangeExtension(split, ".rkds");

    /// <summary>
    /// Checks that every fold has its files and that files with a known SHA-256 match it. Returns one line per
    /// file; a mismatch or a missing file is an <see cref="InvalidDataException"/>.
    /// </summary>
    public IReadOnlyList<string> Verify(DatasetEntry entry)
    {
        string dir = DirectoryOf(entry);
        if (!Directory.Exists(dir))
            throw new UsageException($"{entry.Name} is not in {Root}; run 'ranking datasets fetch {entry.Name}' first.");
        var lines = new List<string>();
        foreach (var fold in entry.Folds)
            foreach (var name in new[] { entry.Train, entry.Valid, entry.Test })
            {
                if (name is null) continue;
                string relative = fold == "." ? name : $"{fold}/{name}";
                string path = Path.Combine(dir, relative);
                if (!File.Exists(path))
                    throw new InvalidDataException($"{path}: missing; {entry.Name} should have {relative}.");
                if (entry.FileSha256.TryGetValue(relative, out var expected))
                {
                    string actual = Sha256Of(path);
                    if (!actual.Equals(expected, StringComparison.OrdinalIgnoreCase))
                        throw new InvalidDataException($"{path}: SHA-256 {actual} differs from the expected {expected} ({entry.ChecksumSource}).");
                    lines.Add($"{relative}: SHA-256 ok");
                }
                else lines.Add($"{relative}: present (no known checksum)");
            }
        return lines;
    }
}
