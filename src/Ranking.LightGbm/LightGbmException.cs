using System.Runtime.InteropServices;
using Ranking.Data;
using Ranking.LightGbm.Native;

namespace Ranking.LightGbm;

/// <summary>
/// A LightGBM C API call failed. <see cref="Exception.Message"/> names the call and carries LightGBM's own
/// reason (LGBM_GetLastError), e.g. "LightGBM LGBM_BoosterCreate failed: Check failed: (num_data) > (0)".
/// The CLI reports it as one line; the process never crashes on it. It is a <see cref="RankingDataException"/>
/// because what LightGBM refuses is nearly always the input: grades beyond the label-gain table, a parameter
/// out of range, a model text that does not parse, an unreachable machine list (CLI exit code 2).
/// </summary>
public sealed class LightGbmException : RankingDataException
{
    /// <summary>A failure of LightGBM C API function <paramref name="call"/>, with LightGBM's own message.</summary>
    public LightGbmException(string call, string nativeMessage)
        : base($"LightGBM {call} failed: {nativeMessage}")
    {
        Call = call;
        NativeMessage = nativeMessage;
    }

    /// <summary>The C API function that failed.</summary>
    public string Call { get; }

    /// <summary>LightGBM's LGBM_GetLastError text.</summary>
    public string NativeMessage { get; }

    /// <summary>Throws when <paramref name="returnCode"/> is not 0; must run on the thread that made the call.</summary>
    internal static void Check(int returnCode, string call)
    {
        if (returnCode == 0) return;
        string message = Marshal.PtrToStringUTF8(LightGbmNative.LGBM_GetLastError()) ?? "(no message)";
        throw new LightGbmException(call, message.Trim());
    }
}
