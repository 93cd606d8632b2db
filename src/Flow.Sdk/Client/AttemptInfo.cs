using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>One attempt of a task (attempts are numbered from 0; a retry is a new attempt).</summary>
public sealed class AttemptInfo
{
    private readonly FlowDatastore _store;
    private readonly string _dir;
    private AttemptDoneRecord? _done;

    internal AttemptInfo(FlowDatastore store, TaskInfo task, int number, string dir)
    {
        _store = store;
        _dir = dir;
        Task = task;
        Number = number;
    }

    /// <summary>Gets the task.</summary>
    public TaskInfo Task { get; }

    /// <summary>Gets the attempt's number, from 0.</summary>
    public int Number { get; }

    private AttemptDoneRecord? Done => _done ??= _store.ReadAttemptDone(_dir);

    /// <summary>Gets <c>succeeded</c>, <c>failed</c>, or <c>unfinished</c> (running, or its process died).</summary>
    public string Status => Done?.Status ?? "unfinished";

    /// <summary>Gets when the attempt started, or null when it never recorded it.</summary>
    public DateTimeOffset? StartedAt => _store.ReadAttemptStart(_dir)?.StartedAt;

    /// <summary>Gets when the attempt was finalized, or null.</summary>
    public DateTimeOffset? FinishedAt => Done?.FinishedAt;

    /// <summary>Gets how the attempt failed, or null.</summary>
    public StepError? Exception => Done?.Error is { } e ? new StepError(e.Type, e.Message, e.StackTrace) : null;

    /// <summary>Gets what the attempt printed on standard output, without timestamps.</summary>
    public string Stdout => TaskInfo.ReadLog(_store, Task.OutputDir(Number), stdout: true);

    /// <summary>Gets what the attempt printed on standard error, without timestamps.</summary>
    public string Stderr => TaskInfo.ReadLog(_store, Task.OutputDir(Number), stdout: false);

    /// <inheritdoc/>
    public override string ToString() => $"Attempt('{Task.Pathspec}', {Number})";
}
