using System.Globalization;
using System.Text;

namespace Ranking.Data;

/// <summary>
/// Scores as text: one number per line, one line per row of the data in the same order (the format
/// LightGBM and XGBoost write predictions in). Reading is strict: a missing or extra line, a line that is
/// not one number, or NaN is a <see cref="RankingDataException"/> naming file:line:column. Infinities
/// ("inf", "-inf", "Infinity") are allowed and rank above/below every finite score. Writing uses the
/// shortest text that reads back to the same float, atomically.
/// </summary>
public static class ScoresFile
{
    /// <summary>Reads the scores; <paramref name="expectedRows"/> &lt; 0 accepts any count.</summary>
    public static float[] Read(string path, int expectedRows)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: scores file not found", path);
        var scores = expectedRows >= 0 ? new List<float>(expectedRows) : new List<float>();
        long line = 0;
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        while (reader.ReadLine() is { } text)
        {
            line++;
            ReadOnlySpan<char> span = text.AsSpan();
            int lead = span.Length - span.TrimStart().Length;
            span = span.Trim();
            if (span.Length == 0)
                throw new RankingDataException(path, line, 1, "empty line; expected one score per line");
            if (!TryParse(span, out float value))
            {
                string shown = span.Length > 40 ? span[..40].ToString() + "..." : span.ToString();
                throw new RankingDataException(path, line, lead + 1, $"'{shown}' is not a number (one score per line)");
            }
            if (float.IsNaN(value)) throw new RankingDataException(path, line, lead + 1, "score is NaN");
            if (expectedRows >= 0 && scores.Count == expectedRows)
                throw new RankingDataException(path, line, 1, $"more scores than the {expectedRows} rows of the data");
            scores.Add(value);
        }
        if (expectedRows >= 0 && scores.Count != expectedRows)
            throw new RankingDataException(path, line + 1, 0,
                $"the file ends after {scores.Count} scores, but the data has {expectedRows} rows (one score per row)");
        return scores.ToArray();
    }

    private static bool TryParse(ReadOnlySpan<char> text, out float value)
    {
        if (float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return true;
        // C/C++ and Python spellings of infinity
        ReadOnlySpan<char> body = text;
        bool negative = false;
        if (body.Length > 0 && (body[0] == '-' || body[0] == '+')) { negative = body[0] == '-'; body = body[1..]; }
        if (body.Equals("inf", StringComparison.OrdinalIgnoreCase) || body.Equals("infinity", StringComparison.OrdinalIgnoreCase))
        {
            value = negative ? float.NegativeInfinity : float.PositiveInfinity;
            return true;
        }
        return false;
    }

    /// <summary>Writes one score per line, bit-exact, atomically; NaN is refused (see the span overload).</summary>
    public static void Write(string path, float[] scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        Write(path, scores.AsSpan());
    }

    /// <summary>Writes one score per line ("R" format: reads back bit-exact); NaN is refused.</summary>
    public static void Write(string path, ReadOnlySpan<float> scores)
    {
        ArgumentNullException.ThrowIfNull(path);
        var text = new StringBuilder(scores.Length * 12);
        for (int i = 0; i < scores.Length; i++)
        {
            float s = scores[i];
            if (float.IsNaN(s)) throw new ArgumentException($"score {i} is NaN; a scores file holds numbers only.", nameof(scores));
            text.Append(s.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        AtomicFile.WriteAllText(path, text.ToString());
    }
}
