using System.IO.Abstractions;
using Flow.Cli.Projects;
using Flow.Sdk;
using Flow.Sdk.Datastore;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary>A command that reads a step or task of a run named by a pathspec (<c>dump</c>, <c>logs</c>).</summary>
internal abstract class PathspecCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : ProjectCommand(console, fs, cwd)
{
    [Argument(0, "pathspec", Description = "[Flow/]run/step[/task]")]
    public string? Pathspec { get; set; }

    [Option("--flow <NAME>", Description = "The flow, when the project has several and the pathspec does not name one.")]
    public string? Flow { get; set; }

    protected string? TryProject()
    {
        try
        {
            return ProjectPath;
        }
        catch (FlowException) when (Project is null)
        {
            return null;
        }
    }

    private FlowException Malformed() =>
        new($"Malformed pathspec '{Pathspec}': expected [Flow/]run/step[/task], such as latest/Start or HelloFlow/latest/End/3.");

    protected void CheckPathspecSyntax()
    {
        var parts = Pathspec!.Split('/');
        if (parts.Length is < 2 or > 4 || parts.Any(p => !FlowDatastore.IsId(p)))
        {
            throw Malformed();
        }
    }

    /// <summary>
    /// <c>[Flow/]run/step[/task]</c>: three parts mean Flow/run/step only when the first part names a flow in the
    /// datastore. Every part must be a plain name, so a pathspec can never leave the datastore.
    /// </summary>
    protected (string Flow, string Run, string Step, string? Task) ParsePathspec(FlowDatastore store, string? projectPath)
    {
        var parts = Pathspec!.Split('/');
        var malformed = Malformed();
        if (parts.Length is < 2 or > 4 || parts.Any(p => p.Length == 0))
        {
            throw malformed;
        }
        string? flow = null;
        if (parts.Length == 4 || (parts.Length == 3 && FlowDatastore.IsIdentifier(parts[0]) && store.ListFlows().Contains(parts[0])))
        {
            flow = parts[0];
            parts = parts[1..];
        }
        var (run, step, task) = (parts[0], parts[1], parts.Length > 2 ? parts[2] : null);
        if (!FlowDatastore.IsId(run) || !FlowDatastore.IsIdentifier(step) || (task is not null && !FlowDatastore.IsId(task)) || (flow is not null && !FlowDatastore.IsIdentifier(flow)))
        {
            throw malformed;
        }
        return (flow ?? ProjectFlow(store, projectPath), run, step, task);
    }

    private string ProjectFlow(FlowDatastore store, string? projectPath)
    {
        if (projectPath is not null && BuildRecord.Read(FileSystem, projectPath) is { } record)
        {
            return ChooseFlow(record.Graphs(), Flow).Name;
        }
        if (Flow is not null)
        {
            return Flow;
        }
        var flows = store.ListFlows();
        return flows.Count == 1 ? flows[0]
            : throw new FlowException($"Name the flow in the pathspec (Flow/run/step): the datastore holds {(flows.Count == 0 ? "no flow" : string.Join(", ", flows))}.");
    }
}
