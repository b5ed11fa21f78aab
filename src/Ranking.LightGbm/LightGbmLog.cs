using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

using Ranking.LightGbm.Native;

namespace Ranking.LightGbm;

/// <summary>
/// LightGBM prints its log (and "[LightGBM] [Fatal] ..." before every error) straight to stdout, which would
/// corrupt the CLI's output and JSON. Its log is routed here instead: dropped unless
/// <see cref="LightGbmLog.Message"/> has a listener. Errors still reach the caller as <see cref="LightGbmException"/>.
/// </summary>
public static unsafe class LightGbmLog
{
    /// <summary>Raised with each line LightGBM logs (from LightGBM's threads).</summary>
    public static event Action<string>? Message;

    private static int _registered;

    /// <summary>Routes LightGBM's log here; every entry point of this binding calls it first.</summary>
    internal static void EnsureRegistered()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        LightGbmNative.LGBM_RegisterLogCallback(&OnLog);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnLog(byte* text)
    {
        try
        {
            if (Message is { } handler && text != null) handler(Marshal.PtrToStringUTF8((IntPtr)text)!.TrimEnd());
        }
        catch
        {
            // An exception must never unwind into native code.
        }
    }
}
