using System.IO.Abstractions;

namespace Flow.Sdk.Datastore;

/// <summary>
/// A writer's lease, <c>leases/&lt;start&gt;-&lt;pid&gt;-&lt;id&gt;</c>: taken by a process before it writes or reuses
/// any blob, kept alive by a heartbeat, removed when the process ends. <c>gc</c> never collects a blob modified
/// after the start of a live lease, so whatever a writer stored or refreshed cannot disappear before its record
/// names it (docs/datastore.md, "Writers and gc").
/// </summary>
internal sealed class Lease : IDisposable
{
    public const string FolderName = "leases";
    private readonly IFileSystem _fs;
    private readonly Timer _beat;
    private int _disposed;

    private Lease(IFileSystem fs, string path, DateTime startedAt)
    {
        _fs = fs;
        Path = path;
        StartedAt = startedAt;
        _beat = new Timer(_ => Heartbeat.Beat(_fs, Path), null, Heartbeat.Interval, Heartbeat.Interval);
        AppDomain.CurrentDomain.ProcessExit += OnExit;
    }

    public string Path { get; }

    /// <summary>Gets when the lease was taken (this machine's clock); everything the holder touches is newer.</summary>
    public DateTime StartedAt { get; }

    /// <summary>Takes a lease in the datastore at <paramref name="root"/>; null when the datastore is read-only.</summary>
    public static Lease? Take(IFileSystem fs, string root)
    {
        var dir = fs.Path.Combine(root, FolderName);
        // Taken a little before the clock says, so a blob touched in the same instant is strictly newer. The start
        // is in the name, which never changes (the content and the time are the heartbeat).
        var startedAt = DateTime.UtcNow - TimeSpan.FromSeconds(1);
        var name = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{startedAt.Ticks}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        var path = fs.Path.Combine(dir, name);
        try
        {
            fs.Directory.CreateDirectory(dir);
            fs.File.WriteAllText(path, Heartbeat.Owner);
            fs.File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // a read-only datastore: nothing will be written, so nothing needs protecting
        }
        return new Lease(fs, path, startedAt);
    }

    /// <summary>The start of every live lease in the datastore but <paramref name="own"/>, and the dead leases (to remove).</summary>
    public static (List<DateTime> Live, List<string> Dead) Scan(IFileSystem fs, string root, string? own = null)
    {
        var live = new List<DateTime>();
        var dead = new List<string>();
        var dir = fs.Path.Combine(root, FolderName);
        if (!fs.Directory.Exists(dir))
        {
            return (live, dead);
        }
        foreach (var file in fs.Directory.EnumerateFiles(dir))
        {
            if (file == own)
            {
                continue; // the caller's own writes are its business (a test that writes, then collects)
            }
            var name = fs.Path.GetFileName(file);
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (Heartbeat.IsAlive(fs, file) && dash > 0 && long.TryParse(name[..dash], out var ticks) && ticks > 0 && ticks < DateTime.MaxValue.Ticks)
            {
                live.Add(new DateTime(ticks, DateTimeKind.Utc));
            }
            else
            {
                dead.Add(file);
            }
        }
        return (live, dead);
    }

    private void OnExit(object? sender, EventArgs e) => Dispose();

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        AppDomain.CurrentDomain.ProcessExit -= OnExit;
        _beat.Dispose();
        try
        {
            _fs.File.Delete(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
