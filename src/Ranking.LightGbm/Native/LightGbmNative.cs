using System.Runtime.InteropServices;

namespace Ranking.LightGbm.Native;

/// <summary>
/// The LightGBM 4.7 C API calls this binding uses (include/LightGBM/c_api.h). Every call returns 0 on
/// success and -1 on failure, with the reason in <see cref="LGBM_GetLastError"/> (thread-local inside
/// LightGBM, so it must be read on the failing thread: <see cref="LightGbmException.Check"/> does that).
/// Handles are wrapped in <see cref="DatasetHandle"/> and <see cref="BoosterHandle"/> so they are freed once.
/// </summary>
internal static unsafe partial class LightGbmNative
{
    private const string Library = "lib_lightgbm";

    // Runs before the first call into lib_lightgbm, so before its OpenMP runtime loads and reads the wait policy.
    static LightGbmNative() => OpenMpEnvironment.Apply();

    public const int DTypeFloat32 = 0;
    public const int DTypeFloat64 = 1;
    public const int DTypeInt32 = 2;

    public const int PredictNormal = 0;
    public const int PredictRawScore = 1;

    [LibraryImport(Library)]
    public static partial IntPtr LGBM_GetLastError();

    [LibraryImport(Library)]
    public static partial int LGBM_RegisterLogCallback(delegate* unmanaged[Cdecl]<byte*, void> callback);

    // --- datasets

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_DatasetCreateFromMat(void* data, int dataType, int rows, int columns, int isRowMajor,
        string parameters, IntPtr reference, out DatasetHandle dataset);

    /// <summary>
    /// A dataset whose bin boundaries come from sampled values: per column, the sampled values that are not
    /// zero (|v| > 1e-35 or NaN) and the index of their row within the sample; rows then arrive by
    /// <see cref="LGBM_DatasetPushRows"/>, the last push finishing the load.
    /// </summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_DatasetCreateFromSampledColumn(double** sampleData, int** sampleIndices, int columns, int* countPerColumn,
        int sampleRows, int localRows, long distributedRows, string parameters, out DatasetHandle dataset);

    [LibraryImport(Library)]
    public static partial int LGBM_DatasetPushRows(DatasetHandle dataset, void* data, int dataType, int rows, int columns, int startRow);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_DatasetSetField(DatasetHandle dataset, string fieldName, void* fieldData, int count, int type);

    [LibraryImport(Library)]
    public static partial int LGBM_DatasetGetNumData(DatasetHandle dataset, out int rows);

    [LibraryImport(Library)]
    public static partial int LGBM_DatasetGetNumFeature(DatasetHandle dataset, out int features);

    [LibraryImport(Library)]
    public static partial int LGBM_DatasetFree(IntPtr dataset);

    // --- boosters

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_BoosterCreate(DatasetHandle train, string parameters, out BoosterHandle booster);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_BoosterLoadModelFromString(string modelText, out int iterations, out BoosterHandle booster);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterFree(IntPtr booster);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterAddValidData(BoosterHandle booster, DatasetHandle valid);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterUpdateOneIter(BoosterHandle booster, out int isFinished);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterUpdateOneIterCustom(BoosterHandle booster, float* gradients, float* hessians, out int isFinished);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterRollbackOneIter(BoosterHandle booster);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterGetCurrentIteration(BoosterHandle booster, out int iteration);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterGetNumFeature(BoosterHandle booster, out int features);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterGetEvalCounts(BoosterHandle booster, out int count);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterGetEval(BoosterHandle booster, int dataIndex, out int count, double* results);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterGetNumPredict(BoosterHandle booster, int dataIndex, out long count);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterGetPredict(BoosterHandle booster, int dataIndex, out long count, double* results);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_BoosterPredictForMat(BoosterHandle booster, void* data, int dataType, int rows, int columns,
        int isRowMajor, int predictType, int startIteration, int numIteration, string parameters, out long outLength, double* results);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterSaveModelToString(BoosterHandle booster, int startIteration, int numIteration,
        int featureImportanceType, long bufferLength, out long outLength, byte* buffer);

    [LibraryImport(Library)]
    public static partial int LGBM_BoosterDumpModel(BoosterHandle booster, int startIteration, int numIteration,
        int featureImportanceType, long bufferLength, out long outLength, byte* buffer);

    // --- network (process-global inside LightGBM)

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LGBM_NetworkInit(string machines, int localListenPort, int listenTimeoutMinutes, int numMachines);

    [LibraryImport(Library)]
    public static partial int LGBM_NetworkFree();
}

/// <summary>A LightGBM dataset, freed with LGBM_DatasetFree.</summary>
internal sealed class DatasetHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;
    protected override bool ReleaseHandle() => LightGbmNative.LGBM_DatasetFree(handle) == 0;
}

/// <summary>A LightGBM booster, freed with LGBM_BoosterFree.</summary>
internal sealed class BoosterHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;
    protected override bool ReleaseHandle() => LightGbmNative.LGBM_BoosterFree(handle) == 0;
}
