using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Ranking.MLNet;

/// <summary>
/// Reads the trees of a FastTree ranking model straight out of ML.NET's model zip, checking every count against
/// the bytes that are really there before anything is allocated by it. Why not ML.NET's own loader: it reads
/// length-prefixed arrays by allocating the declared length and then looping until the array is full, and at the
/// end of the stream that loop never ends (a mutated model found by our fuzzer hangs it forever, burning a core).
/// ML.NET's loader therefore never sees a model file on the load-and-score path; it is only used, on request,
/// for <see cref="FastTreeModel.Transformer"/>.
/// <para>
/// The layout read here is the one ML.NET 5 writes for a <c>RankingPredictionTransformer</c> over
/// <c>FastTreeRankingModelParameters</c> (the only FastTree shape our trainer saves): entry
/// <see cref="TransformerEntry"/> holds the transformer ("RANKPRED"), and <see cref="PredictorEntry"/> the predictor
/// ("FTREE RA", format versions 0x00010001..0x00010005). Each such entry is a 256-byte header (signature, versions,
/// model block, string table, tail), the model block, the string table (UTF-16) and an 8-byte tail signature.
/// The model block is: int sizeof(float); int tree count; per tree a type byte (0 = regression tree), int leaves,
/// double max output, double weight, and the arrays lte-child, gt-child, split-feature (int), categorical node
/// indices (int, from version 5), threshold bins (uint), raw thresholds (float), missing-value defaults (float, from
/// version 4), leaf values, split gains, p-values and previous leaf values (double), each prefixed by its int length;
/// then double bias, two string ids (initialisation content, trainer options) and int feature count (from version 2).
/// </para>
/// </summary>
internal static class FastTreeModelReader
{
    /// <summary>The zip entry ML.NET writes the FastTree predictor to.</summary>
    public const string PredictorEntry = "TransformerChain/Model/Model.key";
    /// <summary>The zip entry ML.NET writes the ranking prediction transformer to.</summary>
    public const string TransformerEntry = "TransformerChain/Model.key";

    private const ulong HeaderSignature = 0x4C45444F4D004C4DUL; // "ML\0MODEL"
    private const ulong TailSignature = 0x4D4C004D4F44454CUL;
    private const int HeaderSize = 0x100;
    private const uint HeaderVersionReadable = 0x00010002;
    private const uint FirstVersion = 0x00010001, NumFeaturesVersion = 0x00010002, DefaultValuesVersion = 0x00010004, CategoricalVersion = 0x00010005;
    /// <summary>The smallest tree record: type byte, leaves, max output, weight and 11 or fewer array lengths.</summary>
    private const int SmallestTreeBytes = 1 + 4 + 8 + 8 + 9 * 4;

    /// <summary>The trees of the model in <paramref name="entries"/> (ML.NET's zip, already read within bounds).</summary>
    /// <exception cref="InvalidDataException">Any entry, header, count, length or value that is not what ML.NET writes.</exception>
    public static FastTreeEnsemble Read(IReadOnlyList<(string Name, byte[] Bytes)> entries)
    {
        var transformer = Header.Read(Entry(entries, TransformerEntry), TransformerEntry);
        transformer.Expect("RANKPRED", "RankingPredXfer", "a ranking prediction transformer");
        byte[] predictorBytes = Entry(entries, PredictorEntry);
        var header = Header.Read(predictorBytes, PredictorEntry);
        header.Expect("FTREE RA", "FastTreeRankerExec", "a FastTree ranking model");
        uint version = header.ModelVersionWritten;
        if (version < FirstVersion || version > CategoricalVersion || header.ModelVersionReadable > version)
            throw Bad(PredictorEntry, $"format version 0x{version:X8} (readable 0x{header.ModelVersionReadable:X8}) is not one ML.NET's FastTree writes (0x{FirstVersion:X8}..0x{CategoricalVersion:X8})");

        var reader = new BoundedReader(predictorBytes, header.ModelStart, header.ModelEnd, PredictorEntry);
        int floatSize = reader.Int32("sizeof(float)");
        if (floatSize != sizeof(float)) throw Bad(PredictorEntry, $"sizeof(float) is {floatSize}, not 4");
        int treeCount = reader.Int32("the tree count");
        if (treeCount < 0 || treeCount > reader.Remaining / SmallestTreeBytes)
            throw Bad(PredictorEntry, $"declares {treeCount} trees in {reader.Remaining} bytes");
        var trees = new FastTreeEnsemble.Tree[treeCount];
        for (int t = 0; t < treeCount; t++)
            trees[t] = ReadTree(ref reader, t, usesDefaults: version >= DefaultValuesVersion, hasCategorical: version >= CategoricalVersion);
        double bias = reader.Double("the bias");
        header.CheckStringId(reader.Int32("the initialisation-content string id"), "the initialisation-content string id");
        header.CheckStringId(reader.Int32("the trainer-options string id"), "the trainer-options string id");
        int featureCount = version >= NumFeaturesVersion ? reader.Int32("the feature count") : 0;
        if (featureCount <= 0) throw Bad(PredictorEntry, $"the feature count is {featureCount}; a model that scores rows needs at least one feature");
        reader.ExpectEnd();
        return new FastTreeEnsemble(bias, trees, featureCount);
    }

    private static FastTreeEnsemble.Tree ReadTree(ref BoundedReader reader, int t, bool usesDefaults, bool hasCategorical)
    {
        string what = $"tree {t}";
        byte type = reader.Byte(what);
        if (type != 0) throw Bad(PredictorEntry, $"{what} is of type {type}; only regression trees (type 0, FastTree LambdaMART) are read");
        int leaves = reader.Int32($"{what}'s leaf count");
        _ = reader.Double($"{what}'s max output"); // informational: scoring does not read it
        double weight = reader.Double($"{what}'s weight");
        int[] lte = reader.Array<int>($"{what}'s lte children");
        int[] gt = reader.Array<int>($"{what}'s gt children");
        int[] features = reader.Array<int>($"{what}'s split features");
        if (hasCategorical && reader.Array<int>($"{what}'s categorical nodes").Length > 0)
            throw Bad(PredictorEntry, $"{what} has categorical splits, which are not supported (train with CategoricalSplit off)");
        int capacity = lte.Length;
        uint[] bins = reader.Array<uint>($"{what}'s threshold bins");
        float[] thresholds = reader.Array<float>($"{what}'s raw thresholds");
        float[] defaults = usesDefaults ? reader.Array<float>($"{what}'s missing-value defaults") : [];
        double[] leafValues = reader.Array<double>($"{what}'s leaf values");
        int[] optional = [reader.Array<double>($"{what}'s split gains").Length, reader.Array<double>($"{what}'s p-values").Length,
            reader.Array<double>($"{what}'s previous leaf values").Length];

        // ML.NET's own consistency rules for a loaded tree (InternalRegressionTree.CheckValid), plus ours.
        int nodes = leaves - 1;
        if (leaves < 2 || leaves > capacity + 1)
            throw Bad(PredictorEntry, $"{what} declares {leaves} leaves with room for {capacity + 1}");
        if (gt.Length != capacity || features.Length != capacity || leafValues.Length != capacity + 1
            || (bins.Length != 0 && bins.Length != capacity) || optional.Any(n => n != 0 && n != capacity))
            throw Bad(PredictorEntry, $"{what}'s array lengths disagree ({capacity} lte, {gt.Length} gt, {features.Length} features, {bins.Length} bins, {leafValues.Length} leaf values)");
        if (thresholds.Length != nodes)
            throw Bad(PredictorEntry, $"{what} has {thresholds.Length} raw thresholds for {nodes} split nodes (a model holding only threshold bins cannot score raw rows)");
        if (defaults.Length != 0 && (defaults.Length != capacity || defaults.Any(d => d != 0f)))
            throw Bad(PredictorEntry, $"{what} has missing-value defaults, which are not supported");
        if (!(weight >= 0) || !double.IsFinite(weight)) throw Bad(PredictorEntry, $"{what} has weight {weight}");
        return new FastTreeEnsemble.Tree(lte[..nodes], gt[..nodes], features[..nodes], thresholds, leafValues[..leaves], weight);
    }

    private static byte[] Entry(IReadOnlyList<(string Name, byte[] Bytes)> entries, string name)
    {
        foreach (var (entryName, bytes) in entries)
            if (entryName == name) return bytes;
        throw new InvalidDataException($"the fasttree payload has no entry '{name}': it is not a FastTree ranking model saved by ML.NET.");
    }

    private static InvalidDataException Bad(string entry, string what) => new($"the fasttree payload's {entry}: {what}.");

    /// <summary>ML.NET's 256-byte model header, checked against the entry's length.</summary>
    private readonly record struct Header(string Entry, ulong ModelSignature, uint ModelVersionWritten, uint ModelVersionReadable,
        string LoaderSignature, int ModelStart, int ModelEnd, int StringCount)
    {
        public static Header Read(byte[] bytes, string entry)
        {
            var span = bytes.AsSpan();
            if (span.Length < HeaderSize + sizeof(ulong)) throw Bad(entry, $"{span.Length} bytes are too few for a model header");
            if (BinaryPrimitives.ReadUInt64LittleEndian(span) != HeaderSignature) throw Bad(entry, "the model header's signature is wrong");
            if (BinaryPrimitives.ReadUInt32LittleEndian(span[0x0C..]) > HeaderVersionReadable) throw Bad(entry, "the model header is of a newer version");
            long Long(int at) => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(at));
            long fpModel = Long(0x10), cbModel = Long(0x18), fpTable = Long(0x20), cbTable = Long(0x28), fpChars = Long(0x30), cbChars = Long(0x38);
            long fpTail = Long(0x80), fpLim = Long(0x88);
            if (fpModel != HeaderSize || cbModel < 0 || fpTail < fpModel + cbModel || fpLim != fpTail + sizeof(ulong) || fpLim != span.Length)
                throw Bad(entry, $"the model header's block positions (model {fpModel}+{cbModel}, tail {fpTail}, end {fpLim}) do not fit its {span.Length} bytes");
            if (BinaryPrimitives.ReadUInt64LittleEndian(span[(int)fpTail..]) != TailSignature) throw Bad(entry, "the model's tail signature is wrong");
            int strings = 0;
            if (cbTable != 0 || fpTable != 0)
            {
                if (cbTable < 0 || cbTable % sizeof(long) != 0 || fpTable < fpModel + cbModel || fpChars != fpTable + cbTable || cbChars < 0 || fpChars + cbChars > fpTail)
                    throw Bad(entry, "the model's string table does not fit between its model block and its tail");
                strings = (int)(cbTable / sizeof(long));
                long previous = 0;
                for (int s = 0; s < strings; s++)
                {
                    long lim = Long((int)fpTable + s * sizeof(long));
                    if (lim < previous || lim > cbChars || lim % sizeof(char) != 0) throw Bad(entry, $"string {s}'s end {lim} is outside the string characters");
                    previous = lim;
                }
            }
            string loader = Encoding.ASCII.GetString(span.Slice(0x50, 24)).TrimEnd('\0');
            return new Header(entry, BinaryPrimitives.ReadUInt64LittleEndian(span[0x40..]), BinaryPrimitives.ReadUInt32LittleEndian(span[0x48..]),
                BinaryPrimitives.ReadUInt32LittleEndian(span[0x4C..]), loader, (int)fpModel, (int)(fpModel + cbModel), strings);
        }

        /// <summary>ML.NET writes its 8-character model signature with spaces as zero bytes.</summary>
        public void Expect(string modelSignature, string loaderSignature, string what)
        {
            ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(Encoding.ASCII.GetBytes(modelSignature.Replace(' ', '\0')));
            if (ModelSignature != expected || LoaderSignature != loaderSignature)
                throw new InvalidDataException($"the fasttree payload's {Entry} is not {what} (loader '{Printable(LoaderSignature)}').");
        }

        public void CheckStringId(int id, string what)
        {
            if (id < -1 || id >= StringCount) throw Bad(Entry, $"{what} is {id}, with {StringCount} strings in the table");
        }

        private static string Printable(string s) => new(s.Select(c => c is >= ' ' and < (char)127 ? c : '?').ToArray());
    }

    /// <summary>Little-endian reads within [start, end) of one entry; every overrun is an InvalidDataException naming what was being read.</summary>
    private ref struct BoundedReader(byte[] bytes, int start, int end, string entry)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes.AsSpan(0, end);
        private int _at = start;

        public readonly int Remaining => _bytes.Length - _at;

        private ReadOnlySpan<byte> Take(int count, string what)
        {
            if (count < 0 || count > Remaining) throw Bad(entry, $"{what} needs {count} bytes at offset {_at}; the model block has {Remaining} left");
            var taken = _bytes.Slice(_at, count);
            _at += count;
            return taken;
        }

        public byte Byte(string what) => Take(1, what)[0];
        public int Int32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(sizeof(int), what));
        public double Double(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(sizeof(double), what));

        /// <summary>An int-length-prefixed array; the length is checked against the bytes left before the array is allocated.</summary>
        public T[] Array<T>(string what) where T : unmanaged
        {
            int length = Int32($"the length of {what}");
            int size = Marshal.SizeOf<T>();
            if (length < 0 || length > Remaining / size) throw Bad(entry, $"{what} declares {length} values; the model block has room for {Remaining / size}");
            var values = MemoryMarshal.Cast<byte, T>(Take(length * size, what)).ToArray();
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ML.NET model files are little-endian.");
            return values;
        }

        public readonly void ExpectEnd()
        {
            if (Remaining != 0) throw Bad(entry, $"{Remaining} bytes follow the model's last field");
        }
    }
}
