using System.Globalization;
using System.Text;
using Ranking.Data;

namespace Ranking.Clicks;

/// <summary>
/// The click-log text format: tab-separated, one line per shown document, a header naming the columns,
/// <c>#</c> comment lines and blank lines allowed:
/// <code>
/// session  qid    doc  position  click  [dwell]
/// 0        10002  4    1         1      35.5
/// 0        10002  0    2         0      0
/// </code>
/// <c>session</c> is any integer naming the impression (its lines contiguous), <c>qid</c> a query id of
/// the dataset the log refers to, <c>doc</c> the document's row within that query counted from 0,
/// <c>position</c> its display rank (1 = top), <c>click</c> 0 or 1, <c>dwell</c> an optional non-negative
/// number (dwell time, purchase value). A session must list every shown position 1..n once. Bad input is a
/// <see cref="RankingDataException"/> naming <c>file:line:column</c>; nothing is returned half read.
/// </summary>
public static class ClickLogFile
{
    private static readonly string[] Columns = ["session", "qid", "doc", "position", "click"];

    /// <summary>Reads a log whose documents are rows of <paramref name="data"/>.</summary>
    public static ClickLog Read(string path, RankingDataset data)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(data);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        var queryOf = new Dictionary<long, int>();
        for (int q = 0; q < data.QueryCount; q++) queryOf.TryAdd(data.QueryIds[q], q);

        var sessionQuery = new List<int>();
        var offsets = new List<int> { 0 };
        var shown = new List<int>();
        var clicked = new List<byte>();
        List<float>? dwell = null;
        bool headerSeen = false;
        long line = 0;
        // the session being read: its id, first line, and its entries by position
        long currentSession = 0, sessionLine = 0;
        bool inSession = false;
        var seenSessions = new Dictionary<long, long>();
        var byPosition = new SortedDictionary<int, (int Doc, byte Click, float Dwell, long Line)>();
        var docLine = new Dictionary<int, long>();
        int sessionQueryIndex = -1;
        long sessionQid = 0;

        void CloseSession()
        {
            if (!inSession) return;
            int n = byPosition.Count, expected = 1;
            foreach (var (position, entry) in byPosition)
            {
                if (position != expected)
                    throw new RankingDataException(path, entry.Line, 0, position > n
                        ? $"position {position} in session {currentSession}, which shows only {n} documents: a click log lists every shown document at positions 1..n (a click on a document that was not shown?)"
                        : $"session {currentSession} has no document at position {expected}: positions must run 1..n");
                shown.Add(entry.Doc);
                clicked.Add(entry.Click);
                dwell?.Add(entry.Dwell);
                expected++;
            }
            sessionQuery.Add(sessionQueryIndex);
            offsets.Add(shown.Count);
            byPosition.Clear();
            docLine.Clear();
            inSession = false;
        }

        foreach (string raw in File.ReadLines(path))
        {
            line++;
            string text = line == 1 && raw.Length > 0 && raw[0] == '\uFEFF' ? raw[1..] : raw;
            string trimmed = text.Trim();
            if (trimmed.Length == 0 || trimmed[0] == '#') continue;
            string[] fields = trimmed.Split('\t');
            if (!headerSeen)
            {
                var names = fields.Select(f => f.Trim().ToLowerInvariant()).ToArray();
                bool hasDwell = names.Length == 6 && names[5] == "dwell";
                if (!(names.Length == 5 || hasDwell) || !names.Take(5).SequenceEqual(Columns))
                    throw new RankingDataException(path, line, 1, $"expected the header 'session<TAB>qid<TAB>doc<TAB>position<TAB>click[<TAB>dwell]', got '{Clip(trimmed)}'");
                if (hasDwell) dwell = [];
                headerSeen = true;
                continue;
            }
            int expectedFields = dwell is null ? 5 : 6;
            if (fields.Length != expectedFields)
                throw new RankingDataException(path, line, 0, $"{fields.Length} tab-separated fields, expected {expectedFields} (session, qid, doc, position, click{(dwell is null ? "" : ", dwell")})");
            long session = Long(path, line, text, fields, 0, "session id");
            long qid = Long(path, line, text, fields, 1, "query id");
            long doc = Long(path, line, text, fields, 2, "doc");
            long position = Long(path, line, text, fields, 3, "position");
            long click = Long(path, line, text, fields, 4, "click");
            float dwellValue = 0;
            if (dwell is not null)
            {
                if (!float.TryParse(fields[5].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out dwellValue) || !float.IsFinite(dwellValue) || dwellValue < 0)
                    throw new RankingDataException(path, line, Column(text, fields, 5), $"bad dwell '{Clip(fields[5].Trim())}': expected a finite number >= 0");
            }

            if (!inSession || session != currentSession)
            {
                CloseSession();
                if (seenSessions.TryGetValue(session, out long first))
                    throw new RankingDataException(path, line, Column(text, fields, 0), $"session {session} reappears after other sessions (first seen at line {first}); the lines of a session must be contiguous");
                seenSessions[session] = line;
                if (!queryOf.TryGetValue(qid, out sessionQueryIndex))
                    throw new RankingDataException(path, line, Column(text, fields, 1), $"unknown query id {qid}: {Path.GetFileName(data.Source ?? "the dataset")} has no such query");
                currentSession = session;
                sessionQid = qid;
                sessionLine = line;
                inSession = true;
            }
            else if (qid != sessionQid)
                throw new RankingDataException(path, line, Column(text, fields, 1), $"session {session} is for query {sessionQid} (line {sessionLine}), not {qid}: one query per session");

            int length = data.QueryLength(sessionQueryIndex);
            if (doc < 0 || doc >= length)
                throw new RankingDataException(path, line, Column(text, fields, 2), $"doc {doc}: query {qid} has {length} documents, counted from 0");
            if (position < 1)
                throw new RankingDataException(path, line, Column(text, fields, 3), $"position {position}: positions are display ranks counted from 1 (1 = top)");
            if (position > length)
                throw new RankingDataException(path, line, Column(text, fields, 3), $"position {position}: query {qid} has only {length} documents to show");
            if (click is not (0 or 1))
                throw new RankingDataException(path, line, Column(text, fields, 4), $"click {click}: expected 0 or 1");
            if (byPosition.TryGetValue((int)position, out var other))
                throw new RankingDataException(path, line, Column(text, fields, 3), $"position {position} appears twice in session {session} (also line {other.Line})");
            if (docLine.TryGetValue((int)doc, out long otherLine))
                throw new RankingDataException(path, line, Column(text, fields, 2), $"doc {doc} is shown twice in session {session} (also line {otherLine})");
            byPosition[(int)position] = ((int)doc, (byte)click, dwellValue, line);
            docLine[(int)doc] = line;
        }
        CloseSession();
        if (!headerSeen) throw new RankingDataException(path, Math.Max(1, line), 0, "empty click log: no header and no sessions");
        if (sessionQuery.Count == 0) throw new RankingDataException(path, line, 0, "no sessions after the header");
        return new ClickLog(data, sessionQuery.ToArray(), offsets.ToArray(), shown.ToArray(), clicked.ToArray(), dwell?.ToArray());
    }

    /// <summary>Writes a log (atomically); session ids are 0..sessions-1, qids those of the log's dataset.</summary>
    public static void Write(ClickLog log, string path)
    {
        ArgumentNullException.ThrowIfNull(log);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            writer.WriteLine(log.Dwell is null ? "session\tqid\tdoc\tposition\tclick" : "session\tqid\tdoc\tposition\tclick\tdwell");
            var qids = log.Data.QueryIds;
            for (int s = 0; s < log.SessionCount; s++)
            {
                string prefix = s.ToString(CultureInfo.InvariantCulture) + "\t" + qids[log.SessionQuery[s]].ToString(CultureInfo.InvariantCulture) + "\t";
                for (int e = log.SessionOffsets[s]; e < log.SessionOffsets[s + 1]; e++)
                {
                    writer.Write(prefix);
                    writer.Write(log.ShownRow[e].ToString(CultureInfo.InvariantCulture));
                    writer.Write('\t');
                    writer.Write((e - log.SessionOffsets[s] + 1).ToString(CultureInfo.InvariantCulture));
                    writer.Write(log.Clicked[e] == 1 ? "\t1" : "\t0");
                    if (log.Dwell is not null) { writer.Write('\t'); writer.Write(log.Dwell[e].ToString("R", CultureInfo.InvariantCulture)); }
                    writer.Write('\n');
                }
            }
        });
    }

    private static long Long(string path, long line, string text, string[] fields, int index, string what)
    {
        string token = fields[index].Trim();
        if (long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value)) return value;
        throw new RankingDataException(path, line, Column(text, fields, index), $"bad {what} '{Clip(token)}': expected an integer");
    }

    /// <summary>1-based column where field <paramref name="index"/> starts.</summary>
    private static int Column(string text, string[] fields, int index)
    {
        int at = text.Length - text.TrimStart().Length;
        for (int i = 0; i < index; i++) at += fields[i].Length + 1;
        return at + 1;
    }

    private static string Clip(string s) => s.Length > 40 ? s[..37] + "..." : s;
}
