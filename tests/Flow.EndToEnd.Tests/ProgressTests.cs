using System.Runtime.Versioning;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// What <c>run</c> prints (docs/architecture.md, "Progress"): on a terminal (a pseudo-terminal made by
/// <c>script</c>) a live summary per step instead of a start and an end line per task, the tasks' output, and a
/// failure the moment it happens; <c>--quiet</c> only the summary and failures; redirected, every line as before.
/// </summary>
[Collection(PackedProductCollection.Name)]
[UnsupportedOSPlatform("windows")]
public sealed class ProgressTests(PackedProduct product)
{
    private const string Flow = "ResumeLabFlow";

    /// <summary>Runs the tool in a pseudo-terminal, as a user at a terminal does.</summary>
    private ProcessResult OnTerminal(string dir, string? failAt, params string[] args)
    {
        var environment = new Dictionary<string, string?>(product.Environment) { ["FAIL_AT"] = failAt, ["TERM"] = "xterm" };
        var command = string.Join(' ', new[] { product.ToolExecutable, "run", "--flow", Flow }.Concat(args).Select(a => "'" + a.Replace("'", "'\\''", StringComparison.Ordinal) + "'"));
        return ProcessRunner.Run("script", ["-qefc", command, "/dev/null"], dir, environment);
    }

    [Fact]
    public void OnATerminal_ASummaryPerStep_ReplacesTheStartAndEndLineOfEachTask()
    {
        var dir = ResumeProject.Get(product);

        var run = OnTerminal(dir, null);

        run.ExitCode.ShouldBe(0, run.ToString());
        run.Stdout.ShouldNotContain("Task is starting.");
        run.Stdout.ShouldNotContain("Task finished successfully.");
        run.Stdout.ShouldContain("item 3", Case.Sensitive, "the tasks' own output is still shown");
        run.Stdout.ShouldMatch(@"  Each\s+4 done");
        run.Stdout.ShouldContain("  elapsed ");
        run.Stdout.ShouldContain("\u001b[", Case.Sensitive, "the summary is redrawn in place");
        run.Stdout.ShouldContain("succeeded in");
    }

    [Fact]
    public void OnATerminal_AFailedTasksErrorIsShown_AndCountedAsFailed()
    {
        var dir = ResumeProject.Get(product);

        var run = OnTerminal(dir, "Each3");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stdout.ShouldContain("Task failed.");
        run.Stdout.ShouldContain("asked to fail at Each3");
        run.Stdout.ShouldMatch(@"  Each\s+.*\d failed"); // the failed task, and any stopped with it
    }

    [Fact]
    public void Quiet_PrintsTheSummaryAndTheFailureOnly_EvenWhenRedirected()
    {
        var dir = ResumeProject.Get(product);
        var environment = new Dictionary<string, string?>(product.Environment) { ["FAIL_AT"] = "Each2" };

        var run = ProcessRunner.Run(product.ToolExecutable, ["run", "--flow", Flow, "--quiet"], dir, environment);

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Output.ShouldNotContain("item 1");
        run.Output.ShouldNotContain("Task is starting.");
        run.Output.ShouldContain("Task failed: System.InvalidOperationException: asked to fail at Each2");
        run.Output.ShouldMatch(@"  Middle\s+1 done");
        run.Output.ShouldNotContain("\u001b[", Case.Sensitive, "redirected output has no terminal codes");
    }

    [Fact]
    public void Redirected_EveryTaskHasItsStartAndEndLine_AsBefore()
    {
        var dir = ResumeProject.Get(product);

        var run = ProcessRunner.Run(product.ToolExecutable, ["run", "--flow", Flow], dir, new Dictionary<string, string?>(product.Environment));

        run.ExitCode.ShouldBe(0, run.ToString());
        run.Stdout.Split('\n').Count(l => l.EndsWith("Task finished successfully.", StringComparison.Ordinal)).ShouldBe(9);
        run.Stdout.ShouldNotContain("  elapsed ");
    }
}
