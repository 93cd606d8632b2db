using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Runtime;
using Flow.Sdk.Tests.Support;
using Flow.Tests;

namespace Flow.Sdk.Tests.Runtime;

/// <summary>
/// The scheduler and a launcher meet at <see cref="ITaskLauncher"/> (docs/architecture.md): the scheduler hands a task
/// to the launcher whenever it has room and asks it to prepare room (start workers, a cost of a process each) only
/// for the tasks that still wait. A launcher here is a fake with a fixed number of slots that finishes each task at
/// once by writing the record a task would.
/// </summary>
public sealed class SchedulerTests : IDisposable
{
    private readonly TempDirectory _temp = new("flow-scheduler-");
    private readonly FlowDatastore _store;

    public SchedulerTests() => _store = FlowDatastore.Open(new System.IO.Abstractions.FileSystem(), _temp.Combine(".flow"), create: true);

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task LinearFlow_SuccessorTakesTheRoomItsPredecessorLeft_NoRoomPreparedAhead()
    {
        var graph = new FlowGraph("Chain", null, [TestGraphs.Linear("Start", "A"), TestGraphs.Linear("A", "B"), TestGraphs.Linear("B", "End"), TestGraphs.End()], []);
        var launcher = new SlotLauncher(_store, graph, slots: 1);

        var failure = await Run(graph, launcher);

        failure.ShouldBeNull();
        launcher.Launched.ShouldBe(["Start", "A", "B", "End"]);
        launcher.Prepared.ShouldAllBe(q => q == 0, "a worker started for a task an idle one takes at once is a process for nothing");
    }

    [Fact]
    public async Task WideForeach_RoomIsPreparedOnlyForTasksStillWaiting()
    {
        var graph = new FlowGraph("Wide", null,
        [
            new GraphStep("Start", "foreach", ["Each"], "Items", null, null, 1, MatchingJoin: "Join"),
            TestGraphs.Linear("Each", "Join"),
            new GraphStep("Join", "linear", ["End"], null, null, null, 1, IsJoin: true),
            TestGraphs.End(),
        ], []);
        var launcher = new SlotLauncher(_store, graph, slots: 3, width: 10);

        var failure = await Run(graph, launcher);

        failure.ShouldBeNull();
        launcher.Launched.Count(s => s == "Each").ShouldBe(10);
        launcher.Launched[^2..].ShouldBe(["Join", "End"]);
        launcher.Prepared.Max().ShouldBe(7, "ten children, three slots: seven wait when room is asked for");
        launcher.MostAtOnce.ShouldBe(3);
    }

    private async Task<string?> Run(FlowGraph graph, SlotLauncher launcher)
    {
        var runId = _store.CreateRun(graph.Name, DateTimeOffset.UtcNow);
        launcher.RunId = runId;
        var scheduler = new Scheduler(_store, graph, runId, launcher, new RetryPolicy(null));
        return await scheduler.RunAsync(new TaskCompletionSource<string>().Task).WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>A launcher with a fixed number of slots; each task ends at once, recording success as a task would.</summary>
    private sealed class SlotLauncher(FlowDatastore store, FlowGraph graph, int slots, int width = 0) : ITaskLauncher
    {
        private readonly Lock _gate = new();
        private int _running;

        public string RunId { get; set; } = "";

        public List<string> Launched { get; } = [];

        public List<int> Prepared { get; } = [];

        public int MostAtOnce { get; private set; }

        public int Running => Volatile.Read(ref _running);

        public Task RoomChanged => new TaskCompletionSource().Task;

        public string? Broken => null;

        public void Prepare(IReadOnlyList<QueuedStep> queued) => Prepared.Add(queued.Sum(q => q.Count));

        public int Lane(GraphStep? step) => 0;

        public bool HasRoom(GraphStep? step) => Running < slots;

        public async Task<LaunchResult> LaunchAsync(TaskLaunch launch)
        {
            lock (_gate)
            {
                _running++;
                MostAtOnce = Math.Max(MostAtOnce, _running);
                Launched.Add(launch.Request.Step);
            }
            // Long beside a dispatch pass (microseconds), so every task the scheduler hands over at once is running together.
            await Task.Delay(50);
            var step = graph.FindStep(launch.Request.Step)!;
            var forEach = step.Kind == "foreach" ? new ForEachRecord(step.ForEach!, width, "") : null;
            var frames = launch.Request.Step == "Each"
                ? [new FrameRecord("foreach", "Start", launch.Request.InputPaths[0].Split('/')[2], launch.Request.SplitIndex ?? 0, width)]
                : Array.Empty<FrameRecord>();
            store.FinishAttempt(launch.AttemptDir, new AttemptDoneRecord(
                AttemptDoneRecord.Succeeded, DateTimeOffset.UtcNow, new Dictionary<string, ArtifactRef>(), step.Kind == "foreach" ? [] : step.Next, Frames: frames, ForEach: forEach));
            lock (_gate)
            {
                _running--;
            }
            return new LaunchResult(launch, AttemptDoneRecord.Succeeded, null, 0.001);
        }

        public void Observe(string step, double seconds, double? cpuShare)
        {
        }

        public void StopAll()
        {
        }

        public void Dispose()
        {
        }
    }
}
