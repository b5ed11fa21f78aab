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
            LightGbmException.Check(LightGbmNative.LGBM_NetworkInit(machines, localPort, timeoutMinutes, numMachines), "LGBM_NetworkInit");
            _active = true;
            return new LightGbmNetwork();
        }
    }

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
