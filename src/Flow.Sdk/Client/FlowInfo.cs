using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>A flow in the datastore: its runs, newest first.</summary>
public sealed class FlowInfo
{
    private readonly FlowStore _client;
    private readonly FlowDatastore _store;

    internal FlowInfo(FlowStore client, string name)
    {
        _client = client;
        _store = client.Store;
        Name = name;
    }

    /// <summary>Gets the flow's name.</summary>
    public string Name { get; }

    /// <summary>Gets the pathspec, the flow's name.</summary>
    public string Pathspec => Name;

    /// <summary>Gets the flow's runs in the client's namespace, newest first (by start time).</summary>
    /// <remarks>Read from the flow's run index: listing the newest runs of a flow with thousands reads one file.</remarks>
    public IEnumerable<RunInfo> Runs => RunsIn(_client.Namespace);

    /// <summary>Gets the newest run in the client's namespace, or null.</summary>
    public RunInfo? LatestRun => Runs.FirstOrDefault();

    /// <summary>Gets the newest successful run in the client's namespace, or null.</summary>
    public RunInfo? LatestSuccessfulRun => Runs.FirstOrDefault(r => r.Successful);

    /// <summary>Gets the flow's runs carrying <paramref name="tag"/> (any namespace tag; null for every run), newest first.</summary>
    /// <param name="tag">A tag, such as <c>user:ada</c> or a user tag.</param>
    /// <returns>The runs.</returns>
    public IEnumerable<RunInfo> RunsIn(string? tag) =>
        RunIndex.Read(_store, Name).Where(e => tag is null || e.HasTag(tag)).Select(e => new RunInfo(_store, Name, e.Id, e));

    /// <summary>Gets a run by id; <c>latest</c> is the newest run in the namespace.</summary>
    /// <param name="runId">The run id.</param>
    /// <returns>The run.</returns>
    public RunInfo GetRun(string runId)
    {
        ArgumentNullException.ThrowIfNull(runId);
        if (runId == "latest")
        {
            return LatestRun ?? throw new FlowException($"Flow {Name} has no run in namespace {_client.Namespace ?? "(global)"}.");
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
