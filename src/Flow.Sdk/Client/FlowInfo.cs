using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>A flow in the datastore: its runs, newest first.</summary>
public sealed class FlowInfo
{
    private readonly FlowDatastore _store;

    internal FlowInfo(FlowDatastore store, string name)
    {
        _store = store;
        Name = name;
    }

    /// <summary>Gets the flow's name.</summary>
    public string Name { get; }

    /// <summary>Gets the pathspec, the flow's name.</summary>
    public string Pathspec => Name;

    /// <summary>Gets every run of the flow, newest first (by start time), in every namespace.</summary>
    public IEnumerable<RunInfo> Runs => _store.ListRuns(Name).Select(id => new RunInfo(_store, Name, id));

    /// <summary>Gets the newest run in <see cref="FlowClient.Namespace"/>, or null.</summary>
    public RunInfo? LatestRun => Runs.FirstOrDefault(r => r.InNamespace(FlowClient.Namespace));

    /// <summary>Gets the newest successful run in <see cref="FlowClient.Namespace"/>, or null.</summary>
    public RunInfo? LatestSuccessfulRun => Runs.FirstOrDefault(r => r.InNamespace(FlowClient.Namespace) && r.Successful);

    /// <summary>Gets a run by id; <c>latest</c> is the newest run in the namespace.</summary>
    /// <param name="runId">The run id.</param>
    /// <returns>The run.</returns>
    public RunInfo GetRun(string runId)
    {
        ArgumentNullException.ThrowIfNull(runId);
        if (runId == "latest")
        {
            return LatestRun ?? throw new FlowException($"Flow {Name} has no run in namespace {FlowClient.Namespace ?? "(global)"}.");
        }
        if (!FlowDatastore.IsId(runId) || _store.ReadRun(Name, runId) is null)
        {
            var newest = _store.ListRuns(Name).FirstOrDefault();
            throw new FlowException($"Flow {Name} has no run '{runId}'{(newest is null ? "" : $" (its newest run is {newest}; 'latest' names it)")}.");
        }
        return new RunInfo(_store, Name, runId);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Flow('{Name}')";
}
