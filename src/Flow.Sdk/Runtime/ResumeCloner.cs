using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Runtime;

/// <summary>
/// Clones origin tasks into a resumed run when its <see cref="ResumePlan"/> allows: a new task whose
/// <c>done.json</c> references the origin's blobs (none is copied) and records where it came from.
/// </summary>
/// <remarks>
/// A clone references blobs another run wrote, so it follows the writers' half of the gc protocol
/// (docs/datastore.md, "Writers and gc"): every blob it will name is touched first, and a task whose blobs are
/// gone (collected, or set aside by <c>verify --repair</c>) is not cloned but runs again.
/// </remarks>
internal sealed class ResumeCloner(FlowDatastore store, FlowGraph graph, string runId, ResumePlan plan)
{
    private readonly Dictionary<string, string> _cloneIds = new(StringComparer.Ordinal);

    /// <summary>Gets the number of tasks cloned.</summary>
    public int Cloned { get; private set; }

    /// <summary>Clones the origin's task at this task's position; returns the new task id, or null when it must run.</summary>
    public string? TryClone(PendingTask task, Func<string> nextTaskId)
    {
        var parents = new List<(string Step, AttemptDoneRecord Done)>();
        foreach (var input in task.Inputs)
        {
            var parts = input.Split('/');
            var done = TaskRunner.LatestAttemptIfSucceeded(store, graph.Name, parts[0], parts[1], parts[2]);
            if (done?.ClonedFrom is null)
            {
                // A task that reads a task that ran again runs again too.
                return null;
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
        if (plan.CloneFor(ResumePlan.Key(task.Step, frames.Select(f => (f.Step, f.Index)), iteration)) is not { Done: { } origin } source
            || !TouchAll(origin))
        {
            return null;
        }
        var taskId = nextTaskId();
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
        RunConsole.TaskEvent($"[{runId}/{task.Step}/{taskId}]", $"Cloned from {from}.");
        RunConsole.Cloned(task.Step);
        return taskId;
    }

    /// <summary>Touches every blob the clone will name; false when one is gone, so the task runs instead.</summary>
    private bool TouchAll(AttemptDoneRecord origin)
    {
        foreach (var reference in origin.Artifacts.Values)
        {
            if (!store.Blobs.Reuse(reference.Sha))
            {
                return false;
            }
        }
        foreach (var frame in origin.Position)
        {
            if (frame.Item is { } item && !store.Blobs.Reuse(item.Sha))
            {
                return false;
            }
        }
        if (origin.ForEach is { } forEach)
        {
            if (!store.Blobs.Reuse(forEach.Items))
            {
                return false;
            }
            try
            {
                // The children that run again read their items from the list: they must survive too.
                foreach (var (sha, _, _) in Json.Parse<ForEachItems>(store.Blobs.Get(forEach.Items)).Items)
                {
                    if (!store.Blobs.Reuse(sha))
                    {
                        return false;
                    }
                }
            }
            catch (Exception e) when (e is BlobCorruptException or System.Text.Json.JsonException)
            {
                return false;
            }
        }
        return true;
    }
}
