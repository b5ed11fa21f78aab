using System.Runtime.InteropServices;

namespace Ranking.LightGbm.Native;

/// <summary>
/// LightGBM's OpenMP runtime (libgomp on Linux) reads <c>OMP_WAIT_POLICY</c> once, when it is loaded, from
/// the process environment, and by default its idle workers spin for a while after every parallel region.
/// On a machine where another process holds a core, those spinning workers and our own threads (the
/// custom objective's, the evaluator's) take turns on the CPU and a training run falls off a cliff (3.3x
/// native lambdarank measured on a busy 2-core machine). So before lib_lightgbm is loaded the policy is
/// set to <c>PASSIVE</c> (workers sleep when idle) in the real C environment; .NET's
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> alone only changes the runtime's copy,
/// which native code never reads. A user who set <c>OMP_WAIT_POLICY</c> or <c>GOMP_SPINCOUNT</c> keeps
/// their setting.
/// </summary>
internal static unsafe class OpenMpEnvironment
{
    /// <summary>The variable libgomp and LLVM's libomp both read.</summary>
    public const string WaitPolicy = "OMP_WAIT_POLICY";

    /// <summary>The policy this binding sets where the user set none.</summary>
    public const string DefaultPolicy = "PASSIVE";

    private static int _applied;

    /// <summary>Sets the wait policy in the C environment unless the user chose one (idempotent).</summary>
    public static void Apply()
    {
        if (Interlocked.Exchange(ref _applied, 1) == 1) return;
        if (OperatingSystem.IsWindows()) return; // MSVC's vcomp: no such variable read at load
        if (Environment.GetEnvironmentVariable(WaitPolicy) is not null || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null) return;
        if (!TryLoadLibc(out IntPtr libc) || !NativeLibrary.TryGetExport(libc, "setenv", out IntPtr setenv)) return;
        var set = (delegate* unmanaged<byte*, byte*, int, int>)setenv;
        fixed (byte* name = "OMP_WAIT_POLICY\0"u8)
        fixed (byte* value = "PASSIVE\0"u8)
            if (set(name, value, 0) != 0) return;
        // keep the runtime's copy in step, for child processes started through .NET
        Environment.SetEnvironmentVariable(WaitPolicy, DefaultPolicy);
    }

    /// <summary>The value of a variable in the C environment (what native libraries see), or null.</summary>
    public static string? NativeValue(string name)
    {
        if (OperatingSystem.IsWindows() || !TryLoadLibc(out IntPtr libc) || !NativeLibrary.TryGetExport(libc, "getenv", out IntPtr getenv)) return null;
        var get = (delegate* unmanaged<byte*, byte*>)getenv;
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes)
        {
            byte* value = get(p);
            return value == null ? null : Marshal.PtrToStringUTF8((IntPtr)value);
        }
    }

    private static bool TryLoadLibc(out IntPtr handle) =>
        NativeLibrary.TryLoad(OperatingSystem.IsMacOS() ? "/usr/lib/libSystem.B.dylib" : "libc.so.6", out handle);
}
