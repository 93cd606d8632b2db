using System.IO.Abstractions;
using Flow.Sdk.Datastore;
using Flow.Tests;

namespace Flow.Cli.Tests.Support;

/// <summary>
/// A real temp folder holding a <c>.flow</c> datastore, written through the SDK's own datastore library, and a
/// <c>work</c> folder (without a project) to start the tool in.
/// </summary>
internal sealed class DatastoreScenario : IDisposable
{
    public const string FlowName = "HelloFlow";

    private readonly TempDirectory _temp = new("dotnet-flow-tests-");

    public DatastoreScenario()
    {
        Environment.GetEnvironmentVariable(DatastoreLocator.EnvironmentVariable)
            .ShouldBeNullOrEmpty("these tests find the datastore by walking up from the working directory; unset FLOW_DATASTORE");
        Root = _temp.Combine(".flow");
        WorkingDirectory = _temp.Combine("work");
        FileSystem.Directory.CreateDirectory(WorkingDirectory);
        Store = FlowDatastore.Open(FileSystem, Root, create: true);
    }

    public IFileSystem FileSystem { get; } = new FileSystem();

    /// <summary>Gets the <c>.flow</c> directory, the parent of <see cref="WorkingDirectory"/>'s nearest datastore.</summary>
    public string Root { get; }

    /// <summary>Gets an empty folder below the datastore's folder, so the tool finds the datastore by walking up.</summary>
    public string WorkingDirectory { get; }

    public FlowDatastore Store { get; }

    public static DateTimeOffset Time(int seconds) => new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero).AddSeconds(seconds);

    /// <summary>Claims a run and writes its run.json; the run carries the system tag <c>user:&lt;user&gt;</c>.</summary>
    public string AddRun(int second = 0, string user = "tester", string flow = FlowName)
    {
        var startedAt = Time(second);
        var runId = Store.CreateRun(flow, startedAt);
        Store.WriteRun(new RunRecord(flow, runId, startedAt, user, "no-snapshot", "0.0.0-test", WorkingDirectory,
            new Dictionary<string, ArtifactRef>(StringComparer.Ordinal), [$"user:{user}", "runtime:test"]));
        return runId;
    }

    /// <summary>Writes a finished attempt of a task whose artifacts are <paramref name="artifacts"/>, stored as blobs.</summary>
    public IReadOnlyDictionary<string, ArtifactRef> AddTask(
        string runId, string step, string taskId, IReadOnlyDictionary<string, object?> artifacts, int attempt = 0, string flow = FlowName, ErrorRecord? error = null)
    {
        var refs = new Dictionary<string, ArtifactRef>(StringComparer.Ordinal);
        foreach (var (name, value) in artifacts)
        {
            var type = value?.GetType() ?? typeof(object);
            var (encoding, bytes) = ArtifactCodec.Serialize(value, type);
            refs[name] = new ArtifactRef(Store.Blobs.Put(bytes), encoding, type.FullName!, bytes.LongLength);
        }
        var dir = Store.AttemptDir(flow, runId, step, taskId, attempt);
        Store.StartAttempt(dir, new AttemptStartRecord(Time(1), []));
        Store.FinishAttempt(dir, new AttemptDoneRecord(
            error is null ? AttemptDoneRecord.Succeeded : AttemptDoneRecord.Failed, Time(2), refs, error is null ? ["End"] : [], error));
        return refs;
    }

    /// <summary>Writes a finished attempt whose one artifact is <paramref name="bytes"/> stored as a blob under the given encoding.</summary>
    public ArtifactRef AddRawArtifact(string runId, string step, string taskId, string name, byte[] bytes, string encoding, string type)
    {
        var reference = new ArtifactRef(Store.Blobs.Put(bytes), encoding, type, bytes.LongLength);
        var dir = Store.AttemptDir(FlowName, runId, step, taskId, 0);
        Store.StartAttempt(dir, new AttemptStartRecord(Time(1), []));
        Store.FinishAttempt(dir, new AttemptDoneRecord(AttemptDoneRecord.Succeeded, Time(2),
            new Dictionary<string, ArtifactRef>(StringComparer.Ordinal) { [name] = reference }, []));
        return reference;
    }

    /// <summary>Flips one byte of the blob file that holds <paramref name="sha"/>.</summary>
    public void CorruptBlob(string sha)
    {
        var path = Store.Blobs.PathOf(sha);
        var bytes = FileSystem.File.ReadAllBytes(path);
        bytes[^1] ^= 0x5A;
        FileSystem.File.WriteAllBytes(path, bytes);
    }

    public ToolResult Run(params string[] args) => ToolRunner.Run(FileSystem, WorkingDirectory, args);

    public void Dispose() => _temp.Dispose();
}
