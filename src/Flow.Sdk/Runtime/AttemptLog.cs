using System.Globalization;
using System.IO.Abstractions;
using System.Text;
using Flow.Sdk.Datastore;

namespace Flow.Sdk.Runtime;

/// <summary>
/// The stored stdout and stderr of one attempt, in <see cref="LogFormat"/>, written as each line arrives so a killed
/// task keeps its log.
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
        _stdout = fs.FileStream.New(fs.Path.Combine(attemptDir, LogFormat.Stdout), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        _stderr = fs.FileStream.New(fs.Path.Combine(attemptDir, LogFormat.Stderr), FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
    }

    public void Write(bool isError, string line)
    {
        var bytes = LogFormat.Line(DateTime.UtcNow, line);
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
                bytes = LogFormat.Line(DateTime.UtcNow, string.Create(CultureInfo.InvariantCulture, $"[log truncated: this stream reached --max-log-size {_maxBytes / (1024.0 * 1024.0):0.##} MB; later lines are not stored]"));
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

/// <summary>
/// A console writer that also stores each line it is given in an attempt's log: what <c>step --logs</c> puts in
/// place of stdout and stderr, so a task run as a cluster job keeps its output in the datastore as it prints it.
/// </summary>
internal sealed class LogTee(TextWriter console, Action<string> store) : TextWriter
{
    private readonly StringBuilder _line = new();
    private readonly Lock _gate = new();

    public override Encoding Encoding => console.Encoding;

    public override void Write(char value)
    {
        lock (_gate)
        {
            console.Write(value);
            Append(value);
        }
    }

    public override void Write(string? value)
    {
        if (value is null)
        {
            return;
        }
        lock (_gate)
        {
            console.Write(value);
            foreach (var c in value)
            {
                Append(c);
            }
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_gate)
        {
            Write(value);
            Write('\n');
        }
    }

    public override void Flush()
    {
        lock (_gate)
        {
            console.Flush();
        }
    }

    /// <summary>Stores a last line that has no newline yet.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_line.Length > 0)
            {
                store(_line.ToString());
                _line.Clear();
            }
            console.Flush();
        }
    }

    private void Append(char c)
    {
        if (c == '\n')
        {
            store(_line.ToString().TrimEnd('\r'));
            _line.Clear();
        }
        else
        {
            _line.Append(c);
        }
    }
}
