using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>One step of a run: its tasks (one, or one per foreach item).</summary>
public sealed class StepInfo
{
    private readonly FlowDatastore _store;

    internal StepInfo(FlowDatastore store, RunInfo run, string name)
    {
        _store = store;
        Run = run;
        Name = name;
    }

    /// <summary>Gets the run.</summary>
    public RunInfo Run { get; }

    /// <summary>Gets the step name.</summary>
    public string Name { get; }

    /// <summary>Gets the pathspec, <c>Flow/runId/Step</c>.</summary>
    public string Pathspec => $"{Run.Pathspec}/{Name}";

    /// <summary>Gets the step's tasks, by task id.</summary>
    public IEnumerable<TaskInfo> Tasks => _store.ListTasks(Run.Flow, Run.Id, Name).Select(t => new TaskInfo(_store, this, t));

    /// <summary>Gets a value indicating whether every task of the step has finished.</summary>
    public bool Finished => Tasks.All(t => t.Finished);

    /// <summary>Gets a value indicating whether the step has tasks and every one succeeded.</summary>
    public bool Successful
    {
        get
        {
            var tasks = Tasks.ToList();
            return tasks.Count > 0 && tasks.All(t => t.Successful);
        }
    }

    /// <summary>Gets the step's only task; a step with several tasks (foreach) must be read through <see cref="Tasks"/>.</summary>
    public TaskInfo Task
    {
        get
        {
            var tasks = Tasks.ToList();
            return tasks.Count == 1 ? tasks[0]
                : throw new FlowException($"Step {Pathspec} has {tasks.Count} tasks; pick one from Tasks.");
        }
    }

    /// <summary>Gets a task by id.</summary>
    /// <param name="taskId">The task id.</param>
    public TaskInfo this[string taskId] =>
        FlowDatastore.IsId(taskId) && _store.ListTasks(Run.Flow, Run.Id, Name).Contains(taskId)
            ? new TaskInfo(_store, this, taskId)
            : throw new FlowException($"Step {Pathspec} has no task '{taskId}'.");

    internal long FirstTaskNumber => _store.ListTasks(Run.Flow, Run.Id, Name).Select(t => long.TryParse(t, out var n) ? n : long.MaxValue).DefaultIfEmpty(long.MaxValue).Min();

    /// <inheritdoc/>
    public override string ToString() => $"Step('{Pathspec}')";
}
