using Flow.Cli.Tests.Support;
using Flow.Sdk;
using Flow.Sdk.Datastore;

namespace Flow.Cli.Tests.Commands;

/// <summary><c>logs</c>: a clone's output is its origin's; <c>--follow</c> ends when no more output can come.</summary>
public sealed class LogsCommandTests : IDisposable
{
    private readonly DatastoreScenario _scenario = new();

    public void Dispose() => _scenario.Dispose();

    private string AttemptDir(string run, string step, string task) => _scenario.Store.AttemptDir(DatastoreScenario.FlowName, run, step, task, 0);

    private void WriteLog(string run, string step, string task, string text) =>
        _scenario.FileSystem.File.WriteAllText(
            _scenario.FileSystem.Path.Combine(AttemptDir(run, step, task), "stdout.log"),
            "2025-03-01T12:00:01.000000Z " + text + "\n");

    [Fact]
    public async Task Follow_ATaskThatNeverRanInARunThatIsOver_EndsAtOnce()
    {
        // The orchestrator recorded the attempt's start, then everything was killed: no heartbeat, no done.json, and
        // the run has no live orchestrator. Following it used to wait forever.
        var run = _scenario.AddRun();
        _scenario.Store.StartAttempt(AttemptDir(run, "Start", "1"), new AttemptStartRecord(DatastoreScenario.Time(1), []));
        WriteLog(run, "Start", "1", "the last line it printed");

        var follow = Task.Run(() => _scenario.Run("logs", $"HelloFlow/{run}/Start/1", "--follow"));

        (await Task.WhenAny(follow, Task.Delay(TimeSpan.FromSeconds(10)))).ShouldBe(follow, "--follow must end when the run is over");
        var result = await follow;
        result.ExitCode.ShouldBe(0, result.ToString());
        result.Output.ShouldContain("the last line it printed");
    }

    [Fact]
    public async Task Follow_ARunningTask_PrintsItsOutputUntilItIsFinalized()
    {
        var run = _scenario.AddRun();
        var dir = AttemptDir(run, "Start", "1");
        _scenario.Store.StartAttempt(dir, new AttemptStartRecord(DatastoreScenario.Time(1), []));
        Heartbeat.Beat(_scenario.FileSystem, _scenario.Store.RunHeartbeatPath(DatastoreScenario.FlowName, run));
        Heartbeat.Beat(_scenario.FileSystem, _scenario.Store.AttemptHeartbeatPath(dir));
        WriteLog(run, "Start", "1", "first");

        var follow = Task.Run(() => _scenario.Run("logs", $"HelloFlow/{run}/Start/1", "--follow"));
        await Task.Delay(700);
        follow.IsCompleted.ShouldBeFalse("the task is alive and unfinished");
        _scenario.FileSystem.File.AppendAllText(_scenario.FileSystem.Path.Combine(dir, "stdout.log"), "2025-03-01T12:00:02.000000Z second\n");
        _scenario.Store.FinishAttempt(dir, new AttemptDoneRecord(AttemptDoneRecord.Succeeded, DatastoreScenario.Time(3), new Dictionary<string, ArtifactRef>(), ["End"]));

        (await Task.WhenAny(follow, Task.Delay(TimeSpan.FromSeconds(10)))).ShouldBe(follow);
        var result = await follow;
        result.Output.ShouldContain("first");
        result.Output.ShouldContain("second");
    }

    [Fact]
    public void Logs_OfAClonedTask_AreItsOriginsOutput_AsTheClientReadsThem()
    {
        var origin = _scenario.AddRun(second: 0);
        _scenario.AddTask(origin, "Start", "1", new Dictionary<string, object?> { ["X"] = 1 });
        WriteLog(origin, "Start", "1", "printed in the origin");
        var resumed = _scenario.AddRun(second: 10);
        var dir = AttemptDir(resumed, "Start", "1");
        _scenario.Store.StartAttempt(dir, new AttemptStartRecord(DatastoreScenario.Time(11), []));
        var originDone = _scenario.Store.ReadAttemptDone(AttemptDir(origin, "Start", "1"))!;
        _scenario.Store.FinishAttempt(dir, originDone with { ClonedFrom = $"{origin}/Start/1" });

        var logs = _scenario.Run("logs", $"HelloFlow/{resumed}/Start/1");
        var task = FlowClient.GetFlow(_scenario.Store, DatastoreScenario.FlowName).GetRun(resumed)["Start"].Task;

        logs.ExitCode.ShouldBe(0, logs.ToString());
        logs.Output.ShouldContain("printed in the origin");
        task.ClonedFrom.ShouldBe($"{origin}/Start/1");
        task.Stdout.ShouldBe("printed in the origin" + Environment.NewLine, "the client and the CLI agree");
        task.Attempts.Single().Stdout.ShouldBe(task.Stdout);
    }
}
