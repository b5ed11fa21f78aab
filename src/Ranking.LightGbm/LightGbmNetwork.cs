using System.Runtime.InteropServices;
using Ranking.LightGbm.Native;

namespace Ranking.LightGbm;

/// <summary>
/// LightGBM's socket network for data-parallel training. It is one per process inside LightGBM, so one
/// distributed training at a time per process; <see cref="Dispose"/> frees it (LGBM_NetworkFree).
/// It must be set up before the datasets are built: bin boundaries are agreed between machines then.
/// </summary>
public sealed class LightGbmNetwork : IDisposable
{
    private static readonly Lock Gate = new();
    private static bool _active;
    private bool _disposed;

    private LightGbmNetwork() { }

    /// <summary>Connects to every machine of <paramref name="machines"/> ("host:port,..."), listening on <paramref name="localPort"/>.</summary>
    public static LightGbmNetwork Init(string machines, int localPort, int numMachines, int timeoutMinutes = 2)
    {
        LightGbmLog.EnsureRegistered();
        lock (Gate)
        {
            if (_active) throw new InvalidOperationException("a distributed LightGBM training is already running in this process.");
            int rc;
            using (StdoutSilencer.Begin())
                rc = LightGbmNative.LGBM_NetworkInit(machines, localPort, timeoutMinutes, numMachines);
            LightGbmException.Check(rc, "LGBM_NetworkInit");
            _active = true;
            return new LightGbmNetwork();
        }
    }

    /// <summary>Frees LightGBM's network (LGBM_NetworkFree).</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed) return;
            _disposed = true;
            _active = false;
            LightGbmException.Check(LightGbmNative.LGBM_NetworkFree(), "LGBM_NetworkFree");
        }
    }
}

/// <summary>
/// LightGBM's network listener runs on a thread of its own, where our log callback and verbosity (both
/// thread-local inside LightGBM) do not apply, so it prints "[LightGBM] [Info] Listening..." to stdout,
/// which would break `ranking train --json`. While the network is set up (a blocking call that joins that
/// thread) file descriptor 1 points at /dev/null. Unix only; elsewhere the line stays.
/// </summary>
internal static partial class StdoutSilencer
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int dup2(int fd, int fd2);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int open(string path, int flags);

    public static IDisposable? Begin()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return null;
        try
        {
            Console.Out.Flush();
            int saved = dup(1);
            if (saved < 0) return null;
            int devNull = open("/dev/null", 1 /* O_WRONLY */);
            if (devNull < 0) { close(saved); return null; }
            dup2(devNull, 1);
            close(devNull);
            return new Restore(saved);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private sealed class Restore(int saved) : IDisposable
    {
        public void Dispose()
        {
            dup2(saved, 1);
            close(saved);
        }
    }
}
