namespace Ranking.Data;

/// <summary>Receives rows [<paramref name="firstRow"/>, firstRow + rowCount) of a streamed dataset, row-major.</summary>
/// <param name="firstRow">The index of the chunk's first row in the file.</param>
/// <param name="rowCount">Rows in the chunk.</param>
/// <param name="features">rowCount x <see cref="DatasetRowStream.FeatureCount"/> values, valid only during the call.</param>
public delegate void RowChunkAction(int firstRow, int rowCount, ReadOnlySpan<float> features);

/// <summary>
/// A dataset read without ever holding its dense matrix: the rows arrive in chunks of a few megabytes,
/// in file order, for a consumer that keeps them in its own form (LightGBM's binned dataset). Opening
/// makes the first pass (rows, feature count, where each block of lines sits); <see cref="Sample"/> parses
/// a seeded choice of whole blocks; <see cref="ReadChunks"/> parses every row once and returns the set
/// without its features (labels, queries, weights). SVMlight/LETOR and LightGBM text (<c>.query</c>) only:
/// a <c>.rkds</c> or CSV file is read whole by <see cref="DatasetReader"/>. Regrouping rows by qid needs
/// every row at hand, so a file whose qids are not contiguous cannot be streamed.
/// </summary>
public sealed class DatasetRowStream
{
    private readonly TextLayout _layout;
    private readonly DatasetReadOptions _options;

    private DatasetRowStream(string path, TextLayout layout, DatasetReadOptions options, int featureCount)
    {
        Path = path;
        _layout = layout;
        _options = options;
        FeatureCount = featureCount;
    }

    /// <summary>The file.</summary>
    public string Path { get; }
    /// <summary>Data rows (lines that are not blank or comments), counted by the first pass.</summary>
    public int RowCount => _layout.Rows;
    /// <summary>Columns: the fixed feature count, or the highest index the first pass saw.</summary>
    public int FeatureCount { get; }

    /// <summary>Makes the first pass over a text dataset (cheap: no number is parsed).</summary>
    public static DatasetRowStream Open(string path, DatasetReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= DatasetReadOptions.Default;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file", path);
        var format = DatasetReader.DetectFormat(path);
        if (format is not (DatasetFormat.SvmLight or DatasetFormat.LightGbm))
            throw new RankingDataException(path, 0, 0, $"cannot be streamed: only SVMlight/LETOR and LightGBM text stream (this is {format}); read it whole instead");
        if (options.Regroup) throw new RankingDataException(path, 0, 0, "cannot be streamed with --regroup: sorting rows by qid needs every row at hand");
        var layout = TextLayout.Scan(path, options.BlockSize, options.EffectiveThreads);
        if (layout.Rows == 0) throw new RankingDataException(path, 1, 0, "no data rows (the file is empty or holds only blank and comment lines)");
        int featureCount = options.FeatureCount ?? layout.MaxIndex;
        if (featureCount == 0) throw new RankingDataException(path, 1, 0, "no feature index on any row");
        return new DatasetRowStream(path, layout, options, featureCount);
    }

    /// <summary>
    /// Rows of whole blocks of lines chosen at random (seeded) until at least <paramref name="rows"/> rows
    /// are in hand, returned in file order: every row when the file has no more than that. Blocks keep the
    /// cost to a fraction of a full parse; a block holds a few thousand rows of many queries.
    /// </summary>
    public DatasetSample Sample(int rows, ulong seed)
    {
        if (rows < 1) throw new ArgumentOutOfRangeException(nameof(rows));
        var blocks = Enumerable.Range(0, _layout.Blocks.Count).ToArray();
        if (_layout.Rows > rows)
        {
            var random = SeededRandom.For(seed, 31);
            for (int i = blocks.Length - 1; i > 0; i--)
            {
                int j = random.NextInt(i + 1);
                (blocks[i], blocks[j]) = (blocks[j], blocks[i]);
            }
            int taken = 0, count = 0;
            while (count < blocks.Length && taken < rows) taken += _layout.Blocks[blocks[count++]].Rows;
            blocks = blocks[..count];
            Array.Sort(blocks);
        }
        int sampleRows = blocks.Sum(b => _layout.Blocks[b].Rows);
        var features = new float[(long)sampleRows * FeatureCount];
        var rowIndices = new int[sampleRows];
        int at = 0;
        using var file = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        var starts = new int[blocks.Length];
        for (int i = 0; i < blocks.Length; i++)
        {
            starts[i] = at;
            var extent = _layout.Blocks[blocks[i]];
            for (int r = 0; r < extent.Rows; r++) rowIndices[at + r] = extent.RowBase + r;
            at += extent.Rows;
        }
        var errors = new List<RankingDataException>();
        var gate = new object();
        Parallel.For(0, blocks.Length, new ParallelOptions { MaxDegreeOfParallelism = _options.EffectiveThreads }, i =>
        {
            var extent = _layout.Blocks[blocks[i]];
            // the block alone, as if it were a file of its own rows; its rows land in the sample's slice
            var one = new TextLayout();
            one.Blocks.Add(extent with { RowBase = 0 });
            var parsed = new ParsedRows(extent.Rows, FeatureCount, _options.FeatureCount is not null);
            parsed.HoldAllFeatures();
            var found = new List<RankingDataException>();
            SvmLightReader.ParseBlocks(file, Path, one, 0, 1, parsed, _options, 1, 1, found);
            if (found.Count > 0) { lock (gate) errors.AddRange(found); return; }
            parsed.Features!.AsSpan().CopyTo(features.AsSpan((int)((long)starts[i] * FeatureCount), extent.Rows * FeatureCount));
        });
        if (errors.Count > 0) throw errors.OrderBy(e => e.Line).First();
        return new DatasetSample(rowIndices, features, FeatureCount);
    }

    /// <summary>
    /// Parses every row once, in file order, and hands them to <paramref name="onChunk"/> a batch of blocks
    /// at a time (a few thousand rows; the buffer is reused). The first bad line stops the read with its
    /// <see cref="RankingDataException"/>; rows already handed over stay with the consumer. Returns the set
    /// without features (<see cref="RankingDataset.FeatureCount"/> 0): labels, query offsets and ids, positions.
    /// </summary>
    public RankingDataset ReadChunks(RowChunkAction onChunk)
    {
        ArgumentNullException.ThrowIfNull(onChunk);
        int threads = _options.EffectiveThreads;
        int batchSize = Math.Max(2, threads * 2);
        var rowsOut = new ParsedRows(RowCount, FeatureCount, _options.FeatureCount is not null);
        var options = _options with { KeepComments = false };
        int maxChunkRows = 0;
        for (int first = 0; first < _layout.Blocks.Count; first += batchSize)
        {
            int rows = 0;
            for (int b = first; b < Math.Min(first + batchSize, _layout.Blocks.Count); b++) rows += _layout.Blocks[b].Rows;
            maxChunkRows = Math.Max(maxChunkRows, rows);
        }
        var buffer = new float[(long)maxChunkRows * FeatureCount];
        var errors = new List<RankingDataException>();
        using (var file = File.OpenHandle(Path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess))
        {
            for (int first = 0; first < _layout.Blocks.Count; first += batchSize)
            {
                int end = Math.Min(first + batchSize, _layout.Blocks.Count);
                int firstRow = _layout.Blocks[first].RowBase;
                int rows = 0;
                for (int b = first; b < end; b++) rows += _layout.Blocks[b].Rows;
                rowsOut.HoldChunk(buffer, firstRow, rows);
                SvmLightReader.ParseBlocks(file, Path, _layout, first, end, rowsOut, options, 1, threads, errors);
                if (errors.Count > 0) throw errors[0];
                if (rows > 0) onChunk(firstRow, rows, buffer.AsSpan(0, (int)((long)rows * FeatureCount)));
            }
        }
        var groups = SvmLightReader.CheckStructure(Path, rowsOut, options, 1, errors);
        if (errors.Count > 0) throw errors[0];
        var (offsets, ids) = SvmLightReader.Offsets(groups!.Sizes, rowsOut.Qids);
        return new RankingDataset([], 0, rowsOut.Labels, offsets, ids, null, null, Path, groups.Positions);
    }
}

/// <summary>Sampled rows of a streamed dataset: their indices in the file (ascending) and their features, row-major.</summary>
/// <param name="RowIndices">0-based indices in the file of the sampled rows, ascending.</param>
/// <param name="Features">Their features, row-major, RowIndices.Length x FeatureCount.</param>
/// <param name="FeatureCount">Features per row.</param>
public sealed record DatasetSample(int[] RowIndices, float[] Features, int FeatureCount)
{
    /// <summary>Rows in the sample.</summary>
    public int RowCount => RowIndices.Length;
}
