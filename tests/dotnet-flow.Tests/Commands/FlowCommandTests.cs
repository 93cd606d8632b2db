using System.IO.Abstractions.TestingHelpers;
using System.Text.RegularExpressions;
using Flow.Cli.Commands;
using Flow.Cli.Tests.Support;
using Flow.Sdk;

namespace Flow.Cli.Tests.Commands;

public sealed class FlowCommandTests
{
    private readonly MockFileSystem _fs = new();

    public FlowCommandTests() => _fs.AddDirectory("/work");

    private ToolResult Run(params string[] args) => ToolRunner.Run(_fs, "/work", args);

    [Fact]
    public void Version_PrintsTheVersionAndSucceeds()
    {
        var result = Run("--version");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain(FlowCommand.Version);
        Regex.IsMatch(result.Output, @"\d+\.\d+\.\d+").ShouldBeTrue(result.Output);
        result.Error.ShouldBeEmpty();
    }

    [Fact]
    public void EverySubcommand_IsParsedAloneUnderTheNameItIsRegisteredWith()
    {
        // The everyday path builds an application of the named command alone; it must know the same commands, by the
        // same names and in the same order, as the tree help and error messages are made from.
        var registered = typeof(FlowCommand).GetCustomAttributes(typeof(McMaster.Extensions.CommandLineUtils.SubcommandAttribute), false)
            .Cast<McMaster.Extensions.CommandLineUtils.SubcommandAttribute>().SelectMany(s => s.Types)
            .Select(t => (((McMaster.Extensions.CommandLineUtils.CommandAttribute)t.GetCustomAttributes(typeof(McMaster.Extensions.CommandLineUtils.CommandAttribute), false)[0]).Name, t)).ToList();

        var direct = FlowCommand.Direct.Select(d => (d.Name, d.Create(new Support.TestConsole(), "/work").GetType().GetGenericArguments()[0])).ToList();

        direct.ShouldBe(registered);
    }

    [Theory]
    [InlineData("show", "--bogus")]
    [InlineData("dump", "latest/Start", "--bogus")]
    public void DirectPath_RefusesAnUnknownOptionLikeTheTree(params string[] args)
    {
        var result = Run(args);

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.Error.Trim().Split('\n').Length.ShouldBe(1, result.Error);
        result.Error.ShouldContain("--bogus");
        result.Output.ShouldBeEmpty();
    }

    [Fact]
    public void NoArguments_PrintsHelpAndSucceeds()
    {
        var result = Run();

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain("Usage: dotnet flow");
        result.Output.ShouldContain("run");
        result.Output.ShouldContain("show");
        result.Output.ShouldContain("dump");
        result.Error.ShouldBeEmpty();
    }

    [Fact]
    public void Help_PrintsHelpAndSucceeds()
    {
        var result = Run("--help");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain("Usage: dotnet flow");
    }

    [Fact]
    public void DumpHelp_PrintsTheDumpOptions()
    {
        var result = Run("dump", "--help");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain("--max-value-size");
        result.Output.ShouldContain("--include");
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("dmp")]
    [InlineData("--bogus")]
    [InlineData("dump", "--bogus")]
    [InlineData("show", "--no-such-option")]
    [InlineData("dump", "a/b", "extra")]
    public void UnknownCommandOrOption_ExitsWithUsageAndOneErrorLine(params string[] args)
    {
        var result = Run(args);

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldStartWith("error: ");
        result.SingleErrorLine.ShouldContain("--help");
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("dump", "--bogus")]
    public void UnknownCommandOrOption_WritesNothingToStandardOutput(params string[] args)
    {
        var result = Run(args);

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.Output.ShouldBeEmpty();
    }

    [Fact]
    public void OptionWithoutItsValue_ExitsWithUsage()
    {
        var result = Run("dump", "a/b", "--include");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldStartWith("error: ");
    }

    [Fact]
    public void NonNumericMaxValueSize_ExitsWithUsage()
    {
        var result = Run("dump", "a/b", "--max-value-size", "lots");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldStartWith("error: ");
    }

    [Fact]
    public void Show_FolderWithoutProject_ExitsWithUsageAndOneLine()
    {
        var result = Run("show");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        var line = result.SingleErrorLine;
        line.ShouldStartWith("error: No flow project in /work");
        line.ShouldContain("dotnet new flow");
        result.Output.ShouldBeEmpty();
    }

    [Fact]
    public void Run_FolderWithoutProject_ExitsWithUsageAndOneLine()
    {
        var result = Run("run");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldStartWith("error: No flow project in /work");
    }

    [Fact]
    public void Verbose_ShowsTheStackTraceOfAFlowException()
    {
        var result = Run("show", "--verbose");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.Error.ShouldContain("FlowException");
        result.Error.ShouldContain("No flow project in /work");
        result.Error.ShouldContain("ProjectLocator.Locate");
        result.ErrorLines.Count.ShouldBeGreaterThan(1);
    }

    [Fact]
    public void Verbose_BeforeTheCommand_ShowsTheStackTrace()
    {
        var result = Run("--verbose", "show");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.Error.ShouldContain("ProjectLocator.Locate");
    }

    [Fact]
    public void WithoutVerbose_AFlowExceptionIsExactlyOneErrorLine()
    {
        var result = Run("show", "--project", "missing");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.SingleErrorLine.ShouldBe("error: No such project or folder: /work/missing; pass an existing project to --project.");
        result.Error.ShouldNotContain(" at ");
    }
}
