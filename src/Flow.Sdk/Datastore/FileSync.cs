using System.IO.Abstractions;
using System.Runtime.InteropServices;

namespace Flow.Sdk.Datastore;

/// <summary>
/// Makes written bytes survive a power cut (docs/datastore.md, "Durability"): a file's content with
/// <c>fsync</c>, a directory's entries (a rename into it) with <c>fsync</c> of the directory, and many files at
/// once with one <c>syncfs</c>. On a mock file system (unit tests) and on Windows directory syncs are skipped.
/// </summary>
internal static partial class FileSync
{
    /// <summary>From this many pending files on, one <c>syncfs</c> is cheaper than one <c>fsync</c> each.</summary>
    public const int BatchThreshold = 8;

    private const int SyncFileRangeWrite = 2;

    /// <summary>
    /// Whether flushes happen: <c>FLOW_FSYNC=0</c> turns them off, for a scratch datastore that need not survive a power
    /// cut (on tmpfs, say) and to measure what durability costs.
    /// </summary>
    public static readonly bool Enabled = Environment.GetEnvironmentVariable("FLOW_FSYNC") != "0";

    /// <summary>Flushes a stream's file to the disk (content and size).</summary>
    public static void Data(FileSystemStream stream) => stream.Flush(flushToDisk: Enabled);

    /// <summary>Flushes the file or directory at <paramref name="path"/> (for a directory: its entries).</summary>
    public static void Path(IFileSystem fs, string path)
    {
        if (!Enabled || fs is not FileSystem || OperatingSystem.IsWindows())
        {
            return;
        }
        var fd = Open(path, 0);
        if (fd < 0)
        {
            return; // gone or unreadable: nothing of ours to make durable there
        }
        try
        {
            _ = Fsync(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>Flushes everything written to the file system that holds <paramref name="path"/>, with one call.</summary>
    public static void FileSystemOf(IFileSystem fs, string path)
    {
        if (!Enabled || fs is not FileSystem || OperatingSystem.IsWindows())
        {
            return;
        }
        if (!OperatingSystem.IsLinux())
        {
            Path(fs, path);
            return;
        }
        var fd = Open(path, 0);
        if (fd < 0)
        {
            return;
        }
        try
        {
            _ = SyncFs(fd);
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Asks the kernel to start writing a range of a file to the disk now, without waiting: a large blob's bytes
    /// then reach the disk while the rest is still being written, and the final <see cref="Data"/> waits only for
    /// the tail.
    /// </summary>
    public static void StartWriteback(FileSystemStream stream, long offset, long count)
    {
        if (!Enabled || !OperatingSystem.IsLinux() || count <= 0)
        {
            return;
        }
        try
        {
            var handle = ((FileStream)stream).SafeFileHandle;
            _ = SyncFileRange((int)handle.DangerousGetHandle(), offset, count, SyncFileRangeWrite);
        }
        catch (Exception e) when (e is InvalidCastException or NullReferenceException or ObjectDisposedException)
        {
            // Not a real file (a mock file system): nothing to start.
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
    private static partial int SyncFs(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(int fd, long offset, long count, uint flags);
}
