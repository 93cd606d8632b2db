using System.IO.Abstractions;
using Flow.Cli.Projects;
using Flow.Sdk;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
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

    protected void RejectUnexpected(string command)
    {
        if (RemainingArguments.Length > 0)
        {
            throw new FlowException($"Unexpected argument '{RemainingArguments[0]}' for '{command}' (see dotnet flow {command} --help).");
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

    protected static FlowGraph ChooseFlow(IReadOnlyList<FlowGraph> flows, string? name) => FlowChoice.Choose(flows, f => f.Name, name);
}
