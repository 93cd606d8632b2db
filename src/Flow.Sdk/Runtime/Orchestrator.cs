using System.IO.Abstractions;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Runtime;

/// <summary>
/// Schedules the tasks of one run in graph order on a pool of worker processes, at most
/// <c>--max-workers</c> at a time, and records every attempt in the datastore.
/// </summary>
internal sealed class Orchestrator(
    IFileSystem fs,
    FlowDatastore store,
    FlowGraph graph,
    string runId,
    string workerAssembly,
    int maxWorkers)
{
    private readonly Stack<WorkerProcess> _idle = new();
    private readonly List<WorkerProcess> _all = [];
    private readonly string _dotnet = DotnetHost.Path;
    private int _nextTaskId;

    /// <summary>Starts a worker ahead of the first task, so its start-up overlaps the run's own set-up.</summary>
    public void Prestart() => _idle.Push(StartWorker());

    /// <summary>Runs the flow to its end; returns the failed task's description, or null on success.</summary>
    public async Task<string?> RunAsync(CancellationToken cancel)
    {
        var queue = new Queue<(string Step, string[] Inputs)>();
        queue.Enqueue(("Start", []));
        var running = new Dictionary<Task<(string Step, string TaskId, TaskOutcome Outcome)>, WorkerProcess>();
        string? failure = null;
        var endDone = false;
        var cancelled = Task.Delay(Timeout.Infinite, cancel).ContinueWith(_ => { }, TaskScheduler.Default);

        while ((queue.Count > 0 && failure is null) || running.Count > 0)
        {
            while (failure is null && queue.Count > 0 && running.Count < maxWorkers)
            {
                var (step, inputs) = queue.Dequeue();
                var next = TakeIdleWorker() ?? StartWorker();
                running.Add(LaunchAsync(next, step, inputs), next);
            }
            var first = await Task.WhenAny(running.Keys.Cast<Task>().Append(cancelled));
            if (first == cancelled)
            {
                failure ??= "the run was interrupted";
                foreach (var busy in running.Values)
                {
                    busy.Kill();
                }
                foreach (var (killedStep, killedTask, _) in await Task.WhenAll(running.Keys))
                {
                    store.FinishAttempt(store.AttemptDir(graph.Name, runId, killedStep, killedTask, 0), new AttemptDoneRecord(
                        AttemptDoneRecord.Failed, DateTimeOffset.UtcNow, new Dictionary<string, ArtifactRef>(), [], new ErrorRecord("Interrupted", "the run was interrupted (Ctrl-C)", null)));
                }
                break;
            }
            var finishedTask = (Task<(string Step, string TaskId, TaskOutcome Outcome)>)first;
            var worker = running[finishedTask];
            running.Remove(finishedTask);
            var (doneStep, taskId, outcome) = await finishedTask;
            var graphStep = graph.FindStep(doneStep)!;
            if (outcome.Status == AttemptDoneRecord.Succeeded)
            {
                _idle.Push(worker);
                if (graphStep.Kind == "end")
                {
                    endDone = true;
                }
                foreach (var next in graphStep.Next)
                {
                    queue.Enqueue((next, [$"{runId}/{doneStep}/{taskId}"]));
                }
                continue;
            }

            var attemptDir = store.AttemptDir(graph.Name, runId, doneStep, taskId, 0);
            string reason;
            if (outcome.Status is null)
            {
                worker.Dispose();
                _all.Remove(worker);
                reason = $"the worker process exited with code {outcome.ExitCode} (the step ended the process or it crashed)";
            }
            else
            {
                _idle.Push(worker);
                reason = "the worker could not run the task (see its stderr above)";
            }
            // Finalize an attempt the worker could not, so readers see a failed attempt; the first marker wins.
            store.FinishAttempt(attemptDir, new AttemptDoneRecord(
                AttemptDoneRecord.Failed, DateTimeOffset.UtcNow, new Dictionary<string, ArtifactRef>(), [], new ErrorRecord("WorkerError", reason, null)));
            var error = store.ReadAttemptDone(attemptDir)?.Error;
            failure ??= $"step {doneStep} (task {taskId}) failed: {error?.Type}: {error?.Message}";
        }
        return failure ?? (endDone ? null : "the run ended before its End step (internal error)");
    }

    private async Task<(string Step, string TaskId, TaskOutcome Outcome)> LaunchAsync(WorkerProcess worker, string step, string[] inputs)
    {
        var taskId = (++_nextTaskId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var attemptDir = store.AttemptDir(graph.Name, runId, step, taskId, 0);
        store.StartAttempt(attemptDir, new AttemptStartRecord(DateTimeOffset.UtcNow, inputs, worker.Pid));
        using var log = new AttemptLog(fs, attemptDir);
        var output = new ConsoleTaskOutput($"[{runId}/{step}/{taskId}]", log);
        output.System("Task is starting.");
        var request = new TaskRequest(store.Root, graph.Name, runId, step, taskId, 0, inputs);
        var outcome = await worker.RunAsync(request, output);
        output.System(outcome.Status == AttemptDoneRecord.Succeeded ? "Task finished successfully." : "Task failed.");
        return (step, taskId, outcome);
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

    private WorkerProcess StartWorker()
    {
        var worker = WorkerProcess.Start(_dotnet, workerAssembly, fs.Directory.GetCurrentDirectory(), store.Root);
        _all.Add(worker);
        return worker;
    }

    public void StopWorkers()
    {
        foreach (var worker in _all)
        {
            worker.Dispose();
        }
        _all.Clear();
        _idle.Clear();
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
