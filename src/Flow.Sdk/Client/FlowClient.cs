using System.IO.Abstractions;
using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>
/// Reads flows, runs, steps, tasks and artifacts from a datastore: from a script, a test, a tool or another flow.
/// </summary>
/// <remarks>
/// The datastore is found as <c>dotnet flow</c> finds it (<c>FLOW_DATASTORE</c>, else the nearest <c>.flow/</c>
/// above the current directory) unless <see cref="UseDatastore"/> names one. Objects are read lazily and
/// artifacts load on first access.
/// </remarks>
public static class FlowClient
{
    private static readonly Lock s_gate = new();
    private static FlowStore? s_store;
    private static string? s_namespace;
    private static bool s_namespaceSet;

    /// <summary>Gets or sets the namespace: a tag that the runs <see cref="FlowInfo.LatestRun"/> sees must carry.</summary>
    /// <remarks>The default is the current user's runs, <c>user:&lt;FLOW_USER or the OS user&gt;</c>; null sees every run.</remarks>
    public static string? Namespace
    {
        get => s_namespaceSet ? s_namespace : "user:" + SdkInfo.User;
        set
        {
            s_namespace = value;
            s_namespaceSet = true;
        }
    }

    /// <summary>Reads the datastore at <paramref name="path"/> (the <c>.flow</c> directory) from now on.</summary>
    /// <param name="path">The datastore directory.</param>
    public static void UseDatastore(string path)
    {
        lock (s_gate)
        {
            s_store = FlowStore.Over(FlowDatastore.Open(new FileSystem(), Path.GetFullPath(path), create: false), () => Namespace);
        }
    }

    /// <summary>Gets the store the static client reads: the one <see cref="UseDatastore"/> named, else the one found.</summary>
    public static FlowStore Store
    {
        get
        {
            lock (s_gate)
            {
                var fs = new FileSystem();
                return s_store ??= FlowStore.Over(FlowDatastore.Open(fs, DatastoreLocator.Locate(fs, null, fs.Directory.GetCurrentDirectory()), create: false), () => Namespace);
            }
        }
    }

    /// <summary>Gets every flow that has runs in the datastore.</summary>
    /// <returns>The flows, by name.</returns>
    public static IReadOnlyList<FlowInfo> Flows() => Store.Flows();

    /// <summary>Gets a flow by name.</summary>
    /// <param name="name">The flow's class name.</param>
    /// <returns>The flow.</returns>
    public static FlowInfo GetFlow(string name) => Store.GetFlow(name);

    /// <summary>Gets a run from its pathspec, <c>Flow/runId</c>; <c>latest</c> names the newest run in the namespace.</summary>
    /// <param name="pathspec">The run's pathspec.</param>
    /// <returns>The run.</returns>
    public static RunInfo GetRun(string pathspec) => Store.GetRun(pathspec);

    /// <summary>Gets a step from its pathspec, <c>Flow/runId/Step</c>.</summary>
    /// <param name="pathspec">The step's pathspec.</param>
    /// <returns>The step.</returns>
    public static StepInfo GetStep(string pathspec) => Store.GetStep(pathspec);

    /// <summary>Gets a task from its pathspec, <c>Flow/runId/Step/taskId</c>.</summary>
    /// <param name="pathspec">The task's pathspec.</param>
    /// <returns>The task.</returns>
    public static TaskInfo GetTask(string pathspec) => Store.GetTask(pathspec);

    /// <summary>Gets every namespace the datastore's runs are in: each user's (<c>user:&lt;name&gt;</c>) and every user tag.</summary>
    /// <returns>The namespaces, sorted.</returns>
    public static IReadOnlyList<string> Namespaces() => Store.Namespaces();

    /// <summary>A flow of a datastore the caller opened (the tool's <c>--datastore</c>), seen in the static namespace.</summary>
    internal static FlowInfo GetFlow(FlowDatastore store, string name) => FlowStore.Over(store, () => Namespace).GetFlow(name);
}
