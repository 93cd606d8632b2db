using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>
/// A pathspec names a run, a step or a task: <c>Flow/run</c>, <c>Flow/run/Step</c>, <c>Flow/run/Step/task</c>; on the
/// command line the flow may be left out (<c>latest/Train</c>) when it is clear from the project. The one parser the
/// client, the tool and the UI share: every part must be a plain name, so a pathspec never leaves the datastore.
/// </summary>
/// <param name="Flow">The flow, or null when the text did not name it.</param>
/// <param name="Run">The run id, or <c>latest</c>.</param>
/// <param name="Step">The step, or null for a run pathspec.</param>
/// <param name="Task">The task id, or null.</param>
public sealed record Pathspec(string? Flow, string Run, string? Step = null, string? Task = null)
{
    /// <summary>Parses a full pathspec of a run, step or task (the flow named first), as the client API takes it.</summary>
    /// <param name="text">The text, such as <c>TrainFlow/1795764280315892/Choose</c>.</param>
    /// <param name="parts">How many parts it must have: 2 (a run), 3 (a step) or 4 (a task).</param>
    /// <returns>The pathspec.</returns>
    public static Pathspec ParseFull(string text, int parts)
    {
        ArgumentNullException.ThrowIfNull(text);
        var segments = text.Split('/');
        if (segments.Length != parts || !Valid(segments[0], identifier: true) || !Valid(segments[1], identifier: false)
            || (parts > 2 && !Valid(segments[2], identifier: true)) || (parts > 3 && !Valid(segments[3], identifier: false)))
        {
            throw new FlowException(parts == 2
                ? $"'{Shorten(text)}' is not a run pathspec; expected Flow/runId."
                : $"'{Shorten(text)}' is not a pathspec of the form {(parts == 3 ? "Flow/runId/Step" : "Flow/runId/Step/taskId")}.");
        }
        return new Pathspec(segments[0], segments[1], parts > 2 ? segments[2] : null, parts > 3 ? segments[3] : null);
    }

    /// <summary>
    /// Parses <c>[Flow/]run</c>: a run, the flow optional (<paramref name="defaultFlow"/> then, such as <c>--flow</c>).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="defaultFlow">The flow when the text does not name one.</param>
    /// <returns>The pathspec.</returns>
    public static Pathspec ParseRun(string text, string? defaultFlow = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var segments = text.Split('/');
        var (flow, run) = segments.Length == 2 ? (segments[0], segments[1]) : (defaultFlow, segments[0]);
        if (segments.Length > 2 || !Valid(run, identifier: false) || (flow is not null && !Valid(flow, identifier: true)))
        {
            throw new FlowException($"Malformed run '{Shorten(text)}': expected [Flow/]run, such as latest or HelloFlow/1795764280315892.");
        }
        return new Pathspec(flow, run);
    }

    /// <summary>
    /// Parses <c>[Flow/]run/step[/task]</c>. Three parts mean <c>Flow/run/step</c> only when the first names one of
    /// <paramref name="flows"/> (the datastore's); otherwise <c>run/step/task</c>.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="flows">The flows the datastore holds.</param>
    /// <returns>The pathspec; its flow is null when the text did not name one.</returns>
    public static Pathspec ParseStepOrTask(string text, IReadOnlyCollection<string> flows)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(flows);
        var segments = text.Split('/');
        if (segments.Length is < 2 or > 4 || segments.Any(s => s.Length == 0))
        {
            throw Malformed(text);
        }
        string? flow = null;
        if (segments.Length == 4 || (segments.Length == 3 && flows.Contains(segments[0])))
        {
            flow = segments[0];
            segments = segments[1..];
        }
        var (run, step, task) = (segments[0], segments[1], segments.Length > 2 ? segments[2] : null);
        if (!Valid(run, identifier: false) || !Valid(step, identifier: true) || (task is not null && !Valid(task, identifier: false)) || (flow is not null && !Valid(flow, identifier: true)))
        {
            throw Malformed(text);
        }
        return new Pathspec(flow, run, step, task);
    }

    /// <summary>Checks only the shape of <c>[Flow/]run/step[/task]</c>, before any datastore is opened.</summary>
    /// <param name="text">The text.</param>
    public static void CheckStepOrTaskSyntax(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var segments = text.Split('/');
        if (segments.Length is < 2 or > 4 || segments.Any(s => !Valid(s, identifier: false)))
        {
            throw Malformed(text);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => string.Join("/", new[] { Flow, Run, Step, Task }.Where(p => p is not null));

    private static FlowException Malformed(string text) =>
        text.Split('/').Any(p => p.Length > FlowDatastore.MaxNameLength)
            ? new($"Pathspec '{Shorten(text)}' has a part longer than {FlowDatastore.MaxNameLength} characters: no flow, run, step or task has such a name.")
            : new($"Malformed pathspec '{Shorten(text)}': expected [Flow/]run/step[/task], such as latest/Start or HelloFlow/latest/End/3.");

    private static bool Valid(string part, bool identifier) => identifier ? FlowDatastore.IsIdentifier(part) : FlowDatastore.IsId(part);

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "..." : text;
}
