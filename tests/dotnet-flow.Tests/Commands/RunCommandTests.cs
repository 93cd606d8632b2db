using System.IO.Abstractions.TestingHelpers;
using Flow.Cli.Tests.Support;
using Flow.Sdk;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;

namespace Flow.Cli.Tests.Commands;

/// <summary><c>run</c> as far as it goes without a process: locating the project and <c>run --help</c> on an up-to-date build.</summary>
public sealed class RunCommandTests
{
    private readonly MockFileSystem _fs = new();
    private readonly FlowProject _project;

    public RunCommandTests()
    {
        _project = new FlowProject(_fs, "/src/Hello");
        _project.Write("HelloFlow.cs", "partial class HelloFlow : FlowSpec { }");
    }

    private ToolResult Run(params string[] args) => ToolRunner.Run(_fs, _project.Directory, args);

    [Fact]
    public void Run_Help_PrintsTheFlowsOptionsAndParameters()
    {
        _project.Build();

        var result = Run("run", "--help");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Error.ShouldBeEmpty();
        result.Output.ShouldBe(FlowHostHelp.RunHelp(FlowGraph.Parse(FlowProject.GraphJson("HelloFlow"))));
        result.Output.ShouldContain("Runs HelloFlow: Says hello.");
        result.Output.ShouldContain("--count int  (default 3; env FLOW_RUN_COUNT)  How many.");
    }

    [Fact]
    public void Run_HelpWithFlowOption_PrintsThatFlowsHelp()
    {
        _project.Flows = ["HelloFlow", "OtherFlow"];
        _project.Build();

        var result = Run("run", "--flow", "OtherFlow", "-h");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain("Runs OtherFlow: Says hello.");
    }

    [Fact]
    public void Run_HelpInAProjectWithSeveralFlows_AsksForOne()
    {
        _project.Flows = ["HelloFlow", "OtherFlow"];
        _project.Build();

        var result = Run("run", "--help");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldContain("--flow");
    }

    [Fact]
    public void Run_ProjectOptionNamingANonProjectFile_ExitsWithUsage()
    {
        var result = Run("run", "--project", "HelloFlow.cs");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldContain("/src/Hello/HelloFlow.cs is not a C# project file");
    }
}
