using System.Text;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Tests.Support;
using Flow.Tests;

namespace Flow.Sdk.Tests.Client;

/// <summary>
/// What a tool or a server reads through the client instead of the datastore's format: a client per datastore with
/// its own namespace, states as values, why a run failed and what it resumed, its graph from its snapshot, a task's
/// output read on from where it stopped, and children found through the graph.
/// </summary>
public sealed class ClientForToolsTests : IDisposable
{
    private const string Flow = "ToolFlow";
    private readonly TempDirectory _temp = new("flow-client-tools-");
    private readonly SyntheticRuns _runs;

    public ClientForToolsTests() => _runs = SyntheticRuns.OnDisk(_temp.Combine(".flow"));

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void FlowStore_HasANamespaceOfItsOwn_BesideTheStaticClient()
    {
        _runs.AddRun(Flow, 0, user: "ada");
        var bobs = _runs.AddRun(Flow, 10, user: "bob");
        using var scope = new FlowClientStateScope().UseDatastore(_runs.Store.Root).Namespace(Namespace.User("ada"));
        var store = FlowStore.Open(_runs.Store.Root);

        store.Namespace = Namespace.User("bob");

        store.GetFlow(Flow).LatestRun!.Id.ShouldBe(bobs);
        FlowClient.GetFlow(Flow).LatestRun!.User.ShouldBe("ada", "the static client keeps its own namespace");
        store.GetRun($"{Flow}/latest").Id.ShouldBe(bobs);
        FlowStore.Open(_runs.Store.Root).Namespace.ShouldBe(Namespace.Default);
    }

    [Fact]
    public void States_Failure_AndOrigin_AreValues()
    {
        var failed = _runs.AddRun(Flow, 0, status: null);
        _runs.Store.WriteRunEnd(Flow, failed, new RunEndRecord("failed", SyntheticRuns.Time(5), "step Train (task 2) failed: boom"));
        _runs.AddAttempt(Flow, failed, "Train", "2", status: AttemptDoneRecord.Failed, error: new ErrorRecord("X", "boom", null));
        var dead = _runs.AddRun(Flow, 10, status: null);
        _runs.AddAttempt(Flow, dead, "Start", "1", status: null);
        var resumed = _runs.Store.CreateRun(Flow, SyntheticRuns.Time(20));
        _runs.Store.WriteRun(SyntheticRuns.Record(Flow, resumed, SyntheticRuns.Time(20)) with { OriginRunId = failed });

        var client = FlowStore.Open(_runs.Store.Root);
        client.GetRun($"{Flow}/{failed}").State.ShouldBe(RunState.Failed);
        client.GetRun($"{Flow}/{failed}").Failure.ShouldBe("step Train (task 2) failed: boom");
        client.GetRun($"{Flow}/{failed}")["Train"].Task.State.ShouldBe(TaskState.Failed);
        client.GetRun($"{Flow}/{dead}").Failure!.ShouldContain("processes died");
        client.GetRun($"{Flow}/{dead}")["Start"].Task.State.ShouldBe(TaskState.Died);
        client.GetRun($"{Flow}/{resumed}").OriginRunId.ShouldBe(failed);
        client.GetRun($"{Flow}/{resumed}").Failure.ShouldNotBeNull("no orchestrator: it died");
    }

    [Fact]
    public void Graph_IsReadFromTheRunsSnapshot_AndChildrenComeFromTheStepsThatFollow()
    {
        var graph = new FlowGraph(Flow, null, [TestGraphs.Linear("Start", "Train"), TestGraphs.Linear("Train", "End"), TestGraphs.End()], []);
        var manifest = Encoding.UTF8.GetBytes($"{{\"format\":1,\"sdkVersion\":\"0\",\"assembly\":\"A.dll\",\"projectPath\":\"A.csproj\",\"files\":[],\"flows\":[{TestGraphs.Json(graph)}]}}");
        var snapshot = _runs.Store.Blobs.Put(manifest);
        var run = _runs.AddRun(Flow, 0, snapshot: snapshot);
        _runs.AddAttempt(Flow, run, "Start", "1");
        _runs.AddAttempt(Flow, run, "Train", "2", inputs: [$"{run}/Start/1"]);
        _runs.AddAttempt(Flow, run, "End", "3", inputs: [$"{run}/Train/2"]);
        // A task of a step the graph does not put after Start, claiming Start as its input, is not Start's child.
        _runs.AddAttempt(Flow, run, "Stray", "4", inputs: [$"{run}/Start/1"]);

        var stored = FlowStore.Open(_runs.Store.Root).GetRun($"{Flow}/{run}");

        stored.Graph!.Steps.Select(s => s.Name).ShouldBe(["Start", "Train", "End"]);
        stored["Start"].Task.Children.Select(t => t.Pathspec).ShouldBe([$"{Flow}/{run}/Train/2"]);
    }

    [Fact]
    public void Output_ReadOnFromAPosition_GivesOnlyWhatCameAfter()
    {
        var run = _runs.AddRun(Flow, 0);
        _runs.AddAttempt(Flow, run, "Start", "1", stdout: "one\ntwo");
        var task = FlowStore.Open(_runs.Store.Root).GetRun($"{Flow}/{run}")["Start"].Task;
        var first = task.Output();
        first.ReadNew().Select(l => l.Text).ShouldBe(["one", "two"]);
        var log = Path.Combine(_runs.AttemptDir(Flow, run, "Start", "1"), "stdout.log");
        File.AppendAllText(log, "2025-03-01T12:01:05.000000Z three\n");

        var later = task.Output(from: first.Position);

        later.ReadNew().Select(l => l.Text).ShouldBe(["three"]);
        later.Position.Stdout.ShouldBe(new FileInfo(log).Length);
    }
}
