namespace Ranking.Data;

/// <summary>How <see cref="DatasetReader"/> reads a file.</summary>
public sealed record DatasetReadOptions
{
    /// <summary>
    /// The feature count fixed from outside (a validation or test set read with the training set's
    /// count). Indices up to it that never occur are zero columns; an index beyond it is an error unless
    /// <see cref="DropExtraFeatures"/>. Null: the highest index seen.
    /// </summary>
    public int? FeatureCount { get; init; }

    /// <summary>Drop (silently) feature indices beyond a fixed <see cref="FeatureCount"/> instead of failing.</summary>
    public bool DropExtraFeatures { get; init; }

    /// <summary>
    /// Sort rows stably by qid when a qid reappears after other qids. Off by default: a non-contiguous
    /// qid usually means a concatenation mistake, so it is an error unless asked for.
    /// </summary>
    public bool Regroup { get; init; }

    /// <summary>Accept NaN feature values (missing values). Infinities and NaN labels are always errors.</summary>
    public bool AllowNaN { get; init; }

    /// <summary>Keep per-row "# comment" tails (LETOR doc ids) in <see cref="RankingDataset.RowComments"/>.</summary>
    public bool KeepComments { get; init; } = true;

    /// <summary>Worker threads for parsing text; -1 = all cores. The result does not depend on it.</summary>
    public int Threads { get; init; } = -1;

    /// <summary>CSV/TSV: the header name of the label column (case-insensitive). Null: "label", "relevance" or "target".</summary>
    public string? LabelColumn { get; init; }

    /// <summary>CSV/TSV: the header name of the query column (case-insensitive). Null: "qid", "query_id", "query" or "group".</summary>
    public string? QueryColumn { get; init; }

    /// <summary>
    /// Refuse (RankingDataException, before allocating the dense matrix) a dataset whose rows x features
    /// would take more bytes than this; a .rkds cache is checked from its header. Null: only the
    /// one-array limit applies.
    /// </summary>
    public long? MaxMemoryBytes { get; init; }

    /// <summary>Bytes per parse block (tests shrink it to cross block boundaries).</summary>
    internal int BlockSize { get; init; } = TextBlocks.DefaultBlockSize;

    internal static DatasetReadOptions Default { get; } = new();

    internal int EffectiveThreads => Threads > 0 ? Threads : Environment.ProcessorCount;
}
