using System.IO.Abstractions;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;
using Flow.Sdk.Runtime;
using Flow.Tests;

namespace Flow.Sdk.Tests.Support;

/// <summary>
/// A real datastore in a temp folder and a hand-built <see cref="FlowDefinition"/> of <see cref="PipelineFlow"/>,
/// with helpers that start runs and execute tasks in-process through <see cref="TaskRunner"/>.
/// </summary>
internal sealed class PipelineScenario : IDisposable
{
    public const string FlowName = nameof(PipelineFlow);

    private readonly TempDirectory _temp = new("flow-sdk-tests-");

    public PipelineScenario(StepHooks? hooks = null)
    {
        Hooks = hooks ?? new StepHooks();
        Root = _temp.Combine(".flow");
        Store = FlowDatastore.Open(new FileSystem(), Root, create: true);
        var graph = new FlowGraph(
            FlowName,
            "Three linear steps.",
            [TestGraphs.Linear("Start", "Middle"), TestGraphs.Linear("Middle", "End"), TestGraphs.End()],
            [TestGraphs.Parameter("Count", "count", "int", "3")]);
        Definition = new FlowDefinition(
            TestGraphs.Json(graph),
            () => new PipelineFlow { Hooks = Hooks },
            values => new PipelineFlow { Count = values.Get<int>("Count"), Hooks = Hooks },
            new Dictionary<string, StepInvoker>(StringComparer.Ordinal)
            {
                ["Start"] = (f, _) => Invoke(f, p => p.Start()),
                ["Middle"] = (f, _) => Invoke(f, p => p.Middle()),
                ["End"] = (f, _) => Invoke(f, p => p.End()),
            },
            [new ParameterDefinition("Count", typeof(int), f => ((PipelineFlow)f).Count)]);
        Runner = new TaskRunner(Store.FileSystem, new Dictionary<string, FlowDefinition>(StringComparer.Ordinal) { [FlowName] = Definition });
    }

    /// <summary>Gets or sets what the steps do; read when each task creates its flow object.</summary>
    public StepHooks Hooks { get; set; }

    public string Root { get; }

    public FlowDatastore Store { get; }

    public FlowDefinition Definition { get; }

    public TaskRunner Runner { get; }

    public static DateTimeOffset Time(int seconds) => new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero).AddSeconds(seconds);

    /// <summary>Claims a run and writes its run.json with the parameter stored as a blob.</summary>
    public string StartRun(int count = 3, DateTimeOffset? at = null, string? user = null)
    {
        var startedAt = at ?? DateTimeOffset.UtcNow;
        var runId = Store.CreateRun(FlowName, startedAt);
        var parameters = ParameterBinder.Store(Store, Definition, new Dictionary<string, object?>(StringComparer.Ordinal) { ["Count"] = count });
        var owner = user ?? SdkInfo.User;
        Store.WriteRun(new RunRecord(FlowName, runId, startedAt, owner, "no-snapshot", SdkInfo.Version, _temp.Path, parameters, [$"user:{owner}", "runtime:test"]));
        return runId;
    }

    public Task<AttemptDoneRecord> RunTaskAsync(string runId, string step, string taskId, params string[] inputs) =>
        Runner.RunAsync(new TaskRequest(Root, FlowName, runId, step, taskId, 0, inputs));

    /// <summary>Runs Start (task 1), Middle (task 2) and End (task 3), stopping at the first failure.</summary>
    public async Task<string> RunAllAsync(string runId)
    {
        if (!(await RunTaskAsync(runId, "Start", "1")).IsSuccess)
        {
            return "Start";
        }
        if (!(await RunTaskAsync(runId, "Middle", "2", $"{runId}/Start/1")).IsSuccess)
        {
            return "Middle";
        }
        if (!(await RunTaskAsync(runId, "End", "3", $"{runId}/Middle/2")).IsSuccess)
        {
            return "End";
        }
        Store.WriteRunEnd(FlowName, runId, new RunEndRecord("succeeded", DateTimeOffset.UtcNow));
        return "succeeded";
    }

    /// <summary>Reads the done.json of attempt 0 of a task, as written on disk.</summary>
    public AttemptDoneRecord Done(string runId, string step, string taskId) =>
        Store.ReadAttemptDone(Store.AttemptDir(FlowName, runId, step, taskId, 0))
        ?? throw new InvalidOperationException($"{runId}/{step}/{taskId} has no done.json");

    /// <summary>Decodes a stored artifact the way a reader would.</summary>
    public T Value<T>(ArtifactRef reference) => (T)ArtifactCodec.Deserialize(Store.Blobs.Get(reference.Sha), reference.Encoding, typeof(T))!;

    /// <summary>Flips one byte in the middle of the blob file that holds <paramref name="sha"/>.</summary>
    public void CorruptBlob(string sha)
    {
        var path = Store.Blobs.PathOf(sha);
        var bytes = File.ReadAllBytes(path);
        bytes[^1] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
    }

    public void Dispose() => _temp.Dispose();

    private static ValueTask Invoke(FlowSpec flow, Action<PipelineFlow> step)
    {
        step((PipelineFlow)flow);
        return ValueTask.CompletedTask;
    }
}
