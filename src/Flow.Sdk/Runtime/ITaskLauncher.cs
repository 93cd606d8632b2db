using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Runtime;

/// <summary>
/// One attempt of a task, ready to start: the request every launcher hands to the task contract
/// (<c>docs/task-contract.md</c>), where its records go, and what the step asks of its process.
/// </summary>
/// <param name="Request">The task: datastore, flow, run, step, task id, attempt, inputs, split index.</param>
/// <param name="AttemptDir">The attempt's folder.</param>
/// <param name="Environment">Variables the step's process needs (<c>[Environment]</c>); a process of its own then.</param>
/// <param name="TimeoutSeconds">The step's <c>[Timeout]</c>, or 0. The task enforces it; a launcher stops a task that overruns it.</param>
internal sealed record TaskLaunch(TaskRequest Request, string AttemptDir, IReadOnlyDictionary<string, string>? Environment, int TimeoutSeconds)
{
    /// <summary>Gets the console prefix of the task's lines, <c>[run/Step/task]</c>.</summary>
    public string Prefix => $"[{Request.RunId}/{Request.Step}/{Request.TaskId}]";
}

/// <summary>How an attempt ended, as its launcher saw it.</summary>
/// <param name="Launch">The attempt.</param>
/// <param name="Status">The status the task reported, or null when its process ended without reporting.</param>
/// <param name="ExitCode">The process's exit code when it ended without reporting.</param>
/// <param name="Seconds">Wall time from start to end.</param>
/// <param name="CpuShare">The task's CPU time divided by its wall time, when known.</param>
/// <param name="Stopped">Why the launcher stopped it (an overrun timeout, the run stopping), or null.</param>
internal sealed record LaunchResult(TaskLaunch Launch, string? Status, int? ExitCode, double Seconds, double? CpuShare = null, string? Stopped = null);

/// <summary>
/// Starts task attempts somewhere — worker processes on this machine, jobs on a cluster — and reports how each
/// ended. It knows nothing of the graph: the <see cref="Scheduler"/> decides what runs, in what order, retries and
/// clones; a launcher only has room or not, starts, and stops. Every launcher runs the same task contract, and a
/// task records its own outcome in the datastore, so what a launcher reports is a hint the scheduler checks
/// against the attempt's <c>done.json</c>.
/// </summary>
internal interface ITaskLauncher : IDisposable
{
    /// <summary>Gets the number of attempts running now.</summary>
    int Running { get; }

    /// <summary>Gets a task that completes when room may have appeared (a worker became ready); replaced after each.</summary>
    Task RoomChanged { get; }

    /// <summary>
    /// Looks at what still waits once every task with room has started, and prepares room ahead, such as workers to
    /// start: <paramref name="queued"/> holds, for each step with tasks waiting for the local worker pool (lane 0),
    /// how many wait.
    /// </summary>
    void Prepare(IReadOnlyList<QueuedStep> queued);

    /// <summary>
    /// The kind of room a step's tasks take (0 the local pool, 1 a local process of their own, 2 cluster jobs): once a
    /// lane has no room, the scheduler skips its other tasks until room changes.
    /// </summary>
    int Lane(GraphStep? step);

    /// <summary>Whether an attempt of this step can start now.</summary>
    bool HasRoom(GraphStep? step);

    /// <summary>Starts the attempt: writes its <c>started.json</c> and completes once it has ended, however it ended.</summary>
    Task<LaunchResult> LaunchAsync(TaskLaunch launch);

    /// <summary>Learns how long a step's tasks take (the scheduler reports each success), to size its room.</summary>
    void Observe(string step, double seconds, double? cpuShare);

    /// <summary>Stops every running attempt at once (the run is interrupted or failed); completes when they have ended.</summary>
    void StopAll();

    /// <summary>Whether the launcher cannot start tasks at all any more (its workers die at start-up), and why.</summary>
    string? Broken { get; }
}

/// <summary>
/// Sends each step's tasks to the launcher where they run: Slurm for the steps the run puts there (<c>--with slurm</c>,
/// <c>[Slurm]</c>, not <c>[Local]</c>), this machine for the rest.
/// </summary>
internal sealed class LauncherRouter(LocalLauncher local, SlurmLauncher slurm, SlurmSettings settings, FlowGraph graph) : ITaskLauncher
{
    public int Running => local.Running + slurm.Running;

    public Task RoomChanged => local.RoomChanged;

    public string? Broken => slurm.Broken ?? local.Broken;

    public int Lane(GraphStep? step) => settings.Runs(step) ? slurm.Lane(step) : local.Lane(step);

    public void Prepare(IReadOnlyList<QueuedStep> queued)
    {
        slurm.Prepare([]);
        local.Prepare([.. queued.Where(q => !settings.Runs(graph.FindStep(q.Step)))]);
    }

    public bool HasRoom(GraphStep? step) => settings.Runs(step) ? slurm.HasRoom(step) : local.HasRoom(step);

    public Task<LaunchResult> LaunchAsync(TaskLaunch launch) =>
        settings.Runs(graph.FindStep(launch.Request.Step)) ? slurm.LaunchAsync(launch) : local.LaunchAsync(launch);

    public void Observe(string step, double seconds, double? cpuShare) => local.Observe(step, seconds, cpuShare);

    public void StopAll()
    {
        slurm.StopAll();
        local.StopAll();
    }

    /// <summary>Nothing: the run owns both launchers and disposes each.</summary>
    public void Dispose()
    {
    }
}

/// <summary>What a scheduler needs of the datastore records an attempt leaves.</summary>
internal static class AttemptRecords
{
    /// <summary>A failed attempt's record written by whoever saw it fail; the first marker wins, so a task's own stays.</summary>
    public static AttemptDoneRecord Fail(FlowDatastore store, string attemptDir, string type, string message)
    {
        store.FinishAttempt(attemptDir, new AttemptDoneRecord(
            AttemptDoneRecord.Failed, DateTimeOffset.UtcNow, new Dictionary<string, ArtifactRef>(), [], new ErrorRecord(type, message, null)));
        return store.ReadAttemptDone(attemptDir)
            ?? new AttemptDoneRecord(AttemptDoneRecord.Failed, DateTimeOffset.UtcNow, new Dictionary<string, ArtifactRef>(), [], new ErrorRecord(type, message, null));
    }
}

/// <summary>How many tasks of a step wait for room.</summary>
internal sealed record QueuedStep(string Step, int Count);
