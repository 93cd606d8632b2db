using System.IO.Abstractions;

namespace Flow.Sdk.Datastore;

/// <summary>
/// The one liveness rule of the datastore, for runs (their orchestrator), attempts (their task's process) and
/// writer leases: a heartbeat file rewritten every <see cref="Interval"/> with <c>&lt;pid&gt;@&lt;machine&gt;</c>.
/// Its owner is alive while the file is younger than <see cref="Stale"/> and, when it names a process on this
/// machine, that process still exists (so a killed process is seen at once, not 30 s later).
/// </summary>
internal static class Heartbeat
{
    /// <summary>How often an owner rewrites its heartbeat.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>A heartbeat older than this belongs to a process that stopped (killed, machine gone, paused).</summary>
    public static readonly TimeSpan Stale = TimeSpan.FromSeconds(30);

    /// <summary>What a heartbeat of this process says.</summary>
    public static string Owner => $"{Environment.ProcessId}@{Environment.MachineName}";

    /// <summary>Writes (or refreshes) a heartbeat; a failed beat is harmless, the next follows in a few seconds.</summary>
    public static void Beat(IFileSystem fs, string path)
    {
        try
        {
            fs.File.WriteAllText(path, Owner);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Whether the heartbeat at <paramref name="path"/> belongs to a live process.</summary>
    public static bool IsAlive(IFileSystem fs, string path)
    {
        var info = fs.FileInfo.New(path);
        if (!info.Exists || DateTime.UtcNow - info.LastWriteTimeUtc >= Stale)
        {
            return false;
        }
        string text;
        try
        {
            text = fs.File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // fresh, and being rewritten right now
        }
        return !OwnerGone(text);
    }

    /// <summary>Whether <c>pid@machine</c> names a process on this machine that no longer exists.</summary>
    private static bool OwnerGone(string owner)
    {
        var at = owner.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || owner[(at + 1)..].Trim() != Environment.MachineName || !int.TryParse(owner[..at], out var pid))
        {
            return false; // another machine (a cluster node) or an older format: freshness decides
        }
        return !ProcessExists(pid);
    }

    internal static bool ProcessExists(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            // A killed process whose parent died too may stay a zombie (state Z) until something reaps it.
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
                return state is not ('Z' or 'X');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
