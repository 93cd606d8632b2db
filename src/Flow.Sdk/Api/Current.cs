using Flow.Sdk.Cards;

namespace Flow.Sdk;

/// <summary>
/// The context of the task that is running: flow, run, step, task and attempt.
/// </summary>
/// <remarks>Outside a task every property is <see langword="null"/> and <see cref="IsRunning"/> is false.</remarks>
public static class Current
{
    private static readonly AsyncLocal<TaskIdentity?> s_task = new();

    /// <summary>Gets a value indicating whether code runs inside a task of a flow.</summary>
    public static bool IsRunning => s_task.Value is not null;

    /// <summary>Gets the name of the flow (its class name).</summary>
    public static string? FlowName => s_task.Value?.Flow;

    /// <summary>Gets the id of the run.</summary>
    public static string? RunId => s_task.Value?.RunId;

    /// <summary>Gets the name of the step.</summary>
    public static string? StepName => s_task.Value?.Step;

    /// <summary>Gets the id of the task, unique within the run.</summary>
    public static string? TaskId => s_task.Value?.TaskId;

    /// <summary>Gets the attempt number, counted from 0.</summary>
    public static int Attempt => s_task.Value?.Attempt ?? 0;

    /// <summary>Gets the id of the run this run was resumed from, if any.</summary>
    public static string? OriginRunId => s_task.Value?.OriginRunId;

    /// <summary>Gets the task's pathspec, <c>Flow/run/Step/task</c>.</summary>
    public static string? Pathspec => s_task.Value is { } t ? $"{t.Flow}/{t.RunId}/{t.Step}/{t.TaskId}" : null;

    /// <summary>
    /// Gets the card of the running task: add components (<see cref="Markdown"/>, <see cref="Table"/>,
    /// <see cref="Image"/>, <see cref="VegaLite"/>, <see cref="ProgressBar"/>) and call
    /// <see cref="TaskCard.Refresh"/> to show it while the task runs (docs/cards.md).
    /// </summary>
    /// <remarks>Outside a task this is a card that is never stored.</remarks>
    public static TaskCard Card => s_task.Value?.Card ?? s_detached;

    private static readonly TaskCard s_detached = new();

    internal static IDisposable Enter(TaskIdentity task)
    {
        var previous = s_task.Value;
        s_task.Value = task;
        return new Restore(previous);
    }

    private sealed class Restore(TaskIdentity? previous) : IDisposable
    {
        public void Dispose() => s_task.Value = previous;
    }
}

internal sealed record TaskIdentity(string Flow, string RunId, string Step, string TaskId, int Attempt, string? OriginRunId, TaskCard? Card = null);
