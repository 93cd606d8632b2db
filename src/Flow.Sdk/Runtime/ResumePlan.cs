using System.Globalization;
using System.Text;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Runtime;

/// <summary>
/// What a resume takes from its origin run: every origin task that succeeded, whose step is not re-run, whose
/// transition the current graph still allows, and whose inputs are all cloned too, is cloned by reference (its
/// <c>done.json</c> points at the same blobs); everything else runs again (docs/resume.md).
/// </summary>
internal sealed class ResumePlan
{
    private readonly Dictionary<string, OriginTask> _clones;

    private ResumePlan(string originRunId, string? fromStep, Dictionary<string, OriginTask> clones, IReadOnlyList<OriginTask> tasks, string? firstRerun)
    {
        OriginRunId = originRunId;
        FromStep = fromStep;
        _clones = clones;
        Tasks = tasks;
        FirstRerun = firstRerun;
    }

    public string OriginRunId { get; }

    /// <summary>Gets the step the user asked to re-run from, or null to re-run from the failure.</summary>
    public string? FromStep { get; }

    /// <summary>Gets every task of the origin with the decision taken for it, in task-id order.</summary>
    public IReadOnlyList<OriginTask> Tasks { get; }

    /// <summary>Gets the first step that runs again, or null when everything is cloned.</summary>
    public string? FirstRerun { get; }

    public int CloneCount => _clones.Count;

    /// <summary>The origin task to clone for a task of the new run at this position, if any.</summary>
    public OriginTask? CloneFor(string key) => _clones.GetValueOrDefault(key);

    /// <summary>
    /// The position of a task that does not depend on task ids: its step, the step and index of every split or
    /// foreach around it, and its loop pass. A task of the new run and its origin counterpart share it.
    /// </summary>
    public static string Key(string step, IEnumerable<(string Step, int Index)> frames, int iteration) =>
        string.Create(CultureInfo.InvariantCulture, $"{step}[{string.Join(",", frames.Select(f => $"{f.Step}:{f.Index}"))}]#{iteration}");

    /// <summary>Decides, for every task of the origin run, whether the resume clones it or runs it again.</summary>
    /// <param name="store">The datastore.</param>
    /// <param name="graph">The flow's current graph.</param>
    /// <param name="originRunId">The run resumed.</param>
    /// <param name="fromStep">The step the user asked to re-run from, or null.</param>
    /// <param name="changed">Steps whose code changed since the origin ran, each with why (see <see cref="CodeChanges"/>).</param>
    public static ResumePlan Build(FlowDatastore store, FlowGraph graph, string originRunId, string? fromStep, IReadOnlyDictionary<string, string>? changed = null)
    {
        var rerun = new HashSet<string>(StringComparer.Ordinal);
        if (fromStep is not null)
        {
            var queue = new Queue<string>([fromStep]);
            while (queue.Count > 0)
            {
                var name = queue.Dequeue();
                if (rerun.Add(name) && graph.FindStep(name) is { } step)
                {
                    foreach (var next in step.Next)
                    {
                        queue.Enqueue(next);
                    }
                }
            }
        }

        var tasks = new List<OriginTask>();
        foreach (var step in store.ListSteps(graph.Name, originRunId))
        {
            foreach (var id in store.ListTasks(graph.Name, originRunId, step))
            {
                var attempts = store.ListAttempts(graph.Name, originRunId, step, id);
                var attempt = attempts.Count == 0 ? 0 : attempts[^1];
                var dir = store.AttemptDir(graph.Name, originRunId, step, id, attempt);
                tasks.Add(new OriginTask(step, id, store.ReadAttemptStart(dir), store.ReadAttemptDone(dir), store.FileSystem.File.Exists(store.FileSystem.Path.Combine(dir, "damaged.json"))));
            }
        }
        // Inputs always have smaller task ids than the tasks that read them, so one pass in id order decides.
        tasks.Sort((a, b) => long.Parse(a.TaskId, CultureInfo.InvariantCulture).CompareTo(long.Parse(b.TaskId, CultureInfo.InvariantCulture)));
        var byPath = tasks.ToDictionary(t => $"{originRunId}/{t.Step}/{t.TaskId}", StringComparer.Ordinal);
        var clones = new Dictionary<string, OriginTask>(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            task.Decide(graph, rerun, byPath, changed);
            if (task.Clone)
            {
                clones[task.Key] = task;
            }
        }
        var firstRerun = fromStep ?? tasks.FirstOrDefault(t => !t.Clone)?.Step;
        return new ResumePlan(originRunId, fromStep, clones, tasks, firstRerun);
    }

    /// <summary>
    /// The steps whose code changed since the origin ran: each step's fingerprint (its IL and what it reaches in the
    /// project, recorded in the snapshot by Flow.Build) in the current snapshot against the origin's. A step without
    /// a fingerprint on either side (a snapshot from before fingerprints) counts as unchanged.
    /// </summary>
    public static Dictionary<string, string> CodeChanges(FlowDatastore store, string flow, RunRecord origin, string currentSnapshotDir)
    {
        var changes = new Dictionary<string, string>(StringComparer.Ordinal);
        var fs = store.FileSystem;
        var currentPath = fs.Path.Combine(currentSnapshotDir, SnapshotManifest.FileName);
        if (!fs.File.Exists(currentPath) || !BlobStore.IsKey(origin.Snapshot))
        {
            return changes;
        }
        FlowGraph? before;
        FlowGraph? now;
        try
        {
            before = SnapshotManifest.Parse(store.Blobs.Get(origin.Snapshot)).Graphs().FirstOrDefault(g => g.Name == flow);
            now = SnapshotManifest.Parse(fs.File.ReadAllBytes(currentPath)).Graphs().FirstOrDefault(g => g.Name == flow);
        }
        catch (Exception e) when (e is BlobCorruptException or System.Text.Json.JsonException or FlowException or IOException)
        {
            return changes; // an unreadable snapshot: resume decides as before, by what failed
        }
        foreach (var step in now?.Steps ?? [])
        {
            if (step.Code is { } code && before?.FindStep(step.Name)?.Code is { } old && old != code)
            {
                changes[step.Name] = "its code changed (the step, or code it calls in the project)";
            }
        }
        return changes;
    }

    /// <summary>The plan as text: one line per origin task, what happens to it and why.</summary>
    public string Describe(string flow)
    {
        var text = new StringBuilder();
        text.Append("Resume of ").Append(flow).Append(" run ").Append(OriginRunId)
            .AppendLine(FromStep is null ? ", from where it failed:" : $", re-running from {FromStep}:");
        foreach (var task in Tasks)
        {
            text.Append(task.Clone ? "  clone   " : "  re-run  ").Append(task.Step).Append('/').Append(task.TaskId);
            text.Append(new string(' ', Math.Max(1, 24 - task.Step.Length - task.TaskId.Length))).AppendLine(task.Reason);
        }
        text.Append(CultureInfo.InvariantCulture, $"{CloneCount} task(s) cloned by reference");
        text.AppendLine(FirstRerun is null ? "; nothing runs again." : $"; the rest runs again, from {FirstRerun}.");
        return text.ToString();
    }
}

/// <summary>A task of the origin run, and whether a resume clones it.</summary>
internal sealed class OriginTask(string step, string taskId, AttemptStartRecord? start, AttemptDoneRecord? done, bool damaged = false)
{
    public string Step { get; } = step;

    public string TaskId { get; } = taskId;

    public AttemptDoneRecord? Done { get; } = done;

    public bool Clone { get; private set; }

    public string Reason { get; private set; } = string.Empty;

    public string Key => ResumePlan.Key(Step, (Done?.Position ?? []).Select(f => (f.Step, f.Index)), Done?.Iteration ?? 0);

    public void Decide(FlowGraph graph, HashSet<string> rerun, Dictionary<string, OriginTask> byPath, IReadOnlyDictionary<string, string>? changed = null)
    {
        var graphStep = graph.Steps.FirstOrDefault(s => s.Name == Step);
        (Clone, Reason) = (Done, graphStep) switch
        {
            (null, _) => (false, "did not finish"),
            ({ IsSuccess: false }, _) => (false, $"failed: {Done.Error?.Type}: {Done.Error?.Message}"),
            (_, null) => (false, "its step is not in the flow any more"),
            _ when damaged => (false, "a blob it uses is damaged (dotnet flow verify --repair marked it)"),
            _ when rerun.Contains(Step) => (false, "re-run as asked"),
            _ when changed?.TryGetValue(Step, out var why) == true => (false, why!),
            _ when !Allowed(graphStep!, Done) => (false, $"its step continues differently now (was Next({string.Join(", ", Done.Next)}))"),
            _ when (start?.InputPaths ?? []).FirstOrDefault(p => !byPath.TryGetValue(p, out var input) || !input.Clone) is { } rerunInput =>
                (false, $"its input {rerunInput[(rerunInput.IndexOf('/') + 1)..]} runs again"),
            _ => (true, "succeeded"),
        };
    }

    /// <summary>Whether the transition the task took is one the current graph allows from its step.</summary>
    private static bool Allowed(GraphStep step, AttemptDoneRecord done) => step.Kind switch
    {
        "end" => done.Next.Count == 0,
        "switch" => done.Next.Count == 1 && step.Next.Contains(done.Next[0]),
        "foreach" => done.ForEach is not null && done.ForEach.Artifact == step.ForEach && done.Next.SequenceEqual(step.Next),
        _ => done.Next.SequenceEqual(step.Next),
    };
}
