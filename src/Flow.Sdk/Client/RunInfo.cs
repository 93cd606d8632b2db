using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>One run of a flow: its state, tags, parameters and steps.</summary>
public sealed class RunInfo
{
    private static readonly TimeSpan s_staleHeartbeat = TimeSpan.FromSeconds(30);
    private readonly FlowDatastore _store;
    private RunRecord? _record;

    internal RunInfo(FlowDatastore store, string flow, string id)
    {
        _store = store;
        Flow = flow;
        Id = id;
    }

    /// <summary>Gets the flow's name.</summary>
    public string Flow { get; }

    /// <summary>Gets the run id.</summary>
    public string Id { get; }

    /// <summary>Gets the pathspec, <c>Flow/runId</c>.</summary>
    public string Pathspec => $"{Flow}/{Id}";

    internal RunRecord Record => _record ??= _store.ReadRun(Flow, Id) ?? throw new FlowException($"Run {Pathspec} has no run.json.", ExitCodes.Failure);

    /// <summary>Gets when the run started.</summary>
    public DateTimeOffset StartedAt => Record.StartedAt;

    /// <summary>Gets when the run finished, or null while it runs.</summary>
    public DateTimeOffset? FinishedAt => _store.ReadRunEnd(Flow, Id)?.FinishedAt;

    /// <summary>Gets a value indicating whether the run has ended (successfully or not).</summary>
    public bool Finished => Status != "running";

    /// <summary>Gets a value indicating whether the run reached its End step successfully.</summary>
    public bool Successful => Status == "succeeded";

    /// <summary>
    /// Gets the run's state: <c>running</c>, <c>succeeded</c>, <c>failed</c>, or <c>failed</c> when its
    /// processes died (its heartbeat stopped).
    /// </summary>
    public string Status
    {
        get
        {
            if (_store.ReadRunEnd(Flow, Id) is { } end)
            {
                return end.Status;
            }
            var heartbeat = _store.FileSystem.FileInfo.New(_store.RunHeartbeatPath(Flow, Id));
            return heartbeat.Exists && DateTime.UtcNow - heartbeat.LastWriteTimeUtc < s_staleHeartbeat && !OrchestratorGone(heartbeat.FullName) ? "running" : "failed";
        }
    }

    /// <summary>Whether the heartbeat names a process on this machine that no longer exists (killed before its beat went stale).</summary>
    private bool OrchestratorGone(string path)
    {
        string text;
        try
        {
            text = _store.FileSystem.File.ReadAllText(path);
        }
        catch (IOException)
        {
            return false;
        }
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || text[(at + 1)..] != Environment.MachineName || !int.TryParse(text[..at], out var pid))
        {
            return false;
        }
        if (OperatingSystem.IsLinux())
        {
            // A killed process whose parent died too may stay a zombie (state Z) until something reaps it.
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var state = stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();
                return state is 'Z' or 'X';
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return true;
            }
        }
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }

    /// <summary>Gets the user who started the run.</summary>
    public string User => Record.User;

    /// <summary>Gets the hash of the code snapshot the run executed.</summary>
    public string Code => Record.Snapshot;

    /// <summary>Gets the user tags (mutable labels).</summary>
    public IReadOnlyList<string> Tags => _store.ReadTags(Flow, Id);

    /// <summary>Gets the system tags: user, runtime and SDK version.</summary>
    public IReadOnlyList<string> SystemTags => Record.SystemTags;

    /// <summary>Gets the names of the run's parameters.</summary>
    public IReadOnlyCollection<string> Parameters => [.. Record.Parameters.Keys];

    /// <summary>Gets the steps that have started, in the order of their first task.</summary>
    public IEnumerable<StepInfo> Steps => _store.ListSteps(Flow, Id)
        .Select(s => new StepInfo(_store, this, s))
        .OrderBy(s => s.FirstTaskNumber);

    /// <summary>Gets a step by name (matched without regard to case).</summary>
    /// <param name="step">The step name.</param>
    public StepInfo this[string step]
    {
        get
        {
            var names = _store.ListSteps(Flow, Id);
            var name = names.FirstOrDefault(n => n == step) ?? names.FirstOrDefault(n => string.Equals(n, step, StringComparison.OrdinalIgnoreCase))
                ?? throw new FlowException($"Run {Pathspec} has no step '{step}'{(names.Count > 0 ? "; its steps are " + string.Join(", ", names) : "")}.");
            return new StepInfo(_store, this, name);
        }
    }

    internal bool InNamespace(string? ns) => ns is null || SystemTags.Contains(ns) || Tags.Contains(ns);

    /// <inheritdoc/>
    public override string ToString() => $"Run('{Pathspec}')";
}
