using System.Runtime.InteropServices;
using Ranking.Data;
using Ranking.LightGbm.Native;

namespace Ranking.LightGbm;

/// <summary>
/// A <see cref="RankingDataset"/> binned into LightGBM's dataset: features (float32, row-major, no copy on
/// our side), "label", "group" (rows per query) and, when the set has query weights, "weight" (each row
/// carries its query's weight), and for a training set with <see cref="RankingDataset.Positions"/>, "position"
/// (LightGBM's position-bias GAM). A validation set is binned with the training set as reference so both
/// share bin boundaries, as LightGBM requires.
/// </summary>
public sealed class LightGbmDataset : IDisposable
{
    internal DatasetHandle Handle { get; }

    /// <summary>Rows of the dataset.</summary>
    public int RowCount { get; }
    /// <summary>Features per row.</summary>
    public int FeatureCount { get; }

    private LightGbmDataset(DatasetHandle handle, int rows, int features)
    {
        Handle = handle;
        RowCount = rows;
        FeatureCount = features;
    }

    /// <summary>Bins <paramref name="data"/>; <paramref name="reference"/> is the training set when this is a validation set.</summary>
    public static unsafe LightGbmDataset Create(RankingDataset data, string parameters, LightGbmDataset? reference = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        LightGbmLog.EnsureRegistered();
        if (data.RowCount == 0 || data.FeatureCount == 0)
            throw new ArgumentException("LightGBM needs at least one row and one feature.");
        if (reference is not null && reference.FeatureCount != data.FeatureCount)
            throw new ArgumentException($"the validation set has {data.FeatureCount} features, the training set {reference.FeatureCount}.");

        DatasetHandle handle;
        bool addedRef = false;
        try
        {
            reference?.Handle.DangerousAddRef(ref addedRef);
            IntPtr referencePtr = reference is null ? IntPtr.Zero : reference.Handle.DangerousGetHandle();
            // FeatureSpan: a mapped .rkds set hands LightGBM its mapped pages, with no copy on our side.
            fixed (float* features = data.FeatureSpan)
                LightGbmException.Check(
                    LightGbmNative.LGBM_DatasetCreateFromMat(features, LightGbmNative.DTypeFloat32, data.RowCount, data.FeatureCount,
                        1, parameters, referencePtr, out handle),
                    "LGBM_DatasetCreateFromMat");
        }
        finally
        {
            if (addedRef) reference!.Handle.DangerousRelease();
        }

        var dataset = new LightGbmDataset(handle, data.RowCount, data.FeatureCount);
        try
        {
            dataset.SetMetadata(data, training: reference is null);
            return dataset;
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
    }

    /// <summary>LightGBM's default bin_construct_sample_cnt: rows whose values fix the bin boundaries.</summary>
    public const int DefaultSampleRows = 200_000;

    /// <summary>
    /// Bins a text dataset that is never held as floats: the bin boundaries come from a sample of its rows
    /// (<see cref="DatasetRowStream.Sample"/>, at least <paramref name="sampleRows"/> rows: all of them in a
    /// smaller file, which then bins exactly as <see cref="Create"/> does), then every row is parsed once and
    /// pushed in chunks (LGBM_DatasetCreateFromSampledColumn, LGBM_DatasetPushRows). Peak memory: LightGBM's
    /// binned data, the sample, one chunk, and 12 bytes per row (labels, qids) on our side.
    /// Returns the dataset and the set without features (labels and queries) for the objective and metadata.
    /// </summary>
    public static unsafe (LightGbmDataset Dataset, RankingDataset Rows) CreateStreamed(DatasetRowStream stream, string parameters,
        int sampleRows = DefaultSampleRows, ulong seed = 0)
    {
        ArgumentNullException.ThrowIfNull(stream);
        LightGbmLog.EnsureRegistered();
        int columns = stream.FeatureCount;
        DatasetHandle handle;
        {
            var sample = stream.Sample(sampleRows, seed);
            // LightGBM's own sampling keeps, per column, the values that are not (nearly) zero, and their sample row.
            var counts = new int[columns];
            for (int r = 0; r < sample.RowCount; r++)
                for (int c = 0; c < columns; c++)
                    if (IsSampled(sample.Features[(long)r * columns + c])) counts[c]++;
            var values = new double[columns][];
            var indices = new int[columns][];
            for (int c = 0; c < columns; c++) { values[c] = new double[counts[c]]; indices[c] = new int[counts[c]]; counts[c] = 0; }
            for (int r = 0; r < sample.RowCount; r++)
                for (int c = 0; c < columns; c++)
                {
                    float v = sample.Features[(long)r * columns + c];
                    if (!IsSampled(v)) continue;
                    values[c][counts[c]] = v;
                    indices[c][counts[c]++] = r;
                }
            int sampled = sample.RowCount;
            sample = null;
            var valueHandles = new GCHandle[columns];
            var indexHandles = new GCHandle[columns];
            var valuePointers = new IntPtr[columns];
            var indexPointers = new IntPtr[columns];
            try
            {
                for (int c = 0; c < columns; c++)
                {
                    valueHandles[c] = GCHandle.Alloc(values[c], GCHandleType.Pinned);
                    indexHandles[c] = GCHandle.Alloc(indices[c], GCHandleType.Pinned);
                    valuePointers[c] = valueHandles[c].AddrOfPinnedObject();
                    indexPointers[c] = indexHandles[c].AddrOfPinnedObject();
                }
                fixed (IntPtr* vp = valuePointers)
                fixed (IntPtr* ip = indexPointers)
                fixed (int* cp = counts)
                    LightGbmException.Check(
                        LightGbmNative.LGBM_DatasetCreateFromSampledColumn((double**)vp, (int**)ip, columns, cp, sampled,
                            stream.RowCount, stream.RowCount, parameters, out handle),
                        "LGBM_DatasetCreateFromSampledColumn");
            }
            finally
            {
                for (int c = 0; c < columns; c++)
                {
                    if (valueHandles[c].IsAllocated) valueHandles[c].Free();
                    if (indexHandles[c].IsAllocated) indexHandles[c].Free();
                }
            }
        }

        var dataset = new LightGbmDataset(handle, stream.RowCount, columns);
        try
        {
            var rows = stream.ReadChunks((first, count, features) =>
            {
                fixed (float* p = features)
                    LightGbmException.Check(LightGbmNative.LGBM_DatasetPushRows(dataset.Handle, p, LightGbmNative.DTypeFloat32, count, columns, first),
                        "LGBM_DatasetPushRows");
            });
            dataset.SetMetadata(rows, training: true);
            return (dataset, rows);
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
    }

    /// <summary>LightGBM's kZeroThreshold test: a sampled value counts unless it is (nearly) zero; NaN counts.</summary>
    private static bool IsSampled(float v) => Math.Abs(v) > 1e-35f || float.IsNaN(v);

    private void SetMetadata(RankingDataset data, bool training)
    {
        SetFloatField("label", data.Labels);
        var groupSizes = new int[data.QueryCount];
        for (int q = 0; q < groupSizes.Length; q++) groupSizes[q] = data.QueryLength(q);
        SetIntField("group", groupSizes);
        if (data.QueryWeights is not null)
        {
            var rowWeights = new float[data.RowCount];
            for (int q = 0; q < data.QueryCount; q++)
                Array.Fill(rowWeights, data.QueryWeights[q], data.GroupOffsets[q], data.QueryLength(q));
            SetFloatField("weight", rowWeights);
        }
        // Display positions turn on LightGBM's position-bias GAM in lambdarank (4.1+): a bias per position
        // learned beside the trees (lambdarank_position_bias_regularization). Only the training set's count.
        if (data.Positions is not null && training)
            SetIntField("position", data.Positions);
    }

    private unsafe void SetFloatField(string name, float[] values)
    {
        fixed (float* p = values)
            LightGbmException.Check(LightGbmNative.LGBM_DatasetSetField(Handle, name, p, values.Length, LightGbmNative.DTypeFloat32),
                $"LGBM_DatasetSetField({name})");
    }

    private unsafe void SetIntField(string name, int[] values)
    {
        fixed (int* p = values)
            LightGbmException.Check(LightGbmNative.LGBM_DatasetSetField(Handle, name, p, values.Length, LightGbmNative.DTypeInt32),
                $"LGBM_DatasetSetField({name})");
    }

    /// <summary>Frees the native dataset.</summary>
    public void Dispose() => Handle.Dispose();
}
