namespace Ranking.Data;

/// <summary>What to generate. <see cref="Preset"/> fixes the shape; the seed fixes every value.</summary>
public sealed record SyntheticOptions
{
    /// <summary><c>small</c> (200 queries x ~20 docs x 20 features), <c>mslr-like</c> (136 features, MSLR-like query lengths) or <c>istella-like</c> (220 features, ~316 rows per query).</summary>
    public string Preset { get; init; } = "small";
    /// <summary>Number of queries; null = the preset's default (200 for small, 1000 for mslr-like).</summary>
    public int? Queries { get; init; }
    /// <summary>Seed of the generator: the same preset, query count and seed give the same set on every machine.</summary>
    public ulong Seed { get; init; } = 42;
}

/// <summary>A generated set with the hidden scores its labels were drawn from.</summary>
/// <param name="Data">The generated queries, rows and grades.</param>
/// <param name="OracleScores">The noise-free hidden score of every row: ranking by it gives the oracle NDCG.</param>
public sealed record SyntheticSet(RankingDataset Data, float[] OracleScores)
{
    /// <summary>The queries [from, to) as their own set (oracle scores sliced alike).</summary>
    public SyntheticSet Slice(int from, int to)
    {
        var data = Data.Materialize(Enumerable.Range(from, to - from).ToArray());
        int start = Data.GroupOffsets[from], end = Data.GroupOffsets[to];
        return new SyntheticSet(data, OracleScores[start..end]);
    }
}

/// <summary>
/// Seeded learning-to-rank data with a known hidden scoring function. Each document has latent
/// relevance factors (shifted per query); the hidden score mixes them linearly, through pairwise
/// products (interactions) and hinges (thresholds), and a grade 0..4 is drawn from the score plus a
/// per-query offset plus noise, with thresholds calibrated to a target label distribution. The
/// features a model sees are views of the factors: plain, rescaled (large offsets), heavy-tailed
/// (cubed), counts, binary, negated, per-query constants, and pure noise, so normalisation, log1p
/// and per-query transforms all matter, a linear model learns a good part and a non-linear model more.
/// <para>
/// Byte-identical everywhere: a fixed PRNG (<see cref="SeededRandom"/>), only +, -, *, /, sqrt and
/// rounding (no libm functions), one stream per query (so the first N queries of a larger set equal
/// a set of N queries), and features rounded to at most 4 decimals so text files stay short.
/// </para>
/// </summary>
public static class SyntheticGenerator
{
    /// <summary>The names <see cref="Generate"/> accepts as <see cref="SyntheticOptions.Preset"/>.</summary>
    public static IReadOnlyList<string> Presets { get; } = ["small", "mslr-like", "istella-like"];

    /// <summary>The number of features of a preset's rows.</summary>
    public static int FeatureCount(string preset) => Shape.Of(preset).Features;

    /// <summary>The number of queries a preset generates when none is given.</summary>
    public static int DefaultQueries(string preset) => Shape.Of(preset).DefaultQueries;

    /// <summary>Generates the queries of <paramref name="options"/>: features, grades drawn from a hidden noisy score, and the noise-free oracle scores.</summary>
    public static SyntheticSet Generate(SyntheticOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var shape = Shape.Of(options.Preset);
        int queries = options.Queries ?? shape.DefaultQueries;
        if (queries < 1) throw new ArgumentOutOfRangeException(nameof(options), "at least one query is needed.");
        var world = new World(shape, options.Seed);
        return GenerateRange(shape, world, options.Seed, 0, queries);
    }

    /// <summary>Queries [from, to) of the set the seed defines: the same rows, ids and oracle scores as in the whole set.</summary>
    private static SyntheticSet GenerateRange(Shape shape, World world, ulong seed, int from, int to)
    {
        int queries = to - from;
        var lengths = new int[queries];
        long rowsLong = 0;
        for (int i = 0; i < queries; i++)
        {
            lengths[i] = shape.QueryLength(SeededRandom.For(seed, 1_000_000UL + (ulong)(from + i)));
            rowsLong += lengths[i];
        }
        if (rowsLong * shape.Features > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(to), "too many rows for one dataset.");
        int rows = (int)rowsLong;
        var offsets = new int[queries + 1];
        for (int i = 0; i < queries; i++) offsets[i + 1] = offsets[i] + lengths[i];

        var features = new float[(long)rows * shape.Features];
        var labels = new float[rows];
        var oracle = new float[rows];
        Parallel.For(0, queries, i =>
        {
            var random = SeededRandom.For(seed, 2_000_000_000UL + (ulong)(from + i));
            world.FillQuery(random, offsets[i], lengths[i], features, labels, oracle);
        });
        var ids = Enumerable.Range(from + 1, queries).Select(q => (long)q).ToArray();
        var data = new RankingDataset(features, shape.Features, labels, offsets, ids, source: $"synthetic:{shape.Name}:seed={seed}");
        return new SyntheticSet(data, oracle);
    }

    /// <summary>
    /// Writes a generated set as SVMlight text, <paramref name="queriesPerChunk"/> queries at a time, so a set
    /// far larger than memory (10M rows x 220 features) can be written: the same bytes as
    /// <see cref="DatasetWriter.WriteSvmLight"/> of <see cref="Generate"/>'s set. Returns the rows written.
    /// </summary>
    public static long WriteSvmLight(SyntheticOptions options, string path, int queriesPerChunk = 1000)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(path);
        if (queriesPerChunk < 1) throw new ArgumentOutOfRangeException(nameof(queriesPerChunk));
        var shape = Shape.Of(options.Preset);
        int queries = options.Queries ?? shape.DefaultQueries;
        if (queries < 1) throw new ArgumentOutOfRangeException(nameof(options), "at least one query is needed.");
        var world = new World(shape, options.Seed);
        long rows = 0;
        var none = GenerateRange(shape, world, options.Seed, 0, 1).Data; // no positions: a stale PATH.position goes
        DatasetWriter.WritePositions(none, path);
        AtomicFile.Write(path, stream =>
        {
            for (int from = 0; from < queries; from += queriesPerChunk)
            {
                var chunk = GenerateRange(shape, world, options.Seed, from, Math.Min(queries, from + queriesPerChunk)).Data;
                DatasetWriter.WriteSvmLightRows(chunk, stream, sparse: false);
                rows += chunk.RowCount;
            }
        });
        return rows;
    }

    /// <summary>One set of <paramref name="queries"/> queries split by query 60/20/20 into train, validation and test.</summary>
    public static (SyntheticSet Train, SyntheticSet Valid, SyntheticSet Test) GenerateSplits(string preset, int queries, ulong seed)
    {
        if (queries < 3) throw new ArgumentOutOfRangeException(nameof(queries), "at least 3 queries are needed for three splits.");
        var all = Generate(new SyntheticOptions { Preset = preset, Queries = queries, Seed = seed });
        int trainEnd = Math.Max(1, (int)(queries * 0.6)), validEnd = Math.Max(trainEnd + 1, (int)(queries * 0.8));
        return (all.Slice(0, trainEnd), all.Slice(trainEnd, validEnd), all.Slice(validEnd, queries));
    }

    internal sealed record Shape(string Name, int Features, int Latents, int DefaultQueries, double[] LabelShares, Func<SeededRandom, int> QueryLength)
    {
        public static Shape Of(string preset) => preset?.ToLowerInvariant() switch
        {
            "small" => new Shape("small", 20, 8, 200, [0.40, 0.30, 0.18, 0.08, 0.04], r => 10 + r.NextInt(21)),
            // MSLR-WEB: mean ~120 documents per query, from 1 to ~1000, long right tail: a scaled
            // chi-square with 3 degrees of freedom (mean 1) times 119, plus one. MSLR's grade shares.
            "mslr-like" or "mslr" => new Shape("mslr-like", 136, 24, 1000, [0.52, 0.32, 0.134, 0.019, 0.007], r =>
            {
                double a = r.NextNormal(), b = r.NextNormal(), c = r.NextNormal();
                return Math.Min(1250, 1 + (int)(119.0 * (a * a + b * b + c * c) / 3.0));
            }),
            // Istella LETOR's shape: 220 features, ~316 documents per query (same chi-square tail as mslr-like,
            // scaled), MSLR's grade shares (the shape, not Istella's label distribution, is what this is for).
            "istella-like" or "istella" => new Shape("istella-like", 220, 32, 1000, [0.52, 0.32, 0.134, 0.019, 0.007], r =>
            {
                double a = r.NextNormal(), b = r.NextNormal(), c = r.NextNormal();
                return Math.Min(3000, 1 + (int)(315.0 * (a * a + b * b + c * c) / 3.0));
            }),
            _ => throw new ArgumentException($"unknown synthetic preset '{preset}'; known: {string.Join(", ", Presets)}", nameof(preset)),
        };
    }

    private enum View { Plain, Scaled, Cubed, Count, Binary, Negated, QueryConstant, Noise, UniformNoise }

    /// <summary>The hidden function and the feature views, fixed by the seed alone.</summary>
    private sealed class World
    {
        private readonly Shape _shape;
        private readonly double[] _linear, _hinge, _hingeAt;
        private readonly (int A, int B, double Weight)[] _pairs;
        private readonly View[] _views;
        private readonly int[] _latentOf;
        private readonly double[] _viewNoise, _viewParam;
        private readonly double _scoreScale;
        private readonly double[] _gradeThresholds;
        private const double QueryShift = 0.5, QueryOffset = 0.5, LabelNoise = 0.6;

        public World(Shape shape, ulong seed)
        {
            _shape = shape;
            var r = SeededRandom.For(seed, 1);
            int k = shape.Latents;
            _linear = new double[k];
            _hinge = new double[k];
            _hingeAt = new double[k];
            for (int i = 0; i < k; i++)
            {
                _linear[i] = r.NextNormal();
                _hinge[i] = 0.8 * r.NextNormal();
                _hingeAt[i] = -0.5 + 1.5 * r.NextDouble();
            }
            _pairs = new (int, int, double)[k];
            for (int p = 0; p < k; p++)
            {
                int a = r.NextInt(k), b = (a + 1 + r.NextInt(k - 1)) % k;
                _pairs[p] = (a, b, 0.4 * r.NextNormal());
            }

            int f = shape.Features;
            _views = new View[f];
            _latentOf = new int[f];
            _viewNoise = new double[f];
            _viewParam = new double[f];
            View[] firstViews = [View.Plain, View.Scaled, View.Cubed, View.Count];
            View[] extraViews = [View.Plain, View.Scaled, View.Cubed, View.Count, View.Binary, View.Negated];
            for (int j = 0; j < f; j++)
            {
                if (j < k) { _views[j] = firstViews[r.NextInt(firstViews.Length)]; _latentOf[j] = j; }
                else
                {
                    double u = r.NextDouble();
                    _views[j] = u < 0.5 ? extraViews[r.NextInt(extraViews.Length)] : u < 0.6 ? View.QueryConstant : u < 0.85 ? View.Noise : View.UniformNoise;
                    _latentOf[j] = r.NextInt(k);
                }
                _viewNoise[j] = 0.2 + 0.4 * r.NextDouble();
                _viewParam[j] = _views[j] switch { View.Scaled => 10 + 90 * r.NextDouble(), View.Binary => r.NextNormal() * 0.5, _ => 0 };
            }

            // Calibrate on a sample of its own stream: the score's spread, then grade thresholds at the
            // target label shares, so the label distribution does not depend on the number of queries.
            var calibration = SeededRandom.For(seed, 2);
            const int sample = 20000;
            var latent = new double[k];
            var shift = new double[k];
            var scores = new double[sample];
            var offsets = new double[sample];
            var noise = new double[sample];
            for (int n = 0; n < sample; n++)
            {
                if (n % 20 == 0)
                {
                    for (int i = 0; i < k; i++) shift[i] = QueryShift * calibration.NextNormal();
                    offsets[n] = QueryOffset * calibration.NextNormal();
                }
                else offsets[n] = offsets[n - 1];
                for (int i = 0; i < k; i++) latent[i] = shift[i] + calibration.NextNormal();
                scores[n] = RawScore(latent);
                noise[n] = LabelNoise * calibration.NextNormal();
            }
            double mean = scores.Average(), variance = 0;
            foreach (double s in scores) variance += (s - mean) * (s - mean);
            _scoreScale = 1.0 / Math.Sqrt(variance / sample);
            var noisy = new double[sample];
            for (int n = 0; n < sample; n++) noisy[n] = scores[n] * _scoreScale + offsets[n] + noise[n];
            Array.Sort(noisy);
            _gradeThresholds = new double[4];
            double cumulative = 0;
            for (int g = 0; g < 4; g++)
            {
                cumulative += shape.LabelShares[g];
                _gradeThresholds[g] = noisy[Math.Min(sample - 1, (int)(cumulative * sample))];
            }
        }

        private double RawScore(ReadOnlySpan<double> z)
        {
            double s = 0;
            for (int i = 0; i < z.Length; i++)
            {
                s += _linear[i] * z[i];
                double over = z[i] - _hingeAt[i];
                if (over > 0) s += _hinge[i] * over;
                s += 0.5 * z[i] / (1 + Math.Abs(z[i])); // softsign: saturating, monotone
            }
            foreach (var (a, b, w) in _pairs) s += w * z[a] * z[b];
            return s;
        }

        public void FillQuery(SeededRandom r, int start, int length, float[] features, float[] labels, float[] oracle)
        {
            int k = _shape.Latents, f = _shape.Features;
            Span<double> shift = stackalloc double[k];
            Span<double> z = stackalloc double[k];
            Span<double> constant = stackalloc double[f];
            for (int i = 0; i < k; i++) shift[i] = QueryShift * r.NextNormal();
            double offset = QueryOffset * r.NextNormal();
            for (int j = 0; j < f; j++) constant[j] = Round4(offset + 0.3 * r.NextNormal());
            for (int d = 0; d < length; d++)
            {
                int row = start + d;
                for (int i = 0; i < k; i++) z[i] = shift[i] + r.NextNormal();
                double score = RawScore(z) * _scoreScale + offset;
                double noisy = score + LabelNoise * r.NextNormal();
                int grade = 0;
                while (grade < 4 && noisy >= _gradeThresholds[grade]) grade++;
                labels[row] = grade;
                oracle[row] = (float)score;
                long at = (long)row * f;
                for (int j = 0; j < f; j++)
                {
                    double x = z[_latentOf[j]] + _viewNoise[j] * r.NextNormal();
                    features[at + j] = (float)(_views[j] switch
                    {
                        View.Plain => Round4(x),
                        View.Scaled => Math.Round(x * _viewParam[j] + 5 * _viewParam[j], 2),
                        View.Cubed => Round4(x * x * x),
                        View.Count => Math.Round(Math.Max(0, x + 1.5) * Math.Max(0, x + 1.5) * 3),
                        View.Binary => x > _viewParam[j] ? 1 : 0,
                        View.Negated => Round4(-x),
                        View.QueryConstant => constant[j],
                        View.Noise => Round4(r.NextNormal()),
                        _ => Math.Round(100 * r.NextDouble(), 2),
                    });
                }
            }
        }

        private static double Round4(double x) => Math.Round(x * 10000) / 10000;
    }
}
