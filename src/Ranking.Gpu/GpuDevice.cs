using System.Collections.Concurrent;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Ranking.Gpu;

/// <summary>Which accelerators <see cref="GpuDevice.Open"/> may take.</summary>
public enum AcceleratorPreference
{
    /// <summary>CUDA, then OpenCL, then ILGPU's CPU accelerator (always succeeds).</summary>
    BestAvailable,
    /// <summary>CUDA, then OpenCL; null when neither exists.</summary>
    RealGpuOnly,
    /// <summary>ILGPU's CPU accelerator: the kernels run as managed threads (correctness tests).</summary>
    CpuAccelerator,
}

/// <summary>
/// One ILGPU context and accelerator, the kernels loaded on it (compiled once, cached by kernel family)
/// and a count of host-device transfers. Creating a context costs ~200 ms and the first compile of a
/// kernel ~300 ms, so a process keeps one device (see <see cref="Shared"/>) rather than one per call.
/// Launches on one device are serialised by <see cref="Sync"/>: ILGPU streams are not thread-safe.
/// </summary>
public sealed class GpuDevice : IDisposable
{
    private readonly Context _context;
    private readonly ConcurrentDictionary<Type, object> _kernelFamilies = new();
    private static readonly object s_sharedLock = new();
    private static readonly Dictionary<AcceleratorPreference, GpuDevice?> s_shared = new();

    private GpuDevice(Context context, Accelerator accelerator)
    {
        _context = context;
        Accelerator = accelerator;
    }

    /// <summary>The ILGPU accelerator (CUDA, OpenCL or CPU) the kernels are loaded on.</summary>
    public Accelerator Accelerator { get; }

    /// <summary>Taken around every launch sequence and transfer on this device.</summary>
    public object Sync { get; } = new();

    /// <summary>Host-device copies made through this device so far.</summary>
    public TransferCounter Transfers { get; } = new();

    /// <summary>True for CUDA and OpenCL devices, false for ILGPU's CPU accelerator.</summary>
    public bool IsRealGpu => Accelerator.AcceleratorType is AcceleratorType.Cuda or AcceleratorType.OpenCL;

    /// <summary>The accelerator's type and name, e.g. "Cuda: NVIDIA H200".</summary>
    public string Description => $"{Accelerator.AcceleratorType}: {Accelerator.Name}";

    /// <summary>ILGPU.Algorithms (its radix sort, scans and math) is on unless RANKING_GPU_ALGORITHMS=0 (for diagnosis).</summary>
    private static bool AlgorithmsEnabled => Environment.GetEnvironmentVariable("RANKING_GPU_ALGORITHMS") != "0";

    /// <summary>Whether kernels may use ILGPU.Algorithms (the segmented sort of long queries needs it).</summary>
    public bool Algorithms { get; } = AlgorithmsEnabled;

    /// <summary>Turns on libdevice where a CUDA SDK is found; without one the software math stays.</summary>
    private static void TryLibDevice(Context.Builder builder)
    {
        try { builder.LibDevice(); }
        catch (Exception ex) when (ex is not OutOfMemoryException) { /* no CUDA SDK: keep ILGPU.Algorithms' math */ }
    }

    /// <summary>Opens a new device; null only for <see cref="AcceleratorPreference.RealGpuOnly"/> without a GPU.</summary>
    public static GpuDevice? Open(AcceleratorPreference preference)
    {
        var context = Context.Create(builder =>
        {
            if (preference != AcceleratorPreference.CpuAccelerator)
            {
                builder.Cuda().OpenCL();
                // On CUDA, Math.Exp/Log/Pow in double go to NVIDIA's libdevice (found in the CUDA SDK) when
                // present: ILGPU.Algorithms' software versions of them hung the first metric kernel on an
                // H200. RANKING_GPU_LIBDEVICE=0 turns this off (for diagnosis).
                if (Environment.GetEnvironmentVariable("RANKING_GPU_LIBDEVICE") != "0") TryLibDevice(builder);
            }
            builder.CPU().Math(MathMode.Default);
            if (AlgorithmsEnabled) builder.EnableAlgorithms();
        });
        try
        {
            Device? device = null;
            if (preference != AcceleratorPreference.CpuAccelerator)
            {
                device = context.Devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.Cuda)
                    ?? context.Devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.OpenCL);
            }
            if (device is null && preference != AcceleratorPreference.RealGpuOnly)
                device = context.GetCPUDevice(0);
            if (device is null)
            {
                context.Dispose();
                return null;
            }
            return new GpuDevice(context, device.CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The process-wide device for a preference, opened on first use and kept until exit (the
    /// context and compiled kernels are the expensive part). Null as <see cref="Open"/>.
    /// </summary>
    public static GpuDevice? Shared(AcceleratorPreference preference)
    {
        lock (s_sharedLock)
        {
            if (!s_shared.TryGetValue(preference, out var device))
            {
                device = Open(preference);
                s_shared[preference] = device;
            }
            return device;
        }
    }

    /// <summary>The kernels of one family, compiled on first use and cached for the device's lifetime.</summary>
    public T Kernels<T>(Func<Accelerator, T> load) where T : class =>
        (T)_kernelFamilies.GetOrAdd(typeof(T), _ => load(Accelerator));

    /// <summary>Allocates a device buffer and copies <paramref name="data"/> into it (counted).</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(T[] data) where T : unmanaged
    {
        var buffer = Accelerator.Allocate1D<T>(Math.Max(1, data.Length));
        if (data.Length > 0) Upload(data, buffer.View.SubView(0, data.Length));
        return buffer;
    }

    /// <summary>Copies host data into an existing device view (counted).</summary>
    public void Upload<T>(ReadOnlySpan<T> data, ArrayView<T> target) where T : unmanaged
    {
        target.SubView(0, data.Length).CopyFromCPU(data);
        Transfers.CountUpload((long)data.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
    }

    /// <summary>Copies a device view back to host memory (counted; waits for queued kernels).</summary>
    public void Download<T>(ArrayView<T> source, Span<T> target) where T : unmanaged
    {
        source.SubView(0, target.Length).CopyToCPU(target);
        Transfers.CountDownload((long)target.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
    }

    /// <summary>Waits until every queued kernel and copy on the accelerator's default stream has finished.</summary>
    public void Synchronize() => Accelerator.Synchronize();

    /// <summary>Frees the loaded kernel families' buffers, the accelerator and the ILGPU context.</summary>
    public void Dispose()
    {
        foreach (var family in _kernelFamilies.Values) (family as IDisposable)?.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }
}

/// <summary>Host-device copies so far: tests and benchmarks check that a training loop does not chatter.</summary>
public sealed class TransferCounter
{
    private long _uploads, _downloads, _uploadBytes, _downloadBytes;

    /// <summary>Host-to-device copies so far.</summary>
    public long Uploads => Interlocked.Read(ref _uploads);
    /// <summary>Device-to-host copies so far.</summary>
    public long Downloads => Interlocked.Read(ref _downloads);
    /// <summary>Bytes copied host to device so far.</summary>
    public long UploadBytes => Interlocked.Read(ref _uploadBytes);
    /// <summary>Bytes copied device to host so far.</summary>
    public long DownloadBytes => Interlocked.Read(ref _downloadBytes);

    internal void CountUpload(long bytes) { Interlocked.Increment(ref _uploads); Interlocked.Add(ref _uploadBytes, bytes); }
    internal void CountDownload(long bytes) { Interlocked.Increment(ref _downloads); Interlocked.Add(ref _downloadBytes, bytes); }

    /// <summary>The counts and byte totals in both directions, for logs.</summary>
    public override string ToString() => $"{Uploads} uploads ({UploadBytes:N0} B), {Downloads} downloads ({DownloadBytes:N0} B)";
}
