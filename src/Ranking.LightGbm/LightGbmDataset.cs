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
            fixed (float* features = data.Features)
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
            dataset.SetFloatField("label", data.Labels);
            var groupSizes = new int[data.QueryCount];
            for (int q = 0; q < groupSizes.Length; q++) groupSizes[q] = data.QueryLength(q);
            dataset.SetIntField("group", groupSizes);
            if (data.QueryWeights is not null)
            {
                var rowWeights = new float[data.RowCount];
                for (int q = 0; q < data.QueryCount; q++)
                    Array.Fill(rowWeights, data.QueryWeights[q], data.GroupOffsets[q], data.QueryLength(q));
                dataset.SetFloatField("weight", rowWeights);
            }
            // Display positions turn on LightGBM's position-bias GAM in lambdarank (4.1+): a bias per position
            // learned beside the trees (lambdarank_position_bias_regularization). Only the training set's count.
            if (data.Positions is not null && reference is null)
                dataset.SetIntField("position", data.Positions);
            return dataset;
        }
        catch
        {
            dataset.Dispose();
            throw;
        }
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
