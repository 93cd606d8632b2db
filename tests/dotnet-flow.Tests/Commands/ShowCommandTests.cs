using System.IO.Abstractions.TestingHelpers;
using Flow.Cli.Tests.Support;
using Flow.Sdk;
using Flow.Sdk.Graph;

namespace Flow.Cli.Tests.Commands;

/// <summary><c>show</c> on a project whose build record is up to date, so no build runs.</summary>
public sealed class ShowCommandTests
{
    private readonly MockFileSystem _fs = new();
    private readonly FlowProject _project;

    public ShowCommandTests()
    {
        _project = new FlowProject(_fs, "/src/Hello");
        _project.Write("HelloFlow.cs", "partial class HelloFlow : FlowSpec { }");
    }

    private static FlowGraph Graph(string name) => FlowGraph.Parse(FlowProject.GraphJson(name));

    private ToolResult Run(params string[] args) => ToolRunner.Run(_fs, _project.Directory, args);

    [Fact]
    public void Show_BuiltProject_PrintsTheGraphAsText()
    {
        _project.Build();

        var result = Run("show");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Error.ShouldBeEmpty();
        result.Output.ShouldBe(GraphPrinter.ToText(Graph("HelloFlow")));
        result.Output.ShouldStartWith("HelloFlow: Says hello.");
        result.Output.ShouldContain("--count int = 3");
        result.Output.ShouldContain("Step Start");
    }

    [Theory]
    [InlineData("dot")]
    [InlineData("mermaid")]
    public void Show_Format_PrintsTheGraphInThatFormat(string format)
    {
        _project.Build();

        var result = Run("show", "--format", format);

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe(format == "dot" ? GraphFormats.ToDot(Graph("HelloFlow")) : GraphFormats.ToMermaid(Graph("HelloFlow")));
    }

    [Fact]
    public void Show_UnknownFormat_ExitsWithUsageBeforeLookingForTheProject()
    {
        _fs.Directory.CreateDirectory("/empty");

        var result = ToolRunner.Run(_fs, "/empty", "show", "--format", "svg");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldBe("error: Unknown --format 'svg': use text, dot or mermaid.");
    }

    [Fact]
    public void Show_ProjectOption_ShowsThatProjectFromAnotherFolder()
    {
        _project.Build();
        _fs.Directory.CreateDirectory("/elsewhere");

        var result = ToolRunner.Run(_fs, "/elsewhere", "show", "--project", "/src/Hello");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldStartWith("HelloFlow: ");
    }

    [Fact]
    public void Show_ProjectWithSeveralFlows_AsksForOne()
    {
        _project.Flows = ["HelloFlow", "OtherFlow"];
        _project.Build();

        var result = Run("show");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldContain("HelloFlow, OtherFlow");
        result.SingleErrorLine.ShouldContain("--flow");
    }

    [Theory]
    [InlineData("OtherFlow")]
    [InlineData("otherflow")]
    public void Show_FlowOption_ShowsThatFlow(string name)
    {
        _project.Flows = ["HelloFlow", "OtherFlow"];
        _project.Build();

        var result = Run("show", "--flow", name);

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe(GraphPrinter.ToText(Graph("OtherFlow")));
    }

    [Fact]
    public void Show_FlowOptionNamingNoFlow_ExitsWithUsageListingTheFlows()
    {
        _project.Flows = ["HelloFlow", "OtherFlow"];
        _project.Build();

        var result = Run("show", "--flow", "Missing");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldContain("Missing");
        result.SingleErrorLine.ShouldContain("HelloFlow, OtherFlow");
    }

    [Fact]
    public void Show_FolderWithTwoProjects_ExitsWithUsageAndOneLine()
    {
        _project.Build();
        _fs.File.WriteAllText("/src/Hello/Second.csproj", "<Project />");

        var result = Run("show");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldContain("Hello.csproj, Second.csproj");
        result.Output.ShouldBeEmpty();
    }
}
