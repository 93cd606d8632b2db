using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>One run of a flow: its state, tags, parameters and steps.</summary>
public sealed class RunInfo
{
    private readonly FlowDatastore _store;
    private readonly RunIndexEntry? _entry;
    private RunRecord? _record;
    private Graph.FlowGraph? _graph;
    private bool _graphRead;

    internal RunInfo(FlowDatastore store, string flow, string id, RunIndexEntry? entry = null)
    {
        _store = store;
        Flow = flow;
        Id = id;
        _entry = entry;
    }

    /// <summary>Gets the flow's name.</summary>
    public string Flow { get; }

    /// <summary>Gets the run id.</summary>
    public string Id { get; }

    /// <summary>Gets the pathspec, <c>Flow/runId</c>.</summary>
    public string Pathspec => $"{Flow}/{Id}";

    internal RunRecord Record => _record ??= _store.ReadRun(Flow, Id) ?? throw new FlowException($"Run {Pathspec} has no run.json.", ExitCodes.Failure);

    /// <summary>Gets when the run started.</summary>
    public DateTimeOffset StartedAt => _entry?.StartedAt ?? Record.StartedAt;

    /// <summary>Gets when the run finished, or null while it runs.</summary>
    public DateTimeOffset? FinishedAt => _store.ReadRunEnd(Flow, Id)?.FinishedAt;

    /// <summary>Gets a value indicating whether the run has ended (successfully or not).</summary>
    public bool Finished => Status != "running";

    /// <summary>Gets a value indicating whether the run reached its End step successfully.</summary>
    public bool Successful => Status == "succeeded";

    /// <summary>
    /// Gets the run's state: <c>running</c>, <c>succeeded</c>, <c>failed</c>, or <c>failed</c> when its
    /// processes died (its orchestrator's heartbeat stopped or its process is gone).
    /// </summary>
    public string Status => _store.RunStatus(Flow, Id, _entry?.EndStatus);

    /// <summary>Gets the run's state as a value: <see cref="Status"/>, typed.</summary>
    public RunState State => Status switch
    {
        RunStates.Running => RunState.Running,
        RunStates.Succeeded => RunState.Succeeded,
        _ => RunState.Failed,
    };

    /// <summary>Gets why the run failed (the failed task and its error, or the signal that stopped it), or null.</summary>
    public string? Failure => _store.ReadRunEnd(Flow, Id) is { Status: RunStates.Failed } end ? end.Error
        : State == RunState.Failed ? "its processes died before it ended (its orchestrator is gone)" : null;

    /// <summary>Gets the run this one resumed (its clones' origin), or null for a fresh run.</summary>
    public string? OriginRunId => Record.OriginRunId;

    /// <summary>Gets the flow's graph as the run's code had it (from its code snapshot), or null when the snapshot cannot be read.</summary>
    public Graph.FlowGraph? Graph
    {
        get
        {
            if (_graph is null && !_graphRead)
            {
                _graphRead = true;
                try
                {
                    _graph = Code.Graphs.FirstOrDefault(g => g.Name == Flow);
                }
                catch (FlowException)
                {
                    // No snapshot (a run written by a test) or a damaged one: verify reports it.
                }
            }
            return _graph;
        }
    }

    /// <summary>Gets the user who started the run.</summary>
    public string User => _entry?.User ?? Record.User;

    /// <summary>Gets the code snapshot the run executed: its hash and files, which <see cref="CodeInfo.ExtractTo"/> restores.</summary>
    public CodeInfo Code => new(_store, Record.Snapshot);

    /// <summary>Gets the user tags (mutable labels), as stored now.</summary>
    public IReadOnlyList<string> Tags => _store.ReadTags(Flow, Id);

    /// <summary>Gets the system tags: <c>user:&lt;name&gt;</c>, <c>runtime:&lt;where&gt;</c>, <c>sdk_version:&lt;version&gt;</c>. They cannot be changed.</summary>
    public IReadOnlyList<string> SystemTags => _entry?.SystemTags ?? Record.SystemTags;

    /// <summary>Adds user tags (1 to 500 characters each, at most 50 per run); tags it has already are left as they are.</summary>
    /// <param name="tags">The tags.</param>
    public void AddTags(params string[] tags) => ChangeTags(add: tags, remove: []);

    /// <summary>Removes user tags; system tags cannot be removed.</summary>
    /// <param name="tags">The tags.</param>
    public void RemoveTags(params string[] tags) => ChangeTags(add: [], remove: tags);

    /// <summary>Replaces user tags with others in one change (so no reader sees the run with neither).</summary>
    /// <param name="remove">The tags to remove.</param>
    /// <param name="add">The tags to add.</param>
    public void ReplaceTags(IReadOnlyList<string> remove, IReadOnlyList<string> add) => ChangeTags(add, remove);

    private void ChangeTags(IReadOnlyList<string> add, IReadOnlyList<string> remove)
    {
        ArgumentNullException.ThrowIfNull(add);
        ArgumentNullException.ThrowIfNull(remove);
        foreach (var tag in add)
        {
            TagRules.Check(tag);
        }
        var system = remove.FirstOrDefault(t => SystemTags.Contains(t, StringComparer.Ordinal));
        if (system is not null)
        {
            throw new FlowException($"'{system}' is a system tag of run {Pathspec}; system tags cannot be removed.");
        }
        // Read, changed and written under the flow's lock: concurrent changes from other processes all land.
        _store.ChangeTags(Flow, Id, current =>
        {
            var tags = current.Where(t => !remove.Contains(t, StringComparer.Ordinal)).ToList();
            foreach (var tag in add.Where(t => !tags.Contains(t, StringComparer.Ordinal) && !SystemTags.Contains(t, StringComparer.Ordinal)))
            {
                tags.Add(tag);
            }
            return tags.Count > TagRules.MaxTags
                ? throw new FlowException($"Run {Pathspec} would have {tags.Count} user tags; a run has at most {TagRules.MaxTags} (remove some first).")
                : tags;
        });
    }

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

    internal bool InNamespace(string? ns) => ns is null || (_entry?.HasTag(ns) ?? (SystemTags.Contains(ns) || Tags.Contains(ns)));

    /// <inheritdoc/>
    public override string ToString() => $"Run('{Pathspec}')";
}
