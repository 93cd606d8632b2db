using System.IO.Abstractions;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Runtime;

/// <summary>
/// Schedules the tasks of one run on a pool of worker processes, at most <c>--max-workers</c> at a time, and
/// records every attempt in the datastore. It reacts to events only (a task finished, a worker became ready):
/// a successor is queued the moment its inputs are done, and a queued task goes to the first free worker.
/// </summary>
/// <remarks>
/// Workers are started on demand, a few at a time, and only while the queued work per worker outlasts a worker's
/// start-up (both measured during the run): trivial tasks then share the workers that are up, while slow tasks
/// get up to <c>--max-workers</c> processes (docs/architecture.md).
/// </remarks>
internal sealed class Orchestrator(
    IFileSystem fs,
    FlowDatastore store,
    FlowGraph graph,
    string runId,
    string workerAssembly,
    int maxWorkers,
    int maxNumSplits = 100,
    long maxLogBytes = AttemptLog.DefaultMaxMegabytes * 1024L * 1024L,
    ResumePlan? plan = null,
    int? defaultRetry = null)
{
    /// <summary>The most attempts a task gets, retries included (<c>FLOW_MAX_ATTEMPTS</c>, default 6).</summary>
    private static readonly int s_maxAttempts =
        int.TryParse(Environment.GetEnvironmentVariable("FLOW_MAX_ATTEMPTS"), out var max) && max > 0 ? max : 6;

    private static readonly int s_parallelStarts = Math.Max(1, Environment.ProcessorCount);
    private readonly Queue<PendingTask> _queue = new();
    private readonly Stack<WorkerProcess> _idle = new();
    private readonly List<WorkerProcess> _all = [];
    private readonly Dictionary<Task, (WorkerProcess Worker, long Started)> _starting = [];
    private readonly Dictionary<Task<Finished>, WorkerProcess> _running = [];
    private readonly Dictionary<(string Join, string Step, string Task), JoinSlots> _joins = [];
    private readonly Dictionary<string, double> _stepSeconds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _stepCpuShare = new(StringComparer.Ordinal);
    private readonly string _dotnet = DotnetHost.Path;
    private double _startSeconds = 0.15;
    private readonly Dictionary<string, string> _cloneIds = new(StringComparer.Ordinal);
    private readonly HashSet<WorkerProcess> _dedicated = [];
    private int _nextTaskId;
    private int _failedStarts;
    private string? _cloneFailure;
    private bool _stopping;
    private bool _endDone;

    /// <summary>Starts a worker ahead of the first task, so its start-up overlaps the run's own set-up.</summary>
    public void Prestart() => StartWorker();

    /// <summary>Runs the flow to its end; returns the failed task's description, or null on success.</summary>
    public async Task<string?> RunAsync(CancellationToken cancel)
    {
        _queue.Enqueue(new PendingTask("Start", [], null));
        string? failure = null;
        var cancelled = Task.Delay(Timeout.Infinite, cancel).ContinueWith(_ => { }, TaskScheduler.Default);

        while (true)
        {
            if (failure is null)
            {
                Dispatch();
                failure ??= _cloneFailure;
            }
            if (_running.Count == 0 && (failure is not null || _queue.Count == 0))
            {
                break;
            }
            var first = await Task.WhenAny(_running.Keys.Cast<Task>().Concat(failure is null ? _starting.Keys : []).Append(cancelled));
            if (first == cancelled)
            {
                failure ??= "the run was interrupted";
                await InterruptAsync();
                break;
            }
            if (_starting.Remove(first, out var started))
            {
                var seconds = (System.Diagnostics.Stopwatch.GetTimestamp() - started.Started) / (double)System.Diagnostics.Stopwatch.Frequency;
                _startSeconds = (0.7 * _startSeconds) + (0.3 * seconds);
                if (started.Worker.HasExited && ++_failedStarts >= 3)
                {
                    // Workers that die before their first task would be replaced forever: stop the run instead.
                    failure ??= $"worker processes exit at start-up (exit code {started.Worker.ExitCode}; their output is above)";
                }
                Release(started.Worker);
                continue;
            }
            var finishedTask = (Task<Finished>)first;
            _running.Remove(finishedTask, out var worker);
            var finished = await finishedTask;
            if (finished.Outcome.Status == AttemptDoneRecord.Succeeded)
            {
                Release(worker!);
                _stepSeconds[finished.Task.Step] = _stepSeconds.TryGetValue(finished.Task.Step, out var mean) ? (0.7 * mean) + (0.3 * finished.Seconds) : finished.Seconds;
                if (finished.Outcome.CpuShare is { } share)
                {
                    _stepCpuShare[finished.Task.Step] = _stepCpuShare.TryGetValue(finished.Task.Step, out var cpu) ? (0.7 * cpu) + (0.3 * share) : share;
                }
                failure ??= Advance(finished);
                continue;
            }
            var failed = Fail(finished, worker!);
            if (failed is not null && failure is null)
            {
                // The run stops: tasks still running are ended (their logs are kept), nothing new starts.
                failure = failed;
                _stopping = true;
                foreach (var busy in _running.Values)
                {
                    busy.Kill();
                }
            }
        }
        return failure ?? (_endDone ? null : "the run ended before its End step (internal error)");
    }

    /// <summary>Queues the successors of a task that succeeded; returns a failure when the run cannot go on.</summary>
    private string? Advance(Finished finished)
    {
        var name = finished.Task.Step;
        var path = $"{runId}/{name}/{finished.TaskId}";
        var done = store.ReadAttemptDone(store.AttemptDir(graph.Name, runId, name, finished.TaskId, finished.Task.Attempt));
        var step = graph.FindStep(name);
        if (done is null || step is null)
        {
            return $"step {name} (task {finished.TaskId}) reported success but its attempt is not finalized (internal error)";
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
                    return $"step {name} (task {finished.TaskId}) fans out over {count} items of {done.ForEach?.Artifact}, more than --max-num-splits {maxNumSplits}; raise the limit with --max-num-splits {count}";
                }
                for (var i = 0; i < count; i++)
                {
                    _queue.Enqueue(new PendingTask(step.Next[0], [path], i));
                }
                return null;
            case "split":
                for (var i = 0; i < step.Next.Count; i++)
                {
                    _queue.Enqueue(new PendingTask(step.Next[i], [path], i));
                }
                return null;
        }
        // Linear or switch: the target the task took (the task runner checked it against the graph).
        foreach (var next in done.Next)
        {
            if (graph.FindStep(next) is not { IsJoin: true })
            {
                _queue.Enqueue(new PendingTask(next, [path], null));
                continue;
            }
            if (done.Position.Count == 0)
            {
                return $"step {name} (task {finished.TaskId}) leads to the join {next} but is not inside a split (internal error)";
            }
            // A join starts when every branch of the split it closes is done, with its inputs in split order.
            var top = done.Position[^1];
            var key = (next, top.Step, top.Task);
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
                _queue.Enqueue(new PendingTask(next, [.. slots.Paths.Select(p => p!)], null));
            }
        }
        return null;
    }

    /// <summary>
    /// Finalizes a failed attempt and retries it when the step allows (<c>[Retry]</c>, <c>--with retry</c>); a step with
    /// <c>[Catch]</c> whose last attempt's process died gets one more attempt that records the failure as caught.
    /// Returns the run's failure, or null when the task goes on.
    /// </summary>
    private string? Fail(Finished finished, WorkerProcess worker)
    {
        var (task, taskId, outcome) = (finished.Task, finished.TaskId, finished.Outcome);
        var attemptDir = store.AttemptDir(graph.Name, runId, task.Step, taskId, task.Attempt);
        string reason;
        if (outcome.Status is null)
        {
            _all.Remove(worker);
            _dedicated.Remove(worker);
            worker.Dispose();
            reason = _stopping ? "stopped: another task of the run failed"
                : finished.TimedOut ? $"the task ran longer than its [Timeout] of {graph.FindStep(task.Step)?.TimeoutSeconds} s and was stopped"
                : $"the worker process exited with code {outcome.ExitCode} (the step ended the process or it crashed)";
        }
        else
        {
            Release(worker);
            reason = "the worker could not run the task (see its stderr above)";
        }
        // Finalize an attempt the worker could not, so readers see a failed attempt; the first marker wins.
        var type = finished.TimedOut ? "Timeout" : outcome.Status is null ? "ProcessExited" : "WorkerError";
        store.FinishAttempt(attemptDir, new AttemptDoneRecord(
            AttemptDoneRecord.Failed, DateTimeOffset.UtcNow, new Dictionary<string, ArtifactRef>(), [], new ErrorRecord(type, reason, null)));
        var error = store.ReadAttemptDone(attemptDir)?.Error;
        if (_stopping)
        {
            return null;
        }
        var step = graph.FindStep(task.Step);
        var prefix = $"[{runId}/{task.Step}/{taskId}]";
        if (step is not null && task.Attempt < LastAttempt(step))
        {
            Console.Out.WriteLine($"{prefix} Retrying: attempt {task.Attempt + 1} (the step allows attempts 0 to {LastAttempt(step)}).");
            _queue.Enqueue(task with { TaskId = taskId, Attempt = task.Attempt + 1, CloneChecked = true });
            return null;
        }
        if (step?.Catch is not null && outcome.Status is null && task.Caught is null && task.Attempt + 1 < s_maxAttempts)
        {
            // The process is gone, so nothing could catch in it: one more attempt records the failure as caught.
            _queue.Enqueue(task with { TaskId = taskId, Attempt = task.Attempt + 1, Caught = error, CloneChecked = true });
            return null;
        }
        FailedError = error;
        return $"step {task.Step} (task {taskId}{(task.Attempt > 0 ? $", attempt {task.Attempt}" : "")}) failed: {error?.Type}: {error?.Message}";
    }

    /// <summary>The number of the last attempt a task of this step gets.</summary>
    private int LastAttempt(GraphStep step) => Math.Clamp(step.Retry ?? defaultRetry ?? 0, 0, s_maxAttempts - 1);

    private async Task InterruptAsync()
    {
        foreach (var busy in _running.Values)
        {
            busy.Kill();
        }
        foreach (var killed in await Task.WhenAll(_running.Keys))
        {
            store.FinishAttempt(store.AttemptDir(graph.Name, runId, killed.Task.Step, killed.TaskId, killed.Task.Attempt), new AttemptDoneRecord(
                AttemptDoneRecord.Failed, DateTimeOffset.UtcNow, new Dictionary<string, ArtifactRef>(), [], new ErrorRecord("Interrupted", "the run was interrupted (Ctrl-C)", null)));
        }
        _running.Clear();
    }

    /// <summary>Gets the error of the task that failed the run, once one did.</summary>
    public ErrorRecord? FailedError { get; private set; }

    /// <summary>Gets the number of tasks cloned from the origin run (resume).</summary>
    public int Cloned { get; private set; }

    /// <summary>Hands queued tasks to free workers, and starts more workers when that pays off.</summary>
    private void Dispatch()
    {
        // A resume first clones every queued task it can (no worker needed), in queue order, until none is left.
        for (var cloned = plan is not null; cloned;)
        {
            cloned = false;
            for (var i = _queue.Count; i > 0; i--)
            {
                var task = _queue.Dequeue();
                if (!task.CloneChecked && TryClone(task))
                {
                    cloned = true;
                }
                else
                {
                    // A task's inputs never change once it is queued: one that cannot be cloned now never can.
                    _queue.Enqueue(task with { CloneChecked = true });
                }
            }
        }
        // A step with [Environment] runs each task in a process of its own, started with those variables.
        for (var i = _queue.Count; i > 0 && _running.Count < maxWorkers; i--)
        {
            var task = _queue.Dequeue();
            if (graph.FindStep(task.Step)?.Environment is { Count: > 0 } environment)
            {
                var own = WorkerProcess.Start(_dotnet, workerAssembly, fs.Directory.GetCurrentDirectory(), store.Root, environment);
                _dedicated.Add(own);
                _running.Add(LaunchAsync(own, task), own);
            }
            else
            {
                _queue.Enqueue(task);
            }
        }
        while (_queue.Count > 0 && TakeIdleWorker() is { } worker)
        {
            var task = _queue.Dequeue();
            _running.Add(LaunchAsync(worker, task), worker);
        }
        while (_queue.Count > _starting.Count && _all.Count < maxWorkers && _starting.Count < s_parallelStarts && WorthStarting())
        {
            StartWorker();
        }
    }

    /// <summary>
    /// Whether another worker would finish the queue sooner: when a queued step's duration is not known yet, or
    /// when the queued work per worker is longer than starting a worker takes. Beyond one worker per core, only
    /// tasks that mostly wait (sleep, I/O) gain from more workers: CPU-bound ones would only share the cores.
    /// </summary>
    private bool WorthStarting()
    {
        var queued = 0.0;
        var waits = false;
        foreach (var task in _queue)
        {
            if (!_stepSeconds.TryGetValue(task.Step, out var seconds))
            {
                return true;
            }
            queued += seconds;
            // Below a fifth: the task waits, even allowing for CPU-bound tasks that queue for a core while more
            // workers than cores run (their share then falls to cores / workers).
            waits |= !_stepCpuShare.TryGetValue(task.Step, out var share) || share < 0.2;
        }
        if (!waits && _all.Count >= Environment.ProcessorCount)
        {
            return false;
        }
        return queued / Math.Max(1, _all.Count) > _startSeconds;
    }

    /// <summary>
    /// Clones the origin's task at this task's position when the plan says so: a new task whose <c>done.json</c>
    /// references the origin's artifacts (no blob is copied) and records where it came from.
    /// </summary>
    private bool TryClone(PendingTask task)
    {
        var parents = new List<(string Step, AttemptDoneRecord Done)>();
        foreach (var input in task.Inputs)
        {
            var parts = input.Split('/');
            var done = TaskRunner.LatestAttemptIfSucceeded(store, graph.Name, parts[0], parts[1], parts[2]);
            if (done?.ClonedFrom is null)
            {
                // A task that reads a task that ran again runs again too.
                return false;
            }
            parents.Add((parts[1], done));
        }
        var step = graph.FindStep(task.Step);
        IEnumerable<FrameRecord> frames = [];
        var iteration = 0;
        if (parents.Count > 0 && step is not null)
        {
            var parentStep = graph.FindStep(parents[0].Step);
            if (step.IsJoin)
            {
                frames = parents[0].Done.Position.Take(parents[0].Done.Position.Count - 1);
            }
            else if (parentStep?.Kind is "split" or "foreach")
            {
                frames = parents[0].Done.Position.Append(new FrameRecord(parentStep.Kind, parents[0].Step, string.Empty, task.SplitIndex ?? -1, 0));
            }
            else
            {
                frames = parents[0].Done.Position;
                iteration = parents[0].Step == task.Step ? parents[0].Done.Iteration + 1 : 0;
            }
        }
        if (plan!.CloneFor(ResumePlan.Key(task.Step, frames.Select(f => (f.Step, f.Index)), iteration)) is not { Done: { } origin } source)
        {
            return false;
        }
        var taskId = (++_nextTaskId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var attemptDir = store.AttemptDir(graph.Name, runId, task.Step, taskId, 0);
        store.StartAttempt(attemptDir, new AttemptStartRecord(DateTimeOffset.UtcNow, task.Inputs, null, task.SplitIndex));
        var from = $"{plan.OriginRunId}/{source.Step}/{source.TaskId}";
        store.FinishAttempt(attemptDir, origin with
        {
            FinishedAt = DateTimeOffset.UtcNow,
            Frames = [.. origin.Position.Select(f => f with { Task = _cloneIds.GetValueOrDefault(f.Task, f.Task) })],
            ClonedFrom = from,
        });
        _cloneIds[source.TaskId] = taskId;
        Cloned++;
        Console.Out.WriteLine($"[{runId}/{task.Step}/{taskId}] Cloned from {from}.");
        var failure = Advance(new Finished(task, taskId, new TaskOutcome(AttemptDoneRecord.Succeeded, null), 0));
        _cloneFailure ??= failure;
        return true;
    }

    private void Release(WorkerProcess worker)
    {
        if (_dedicated.Remove(worker))
        {
            // A task's own process ends with its task.
            worker.Dispose();
            return;
        }
        if (worker.HasExited)
        {
            _all.Remove(worker);
            worker.Dispose();
            return;
        }
        _idle.Push(worker);
    }

    private async Task<Finished> LaunchAsync(WorkerProcess worker, PendingTask task)
    {
        var taskId = task.TaskId ?? (++_nextTaskId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var attemptDir = store.AttemptDir(graph.Name, runId, task.Step, taskId, task.Attempt);
        store.StartAttempt(attemptDir, new AttemptStartRecord(DateTimeOffset.UtcNow, task.Inputs, worker.Pid, task.SplitIndex));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var log = new AttemptLog(fs, attemptDir, maxLogBytes);
        var output = new ConsoleTaskOutput($"[{runId}/{task.Step}/{taskId}]", log);
        output.System(task.Attempt == 0 ? "Task is starting." : $"Task is starting (attempt {task.Attempt}).");
        var step = graph.FindStep(task.Step);
        var request = new TaskRequest(store.Root, graph.Name, runId, task.Step, taskId, task.Attempt, task.Inputs, task.SplitIndex,
            CatchFailure: step?.Catch is not null && task.Attempt >= LastAttempt(step), Caught: task.Caught);
        var timedOut = false;
        using var timeout = step is { TimeoutSeconds: > 0 }
            ? new Timer(_ => { timedOut = true; worker.Kill(); }, null, TimeSpan.FromSeconds(step.TimeoutSeconds), Timeout.InfiniteTimeSpan)
            : null;
        var outcome = await worker.RunAsync(request, output);
        output.System(outcome.Status == AttemptDoneRecord.Succeeded ? "Task finished successfully."
            : timedOut ? $"Task timed out after {step!.TimeoutSeconds} s." : "Task failed.");
        return new Finished(task with { TaskId = taskId }, taskId, outcome, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, timedOut && outcome.Status is null);
    }

    /// <summary>An idle worker that is still alive; one that died while idle is dropped.</summary>
    private WorkerProcess? TakeIdleWorker()
    {
        while (_idle.Count > 0)
        {
            var worker = _idle.Pop();
            if (!worker.HasExited)
            {
                return worker;
            }
            _all.Remove(worker);
            worker.Dispose();
        }
        return null;
    }

    private void StartWorker()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var worker = WorkerProcess.Start(_dotnet, workerAssembly, fs.Directory.GetCurrentDirectory(), store.Root);
        _all.Add(worker);
        _starting.Add(worker.Ready, (worker, started));
    }

    public void StopWorkers()
    {
        foreach (var worker in _all.Concat(_dedicated))
        {
            worker.Dispose();
        }
        _dedicated.Clear();
        _all.Clear();
        _idle.Clear();
        _starting.Clear();
    }

    /// <summary>A task waiting for a worker: its step, the tasks it reads, and its branch or item index.</summary>
    /// <param name="Step">The step.</param>
    /// <param name="Inputs">The tasks it reads.</param>
    /// <param name="SplitIndex">Its branch or item index, for the first task of a branch.</param>
    /// <param name="TaskId">Set when an attempt of an existing task is retried.</param>
    /// <param name="Attempt">The attempt number.</param>
    /// <param name="Caught">A failure to record as caught instead of running the step ([Catch] after a dead process).</param>
    /// <param name="CloneChecked">A resume already found that it cannot be cloned.</param>
    private sealed record PendingTask(string Step, string[] Inputs, int? SplitIndex, string? TaskId = null, int Attempt = 0, ErrorRecord? Caught = null, bool CloneChecked = false);

    private sealed record Finished(PendingTask Task, string TaskId, TaskOutcome Outcome, double Seconds, bool TimedOut = false);

    /// <summary>The inputs of a join collected so far, in split or index order.</summary>
    private sealed class JoinSlots(string?[] paths)
    {
        public string?[] Paths { get; } = paths;

        public int Filled { get; set; }
    }

    private sealed class ConsoleTaskOutput(string prefix, AttemptLog log) : ITaskOutput
    {
        public void Line(bool isError, string text)
        {
            log.Write(isError, text);
            (isError ? Console.Error : Console.Out).WriteLine($"{prefix} {text}");
        }

        public void System(string text) => Console.Out.WriteLine($"{prefix} {text}");
    }
}

/// <summary>Finds the <c>dotnet</c> host that starts worker processes.</summary>
internal static class DotnetHost
{
    public static readonly string Path = Find();

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }
        if (Environment.ProcessPath is { } self && System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(System.IO.Path.Combine(root, "dotnet")))
        {
            return System.IO.Path.Combine(root, "dotnet");
        }
        var fromRuntime = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet"));
        return File.Exists(fromRuntime) ? fromRuntime : "dotnet";
    }
}
