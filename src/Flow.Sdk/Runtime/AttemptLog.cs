using System.Globalization;
using System.IO.Abstractions;
using System.Text;

namespace Flow.Sdk.Runtime;

/// <summary>
/// The stored stdout and stderr of one attempt: one line per line printed, prefixed with its UTC timestamp
/// (<c>2026-11-27T07:09:33.123456Z text</c>), written as it arrives so a killed task keeps its log.
/// </summary>
internal sealed class AttemptLog : IDisposable
{
    private readonly Stream _stdout;
    private readonly Stream _stderr;
    private readonly Lock _gate = new();
    private readonly long _maxBytes;
    private long _stdoutBytes;
    private long _stderrBytes;

    /// <summary>The default cap of each stream of an attempt (<c>--max-log-size</c>, in MB).</summary>
    public const int DefaultMaxMegabytes = 10;

    public AttemptLog(IFileSystem fs, string attemptDir, long maxBytes = DefaultMaxMegabytes * 1024L * 1024L)
    {
        _maxBytes = maxBytes;
        fs.Directory.CreateDirectory(attemptDir);
        _stdout = fs.FileStream.New(fs.Path.Combine(attemptDir, "stdout.log"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        _stderr = fs.FileStream.New(fs.Path.Combine(attemptDir, "stderr.log"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
    }

    public void Write(bool isError, string line)
    {
        var bytes = Encoding.UTF8.GetBytes(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture) + " " + line + "\n");
        lock (_gate)
        {
            var stream = isError ? _stderr : _stdout;
            ref var written = ref isError ? ref _stderrBytes : ref _stdoutBytes;
            if (written > _maxBytes)
            {
                return;
            }
            if (written + bytes.Length > _maxBytes)
            {
                // Past the cap the log keeps one line that says so; the console still shows everything.
                bytes = Encoding.UTF8.GetBytes(DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture)
                    + $" [log truncated: this stream reached --max-log-size {_maxBytes / (1024.0 * 1024.0):0.##} MB; later lines are not stored]\n");
                written = _maxBytes + 1;
            }
            else
            {
                written += bytes.Length;
            }
            stream.Write(bytes);
            stream.Flush();
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stdout.Dispose();
            _stderr.Dispose();
        }
    }
}
