using System.Text;
using Ranking.LightGbm.Native;

namespace Ranking.LightGbm;

/// <summary>
/// A LightGBM booster: trained iteration by iteration (native objective or our gradients), asked for its
/// running scores on the data it holds, used to predict raw scores for new rows, and turned to and from
/// model text. Not thread-safe for training; prediction may run concurrently (LightGBM locks inside).
/// </summary>
public sealed class LightGbmBooster : IDisposable
{
    internal BoosterHandle Handle { get; }
    private int _validSets;

    private LightGbmBooster(BoosterHandle handle) => Handle = handle;

    /// <summary>A new booster on <paramref name="train"/> (which must outlive it).</summary>
    public static LightGbmBooster Create(LightGbmDataset train, string parameters)
    {
        LightGbmLog.EnsureRegistered();
        LightGbmException.Check(LightGbmNative.LGBM_BoosterCreate(train.Handle, parameters, out var handle), "LGBM_BoosterCreate");
        return new LightGbmBooster(handle);
    }

    /// <summary>
    /// A booster read back from model text (as written by <see cref="SaveModelToString"/>). The text is first read and
    /// checked by <see cref="LightGbmEnsemble.Parse"/> (an <see cref="InvalidDataException"/> when malformed), because
    /// LightGBM's native parser trusts its input and aborts the process on some malformed texts.
    /// </summary>
    public static LightGbmBooster LoadModelFromString(string modelText)
    {
        ArgumentNullException.ThrowIfNull(modelText);
        LightGbmEnsemble.Parse(modelText);
        LightGbmLog.EnsureRegistered();
        LightGbmException.Check(LightGbmNative.LGBM_BoosterLoadModelFromString(modelText, out _, out var handle), "LGBM_BoosterLoadModelFromString");
        return new LightGbmBooster(handle);
    }

    /// <summary>Adds a validation set; returns its data index for <see cref="GetPredict"/> (1, 2, ...).</summary>
    public int AddValidData(LightGbmDataset valid)
    {
        LightGbmException.Check(LightGbmNative.LGBM_BoosterAddValidData(Handle, valid.Handle), "LGBM_BoosterAddValidData");
        return ++_validSets;
    }

    /// <summary>One boosting round with the booster's own objective; true when no further split is possible.</summary>
    public bool UpdateOneIter()
    {
        LightGbmException.Check(LightGbmNative.LGBM_BoosterUpdateOneIter(Handle, out int finished), "LGBM_BoosterUpdateOneIter");
        return finished != 0;
    }

    /// <summary>One boosting round from given gradients and Hessians (one per training row).</summary>
    public unsafe bool UpdateOneIterCustom(ReadOnlySpan<float> gradients, ReadOnlySpan<float> hessians)
    {
        if (gradients.Length != hessians.Length) throw new ArgumentException("one Hessian per gradient is required.");
        int finished;
        fixed (float* g = gradients)
        fixed (float* h = hessians)
            LightGbmException.Check(LightGbmNative.LGBM_BoosterUpdateOneIterCustom(Handle, g, h, out finished), "LGBM_BoosterUpdateOneIterCustom");
        return finished != 0;
    }

    /// <summary>Removes the last boosting round (LGBM_BoosterRollbackOneIter).</summary>
    public void RollbackOneIter() =>
        LightGbmException.Check(LightGbmNative.LGBM_BoosterRollbackOneIter(Handle), "LGBM_BoosterRollbackOneIter");

    /// <summary>Boosting rounds the booster holds.</summary>
    public int CurrentIteration
    {
        get
        {
            LightGbmException.Check(LightGbmNative.LGBM_BoosterGetCurrentIteration(Handle, out int it), "LGBM_BoosterGetCurrentIteration");
            return it;
        }
    }

    /// <summary>Features per row the booster reads.</summary>
    public int FeatureCount
    {
        get
        {
            LightGbmException.Check(LightGbmNative.LGBM_BoosterGetNumFeature(Handle, out int n), "LGBM_BoosterGetNumFeature");
            return n;
        }
    }

    /// <summary>
    /// The booster's running scores on data set <paramref name="dataIndex"/> (0 = train, 1.. = validation):
    /// LightGBM keeps them up to date by adding each new tree's output, so this costs a copy, not a prediction.
    /// </summary>
    public unsafe void GetPredict(int dataIndex, Span<double> scores)
    {
        LightGbmException.Check(LightGbmNative.LGBM_BoosterGetNumPredict(Handle, dataIndex, out long count), "LGBM_BoosterGetNumPredict");
        if (scores.Length != count) throw new ArgumentException($"data set {dataIndex} has {count} scores, the buffer {scores.Length}.");
        fixed (double* p = scores)
            LightGbmException.Check(LightGbmNative.LGBM_BoosterGetPredict(Handle, dataIndex, out _, p), "LGBM_BoosterGetPredict");
    }

    /// <summary>Raw scores of <paramref name="rowCount"/> row-major rows using the first <paramref name="iterations"/> rounds (-1 = all).</summary>
    public unsafe void PredictForMat(ReadOnlySpan<float> features, int rowCount, int featureCount, Span<double> scores, int iterations = -1, int threads = 0)
    {
        if ((long)rowCount * featureCount != features.Length) throw new ArgumentException($"features hold {features.Length} values, expected {rowCount} x {featureCount}.");
        if (scores.Length < rowCount) throw new ArgumentException("one score per row is required.");
        if (rowCount == 0) return;
        long written;
        fixed (float* f = features)
        fixed (double* s = scores)
            LightGbmException.Check(LightGbmNative.LGBM_BoosterPredictForMat(Handle, f, LightGbmNative.DTypeFloat32, rowCount, featureCount, 1,
                LightGbmNative.PredictRawScore, 0, iterations, threads > 0 ? $"num_threads={threads}" : "", out written, s), "LGBM_BoosterPredictForMat");
        if (written != rowCount) throw new LightGbmException("LGBM_BoosterPredictForMat", $"wrote {written} scores for {rowCount} rows");
    }

    /// <summary>The model text of the first <paramref name="iterations"/> rounds (-1 = all).</summary>
    public unsafe string SaveModelToString(int iterations = -1) =>
        NativeString("LGBM_BoosterSaveModelToString", (long capacity, out long length, byte* buffer) =>
            LightGbmNative.LGBM_BoosterSaveModelToString(Handle, 0, iterations, 0, capacity, out length, buffer));

    /// <summary>LightGBM's JSON dump of the model (<c>LGBM_BoosterDumpModel</c>, Python's <c>dump_model()</c>): the format Vespa reads.</summary>
    public unsafe string DumpModel(int iterations = -1) =>
        NativeString("LGBM_BoosterDumpModel", (long capacity, out long length, byte* buffer) =>
            LightGbmNative.LGBM_BoosterDumpModel(Handle, 0, iterations, 0, capacity, out length, buffer));

    /// <summary>A LightGBM call that writes a NUL-terminated string into a caller's buffer of <c>capacity</c> bytes and reports the length it needs.</summary>
    private unsafe delegate int StringCall(long capacity, out long length, byte* buffer);

    /// <summary>LightGBM's two-call protocol for strings: ask the length, then fill a buffer that size; the text up to the first NUL.</summary>
    private static unsafe string NativeString(string function, StringCall call)
    {
        LightGbmException.Check(call(0, out long length, null), function);
        var buffer = new byte[length];
        fixed (byte* p = buffer)
            LightGbmException.Check(call(length, out length, p), function);
        int end = Array.IndexOf(buffer, (byte)0);
        return Encoding.UTF8.GetString(buffer, 0, end < 0 ? buffer.Length : end);
    }

    /// <summary>Frees the native booster.</summary>
    public void Dispose() => Handle.Dispose();
}
