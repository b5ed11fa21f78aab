using Ranking.Data;
using Ranking.Numerics;
using Ranking.Training;

namespace Ranking.Embeddings;

/// <summary>
/// Learnable class proxies: one vector per training class (Movshovitz-Attias et al. 2017), trained with the
/// encoder by the same optimiser and saved in the model file (payload <see cref="PayloadEntry"/>).
/// </summary>
public sealed class ClassProxies
{
    /// <summary>The payload entry of the proxies inside a model file.</summary>
    public const string PayloadEntry = "proxies.bin";
    private const uint PayloadMagic = 0x58504B52; // "RKPX"
    private const int PayloadVersion = 1;

    /// <summary>Wraps <paramref name="count"/> x <paramref name="dimension"/> values (row-major, one row per class).</summary>
    public ClassProxies(float[] vectors, int count, int dimension)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        if (count < 1 || dimension < 1) throw new ArgumentOutOfRangeException(nameof(count), "proxies need at least one class and one dimension.");
        if (vectors.LongLength != (long)count * dimension) throw new ArgumentException($"{count} proxies x {dimension} need {(long)count * dimension} values, got {vectors.LongLength}.", nameof(vectors));
        Vectors = vectors;
        Count = count;
        Dimension = dimension;
    }

    /// <summary>Fresh proxies: independent normal values of standard deviation 1 / sqrt(dimension) (rows of length about 1), seeded.</summary>
    public static ClassProxies Create(int count, int dimension, ulong seed)
    {
        var random = new SeededRandom(seed);
        var vectors = new float[(long)count * dimension];
        double scale = 1.0 / Math.Sqrt(dimension);
        for (long i = 0; i < vectors.LongLength; i++) vectors[i] = (float)(random.NextNormal() * scale);
        return new ClassProxies(vectors, count, dimension);
    }

    /// <summary>The proxies, row-major (<see cref="Count"/> x <see cref="Dimension"/>): what training updates.</summary>
    public float[] Vectors { get; }
    /// <summary>Classes (one proxy each).</summary>
    public int Count { get; }
    /// <summary>Values per proxy (the embedding dimension).</summary>
    public int Dimension { get; }

    /// <summary>The proxy of class <paramref name="c"/>.</summary>
    public ReadOnlySpan<float> Of(int c) => Vectors.AsSpan((int)((long)c * Dimension), Dimension);

    /// <summary>The payload: magic, version, count, dimension, then the values.</summary>
    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write(PayloadMagic);
            w.Write(PayloadVersion);
            w.Write(Count);
            w.Write(Dimension);
            foreach (float v in Vectors) w.Write(v);
        }
        return stream.ToArray();
    }

    /// <summary>Reads a payload written by <see cref="ToBytes"/>; <paramref name="entry"/> names it in errors (<see cref="InvalidDataException"/>).</summary>
    public static ClassProxies FromBytes(byte[] bytes, string entry)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        if (bytes.Length < 16 || r.ReadUInt32() != PayloadMagic) throw new InvalidDataException($"{entry}: not a proxy payload (bad magic).");
        int version = r.ReadInt32();
        if (version != PayloadVersion) throw new InvalidDataException($"{entry}: proxy payload version {version}, this build reads {PayloadVersion}.");
        int count = r.ReadInt32(), dimension = r.ReadInt32();
        if (count < 1 || dimension < 1 || (long)count * dimension * 4 != bytes.Length - 16)
            throw new InvalidDataException($"{entry}: {count} proxies x {dimension} do not match the payload's {bytes.Length - 16} bytes of values.");
        var vectors = new float[(long)count * dimension];
        for (long i = 0; i < vectors.LongLength; i++)
        {
            vectors[i] = r.ReadSingle();
            if (!float.IsFinite(vectors[i])) throw new InvalidDataException($"{entry}: proxy {i / dimension} value {i % dimension} is {vectors[i]}.");
        }
        return new ClassProxies(vectors, count, dimension);
    }
}

/// <summary>
/// A proxy loss on the CPU: each batch is compared with class proxies rather than with itself, so the
/// classes may be many (100,000) while a batch holds a few. The proxies a batch sees are its own classes
/// plus <see cref="BatchLossOptions.ProxyNegatives"/> drawn uniformly without replacement from the other
/// classes (all of them when 0); a drawn proxy's logit is corrected by the log of its inclusion probability
/// (<see cref="RankingMath.LogExpectedDraws"/>, the log-Q correction of sampled softmax; 0 for the batch's own),
/// so the sampled softmax estimates the full one and equals it when every class is drawn.
/// <list type="bullet">
/// <item>proxy-nca: the softmax over proxies with a temperature, -log softmax(-f(x, p_y) / t): the row body
/// <see cref="BatchLosses.NtXent"/> with one positive, each item a row against the proxies.</item>
/// <item>proxy-nce: the same proxies by noise-contrastive estimation (<see cref="BatchLosses.Nce"/>): the true class
/// against the other proxies seen, on u = l - log(expected draws) - log Z with the normaliser fixed at Z = classes.</item>
/// <item>proxy-anchor (Kim et al. 2020): each proxy a row against the batch's items (<see cref="BatchLosses.ProxyAnchor"/>);
/// the negative terms of drawn proxies stand for every class outside the batch.</item>
/// </list>
/// Farness, reducer and chain rule are <see cref="BatchLoss"/>'s, with the proxies' gradient; proxies are
/// L2-normalised as the embeddings are (the gradient flows back through the normalisation).
/// </summary>
public sealed class ProxyLoss
{
    private readonly IBatchLossStep _loss;
    private readonly BatchLossSettings _settings;
    private readonly bool _normalise, _anchorIsProxy;
    private readonly int[] _pool, _where, _seen;
    private int _stamp;
    private int[] _selected = [], _selfIndex = [];
    private float[] _gathered = [], _norms = [], _gradient = [], _logQ = [];

    /// <summary>
    /// A proxy loss over <paramref name="proxies"/> with checked options; proxies are normalised when <paramref name="normalise"/>
    /// (or the distance wants it). <paramref name="step"/>: where the batch loss runs (null: a <see cref="BatchLoss"/> on the CPU).
    /// </summary>
    public ProxyLoss(BatchLossOptions options, ClassProxies proxies, bool normalise, int threads = -1, IBatchLossStep? step = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Proxies = proxies ?? throw new ArgumentNullException(nameof(proxies));
        if (!options.IsProxyLoss) throw new ArgumentException($"'{options.Loss}' is not a proxy loss.", nameof(options));
        if (proxies.Count < 2) throw new ArgumentException($"a proxy loss needs at least two classes, got {proxies.Count}: with one class there is no negative.");
        _loss = step ?? new BatchLoss(options, threads);
        _settings = _loss.Settings;
        _normalise = normalise || options.Distance.NeedsNormalisedInput();
        _anchorIsProxy = _settings.Loss == BatchLossKind.ProxyAnchor;
        _pool = Enumerable.Range(0, proxies.Count).ToArray();
        _where = Enumerable.Range(0, proxies.Count).ToArray();
        _seen = new int[proxies.Count];
    }

    /// <summary>The proxies (trained in place by the caller's optimiser through <see cref="Step"/>).</summary>
    public ClassProxies Proxies { get; }
    /// <summary>The options the loss was built from.</summary>
    public BatchLossOptions Options => _loss.Options;
    /// <summary>The classes whose proxies the last batch saw: its own classes first, then the drawn ones.</summary>
    public ReadOnlySpan<int> Selected => _selected.AsSpan(0, SelectedCount);
    /// <summary>How many proxies the last batch saw.</summary>
    public int SelectedCount { get; private set; }
    /// <summary>How many of <see cref="Selected"/> are the batch's own classes (the rest were drawn).</summary>
    public int BatchClasses { get; private set; }
    /// <summary>d loss / d proxy of each selected class (raw parameters, before normalisation), <see cref="SelectedCount"/> x dimension.</summary>
    public float[] SelectedGradient => _gradient;
    /// <summary>Statistics of the last batch's farness matrix (from the step, on whichever backend it runs).</summary>
    public BatchStatistics LastStatistics => _loss.LastStatistics;

    /// <summary>
    /// The reduced loss of a batch (embeddings row-major, normalised as the encoder does), d loss / d embeddings in
    /// <paramref name="embeddingGradient"/> (overwritten) and d loss / d selected proxies in <see cref="SelectedGradient"/>.
    /// Labels are class ids below <see cref="ClassProxies.Count"/>.
    /// </summary>
    public double Compute(float[] embeddings, int[] labels, int count, int dim, float[] embeddingGradient, int iteration)
    {
        if (dim != Proxies.Dimension) throw new ArgumentException($"the proxies are {Proxies.Dimension}-dimensional, the embeddings {dim}.");
        Select(labels, count, iteration);
        int m = SelectedCount, classes = Proxies.Count;
        Gather(m, dim);
        double value;
        if (!_anchorIsProxy)
        {
            if (_selfIndex.Length < count) _selfIndex = new int[count];
            Array.Fill(_selfIndex, -1);
            var refs = new BatchReferences(_gathered, _selected, m, _selfIndex, AreTheBatch: false, _logQ);
            value = _loss.Compute(embeddings, labels, count, dim, refs, embeddingGradient, iteration, _gradient);
        }
        else
        {
            // Each proxy a row against the batch; a drawn proxy's negative term stands for (classes - batch classes) / drawn proxies.
            int drawn = m - BatchClasses;
            var settings = _settings;
            settings.PositiveWeight = 1f / BatchClasses;
            settings.NegativeWeight = 1f / classes;
            settings.UnseenNegativeWeight = drawn == 0 ? 0f : (float)((classes - BatchClasses) / ((double)drawn * classes));
            if (_selfIndex.Length < m) _selfIndex = new int[m];
            Array.Fill(_selfIndex, -1);
            var refs = new BatchReferences(embeddings, labels, count, _selfIndex, AreTheBatch: false);
            value = _loss.Compute(_gathered, _selected, m, dim, refs, _gradient, iteration, embeddingGradient, settings);
        }
        if (_normalise) EmbeddingDistances.NormaliseRowsBackward(_gathered, _norms, _gradient, m, dim);
        return value;
    }

    /// <summary>Moves the selected proxies by <paramref name="optimizer"/> (its row-wise step, state kept per proxy).</summary>
    public void Step(Optimizer optimizer, float learningRate)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.StepRows(Proxies.Vectors, Selected, Proxies.Dimension, _gradient, learningRate);
    }

    /// <summary>
    /// The batch's distinct classes (each swapped to the front of the class pool), then a partial Fisher-Yates
    /// draw of the negatives from the rest of the pool: O(batch + negatives) per batch whatever the class count.
    /// Draws depend on (seed, iteration) only.
    /// </summary>
    private void Select(int[] labels, int count, int iteration)
    {
        int classes = Proxies.Count;
        if (++_stamp == int.MaxValue) { Array.Clear(_seen); _stamp = 1; }
        int batchClasses = 0;
        if (_selected.Length < count) _selected = new int[Math.Min(classes, count + Math.Max(Options.ProxyNegatives, 0) + 1)];
        for (int i = 0; i < count; i++)
        {
            int c = labels[i];
            if ((uint)c >= (uint)classes) throw new ArgumentException($"label {c} of item {i} has no proxy ({classes} classes).", nameof(labels));
            if (_seen[c] == _stamp) continue;
            _seen[c] = _stamp;
            Swap(batchClasses, _where[c]);
            _selected[batchClasses++] = c;
        }
        int rest = classes - batchClasses;
        int drawn = Options.ProxyNegatives == 0 ? rest : Math.Min(Options.ProxyNegatives, rest);
        int m = batchClasses + drawn;
        if (_selected.Length < m) Array.Resize(ref _selected, m);
        ulong key = RankingMath.StreamKey(Options.Seed, iteration, -1);
        for (int t = 0; t < drawn; t++)
        {
            int at = batchClasses + t;
            if (drawn < rest) Swap(at, at + RankingMath.RandomIndex(key, t, rest - t));
            _selected[at] = _pool[at];
        }
        if (_logQ.Length < m) _logQ = new float[m];
        // NCE compares exp(logit) / Z with the expected draws; cosine logits are bounded and cannot normalise
        // themselves (Z = 1), so Z is fixed at the class count (its value when every logit is 0).
        float normaliser = _settings.Loss == BatchLossKind.Nce ? (float)Math.Log(classes) : 0f;
        Array.Fill(_logQ, normaliser, 0, batchClasses);
        float correction = drawn == 0 ? 0f : (float)RankingMath.LogExpectedDraws(drawn, 1.0 / rest);
        Array.Fill(_logQ, correction + normaliser, batchClasses, drawn);
        SelectedCount = m;
        BatchClasses = batchClasses;
    }

    private void Swap(int a, int b)
    {
        if (a == b) return;
        int ca = _pool[a], cb = _pool[b];
        _pool[a] = cb; _pool[b] = ca;
        _where[cb] = a; _where[ca] = b;
    }

    /// <summary>Copies the selected proxies into one block (normalised when the embeddings are) and sizes the gradient.</summary>
    private void Gather(int m, int dim)
    {
        if (_gathered.Length < (long)m * dim) { _gathered = new float[(long)m * dim]; _gradient = new float[(long)m * dim]; _norms = new float[m]; }
        for (int s = 0; s < m; s++) Proxies.Of(_selected[s]).CopyTo(_gathered.AsSpan(s * dim, dim));
        if (_normalise) EmbeddingDistances.NormaliseRows(_gathered, m, dim, _norms);
    }
}
