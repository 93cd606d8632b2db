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

    protected void CheckPathspecSyntax() => Sdk.Pathspec.CheckStepOrTaskSyntax(Pathspec!);

    /// <summary>
    /// <c>[Flow/]run/step[/task]</c> through the SDK's one pathspec parser; without a flow in it, the project's flow
    /// (or <c>--flow</c>, or the datastore's only flow).
    /// </summary>
    protected (string Flow, string Run, string Step, string? Task) ParsePathspec(FlowDatastore store, string? projectPath)
    {
        var spec = Sdk.Pathspec.ParseStepOrTask(Pathspec!, store.ListFlows());
        return (spec.Flow ?? ProjectFlow(store, projectPath), spec.Run, spec.Step!, spec.Task);
    }

    /// <summary>
    /// The step the pathspec names, read through the client. A three-part pathspec whose first part is neither a
    /// flow of the datastore nor a run gets one message that says both (it was most likely meant as a flow).
    /// </summary>
    protected StepInfo ResolveStep(FlowDatastore store, string? projectPath, out string? taskId)
    {
        // Three parts whose first is a name, not a run id (ids are numbers, or 'latest'), and not a flow of the
        // datastore: most likely a mistyped flow, whatever else then fails (the run, or which flow the project means).
        var first = Pathspec!.Split('/')[0];
        var likelyFlow = Pathspec.Split('/').Length == 3 && first != "latest" && FlowDatastore.IsIdentifier(first) && !first.All(char.IsAsciiDigit)
            && !store.ListFlows().Contains(first, StringComparer.Ordinal);
        try
        {
            var (flowName, runId, stepName, task) = ParsePathspec(store, projectPath);
            taskId = task;
            return GetRun(store, flowName, runId)[stepName];
        }
        catch (FlowException) when (likelyFlow)
        {
            var flows = store.ListFlows();
            throw new FlowException($"No flow named '{first}' in the datastore {store.Root} ({(flows.Count == 0 ? "it holds no flow" : "it holds " + string.Join(", ", flows))}), and no run '{first}' either; name a flow it holds (Flow/run/step) or a run (run/step/task).");
        }
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
