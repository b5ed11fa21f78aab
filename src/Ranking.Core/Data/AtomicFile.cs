namespace Ranking.Data;

/// <summary>
/// Writes a file so that a crash or a kill mid-write leaves either the old file or none, never half of
/// the new one: the bytes go to a temporary file in the same folder, are flushed to disk, and the
/// temporary file is renamed over the target (rename is atomic within one file system).
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with what <paramref name="write"/> writes to the stream, all or nothing: on an exception the target is left as it was and the temporary file is deleted.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        RemoveStaleTemps(dir, Path.GetFileName(full));
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Deletes temporary files of this target left by writers that were killed mid-write (their process
    /// id no longer runs), so a crash leaves no litter after the next successful write.
    /// </summary>
    private static void RemoveStaleTemps(string dir, string fileName)
    {
        try
        {
            foreach (string stale in Directory.EnumerateFiles(dir, $".{fileName}.*.tmp"))
            {
                string middle = Path.GetFileName(stale)[(fileName.Length + 2)..];
                int dot = middle.IndexOf('.');
                if (dot <= 0 || !int.TryParse(middle.AsSpan(0, dot), out int pid) || pid == Environment.ProcessId || IsRunning(pid)) continue;
                File.Delete(stale);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark, all or nothing (see <see cref="Write"/>).</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s =>
        {
            using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
            w.Write(text);
        });

    /// <summary>Writes <paramref name="bytes"/>, all or nothing (see <see cref="Write"/>).</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));
}
