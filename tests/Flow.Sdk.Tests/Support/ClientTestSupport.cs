using System.Globalization;
using System.IO.Abstractions;
using System.IO.Abstractions.TestingHelpers;
using System.Reflection;
using Flow.Sdk.Datastore;

namespace Flow.Sdk.Tests.Support;

/// <summary>
/// Tests that change <see cref="FlowClient"/>'s static state (its datastore, <see cref="FlowClient.Namespace"/>) or
/// read it through <see cref="FlowInfo.Runs"/>, <see cref="FlowInfo.LatestRun"/> or <see cref="FlowClient.Namespaces"/>
/// run in this collection: one at a time, after the parallel tests, never next to another test.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FlowClientStateCollection
{
    public const string Name = "FlowClient static state";
}

/// <summary>
/// Saves <see cref="FlowClient"/>'s static state (the datastore and whether a namespace was set) and restores it
/// exactly on dispose, so a test may point the client elsewhere or put it back in its default namespace.
/// </summary>
internal sealed class FlowClientStateScope : IDisposable
{
    private static readonly FieldInfo s_store = Field("s_store");
    private static readonly FieldInfo s_namespace = Field("s_namespace");
    private static readonly FieldInfo s_namespaceSet = Field("s_namespaceSet");

    private readonly object? _store = s_store.GetValue(null);
    private readonly object? _namespace = s_namespace.GetValue(null);
    private readonly object? _namespaceSet = s_namespaceSet.GetValue(null);

    /// <summary>Points the client at a datastore directory through the public API.</summary>
    public FlowClientStateScope UseDatastore(string root)
    {
        FlowClient.UseDatastore(root);
        return this;
    }

    /// <summary>Sets <see cref="FlowClient.Namespace"/>.</summary>
    public FlowClientStateScope Namespace(string? value)
    {
        FlowClient.Namespace = value;
        return this;
    }

    /// <summary>Puts the client back in the state of a fresh process: no namespace set, so the current user's.</summary>
    public FlowClientStateScope DefaultNamespace()
    {
        s_namespace.SetValue(null, null);
        s_namespaceSet.SetValue(null, false);
        return this;
    }

    public void Dispose()
    {
        s_store.SetValue(null, _store);
        s_namespace.SetValue(null, _namespace);
        s_namespaceSet.SetValue(null, _namespaceSet);
    }

    private static FieldInfo Field(string name) =>
        typeof(FlowClient).GetField(name, BindingFlags.NonPublic | BindingFlags.Static)
        ?? throw new InvalidOperationException($"FlowClient has no static field {name} any more; update FlowClientStateScope so tests still restore the client's state.");
}

/// <summary>
/// Builds runs, tasks and attempts directly through <see cref="FlowDatastore"/> (no flow executes): run.json,
/// tags.json and end.json with their index lines, started.json and done.json with stored artifacts, frames and errors.
/// </summary>
internal sealed class SyntheticRuns
{
    public const string User = "ada";

    public SyntheticRuns(FlowDatastore store) => Store = store;

    public FlowDatastore Store { get; }

    public IFileSystem Fs => Store.FileSystem;

    /// <summary>A datastore in a <see cref="MockFileSystem"/>.</summary>
    public static SyntheticRuns InMemory()
    {
        var fs = new MockFileSystem();
        return new SyntheticRuns(FlowDatastore.Open(fs, fs.Path.Combine(fs.Path.GetTempPath(), "client", ".flow"), create: true));
    }

    /// <summary>A datastore on the real file system, at <paramref name="root"/>.</summary>
    public static SyntheticRuns OnDisk(string root) => new(FlowDatastore.Open(new FileSystem(), root, create: true));

    public static DateTimeOffset Time(int seconds) => PipelineScenario.Time(seconds);

    /// <summary>
    /// Starts a run at <see cref="Time"/>(<paramref name="second"/>) with system tags <c>user:&lt;user&gt;</c> and
    /// <c>runtime:test</c>; writes its user tags, and its end when <paramref name="status"/> is not null.
    /// </summary>
    public string AddRun(
        string flow,
        int second,
        string user = User,
        string? status = "succeeded",
        IReadOnlyList<string>? tags = null,
        string snapshot = "no-snapshot",
        IReadOnlyDictionary<string, ArtifactRef>? parameters = null)
    {
        var at = Time(second);
        var id = Store.CreateRun(flow, at);
        Store.WriteRun(Record(flow, id, at, user, snapshot, parameters));
        if (tags is { Count: > 0 })
        {
            Store.WriteTags(flow, id, tags);
        }
        if (status is not null)
        {
            Store.WriteRunEnd(flow, id, new RunEndRecord(status, at.AddMinutes(1)));
        }
        return id;
    }

    public static RunRecord Record(string flow, string id, DateTimeOffset at, string user = User, string snapshot = "no-snapshot", IReadOnlyDictionary<string, ArtifactRef>? parameters = null) =>
        new(flow, id, at, user, snapshot, SdkInfo.Version, "/work", parameters ?? new Dictionary<string, ArtifactRef>(), [$"user:{user}", "runtime:test"]);

    /// <summary>Stores a value as an artifact blob.</summary>
    public ArtifactRef Artifact<T>(T value) => ArtifactCodec.Store(Store.Blobs, value, typeof(T));

    public string AttemptDir(string flow, string run, string step, string task, int attempt = 0) =>
        Store.AttemptDir(flow, run, step, task, attempt);

    /// <summary>
    /// Writes one attempt of a task: started.json with its input paths, stdout.log when given, and done.json
    /// (unless <paramref name="status"/> is null) with its artifacts, frames and error.
    /// </summary>
    public void AddAttempt(
        string flow,
        string run,
        string step,
        string task,
        int attempt = 0,
        string? status = AttemptDoneRecord.Succeeded,
        IReadOnlyDictionary<string, ArtifactRef>? artifacts = null,
        IReadOnlyList<string>? inputs = null,
        IReadOnlyList<FrameRecord>? frames = null,
        ErrorRecord? error = null,
        string? stdout = null)
    {
        var dir = AttemptDir(flow, run, step, task, attempt);
        var at = Time(60 + attempt);
        Store.StartAttempt(dir, new AttemptStartRecord(at, inputs ?? []));
        if (stdout is not null)
        {
            var stamp = at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
            Fs.File.WriteAllLines(Fs.Path.Combine(dir, "stdout.log"), stdout.Split('\n').Select(line => $"{stamp} {line}"));
        }
        if (status is not null)
        {
            Store.FinishAttempt(dir, new AttemptDoneRecord(status, at.AddSeconds(1), artifacts ?? new Dictionary<string, ArtifactRef>(), [], error, frames));
        }
    }

    public FlowInfo Flow(string name) => FlowClient.GetFlow(Store, name);

    public RunInfo Run(string flow, string id) => Flow(flow).GetRun(id);

    public string IndexPath(string flow) => Fs.Path.Combine(Store.FlowDir(flow), RunIndex.FileName);

    /// <summary>The index's lines (the last one may be torn); none when there is no index.</summary>
    public IReadOnlyList<string> IndexLines(string flow) =>
        Fs.File.Exists(IndexPath(flow)) ? [.. Fs.File.ReadAllText(IndexPath(flow)).Split('\n').Where(l => l.Length > 0)] : [];

    public void AppendToIndex(string flow, string text) => Fs.File.AppendAllText(IndexPath(flow), text);
}
