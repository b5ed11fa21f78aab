using System.Globalization;
using Ranking.Data;

namespace Ranking.Features;

/// <summary>
/// An ordered list of feature transforms, not yet fitted. Spec syntax: comma-separated steps, each a
/// name with optional arguments in parentheses:
/// <list type="bullet">
/// <item><c>zscore</c>: (x - mean) / sd per feature (sd 0: centred only).</item>
/// <item><c>minmax</c>: (x - min) / (max - min) per feature, on the training range (no clamping later).</item>
/// <item><c>query-minmax</c>, <c>query-zscore</c>: the same within each query at apply time (LETOR's QueryLevelNorm).</item>
/// <item><c>log1p</c>: sign(x) * log(1 + |x|), for heavy-tailed counts.</item>
/// <item><c>clip(lo,hi)</c>: clamp to [lo, hi]; <c>clip</c> alone clamps each feature to its training 0.1% and 99.9% quantiles.</item>
/// <item><c>fillnan(v)</c>: NaN becomes v; <c>fillnan</c> alone uses each feature's training mean.</item>
/// <item><c>select(1-10,15)</c>: keep these features, 1-based as in SVMlight files, in the given order.</item>
/// </list>
/// Every step is fitted on the output of the step before it. Statistics skip NaN values.
/// </summary>
public sealed class FeaturePipeline
{
    private FeaturePipeline(IReadOnlyList<FeatureStep> steps) => Steps = steps;

    internal IReadOnlyList<FeatureStep> Steps { get; }

    /// <summary>The canonical spec (parses back to the same pipeline).</summary>
    /// <summary>True for the empty pipeline ("none"): features pass unchanged.</summary>
    public bool IsEmpty => Steps.Count == 0;

    /// <summary>The canonical spec, steps joined by commas (e.g. "fillnan,zscore"); "none" for the empty pipeline. Parsing it gives the same pipeline.</summary>
    public string Spec => Steps.Count == 0 ? "none" : string.Join(",", Steps.Select(s => s.SpecText));

    /// <summary>The step names a spec may use, in the order the README lists them.</summary>
    public static IReadOnlyList<string> StepNames { get; } =
        ["zscore", "minmax", "query-minmax", "query-zscore", "log1p", "clip", "fillnan", "select"];

    /// <summary>Parses a spec; "", "none" or "identity" is the empty pipeline. Bad specs throw <see cref="FormatException"/>.</summary>
    public static FeaturePipeline Parse(string? spec)
    {
        var steps = new List<FeatureStep>();
        string text = (spec ?? "").Trim();
        if (text.Length == 0 || text is "none" or "identity") return new FeaturePipeline(steps);
        foreach (string part in SplitTopLevel(text))
        {
            string item = part.Trim();
            if (item.Length == 0) throw new FormatException($"feature pipeline '{spec}': empty step");
            string name = item, args = "";
            bool hasArgs = false;
            int open = item.IndexOf('(');
            if (open >= 0)
            {
                if (!item.EndsWith(')')) throw new FormatException($"feature pipeline step '{item}': missing ')'");
                name = item[..open].Trim();
                args = item[(open + 1)..^1];
                hasArgs = true;
            }
            steps.Add(name.ToLowerInvariant() switch
            {
                "zscore" when !hasArgs => new ZScoreStep(),
                "minmax" when !hasArgs => new MinMaxStep(),
                "query-minmax" when !hasArgs => new QueryMinMaxStep(),
                "query-zscore" when !hasArgs => new QueryZScoreStep(),
                "log1p" when !hasArgs => new Log1pStep(),
                "clip" => hasArgs ? ClipStep.Fixed(Numbers(item, args, 2)) : new ClipStep(),
                "fillnan" => hasArgs ? FillNaNStep.Fixed(Numbers(item, args, 1)[0]) : new FillNaNStep(),
                "select" when hasArgs => new SelectStep(ParseColumns(item, args)),
                "select" => throw new FormatException("feature pipeline step 'select' needs the features to keep, e.g. select(1-10,15)"),
                string known when StepNames.Contains(known) => throw new FormatException($"feature pipeline step '{known}' takes no arguments"),
                _ => throw new FormatException($"unknown feature pipeline step '{name}'; known: {string.Join(", ", StepNames)}"),
            });
        }
        return new FeaturePipeline(steps);
    }

    /// <summary>Fits every step on the training set (each on the previous step's output).</summary>
    public FittedPipeline Fit(RankingDataset train)
    {
        ArgumentNullException.ThrowIfNull(train);
        var fitted = new List<FittedStep>();
        if (Steps.Count == 0) return new FittedPipeline(train.FeatureCount, fitted, Spec);
        // The steps transform a working copy (the training set itself is never changed).
        float[] work = train.FeatureSpan.ToArray();
        int width = train.FeatureCount;
        foreach (var step in Steps)
        {
            var f = step.Fit(work, train.RowCount, width, train.GroupOffsets);
            work = f.Apply(work, train.RowCount, width, train.GroupOffsets);
            width = f.OutputCount;
            fitted.Add(f);
        }
        return new FittedPipeline(train.FeatureCount, fitted, Spec);
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        int depth = 0, start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0) { yield return text[start..i]; start = i + 1; }
        }
        yield return text[start..];
    }

    private static double[] Numbers(string item, string args, int count)
    {
        var parts = args.Split(',');
        if (parts.Length != count) throw new FormatException($"feature pipeline step '{item}': expected {count} number(s)");
        var values = new double[count];
        for (int i = 0; i < count; i++)
            if (!double.TryParse(parts[i].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || double.IsInfinity(values[i]))
                throw new FormatException($"feature pipeline step '{item}': '{parts[i].Trim()}' is not a number");
        return values;
    }

    private static int[] ParseColumns(string item, string args)
    {
        var columns = new List<int>();
        foreach (string raw in args.Split(','))
        {
            string part = raw.Trim();
            int dash = part.IndexOf('-', 1);
            if (dash > 0)
            {
                int from = Index(part[..dash]), to = Index(part[(dash + 1)..]);
                if (to < from) throw new FormatException($"feature pipeline step '{item}': range {part} runs backwards");
                for (int i = from; i <= to; i++) columns.Add(i - 1);
            }
            else columns.Add(Index(part) - 1);
        }
        if (columns.Distinct().Count() != columns.Count) throw new FormatException($"feature pipeline step '{item}': a feature is selected twice");
        return columns.ToArray();

        int Index(string s) => int.TryParse(s.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= 1
            ? v
            : throw new FormatException($"feature pipeline step '{item}': '{s.Trim()}' is not a 1-based feature index");
    }
}
