using System.IO.Abstractions;
using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>
/// A client over one datastore, with a namespace of its own: what a tool or a server that reads several datastores
/// (or serves several users) holds, where scripts use the static <see cref="FlowClient"/>.
/// </summary>
/// <remarks>Thread-safe for reading; every object it returns reads the datastore lazily, as it is now.</remarks>
public sealed class FlowStore
{
    private readonly Func<string?>? _namespaceOf;
    private string? _namespace = Sdk.Namespace.Default;

    private FlowStore(FlowDatastore store, Func<string?>? namespaceOf)
    {
        Store = store;
        _namespaceOf = namespaceOf;
    }

    /// <summary>Gets the datastore directory (the <c>.flow</c> folder).</summary>
    public string Root => Store.Root;

    /// <summary>Gets or sets the namespace: a tag the runs <see cref="FlowInfo.Runs"/> and <c>latest</c> see must carry; null sees every run.</summary>
    /// <remarks>The default is the current user's runs, <c>user:&lt;FLOW_USER or the OS user&gt;</c>.</remarks>
    public string? Namespace
    {
        get => _namespaceOf is null ? _namespace : _namespaceOf();
        set
        {
            if (_namespaceOf is not null)
            {
                throw new InvalidOperationException("This is FlowClient's store: set FlowClient.Namespace instead.");
            }
            _namespace = value;
        }
    }

    internal FlowDatastore Store { get; }

    /// <summary>Opens the datastore at <paramref name="path"/> (the <c>.flow</c> directory).</summary>
    /// <param name="path">The datastore directory.</param>
    /// <returns>A client over it.</returns>
    public static FlowStore Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new FlowStore(FlowDatastore.Open(new FileSystem(), Path.GetFullPath(path), create: false), null);
    }

    /// <summary>Finds the datastore as <c>dotnet flow</c> does: <c>FLOW_DATASTORE</c>, else the nearest <c>.flow/</c> above the folder.</summary>
    /// <param name="startDirectory">Where to start looking; default: the current directory.</param>
    /// <returns>A client over it.</returns>
    public static FlowStore Find(string? startDirectory = null)
    {
        var fs = new FileSystem();
        return new FlowStore(FlowDatastore.Open(fs, DatastoreLocator.Locate(fs, null, startDirectory ?? fs.Directory.GetCurrentDirectory()), create: false), null);
    }

    /// <summary>A client over a datastore this process opened already, whose namespace comes from <paramref name="namespaceOf"/>.</summary>
    internal static FlowStore Over(FlowDatastore store, Func<string?>? namespaceOf = null) => new(store, namespaceOf);

    /// <summary>Gets every flow that has runs in the datastore.</summary>
    /// <returns>The flows, by name.</returns>
    public IReadOnlyList<FlowInfo> Flows() => [.. Store.ListFlows().Select(f => new FlowInfo(this, f))];

    /// <summary>Gets a flow by name.</summary>
    /// <param name="name">The flow's class name.</param>
    /// <returns>The flow.</returns>
    public FlowInfo GetFlow(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!FlowDatastore.IsIdentifier(name) || !Store.FileSystem.Directory.Exists(Store.FlowDir(name)))
        {
            var known = Store.ListFlows();
            throw new FlowException($"No flow named '{name}' in the datastore {Store.Root}{(known.Count > 0 ? "; it holds " + string.Join(", ", known) : "")}.");
        }
        return new FlowInfo(this, name);
    }

    /// <summary>Gets a run from its pathspec, <c>Flow/runId</c>; <c>latest</c> names the newest run in the namespace.</summary>
    /// <param name="pathspec">The run's pathspec.</param>
    /// <returns>The run.</returns>
    public RunInfo GetRun(string pathspec)
    {
        var spec = Pathspec.ParseFull(pathspec, 2);
        return GetFlow(spec.Flow!).GetRun(spec.Run);
    }

    /// <summary>Gets a step from its pathspec, <c>Flow/runId/Step</c>.</summary>
    /// <param name="pathspec">The step's pathspec.</param>
    /// <returns>The step.</returns>
    public StepInfo GetStep(string pathspec)
    {
        var spec = Pathspec.ParseFull(pathspec, 3);
        return GetFlow(spec.Flow!).GetRun(spec.Run)[spec.Step!];
    }

    /// <summary>Gets a task from its pathspec, <c>Flow/runId/Step/taskId</c>.</summary>
    /// <param name="pathspec">The task's pathspec.</param>
    /// <returns>The task.</returns>
    public TaskInfo GetTask(string pathspec)
    {
        var spec = Pathspec.ParseFull(pathspec, 4);
        return GetFlow(spec.Flow!).GetRun(spec.Run)[spec.Step!][spec.Task!];
    }

    /// <summary>Gets every namespace the datastore's runs are in: each user's (<c>user:&lt;name&gt;</c>) and every user tag.</summary>
    /// <returns>The namespaces, sorted.</returns>
    public IReadOnlyList<string> Namespaces() =>
        [.. Store.ListFlows().SelectMany(f => RunIndex.Read(Store, f)).SelectMany(e => e.SystemTags.Where(t => t.StartsWith("user:", StringComparison.Ordinal)).Concat(e.Tags))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <inheritdoc/>
    public override string ToString() => $"FlowStore('{Root}')";
}
