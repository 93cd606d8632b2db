using System.IO.Abstractions;
using Flow.Cli.Projects;
using Flow.Sdk;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary>The options every command shares: which project, which datastore, how much to say.</summary>
internal abstract class ProjectCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd)
{
    protected IConsole Console { get; } = console;

    protected IFileSystem FileSystem { get; } = fs;

    protected string WorkingDirectory { get; } = cwd.Path;

    [Option("--project <PATH>", Description = "The flow project (a .csproj or its folder); default: the current folder.")]
    public string? Project { get; set; }

    [Option("--datastore <DIR>", Description = "The .flow directory; default: FLOW_DATASTORE, else the nearest .flow above the project.")]
    public string? Datastore { get; set; }

    [Option("--verbose", Description = "Show internal stack traces of errors and what the tool decides.")]
    public bool Verbose { get; set; }

    protected string ProjectPath => ProjectLocator.Locate(FileSystem, Project, WorkingDirectory);

    /// <summary>Arguments no option or argument took; a command that takes none refuses them.</summary>
    public string[] RemainingArguments { get; set; } = [];

    private void RejectUnexpected(string command)
    {
        if (RemainingArguments.Length > 0)
        {
            throw new FlowException($"Unexpected argument '{InputChecks.Shorten(RemainingArguments[0])}' for '{command}' (see dotnet flow {command} --help).");
        }
    }

    /// <summary>
    /// What every command checks before it reads anything: no stray argument, <c>--project</c> and
    /// <c>--datastore</c> values that can name a path at all (not empty, not blank, not too long), and a
    /// <c>--flow</c> that can be a flow's name.
    /// </summary>
    protected void CheckUsage(string command, string? flow = null)
    {
        RejectUnexpected(command);
        CheckPathOptions();
        InputChecks.FlowName(flow);
    }

    /// <summary>Refuses <c>--project</c> and <c>--datastore</c> values that cannot name a path.</summary>
    protected void CheckPathOptions()
    {
        InputChecks.Path("--project", Project, "a project file (.csproj) or its folder", WorkingDirectory);
        InputChecks.Path("--datastore", Datastore, "a .flow folder", WorkingDirectory);
    }

    /// <summary>Refuses a build configuration that is not a name (<c>dotnet build -c</c> would make folders of it).</summary>
    protected static void CheckConfiguration(string configuration)
    {
        if (configuration.Length is 0 or > 64 || !configuration.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') || configuration.StartsWith('.'))
        {
            throw new FlowException($"-c|--configuration '{InputChecks.Shorten(configuration)}' is not a build configuration: use Debug (the default), Release, or another name of up to 64 letters, digits, '_', '-' and '.'.");
        }
    }

    /// <summary>The datastore directory: explicit, from the environment, or found from the project's folder.</summary>
    protected string DatastoreRoot(string? projectPath) =>
        DatastoreLocator.Locate(FileSystem, Datastore is null ? null : FileSystem.Path.GetFullPath(Datastore, WorkingDirectory),
            projectPath is null ? WorkingDirectory : FileSystem.Path.GetDirectoryName(projectPath)!);

    /// <summary>The project's datastore; outside a project, the one --datastore, FLOW_DATASTORE or the folders above name.</summary>
    protected FlowDatastore OpenStore()
    {
        string? project = null;
        try
        {
            project = ProjectPath;
        }
        catch (FlowException) when (Project is null)
        {
            // Outside a project: the datastore from --datastore, FLOW_DATASTORE or the folders above.
        }
        return Open(DatastoreRoot(project));
    }

    /// <summary>Opens a datastore whose warnings (a damaged record read as unfinished) go to this command's stderr.</summary>
    protected FlowDatastore Open(string root)
    {
        var store = FlowDatastore.Open(FileSystem, root, create: false);
        store.Warn = message => Console.Error.WriteLine("warning: " + message);
        return store;
    }

    /// <summary>
    /// A run, read through the client. A run folder that holds tasks but no <c>run.json</c> is not a missing run but
    /// a damaged datastore (exit code 1), and says so.
    /// </summary>
    internal static RunInfo GetRun(FlowDatastore store, string flow, string runId)
    {
        try
        {
            return FlowClient.GetFlow(store, flow).GetRun(runId);
        }
        catch (FlowException) when (runId != "latest" && FlowDatastore.IsIdentifier(flow) && FlowDatastore.IsId(runId)
            && store.FileSystem.Directory.Exists(store.FileSystem.Path.Combine(store.RunDir(flow, runId), "steps"))
            && !store.FileSystem.File.Exists(store.FileSystem.Path.Combine(store.RunDir(flow, runId), "run.json")))
        {
            throw new FlowException(
                $"Run {flow}/{runId} has tasks but no run.json: the datastore {store.Root} is damaged; restore run.json, or remove the run folder {store.RunDir(flow, runId)} ('dotnet flow verify' lists every problem).",
                ExitCodes.Failure);
        }
    }

    protected static FlowGraph ChooseFlow(IReadOnlyList<FlowGraph> flows, string? name)
    {
        InputChecks.FlowName(name);
        return FlowChoice.Choose(flows, f => f.Name, name);
    }
}
