using System.IO.Abstractions;

namespace Flow.Cli.Tests.Support;

/// <summary>What one in-process invocation of the tool returned and printed.</summary>
/// <param name="ExitCode">The exit code <see cref="Program.Run"/> returned.</param>
/// <param name="Output">Standard output.</param>
/// <param name="Error">Standard error.</param>
internal sealed record ToolResult(int ExitCode, string Output, string Error)
{
    /// <summary>Gets the non-empty lines of standard error.</summary>
    public IReadOnlyList<string> ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Gets the one line of standard error; fails when there is not exactly one.</summary>
    public string SingleErrorLine
    {
        get
        {
            ErrorLines.Count.ShouldBe(1, $"expected one error line, got:\n{Error}");
            return ErrorLines[0];
        }
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Output}\n--- stderr ---\n{Error}";
}

/// <summary>Runs the tool in-process, as <c>dotnet flow &lt;args&gt;</c> started in <c>workingDirectory</c>.</summary>
internal static class ToolRunner
{
    public static ToolResult Run(IFileSystem fs, string workingDirectory, params string[] args)
    {
        var console = new TestConsole();
        var exitCode = Program.Run(args, console, fs, workingDirectory);
        return new ToolResult(exitCode, console.Output, console.ErrorOutput);
    }
}
