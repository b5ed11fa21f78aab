using System.Buffers.Binary;
using System.IO.Compression;
using Ranking.Data;

namespace Ranking.Embeddings;

/// <summary>
/// The IDX format of the MNIST family (LeCun et al.): two zero bytes, a type byte (0x08 ubyte, 0x09 sbyte,
/// 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), a dimension count, the dimensions as big-endian
/// int32, then the values big-endian. Gzipped files (as Debian and the original site ship them) are read
/// directly. Problems are reported as <c>file: byte N: what is wrong</c>.
/// </summary>
public static class IdxFile
{
    /// <summary>An IDX tensor: its dimensions and its values as doubles, in file order.</summary>
    /// <param name="Dimensions">The sizes of the dimensions, outermost first (e.g. items, rows, columns).</param>
    /// <param name="Values">Every value in file order (row-major), converted to double.</param>
    public sealed record Tensor(int[] Dimensions, double[] Values)
    {
        /// <summary>Values per first-dimension entry (the product of the other dimensions; 1 for a vector).</summary>
        public int ItemSize => Dimensions.Skip(1).Aggregate(1, (a, b) => a * b);
    }

    /// <summary>Reads a whole IDX file (gzipped or not).</summary>
    public static Tensor Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        byte[] bytes = ReadAllBytes(path);
        return Parse(bytes, path);
    }

    private static byte[] ReadAllBytes(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[2];
        int got = file.Read(head);
        file.Position = 0;
        if (got == 2 && head[0] == 0x1F && head[1] == 0x8B)
        {
            try
            {
                using var gz = new GZipStream(file, CompressionMode.Decompress);
                using var buffer = new MemoryStream();
                gz.CopyTo(buffer);
                return buffer.ToArray();
            }
            catch (InvalidDataException ex) { throw new RankingDataException(path, 0, 0, $"not a readable gzip stream: {ex.Message}"); }
        }
        using var all = new MemoryStream();
        file.CopyTo(all);
        return all.ToArray();
    }

    /// <summary>Parses IDX bytes; <paramref name="path"/> only names the source in errors.</summary>
    public static Tensor Parse(byte[] bytes, string path)
    {
        if (bytes.Length < 4) throw Bad(path, 0, $"the file holds {bytes.Length} bytes, too short for the 4-byte IDX magic number");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw Bad(path, 0, $"bad IDX magic number 0x{bytes[0]:X2}{bytes[1]:X2}{bytes[2]:X2}{bytes[3]:X2}: an IDX file starts with two zero bytes");
        int size = bytes[2] switch { 0x08 or 0x09 => 1, 0x0B => 2, 0x0C or 0x0D => 4, 0x0E => 8, _ => 0 };
        if (size == 0) throw Bad(path, 2, $"unknown IDX value type 0x{bytes[2]:X2} (known: 08 ubyte, 09 sbyte, 0B int16, 0C int32, 0D float32, 0E float64)");
        int rank = bytes[3];
        if (rank == 0) throw Bad(path, 3, "an IDX tensor needs at least one dimension");
        if (bytes.Length < 4 + 4 * rank) throw Bad(path, bytes.Length, $"the header announces {rank} dimensions but the file ends at byte {bytes.Length}");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            int at = 4 + 4 * d;
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            if (dims[d] <= 0) throw Bad(path, at, $"dimension {d} is {dims[d]}: must be positive");
            count *= dims[d];
            if (count > int.MaxValue / 8) throw Bad(path, at, "the tensor is too large for one array");
        }
        long start = 4 + 4 * rank, expected = start + count * size;
        if (bytes.Length != expected)
            throw Bad(path, Math.Min(bytes.Length, expected), $"dimensions {string.Join(" x ", dims)} of {size}-byte values need {expected} bytes, the file holds {bytes.Length} ({(bytes.Length < expected ? "truncated" : "trailing bytes")})");
        var values = new double[count];
        var data = bytes.AsSpan((int)start);
        for (int i = 0; i < count; i++)
        {
            double v = bytes[2] switch
            {
                0x08 => data[i],
                0x09 => (sbyte)data[i],
                0x0B => BinaryPrimitives.ReadInt16BigEndian(data[(2 * i)..]),
                0x0C => BinaryPrimitives.ReadInt32BigEndian(data[(4 * i)..]),
                0x0D => BinaryPrimitives.ReadSingleBigEndian(data[(4 * i)..]),
                _ => BinaryPrimitives.ReadDoubleBigEndian(data[(8 * i)..]),
            };
            if (!double.IsFinite(v)) throw Bad(path, start + (long)i * size, $"value {i} is {v}: values must be finite");
            values[i] = v;
        }
        return new Tensor(dims, values);
    }

    /// <summary>
    /// The labels file beside an images file by the MNIST naming: "train-images-idx3-ubyte[.gz]" has its
    /// labels in "train-labels-idx1-ubyte[.gz]" (either compression). Null when none exists.
    /// </summary>
    public static string? LabelsPathFor(string imagesPath)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(imagesPath)) ?? ".";
        string name = Path.GetFileName(imagesPath);
        int at = name.IndexOf("images", StringComparison.Ordinal);
        if (at < 0) return null;
        string labels = name[..at] + "labels" + name[(at + "images".Length)..];
        labels = System.Text.RegularExpressions.Regex.Replace(labels, @"idx\d", "idx1");
        string bare = labels.EndsWith(".gz", StringComparison.Ordinal) ? labels[..^3] : labels;
        foreach (string candidate in new[] { labels, bare, bare + ".gz" })
        {
            string full = Path.Combine(dir, candidate);
            if (File.Exists(full)) return full;
        }
        return null;
    }

    /// <summary>
    /// True when a path names an IDX file: its name holds "idx" followed by a digit (MNIST naming) or ends in .idx.
    /// </summary>
    public static bool LooksLikeIdx(string path)
    {
        string name = Path.GetFileName(path).ToLowerInvariant();
        return name.EndsWith(".idx", StringComparison.Ordinal) || System.Text.RegularExpressions.Regex.IsMatch(name, @"idx\d");
    }

    /// <summary>
    /// Images and their labels as labelled items: pixels of ubyte files scaled to [0, 1] (other types kept
    /// as they are), one item per image, the labels file found by <see cref="LabelsPathFor"/> unless given.
    /// </summary>
    public static LabelledItems ReadItems(string imagesPath, string? labelsPath = null, int? limit = null)
    {
        if (!File.Exists(imagesPath)) throw new FileNotFoundException($"{imagesPath}: no such file", imagesPath);
        byte[] imageBytes = ReadAllBytes(imagesPath);
        var images = Parse(imageBytes, imagesPath);
        labelsPath ??= LabelsPathFor(imagesPath)
            ?? throw new RankingDataException(imagesPath, 0, 0, "no labels file beside it (MNIST naming: '...-images-idx3-ubyte' has its labels in '...-labels-idx1-ubyte')");
        var labels = Read(labelsPath);
        if (labels.Dimensions.Length != 1) throw Bad(labelsPath, 3, $"a labels file holds one dimension, this one {labels.Dimensions.Length}");
        if (labels.Dimensions[0] != images.Dimensions[0])
            throw Bad(labelsPath, 4, $"{labels.Dimensions[0]} labels for the {images.Dimensions[0]} items of {imagesPath}");
        int n = Math.Min(images.Dimensions[0], limit ?? int.MaxValue);
        int dim = images.ItemSize;
        double scale = imageBytes[2] == 0x08 ? 1.0 / 255.0 : 1.0;
        var features = new float[(long)n * dim];
        for (long i = 0; i < features.LongLength; i++) features[i] = (float)(images.Values[i] * scale);
        var raw = new string[n];
        for (int i = 0; i < n; i++)
        {
            double v = labels.Values[i];
            if (v < 0 || v != Math.Floor(v)) throw Bad(labelsPath, 8 + i, $"label {i} is {v}: class labels are non-negative integers");
            raw[i] = ((long)v).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        var (ids, names) = LabelledItems.DenseClassIds(raw);
        return new LabelledItems(features, dim, ids, names, imagesPath);
    }

    /// <summary>Writes a ubyte or float32 IDX file (not gzipped); used by tests and by <c>embed</c> exports.</summary>
    public static void Write(string path, int[] dimensions, ReadOnlySpan<double> values, bool asBytes)
    {
        using var stream = new MemoryStream();
        stream.Write([0, 0, asBytes ? (byte)0x08 : (byte)0x0D, (byte)dimensions.Length]);
        Span<byte> four = stackalloc byte[4];
        foreach (int d in dimensions) { BinaryPrimitives.WriteInt32BigEndian(four, d); stream.Write(four); }
        foreach (double v in values)
        {
            if (asBytes) stream.WriteByte((byte)Math.Clamp(Math.Round(v), 0, 255));
            else { BinaryPrimitives.WriteSingleBigEndian(four, (float)v); stream.Write(four); }
        }
        byte[] bytes = stream.ToArray();
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    private static RankingDataException Bad(string path, long offset, string what) => new(path, 0, 0, $"byte {offset}: {what}");
}
