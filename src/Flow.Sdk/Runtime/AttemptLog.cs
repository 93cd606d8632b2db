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

    public AttemptLog(IFileSystem fs, string attemptDir)
    {
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
