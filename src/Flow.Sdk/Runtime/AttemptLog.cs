using System.Globalization;
using System.IO.Abstractions;
using System.Text;
using Flow.Sdk.Datastore;

namespace Flow.Sdk.Runtime;

/// <summary>
/// The stored stdout and stderr of one attempt, in <see cref="LogFormat"/>, written as each line arrives so a killed
/// task keeps its log. A stream's file is created with its first line: a task that prints nothing leaves no empty
/// files (readers take a missing log as empty), which saves two files per task in a wide foreach.
/// </summary>
internal sealed class AttemptLog : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly string _attemptDir;
    private Stream? _stdout;
    private Stream? _stderr;
    private bool _disposed;
    private readonly Lock _gate = new();
    private readonly long _maxBytes;
    private readonly TextWriter _notes;
    private long _stdoutBytes;
    private long _stderrBytes;

    /// <summary>The default cap of each stream of an attempt (<c>--max-log-size</c>, in MB).</summary>
    public const int DefaultMaxMegabytes = 10;

    /// <param name="fs">The file system the log is written to.</param>
    /// <param name="attemptDir">The attempt's folder (created with the first line if missing).</param>
    /// <param name="maxBytes">The cap of each stream (<c>--max-log-size</c>).</param>
    /// <param name="notes">Where a log that cannot be written is reported; by default the console's stderr as it is
    /// now, so a note never goes through a <see cref="LogTee"/> installed later that writes back into this log.</param>
    public AttemptLog(IFileSystem fs, string attemptDir, long maxBytes = DefaultMaxMegabytes * 1024L * 1024L, TextWriter? notes = null)
    {
        _maxBytes = maxBytes;
        _notes = notes ?? Console.Error;
        _fs = fs;
        _attemptDir = attemptDir;
    }

    public void Write(bool isError, string line)
    {
        var bytes = LogFormat.Line(DateTime.UtcNow, line);
        string? note = null;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
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
            try
            {
                var stream = isError
                    ? _stderr ??= Open(LogFormat.Stderr)
                    : _stdout ??= Open(LogFormat.Stdout);
                stream.Write(bytes);
                stream.Flush();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A log that cannot be stored (disk full, permissions) must not stop the task's output: the console
                // keeps showing it, and this stream stores nothing more.
                written = _maxBytes + 1;
                note = $"flow: the {(isError ? "stderr" : "stdout")} log in {_attemptDir} could not be written ({e.Message}); the console still shows the task's output.";
            }
        }
        // Printed outside the lock: the writer may be a console another thread holds while it writes to this log.
        if (note is not null)
        {
            _notes.WriteLine(note);
        }
    }

    private Stream Open(string name)
    {
        var path = _fs.Path.Combine(_attemptDir, name);
        try
        {
            return _fs.FileStream.New(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (DirectoryNotFoundException)
        {
            // The attempt's folder exists once its start is recorded; a log written before that creates it.
            _fs.Directory.CreateDirectory(_attemptDir);
            return _fs.FileStream.New(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _stdout?.Dispose();
            _stderr?.Dispose();
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
