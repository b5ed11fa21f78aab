using System.Text;
using Ranking.Data;

namespace Ranking.Cli.Datasets;

/// <summary>
/// Rebuilds LETOR's five folds from Fold1 alone. Fold1 holds every part: train = S1+S2+S3, vali = S4,
/// test = S5; fold k trains on S(k), S(k+1), S(k+2), validates on S(k+3) and tests on S(k+4) (indices mod 5),
/// as on the MSLR/LETOR project pages.
/// The train file does not mark where S1 ends and S2 begins, so the cut is derived: parts are consecutive
/// blocks of queries in file order, with the query counts the catalogue gives (MQ2008: 157, 157, 157 | 157 | 156).
/// That is what vali and test show (each is one block of ascending qids directly following the previous part)
/// and what equal parts of 784 queries must be; it cannot be checked against the original Fold2..5 files here.
/// Lines are copied byte for byte, so rebuilding Fold1 reproduces its three files exactly.
/// </summary>
internal static class LetorFoldRotation
{
    /// <summary>Splits Fold1 into its parts and writes Fold1..FoldN under <paramref name="datasetRoot"/>.</summary>
    public static IReadOnlyList<string> Build(string fold1Dir, string datasetRoot, FoldRotationSpec spec,
        string trainName, string validName, string testName, bool overwrite = false)
    {
        int partCount = spec.PartQueries.Count;
        if (spec.TrainParts + 2 != partCount)
            throw new ArgumentException($"rotation needs train parts + vali + test = {partCount} parts, catalogue says {spec.TrainParts} train parts.");

        var parts = new List<List<byte[]>>();
        string trainPath = Path.Combine(fold1Dir, trainName);
        var trainQueries = ReadQueryBlocks(trainPath);
        int expectedTrain = spec.PartQueries.Take(spec.TrainParts).Sum();
        if (trainQueries.Count != expectedTrain)
            throw new RankingDataException($"{trainPath}: holds {trainQueries.Count} queries, the rotation expects {expectedTrain} ({string.Join("+", spec.PartQueries.Take(spec.TrainParts))}); cannot find the part boundaries.");
        int at = 0;
        for (int p = 0; p < spec.TrainParts; p++)
        {
            parts.Add(trainQueries.GetRange(at, spec.PartQueries[p]).SelectMany(q => q).ToList());
            at += spec.PartQueries[p];
        }
        foreach (var (name, index) in new[] { (validName, spec.TrainParts), (testName, spec.TrainParts + 1) })
        {
            string path = Path.Combine(fold1Dir, name);
            var blocks = ReadQueryBlocks(path);
            if (blocks.Count != spec.PartQueries[index])
                throw new RankingDataException($"{path}: holds {blocks.Count} queries, the rotation expects {spec.PartQueries[index]}.");
            parts.Add(blocks.SelectMany(q => q).ToList());
        }

        var written = new List<string>();
        for (int k = 0; k < partCount; k++)
        {
            string foldDir = Path.Combine(datasetRoot, $"Fold{k + 1}");
            var train = Enumerable.Range(0, spec.TrainParts).SelectMany(i => parts[(k + i) % partCount]);
            var valid = parts[(k + spec.TrainParts) % partCount];
            var test = parts[(k + spec.TrainParts + 1) % partCount];
            foreach (var (name, lines) in new[] { (trainName, train), (validName, valid), (testName, test) })
            {
                string path = Path.Combine(foldDir, name);
                if (!overwrite && File.Exists(path)) continue;
                AtomicFile.Write(path, s => { foreach (var line in lines) { s.Write(line); s.WriteByte((byte)'\n'); } });
                written.Add(path);
            }
        }
        return written;
    }

    /// <summary>The lines of a LETOR file grouped into contiguous query blocks (the qid token of each line).</summary>
    internal static List<List<byte[]>> ReadQueryBlocks(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found.", path);
        byte[] bytes = File.ReadAllBytes(path);
        var blocks = new List<List<byte[]>>();
        var seen = new HashSet<string>();
        string? current = null;
        int lineNo = 0;
        for (int start = 0; start < bytes.Length;)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', start);
            if (end < 0) end = bytes.Length;
            lineNo++;
            var line = bytes.AsSpan(start, end - start);
            start = end + 1;
            if (line.IsEmpty) continue;
            string qid = QidOf(line, path, lineNo);
            if (qid != current)
            {
                if (!seen.Add(qid))
                    throw new RankingDataException(path, lineNo, 1, $"qid {qid} appears again after other queries; rows of a query must be contiguous.");
                blocks.Add([]);
                current = qid;
            }
            blocks[^1].Add(line.ToArray());
        }
        return blocks;
    }

    private static string QidOf(ReadOnlySpan<byte> line, string path, int lineNo)
    {
        string text = Encoding.ASCII.GetString(line);
        int q = text.IndexOf("qid:", StringComparison.Ordinal);
        if (q < 0) throw new RankingDataException(path, lineNo, 1, "no qid:N token; LETOR rows read 'label qid:N idx:value ...'.");
        int e = q + 4;
        while (e < text.Length && !char.IsWhiteSpace(text[e])) e++;
        if (e == q + 4) throw new RankingDataException(path, lineNo, q + 1, "empty qid.");
        return text[(q + 4)..e];
    }
}
