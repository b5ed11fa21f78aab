namespace Ranking.Data;

/// <summary>
/// Reads a ranking dataset from a file, choosing the format by the file: <c>.rkds</c> binary cache,
/// <c>.csv</c>/<c>.tsv</c> with a header, else SVMlight/LETOR text (LightGBM style when
/// <c>FILE.query</c> exists beside it). Bad input throws <see cref="RankingDataException"/> naming
/// <c>file:line:column</c>; a dataset is only ever returned whole.
/// </summary>
public static class DatasetReader
{
    /// <summary>Reads the whole file in the format its name and neighbours say (see the class summary); the first problem found throws a <see cref="RankingDataException"/> naming file, line and column.</summary>
    public static RankingDataset Read(string path, DatasetReadOptions? options = null)
    {
        var errors = new List<RankingDataException>(1);
        var data = ReadCore(path, options ?? DatasetReadOptions.Default, 1, errors);
        if (errors.Count > 0) throw errors[0];
        return data ?? throw new RankingDataException(path, 0, 0, "could not be read");
    }

    /// <summary>
    /// Reads the file and collects up to <paramref name="maxErrors"/> problems in file order instead of
    /// stopping at the first (text formats; a binary cache stops at its first problem).
    /// </summary>
    public static DatasetValidation Validate(string path, DatasetReadOptions? options = null, int maxErrors = 20)
    {
        if (maxErrors < 1) throw new ArgumentOutOfRangeException(nameof(maxErrors));
        var errors = new List<RankingDataException>();
        RankingDataset? data;
        try
        {
            data = ReadCore(path, options ?? DatasetReadOptions.Default, maxErrors, errors);
        }
        catch (RankingDataException ex)
        {
            errors.Add(ex);
            data = null;
        }
        return new DatasetValidation(errors.Count > 0 ? null : data, errors);
    }

    /// <summary>The format <see cref="Read"/> will use for a path.</summary>
    public static DatasetFormat DetectFormat(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".rkds" => DatasetFormat.Rkds,
            ".csv" => DatasetFormat.Csv,
            ".tsv" => DatasetFormat.Tsv,
            _ => File.Exists(path + ".query") ? DatasetFormat.LightGbm : DatasetFormat.SvmLight,
        };
    }

    private static RankingDataset? ReadCore(string path, DatasetReadOptions options, int maxErrors, List<RankingDataException> errors)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            if (Directory.Exists(path)) throw new RankingDataException(path, 0, 0, "is a folder, not a data file");
            throw new FileNotFoundException($"{path}: no such file", path);
        }
        if (options.FeatureCount is < 0) throw new ArgumentOutOfRangeException(nameof(options), "FeatureCount must not be negative.");
        return DetectFormat(path) switch
        {
            DatasetFormat.Rkds => CheckMappedFeatureCount(RkdsFile.Map(CheckRkdsBudget(path, options)), options, path),
            DatasetFormat.Csv or DatasetFormat.Tsv => DelimitedText.Read(path, options, maxErrors, errors),
            _ => SvmLightReader.Read(path, options, maxErrors, errors),
        };
    }

    /// <summary>The budget check of a .rkds cache from its header (rows at byte 16, features at 24), before reading it.</summary>
    private static string CheckRkdsBudget(string path, DatasetReadOptions options)
    {
        if (options.MaxMemoryBytes is null) return path;
        Span<byte> header = stackalloc byte[28];
        using (var stream = File.OpenRead(path))
            if (stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length) return path; // RkdsFile.Read reports it
        long rows = System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
        int features = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
        if (rows > 0 && features >= 0 && rows <= int.MaxValue)
            MemoryBudget.Check(path, rows, features, options.MaxMemoryBytes);
        return path;
    }

    /// <summary><see cref="CheckFeatureCount"/> for a mapped set: a resized copy no longer needs the mapping, which is released.</summary>
    private static RankingDataset CheckMappedFeatureCount(RankingDataset data, DatasetReadOptions options, string path)
    {
        try
        {
            var checkedData = CheckFeatureCount(data, options, path);
            if (!ReferenceEquals(checkedData, data)) data.Dispose();
            return checkedData;
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    internal static RankingDataset CheckFeatureCount(RankingDataset data, DatasetReadOptions options, string path)
    {
        if (options.FeatureCount is not int wanted || wanted == data.FeatureCount) return data;
        if (wanted < data.FeatureCount && !options.DropExtraFeatures)
            throw new RankingDataException(path, 0, 0, $"holds {data.FeatureCount} features, more than the fixed feature count {wanted} (drop the extra ones with DropExtraFeatures / --drop-extra-features)");
        return FeatureColumns.Resize(data, wanted);
    }
}

/// <summary>Data file formats <see cref="DatasetReader"/> knows.</summary>
public enum DatasetFormat
{
    /// <summary>SVMlight / LETOR text: <c>label qid:N idx:val ... # comment</c>.</summary>
    SvmLight,
    /// <summary>SVMlight-style rows without qid, query sizes in <c>FILE.query</c> beside the file.</summary>
    LightGbm,
    /// <summary>Comma-separated values with a header naming the label and query columns.</summary>
    Csv,
    /// <summary>Tab-separated values with a header naming the label and query columns.</summary>
    Tsv,
    /// <summary>The binary cache (<see cref="RkdsFile"/>).</summary>
    Rkds,
}

/// <summary>The outcome of <see cref="DatasetReader.Validate"/>: the problems found (file order), or the dataset.</summary>
/// <param name="Data">The dataset, or null when any problem was found.</param>
/// <param name="Errors">The problems, in file order (empty when the file is valid).</param>
public sealed record DatasetValidation(RankingDataset? Data, IReadOnlyList<RankingDataException> Errors)
{
    /// <summary>True when no problem was found (then <see cref="Data"/> is the whole dataset).</summary>
    public bool IsValid => Errors.Count == 0;
}

internal static class FeatureColumns
{
    /// <summary>A copy with <paramref name="featureCount"/> columns: extra columns dropped, missing ones zero.</summary>
    public static RankingDataset Resize(RankingDataset data, int featureCount)
    {
        int keep = Math.Min(featureCount, data.FeatureCount);
        var features = new float[(long)data.RowCount * featureCount];
        for (int r = 0; r < data.RowCount; r++)
            data.Row(r)[..keep].CopyTo(features.AsSpan(checked((int)((long)r * featureCount)), keep));
        return new RankingDataset(features, featureCount, data.Labels, data.GroupOffsets, data.QueryIds, data.QueryWeights, data.RowComments, data.Source, data.Positions);
    }
}
