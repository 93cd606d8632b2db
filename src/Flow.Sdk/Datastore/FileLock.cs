using System.IO.Abstractions;

namespace Flow.Sdk.Datastore;

/// <summary>
/// A lock shared by processes on one machine (and on file systems that honour <c>flock</c>): a lock file opened
/// with <see cref="FileShare.None"/>, which .NET implements with an exclusive <c>flock</c> on Unix. Writers of a
/// flow's run metadata (index appends, tag changes, compaction) hold it; readers never take it.
/// </summary>
/// <remarks>The lock file itself is never deleted: deleting it would let two writers lock two different files.</remarks>
internal sealed class FileLock : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly FileSystemStream _stream;

    private FileLock(FileSystemStream stream) => _stream = stream;

    /// <summary>Takes the lock, waiting up to 30 s for another holder.</summary>
    public static FileLock Acquire(IFileSystem fs, string path)
    {
        var deadline = DateTime.UtcNow + s_wait;
        var delay = 1;
        while (true)
        {
            try
            {
                return new FileLock(fs.FileStream.New(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline && fs.File.Exists(path))
            {
                // Held by another writer: it holds it for a few milliseconds.
                Thread.Sleep(delay);
                delay = Math.Min(delay * 2, 50);
            }
            catch (IOException e)
            {
                throw new FlowException($"Could not lock {path} within {s_wait.TotalSeconds:0} s ({e.Message}); is another dotnet flow process stuck?", ExitCodes.Failure, e);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
