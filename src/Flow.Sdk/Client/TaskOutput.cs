using System.Globalization;
using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>One line a task printed, as stored.</summary>
/// <param name="Time">When it was printed (UTC, microseconds), or null for a line stored without a time.</param>
/// <param name="Text">The line.</param>
/// <param name="IsError">Whether it was printed on standard error.</param>
public readonly record struct OutputLine(DateTimeOffset? Time, string Text, bool IsError)
{
    /// <summary>Gets the time as stored, <c>2026-11-27T07:09:33.123456Z</c>, or empty.</summary>
    public string TimeText => Time?.UtcDateTime.ToString(LogFormat.TimeFormat, CultureInfo.InvariantCulture) ?? string.Empty;
}

/// <summary>How far a task's two output streams have been read, in bytes of their stored logs.</summary>
/// <param name="Stdout">Bytes of standard output read.</param>
/// <param name="Stderr">Bytes of standard error read.</param>
public readonly record struct OutputPosition(long Stdout, long Stderr);

/// <summary>
/// A task's output, read as it grows: each <see cref="ReadNew"/> returns the lines written since the last call (both
/// streams merged in the order they were printed), so following a running task never reads a byte twice. A task a
/// resume cloned shows its origin's output.
/// </summary>
public sealed class TaskOutput
{
    private readonly FlowDatastore _store;
    private readonly TaskInfo _task;
    private readonly string _dir;
    private readonly List<LogReader> _readers = [];
    private readonly LogReader? _stdout;
    private readonly LogReader? _stderr;

    internal TaskOutput(FlowDatastore store, TaskInfo task, int attempt, bool stdout, bool stderr, OutputPosition from)
    {
        _store = store;
        _task = task;
        Attempt = attempt;
        _dir = task.OutputDir(attempt);
        if (stdout)
        {
            _stdout = new LogReader(store.FileSystem, store.FileSystem.Path.Combine(_dir, LogFormat.Stdout), isError: false, from.Stdout);
            _readers.Add(_stdout);
        }
        if (stderr)
        {
            _stderr = new LogReader(store.FileSystem, store.FileSystem.Path.Combine(_dir, LogFormat.Stderr), isError: true, from.Stderr);
            _readers.Add(_stderr);
        }
    }

    /// <summary>Gets how far each stream has been read: give it to <see cref="TaskInfo.Output"/> to go on from here later.</summary>
    public OutputPosition Position => new(_stdout?.Offset ?? 0, _stderr?.Offset ?? 0);

    /// <summary>Gets the attempt whose output this is.</summary>
    public int Attempt { get; }

    /// <summary>Gets a value indicating whether no more output will come: the attempt is finalized, its process is gone, or its run has ended.</summary>
    public bool IsComplete
    {
        get
        {
            if (_store.FileSystem.File.Exists(_store.FileSystem.Path.Combine(_dir, "done.json")))
            {
                return true;
            }
            var run = _task.Step.Run;
            if (_store.RunStatus(run.Flow, run.Id) != RunStates.Running)
            {
                return true;
            }
            var heartbeat = _store.AttemptHeartbeatPath(_dir);
            return _store.FileSystem.File.Exists(heartbeat) && !Heartbeat.IsAlive(_store.FileSystem, heartbeat);
        }
    }

    /// <summary>Reads the lines written since the last call; <paramref name="final"/> also returns a last line without a newline.</summary>
    /// <param name="final">Whether this is the last read (the task has ended).</param>
    /// <returns>The new lines, in the order they were printed.</returns>
    public IReadOnlyList<OutputLine> ReadNew(bool final = false) =>
        [.. LogReader.Merge([.. _readers.SelectMany(r => r.ReadNew(final))]).Select(l => new OutputLine(
            l.Time.Length > 0 && DateTimeOffset.TryParse(l.Time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time) ? time : null,
            l.Text,
            l.IsError))];
}
