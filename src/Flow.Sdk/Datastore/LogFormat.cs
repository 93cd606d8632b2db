using System.Globalization;
using System.IO.Abstractions;
using System.Text;

namespace Flow.Sdk.Datastore;

/// <summary>
/// The format of an attempt's <c>stdout.log</c> and <c>stderr.log</c>: one line per printed line,
/// <c>2026-11-27T07:09:33.123456Z text</c> (UTC, microseconds). Written by the runtime, read by the client and the
/// tool through <see cref="LogReader"/>; nothing else knows it.
/// </summary>
internal static class LogFormat
{
    public const string Stdout = "stdout.log";
    public const string Stderr = "stderr.log";

    /// <summary>A printed line longer than this is stored as several lines of at most this many characters.</summary>
    public const int MaxLineChars = 64 * 1024;

    /// <summary>How a line's time is written; readers accept any ISO 8601 UTC time.</summary>
    public const string TimeFormat = "yyyy-MM-ddTHH:mm:ss.ffffffZ";

    public static string FileName(bool isError) => isError ? Stderr : Stdout;

    /// <summary>One stored line, newline included.</summary>
    public static byte[] Line(DateTime utc, string text) =>
        Encoding.UTF8.GetBytes(utc.ToString(TimeFormat, CultureInfo.InvariantCulture) + " " + text + "\n");

    /// <summary>Splits a stored line into its timestamp (empty when it has none) and its text.</summary>
    public static (string Time, string Text) Parse(string line)
    {
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return space is >= 20 and <= 40 && line[space - 1] == 'Z'
            && DateTime.TryParse(line[..space], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _)
            ? (line[..space], line[(space + 1)..])
            : (string.Empty, line);
    }
}

/// <summary>One line of a task's output as stored.</summary>
/// <param name="Time">The UTC timestamp as stored (ISO 8601, microseconds); empty for a line without one.</param>
/// <param name="Text">The line as the task printed it.</param>
/// <param name="IsError">Whether it was printed on standard error.</param>
internal readonly record struct LogLine(string Time, string Text, bool IsError);

/// <summary>
/// Reads an attempt's logs incrementally: each call returns the complete lines written since the last one
/// (a line still being written is kept for the next call), so following a running task never re-reads a byte.
/// </summary>
internal sealed class LogReader(IFileSystem fs, string path, bool isError)
{
    private long _offset;
    private string _partial = string.Empty;

    /// <summary>Gets how many bytes of the file have been read.</summary>
    public long Offset => _offset;

    /// <summary>Starts reading at <paramref name="offset"/> (a value an earlier reader returned).</summary>
    public LogReader(IFileSystem fs, string path, bool isError, long offset)
        : this(fs, path, isError) => _offset = offset;

    public List<LogLine> ReadNew(bool final = false)
    {
        var result = new List<LogLine>();
        if (!fs.File.Exists(path))
        {
            return result;
        }
        string text;
        using (var stream = fs.FileStream.New(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            if (stream.Length <= _offset)
            {
                return Flush(result, final);
            }
            stream.Seek(_offset, SeekOrigin.Begin);
            var bytes = new byte[stream.Length - _offset];
            var read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            // Only whole UTF-8 sequences: a line is always written in one piece, so cutting at the last newline is safe.
            var end = Array.LastIndexOf(bytes, (byte)'\n', read - 1) + 1;
            if (end == 0 && !final)
            {
                return result;
            }
            var take = final ? read : end;
            text = _partial + Encoding.UTF8.GetString(bytes, 0, take);
            _offset += take;
        }
        var lines = text.Split('\n');
        _partial = lines[^1];
        foreach (var line in lines[..^1])
        {
            var (time, body) = LogFormat.Parse(line);
            result.Add(new LogLine(time, body, isError));
        }
        return Flush(result, final);
    }

    private List<LogLine> Flush(List<LogLine> result, bool final)
    {
        if (final && _partial.Length > 0)
        {
            var (time, body) = LogFormat.Parse(_partial);
            result.Add(new LogLine(time, body, isError));
            _partial = string.Empty;
        }
        return result;
    }

    /// <summary>Both logs of an attempt merged in the order they were printed (by timestamp; stdout first on a tie).</summary>
    public static List<LogLine> ReadAll(IFileSystem fs, string attemptDir, bool stdout = true, bool stderr = true)
    {
        var lines = new List<LogLine>();
        if (stdout)
        {
            lines.AddRange(new LogReader(fs, fs.Path.Combine(attemptDir, LogFormat.Stdout), false).ReadNew(final: true));
        }
        if (stderr)
        {
            lines.AddRange(new LogReader(fs, fs.Path.Combine(attemptDir, LogFormat.Stderr), true).ReadNew(final: true));
        }
        return Merge(lines);
    }

    /// <summary>Orders lines of both streams by their timestamp, keeping each stream's own order.</summary>
    public static List<LogLine> Merge(List<LogLine> lines) => [.. lines.OrderBy(l => l.Time, StringComparer.Ordinal)];
}
