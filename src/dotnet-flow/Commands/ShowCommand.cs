using System.IO.Abstractions;
using Flow.Cli.Projects;
using Flow.Sdk;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary><c>dotnet flow show</c>: prints the static graph; never runs user code.</summary>
[Command("show", Description = "Print a flow's graph, as the generator read it from the source (no user code runs).", ThrowOnUnexpectedArgument = false)]
[HelpOption("-h|--help")]
internal sealed class ShowCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : ProjectCommand(console, fs, cwd)
{
    [Option("--flow <NAME>", Description = "The flow, when the project has several.")]
    public string? Flow { get; set; }

    [Option("--format <FORMAT>", Description = "text (default), dot (Graphviz) or mermaid.")]
    public string Format { get; set; } = "text";

    [Option("-c|--configuration <NAME>", Description = "The build configuration (default Debug).")]
    public string Configuration { get; set; } = "Debug";

    public int OnExecute()
    {
        CheckUsage("show", Flow);
        CheckConfiguration(Configuration);
        if (Format is not ("text" or "dot" or "mermaid"))
        {
            throw new FlowException($"Unknown --format '{InputChecks.Shorten(Format)}': use text, dot or mermaid.");
        }
        Trace.Mark("show");
        var project = ProjectPath;
        Trace.Mark("located");
        var record = new ProjectBuilder(FileSystem, Console).Ensure(project, Configuration, force: false, Verbose);
        Trace.Mark("build record checked");
        var graph = ChooseFlow(record.Graphs(), Flow);
        Trace.Mark("graph parsed");
        Console.Out.Write(Format switch
        {
            "dot" => GraphFormats.ToDot(graph),
            "mermaid" => GraphFormats.ToMermaid(graph),
            _ => GraphPrinter.ToText(graph),
        });
        Trace.Mark("printed");
        return ExitCodes.Success;
    }
}
