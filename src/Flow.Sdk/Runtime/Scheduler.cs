using System.Globalization;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Runtime;

/// <summary>
/// The graph logic of one run: which task runs when, joins, foreach fan-out, retries, <c>[Catch]</c>, resume clones,
/// and when the run stops. It reacts to events only (a task ended, a launcher has room, the run is interrupted): a
/// successor is queued the moment its inputs are done, and a queued task goes to the launcher as soon as it has
/// room. How tasks start is the <see cref="ITaskLauncher"/>'s business; what they did is read from the datastore.
/// </summary>
internal sealed class Scheduler(
    FlowDatastore store,
    FlowGraph graph,
    string runId,
    ITaskLauncher launcher,
    RetryPolicy retries,
    int maxNumSplits = 100,
    ResumePlan? plan = null)
{
    /// <summary>Tasks waiting, in the order they became ready; a list, so dispatch can stop early without reordering.</summary>
    private readonly List<PendingTask> _queue = [];
    /// <summary>How many of the queued tasks each step has: what the launcher looks at after each dispatch, kept as the
    /// queue changes so that a wide foreach costs the same per event however many of its tasks wait.</summary>
    private readonly Dictionary<string, int> _queuedPerStep = new(StringComparer.Ordinal);
    private readonly Dictionary<Task<LaunchResult>, PendingTask> _running = [];
    // Keyed by a record class, not a value tuple: generic code over reference types is compiled ahead of time, so a
    // run does not spend start-up compiling dictionary code for it (docs/performance.md). The same holds below.
    private readonly Dictionary<JoinKey, JoinSlots> _joins = [];
    private readonly ResumeCloner? _cloner = plan is null ? null : new ResumeCloner(store, graph, runId, plan);
    /// <summary>The lanes (kinds of room) the graph's steps take: dispatch stops once every one of them is full.</summary>
    private readonly int[] _lanes = Lanes(graph, launcher);
    private int _nextTaskId;
    private string? _cloneFailure;
    private bool _stopping;
    private bool _endDone;

    /// <summary>Gets the error of the task that failed the run, once one did.</summary>
    public ErrorRecord? FailedError { get; private set; }

    /// <summary>Gets the number of tasks cloned from the origin run (resume).</summary>
    public int Cloned => _cloner?.Cloned ?? 0;

    /// <summary>
    /// Runs the flow to its end; returns the run's failure, or null on success. When <paramref name="interrupted"/>
    /// completes (a signal), every running attempt is stopped and recorded as failed with that reason.
    /// </summary>
    public async Task<string?> RunAsync(Task<string> interrupted)
    {
        Enqueue(new PendingTask("Start", [], null));
        string? failure = null;
        while (true)
        {
            if (failure is null)
            {
                Dispatch();
                failure ??= _cloneFailure ?? launcher.Broken;
            }
            if (_running.Count == 0 && (failure is not null || _queue.Count == 0))
            {
                break;
            }
            var waits = _running.Keys.Cast<Task>().Append(interrupted);
            var first = await Task.WhenAny(failure is null ? waits.Append(launcher.RoomChanged) : waits);
            if (first == interrupted)
            {
                failure = await interrupted;
                await StopAsync(failure);
                break;
            }
            if (first is not Task<LaunchResult> ended || !_running.Remove(ended, out var task))
            {
                continue; // room changed: dispatch again
            }
            var result = await ended;
            var done = store.ReadAttemptDone(result.Launch.AttemptDir);
            if (done is { IsSuccess: true })
            {
                // The task's own record is the truth, whatever its process did after writing it.
                RunConsole.TaskEvent(result.Launch.Prefix, "Task finished successfully.");
                RunConsole.Succeeded(task.Step);
                launcher.Observe(task.Step, result.Seconds, result.CpuShare);
                failure ??= Advance(task, result.Launch.Request.TaskId, done);
                continue;
            }
            var failed = Fail(task, result, done);
            if (failed is not null && failure is null)
            {
                // The run stops: tasks still running are ended (their logs are kept), nothing new starts.
                failure = failed;
                _stopping = true;
                launcher.StopAll();
            }
        }
        return failure ?? (_endDone ? null : "the run ended before its End step (internal error)");
    }

    /// <summary>Stops every running attempt and records each as failed with the reason (a signal, Ctrl-C).</summary>
    private async Task StopAsync(string reason)
    {
        _stopping = true;
        launcher.StopAll();
        foreach (var result in await Task.WhenAll(_running.Keys))
        {
            AttemptRecords.Fail(store, result.Launch.AttemptDir, "Interrupted", reason);
            RunConsole.Important($"{result.Launch.Prefix} Task stopped: {reason}.");
        }
        _running.Clear();
    }

    /// <summary>Clones what a resume can, then hands queued tasks to the launcher while it has room.</summary>
    private void Dispatch()
    {
        if (_cloner is not null)
        {
            // A resume first clones every queued task it can (no process needed), in queue order, until none is left.
            for (var cloned = true; cloned;)
            {
                cloned = false;
                for (var i = 0; i < _queue.Count; i++)
                {
                    var task = _queue[i];
                    if (task.CloneChecked)
                    {
                        continue;
                    }
                    if (_cloner.TryClone(task, NextTaskId) is { } taskId)
                    {
                        cloned = true;
                        _queue.RemoveAt(i--);
                        Unqueued(task.Step);
                        _cloneFailure ??= Advance(task, taskId, store.ReadAttemptDone(store.AttemptDir(graph.Name, runId, task.Step, taskId, 0)));
                    }
                    else
                    {
                        // A task's inputs never change once it is queued: one that cannot be cloned now never can.
                        _queue[i] = task with { CloneChecked = true };
                    }
                }
            }
        }
        // In queue order, each task to the launcher while it has room for its kind (lane); once no lane has room, the
        // rest wait (so a wide queue costs nothing per event when every worker is busy).
        Span<bool> full = stackalloc bool[4];
        var fullLanes = 0;
        for (var i = 0; i < _queue.Count && fullLanes < _lanes.Length; i++)
        {
            var task = _queue[i];
            var step = graph.FindStep(task.Step);
            var lane = launcher.Lane(step);
            if (full[lane])
            {
                continue;
            }
            if (!launcher.HasRoom(step))
            {
                full[lane] = true;
                fullLanes++;
                continue;
            }
            var environment = step?.Environment is { Count: > 0 } own ? own : null;
            _queue.RemoveAt(i--);
            Unqueued(task.Step);
            var taskId = task.TaskId ?? NextTaskId();
            var request = new TaskRequest(store.Root, graph.Name, runId, task.Step, taskId, task.Attempt, task.Inputs, task.SplitIndex,
                CatchFailure: step?.Catch is not null && task.Attempt >= retries.LastAttempt(step), Caught: task.Caught);
            var launch = new TaskLaunch(request, store.AttemptDir(graph.Name, runId, task.Step, taskId, task.Attempt), environment, step?.TimeoutSeconds ?? 0);
            _running.Add(launcher.LaunchAsync(launch), task with { TaskId = taskId });
        }
        // Room ahead (workers to start) for the pool's tasks still waiting; a step with [Environment] gets its own process.
        var pool = new List<QueuedStep>(_queuedPerStep.Count);
        foreach (var (name, count) in _queuedPerStep)
        {
            if (launcher.Lane(graph.FindStep(name)) == 0)
            {
                pool.Add(new QueuedStep(name, count));
            }
        }
        launcher.Prepare(pool);
    }

    private static int[] Lanes(FlowGraph graph, ITaskLauncher launcher)
    {
        var lanes = new List<int>();
        foreach (var step in graph.Steps)
        {
            var lane = launcher.Lane(step);
            if (!lanes.Contains(lane))
            {
                lanes.Add(lane);
            }
        }
        return [.. lanes];
    }

    private void Unqueued(string step)
    {
        if (--_queuedPerStep[step] == 0)
        {
            _queuedPerStep.Remove(step);
        }
    }

    private string NextTaskId() => (++_nextTaskId).ToString(CultureInfo.InvariantCulture);

    /// <summary>Queues the successors of a task that succeeded (<paramref name="done"/>: its attempt's record); returns a failure when the run cannot go on.</summary>
    private string? Advance(PendingTask task, string taskId, AttemptDoneRecord? done)
    {
        var name = task.Step;
        var path = $"{runId}/{name}/{taskId}";
        var step = graph.FindStep(name);
        if (done is null || step is null)
        {
            return $"step {name} (task {taskId}) reported success but its attempt is not finalized (internal error)";
        }
        switch (step.Kind)
        {
            case "end":
                _endDone = true;
                return null;
            case "foreach":
                var count = done.ForEach?.Count ?? 0;
                if (count > maxNumSplits)
                {
                    // The task refuses a wider fan-out before it stores a single item; this guards older records.
                    return $"step {name} (task {taskId}) fans out over {count} items of {done.ForEach?.Artifact}, more than --max-num-splits {maxNumSplits}; raise the limit with --max-num-splits {count}";
                }
                for (var i = 0; i < count; i++)
                {
                    Enqueue(new PendingTask(step.Next[0], [path], i));
                }
                return null;
            case "split":
                for (var i = 0; i < step.Next.Count; i++)
                {
                    Enqueue(new PendingTask(step.Next[i], [path], i));
                }
                return null;
        }
        // Linear or switch: the target the task took (the task runner checked it against the graph).
        foreach (var next in done.Next)
        {
            if (graph.FindStep(next) is not { IsJoin: true })
            {
                Enqueue(new PendingTask(next, [path], null));
                continue;
            }
            if (done.Position.Count == 0)
            {
                return $"step {name} (task {taskId}) leads to the join {next} but is not inside a split (internal error)";
            }
            // A join starts when every branch of the split it closes is done, with its inputs in split order.
            var top = done.Position[^1];
            var key = new JoinKey(next, top.Step, top.Task);
            if (!_joins.TryGetValue(key, out var slots))
            {
                _joins[key] = slots = new JoinSlots(new string?[top.Count]);
            }
            if (slots.Paths[top.Index] is null)
            {
                slots.Paths[top.Index] = path;
                slots.Filled++;
            }
            if (slots.Filled == slots.Paths.Length)
            {
                _joins.Remove(key);
                Enqueue(new PendingTask(next, [.. slots.Paths.Select(p => p!)], null));
            }
        }
        return null;
    }

    /// <summary>
    /// Records a failed attempt (when the task could not) and retries it when the step allows (<c>[Retry]</c>,
    /// <c>--with retry</c>); a step with <c>[Catch]</c> whose last attempt's process died gets one more attempt that
    /// records the failure as caught. Returns the run's failure, or null when the task goes on.
    /// </summary>
    private string? Fail(PendingTask task, LaunchResult result, AttemptDoneRecord? done)
    {
        var (launch, taskId) = (result.Launch, result.Launch.Request.TaskId);
        var processDied = result.Status is null;
        if (done is null)
        {
            var (type, reason) = result.Stopped is { } stopped ? ("Interrupted", stopped)
                : _stopping ? ("Interrupted", "stopped: another task of the run failed")
                : processDied ? ("ProcessExited", $"the task's process exited with code {result.ExitCode} before the task finished (the step ended the process or it crashed)")
                : ("WorkerError", "the worker could not run the task (see its stderr above)");
            done = AttemptRecords.Fail(store, launch.AttemptDir, type, reason);
        }
        var error = done.Error;
        RunConsole.Important(error?.Type == TaskRunner.TimeoutError
            ? $"{launch.Prefix} Task timed out after {launch.TimeoutSeconds} s."
            : RunConsole.Mode == ConsoleMode.Quiet && error is not null
                ? $"{launch.Prefix} Task failed: {error.Type}: {error.Message}"
                : $"{launch.Prefix} Task failed.");
        if (_stopping)
        {
            RunConsole.Failed(task.Step);
            return null;
        }
        var step = graph.FindStep(task.Step);
        if (step is not null && task.Attempt < retries.LastAttempt(step) && error?.Type != TaskRunner.LimitError)
        {
            RunConsole.Important($"{launch.Prefix} Retrying: attempt {task.Attempt + 1} (the step allows attempts 0 to {retries.LastAttempt(step)}).");
            RunConsole.Retried(task.Step);
            Enqueue(task with { TaskId = taskId, Attempt = task.Attempt + 1, CloneChecked = true });
            return null;
        }
        if (step?.Catch is not null && processDied && task.Caught is null && task.Attempt + 1 < RetryPolicy.MaxAttempts)
        {
            // The process is gone, so nothing could catch in it: one more attempt records the failure as caught.
            RunConsole.Retried(task.Step);
            Enqueue(task with { TaskId = taskId, Attempt = task.Attempt + 1, Caught = error, CloneChecked = true });
            return null;
        }
        RunConsole.Failed(task.Step);
        FailedError = error;
        return $"step {task.Step} (task {taskId}{(task.Attempt > 0 ? $", attempt {task.Attempt}" : "")}) failed: {error?.Type}: {error?.Message}";
    }

    /// <summary>Queues a task (the console's summary counts it).</summary>
    private void Enqueue(PendingTask task)
    {
        _queue.Add(task);
        _queuedPerStep[task.Step] = _queuedPerStep.GetValueOrDefault(task.Step) + 1;
        RunConsole.Queued(task.Step);
    }

    /// <summary>The inputs of a join collected so far, in split or index order.</summary>
    private sealed record JoinKey(string Join, string Step, string Task);

    private sealed class JoinSlots(string?[] paths)
    {
        public string?[] Paths { get; } = paths;

        public int Filled { get; set; }
    }
}

/// <summary>A task waiting to run: its step, the tasks it reads, and its branch or item index.</summary>
/// <param name="Step">The step.</param>
/// <param name="Inputs">The tasks it reads.</param>
/// <param name="SplitIndex">Its branch or item index, for the first task of a branch.</param>
/// <param name="TaskId">Set when an attempt of an existing task is retried.</param>
/// <param name="Attempt">The attempt number.</param>
/// <param name="Caught">A failure to record as caught instead of running the step ([Catch] after a dead process).</param>
/// <param name="CloneChecked">A resume already found that it cannot be cloned.</param>
internal sealed record PendingTask(string Step, string[] Inputs, int? SplitIndex, string? TaskId = null, int Attempt = 0, ErrorRecord? Caught = null, bool CloneChecked = false);

/// <summary>How many attempts a task gets: <c>[Retry]</c>, else <c>--with retry</c>, capped.</summary>
/// <param name="defaultRetry">The retries <c>--with retry</c> gives every step without <c>[Retry]</c>.</param>
internal sealed class RetryPolicy(int? defaultRetry)
{
    /// <summary>The most attempts a task gets, retries included (<c>FLOW_MAX_ATTEMPTS</c>, default 6).</summary>
    public static readonly int MaxAttempts =
        int.TryParse(Environment.GetEnvironmentVariable("FLOW_MAX_ATTEMPTS"), out var max) && max > 0 ? max : 6;

    /// <summary>The number of the last attempt a task of this step gets.</summary>
    public int LastAttempt(GraphStep step) => Math.Clamp(step.Retry ?? defaultRetry ?? 0, 0, MaxAttempts - 1);
}
