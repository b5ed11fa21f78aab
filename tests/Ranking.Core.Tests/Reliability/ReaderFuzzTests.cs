using System.Text;
using CsCheck;
using Ranking.Data;
using Ranking.Models;

namespace Ranking.Core.Tests.Reliability;

/// <summary>
/// Every reader meets random and mutated bytes (flips, truncations, inserted junk, duplicated and
/// random valid-ish lines): the outcome is a value or a <see cref="RankingDataException"/>, never another
/// exception type, and never a hang (each read has a deadline). Iterations are bounded to take seconds.
/// </summary>
public class ReaderFuzzTests : IDisposable
{
    private readonly string _dir = ReliabilityKit.TempDir();
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string[] Junk =
        ["nan", "NaN", "inf", "-inf", "1e39", "-1e-46", ":", "::", "qid:", "qid:-1", " ", "\t", "\r", "\r\n", "\n", "\n\n", "\0", "#", "-",
         "999999999", "2147483648", "99999999999999999999", "0x1F", "1,5", ";", "\"", ",", "\xEF\xBB\xBF", "é", "\xFF", "1:", ":1", "e", "."];

    /// <summary>Mutations of a seed: k of flip / truncate / insert junk / duplicate a line / delete a span.</summary>
    internal static Gen<byte[]> Mutated(byte[] seed) =>
        Gen.Int[1, 4].SelectMany(k => Gen.Select(Gen.Int[0, 4], Gen.Int[0, int.MaxValue], Gen.Int[0, Junk.Length - 1], Gen.Byte).Array[k])
            .Select(ops =>
            {
                var bytes = new List<byte>(seed);
                foreach (var (op, at, junk, value) in ops)
                {
                    int pos = bytes.Count == 0 ? 0 : at % (bytes.Count + 1);
                    switch (op)
                    {
                        case 0 when bytes.Count > 0: bytes[Math.Min(pos, bytes.Count - 1)] ^= (byte)(value | 1); break;
                        case 1: bytes.RemoveRange(pos, bytes.Count - pos); break;
                        case 2: bytes.InsertRange(pos, Encoding.Latin1.GetBytes(Junk[junk])); break;
                        case 3 when bytes.Count > 0:
                            pos = Math.Min(pos, bytes.Count - 1);
                            int start = bytes.LastIndexOf((byte)'\n', Math.Max(0, pos - 1)) + 1, end = bytes.IndexOf((byte)'\n', pos);
                            if (end > start) bytes.InsertRange(start, bytes.GetRange(start, end - start + 1));
                            break;
                        default: bytes.RemoveRange(pos, Math.Min(value % 8, bytes.Count - pos)); break;
                    }
                }
                return bytes.ToArray();
            });

    /// <summary>Lines that look like SVMlight: random labels, qids, indices and values, some broken.</summary>
    internal static readonly Gen<byte[]> ValidIshSvm =
        Gen.Select(Gen.Int[0, 4], Gen.Int[1, 3], Gen.Select(Gen.Int[0, 40], Gen.Float, Gen.Int[0, 9]).Array[0, 5]).Array[1, 8]
            .Select(lines => Encoding.UTF8.GetBytes(string.Concat(lines.Select(l =>
                $"{l.Item1} qid:{l.Item2} " + string.Join(' ', l.Item3.Select(f => f.Item3 == 0 ? $"{f.Item1}:{f.Item2:R} x" : $"{f.Item1}:{f.Item2:R}")) + "\n"))));

    private static readonly DatasetReadOptions Budget = new() { MaxMemoryBytes = 64 << 20, Threads = 2, BlockSize = 64 };

    /// <summary>Runs a read with a deadline; only RankingDataException may escape it.</summary>
    internal static void Clean(Action read, string what)
    {
        var task = Task.Run(() =>
        {
            try { read(); }
            catch (RankingDataException) { }
        });
        if (!task.Wait(TimeSpan.FromSeconds(20))) Assert.Fail($"{what}: no answer within 20 s (hang?)");
        if (task.Exception is { } ex) Assert.Fail($"{what}: {ex.InnerException!.GetType().Name}: {ex.InnerException.Message}\n{ex.InnerException.StackTrace}");
    }

    private void FuzzFile(Gen<byte[]> gen, string fileName, Action<string> read, long iterations, byte[]? sidecar = null)
    {
        string path = Path.Combine(_dir, fileName);
        if (sidecar is not null) File.WriteAllBytes(path + ".query", sidecar);
        gen.Sample(bytes =>
        {
            File.WriteAllBytes(path, bytes);
            Clean(() => read(path), $"{fileName} <- {Convert.ToBase64String(bytes)}");
        }, iter: iterations, threads: 1);
    }

    [Fact]
    public void SvmLightTextMutationsAndRandomLines()
    {
        FuzzFile(Gen.OneOf(Mutated(Encoding.UTF8.GetBytes(ReliabilityKit.SvmText)), ValidIshSvm), "fuzz.txt",
            p => DatasetReader.Read(p, Budget), 600);
        FuzzFile(ValidIshSvm, "fuzz-nan.txt", p => DatasetReader.Read(p, Budget with { AllowNaN = true, Regroup = true, FeatureCount = 8, DropExtraFeatures = true }), 200);
    }

    [Fact]
    public void QuerySidecarMutations()
    {
        // the data file and its .query both mutated
        string path = Path.Combine(_dir, "lgb.txt");
        Gen.Select(Mutated(Encoding.UTF8.GetBytes(ReliabilityKit.QueryData)), Mutated(Encoding.UTF8.GetBytes(ReliabilityKit.QuerySizes)))
            .Sample((data, sizes) =>
            {
                File.WriteAllBytes(path, data);
                File.WriteAllBytes(path + ".query", sizes);
                Clean(() => DatasetReader.Read(path, Budget), $"lgb.txt + .query <- {Convert.ToBase64String(data)} / {Convert.ToBase64String(sizes)}");
            }, iter: 300, threads: 1);
    }

    [Fact]
    public void CsvAndTsvMutations()
    {
        byte[] csv = Encoding.UTF8.GetBytes(ReliabilityKit.CsvText);
        FuzzFile(Mutated(csv), "fuzz.csv", p => DatasetReader.Read(p, Budget), 400);
        FuzzFile(Mutated(Encoding.UTF8.GetBytes(ReliabilityKit.CsvText.Replace(',', '\t'))), "fuzz.tsv", p => DatasetReader.Read(p, Budget), 200);
    }

    [Fact]
    public void RkdsMutations()
    {
        string good = Path.Combine(_dir, "good.rkds");
        RkdsFile.Write(DatasetReader.Read(WriteText("seed.txt", ReliabilityKit.SvmText)), good);
        byte[] seed = File.ReadAllBytes(good);
        FuzzFile(Gen.OneOf(Mutated(seed), Gen.Byte.Array[0, 200]), "fuzz.rkds", p => DatasetReader.Read(p, Budget), 600);
    }

    /// <summary>
    /// .rkds headers declaring huge shapes (rows, features, queries, comment bytes overwritten with hostile values)
    /// are refused from the header, before any array is allocated: each read allocates a bounded amount.
    /// </summary>
    [Fact]
    public void RkdsHeadersDeclaringHugeShapesAreRefusedBeforeAllocating()
    {
        string good = Path.Combine(_dir, "good-shape.rkds");
        RkdsFile.Write(DatasetReader.Read(WriteText("shape.txt", ReliabilityKit.SvmText)), good);
        byte[] seed = File.ReadAllBytes(good);
        long[] hostile = [-1, 0, 1, int.MaxValue, int.MinValue, 1L << 31, 1L << 40, long.MaxValue, long.MinValue, 1 << 20];
        string path = Path.Combine(_dir, "huge.rkds");
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, hostile.Length - 1], Gen.Int[0, hostile.Length - 1]).Sample((field, a, b) =>
        {
            var bytes = (byte[])seed.Clone();
            // rows (int64 at 16), features (int32 at 24), queries (int32 at 28), comment bytes (int64 at 32)
            switch (field)
            {
                case 0: BitConverter.GetBytes(hostile[a]).CopyTo(bytes, 16); break;
                case 1: BitConverter.GetBytes((int)hostile[a]).CopyTo(bytes, 24); break;
                case 2: BitConverter.GetBytes((int)hostile[a]).CopyTo(bytes, 28); break;
                default: BitConverter.GetBytes(hostile[a]).CopyTo(bytes, 32); break;
            }
            BitConverter.GetBytes((int)hostile[b]).CopyTo(bytes, field == 1 ? 28 : 24);
            File.WriteAllBytes(path, bytes);
            Clean(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                try { DatasetReader.Read(path); }
                finally { Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < (64L << 20), "a hostile header allocated over 64 MB"); }
            }, $"huge.rkds <- {Convert.ToBase64String(bytes)}");
        }, iter: 300, threads: 1);
    }

    /// <summary>A CSV header of a million columns and a scores file of a million lines: memory follows the file's size.</summary>
    [Fact]
    public void WideCsvHeadersAndLongScoresFilesCostTheirSize()
    {
        string csv = WriteText("wide.csv", "label,qid," + string.Join(',', Enumerable.Range(0, 1_000_000).Select(i => $"f{i}")) + "\n1,1," + string.Join(',', Enumerable.Repeat("x", 3)) + "\n");
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<RankingDataException>(() => DatasetReader.Read(csv, Budget));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64L * new FileInfo(csv).Length, $"{allocated:N0} bytes for a {new FileInfo(csv).Length:N0}-byte file");
        string scores = WriteText("long.scores", string.Concat(Enumerable.Repeat("1\n", 1_000_000)));
        before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<RankingDataException>(() => ScoresFile.Read(scores, 5));
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64L * new FileInfo(scores).Length, $"{allocated:N0} bytes for a {new FileInfo(scores).Length:N0}-byte scores file");
    }

    [Fact]
    public void ScoresFileMutations()
    {
        FuzzFile(Gen.OneOf(Mutated(Encoding.UTF8.GetBytes(ReliabilityKit.ScoresText)), Gen.Byte.Array[0, 64]), "scores.txt",
            p => ScoresFile.Read(p, 5), 400);
        FuzzFile(Mutated(Encoding.UTF8.GetBytes(ReliabilityKit.ScoresText)), "scores-any.txt", p => ScoresFile.Read(p, -1), 200);
    }

    [Fact]
    public void ModelFileMutations()
    {
        byte[] seed = ReliabilityKit.ModelBytes(_dir);
        var catalog = ReliabilityKit.CoreCatalog();
        var probe = ReliabilityKit.Set((1, 1, [0.2f, 0.3f]), (1, 0, [0.4f, 0.1f]));
        FuzzFile(Gen.OneOf(Mutated(seed), Gen.Byte.Array[0, 300]), "fuzz.rkm", p =>
        {
            var model = ModelFile.Load(p, catalog);
            Assert.True(ReliabilityKit.AllFinite(model.Predict(probe)));
        }, 500);
    }

    private string WriteText(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }
}
