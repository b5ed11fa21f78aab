using CsCheck;
using Ranking.Data;

namespace Ranking.Core.Tests.Data;

/// <summary>Any dataset (any finite floats, any grouping, comments or none) survives every writer and reader bit for bit.</summary>
public class RoundTripPropertyTests
{
    private static readonly Gen<RankingDataset> AnyDataset =
        from features in Gen.Int[0, 6]
        from sizes in Gen.Int[1, 5].Array[1, 6]
        from values in Gen.Float.Array[sizes.Sum() * features]
        from labels in Gen.Int[0, 4].Array[sizes.Sum()]
        from ids in Gen.Long[-1000, 1000].Array[sizes.Length]
        from withComments in Gen.Bool
        select Build(features, sizes, values, labels, ids, withComments);

    private static RankingDataset Build(int features, int[] sizes, float[] values, int[] labels, long[] ids, bool withComments)
    {
        var offsets = new int[sizes.Length + 1];
        for (int q = 0; q < sizes.Length; q++) offsets[q + 1] = offsets[q] + sizes[q];
        // distinct ids in order keep queries contiguous; finite values only (NaN/inf are refused by default)
        var distinct = ids.Select((id, i) => id * 16 + i).ToArray();
        var finite = values.Select(v => float.IsFinite(v) ? v : 1.5f).ToArray();
        string?[]? comments = withComments ? Enumerable.Range(0, labels.Length).Select(i => i % 2 == 0 ? $"doc {i}, \"x\"" : null).ToArray() : null;
        return new RankingDataset(finite, features, labels.Select(l => (float)l).ToArray(), offsets, distinct, null, comments);
    }

    [Theory]
    [InlineData("p.txt")]
    [InlineData("p.csv")]
    [InlineData("p.tsv")]
    [InlineData("p.rkds")]
    public void AnyDatasetRoundTrips(string name)
    {
        using var tmp = new TempFolder();
        AnyDataset.Sample(data =>
        {
            string path = tmp.File(Guid.NewGuid().ToString("N") + name); // Sample runs on several threads
            DatasetWriter.Write(data, path);
            var back = DatasetReader.Read(path, new DatasetReadOptions { FeatureCount = data.FeatureCount });
            return back.Features.Select(BitConverter.SingleToUInt32Bits).SequenceEqual(data.Features.Select(BitConverter.SingleToUInt32Bits))
                && back.Labels.SequenceEqual(data.Labels)
                && back.GroupOffsets.SequenceEqual(data.GroupOffsets)
                && back.QueryIds.SequenceEqual(data.QueryIds)
                && (data.RowComments is null ? back.RowComments is null : back.RowComments!.SequenceEqual(data.RowComments));
        }, iter: 150);
    }
}
