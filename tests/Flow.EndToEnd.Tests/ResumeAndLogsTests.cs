using System.Text.Json;
using System.Text.RegularExpressions;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// resume and logs through the packed tool (Resume/ResumeFlows.cs): a run fails where FAIL_AT says, the failure is
/// removed, and the resume clones exactly what succeeded (stamped with the origin's run id) and runs the rest again.
/// </summary>
[Collection(PackedProductCollection.Name)]
public sealed partial class ResumeAndLogsTests(PackedProduct product)
{
    private const string Flow = "ResumeLabFlow";

    [GeneratedRegex(@"Run (\d+) of (\w+) started")]
    private static partial Regex RunStarted();

    [Fact]
    public void FailureInStart_ResumeRunsEverythingAgain()
    {
        var dir = ResumeProject.Get(product);
        var origin = Run(dir, "Start", expectExit: 1);

        var resumed = Resume(dir);

        resumed.Output.ShouldContain("cloning 0 task(s), re-running from Start", customMessage: resumed.ToString());
        var id = RunId(resumed);
        Single(dir, id, "Start").GetProperty("StartRun").GetString().ShouldBe(id);
        Single(dir, id, "End").GetProperty("Origin").GetString().ShouldBe(origin);
    }

    [Fact]
    public void FailureInAMiddleStep_ClonesWhatCameBefore_AndRunsTheRest()
    {
        var dir = ResumeProject.Get(product);
        var origin = Run(dir, "Middle", expectExit: 1);

        var resumed = Resume(dir);

        var id = RunId(resumed);
        resumed.Stdout.ShouldContain($"[{id}/Start/1] Cloned from {origin}/Start/1.", customMessage: resumed.ToString());
        Single(dir, id, "Start").GetProperty("StartRun").GetString().ShouldBe(origin);
        Single(dir, id, "Middle").GetProperty("MiddleRun").GetString().ShouldBe(id);
        Single(dir, id, "Join").GetProperty("Total").GetInt32().ShouldBe(100);
        var done = File.ReadAllText(Path.Combine(dir, ".flow", "runs", Flow, id, "steps", "Start", "1", "0", "done.json"));
        done.ShouldContain($"\"clonedFrom\":\"{origin}/Start/1\"");
    }

    [Fact]
    public void FailureInsideAForeach_OnlyTheFailedChildrenRunAgain()
    {
        var dir = ResumeProject.Get(product);
        var origin = Run(dir, "Each2", expectExit: 1);

        var resumed = Resume(dir);

        var id = RunId(resumed);
        var each = Tasks(dir, id, "Each");
        each.Count.ShouldBe(4);
        // Index order: items 1..4. The origin stopped after item 2 failed, so only what finished there is cloned.
        var stamps = each.OrderBy(t => t.GetProperty("$index")[0].GetInt32()).Select(t => t.GetProperty("EachRun").GetString()).ToList();
        stamps[1].ShouldBe(id);
        stamps[0].ShouldBe(origin);
        Single(dir, id, "Join").GetProperty("Total").GetInt32().ShouldBe(100);
        Single(dir, id, "Join").GetProperty("JoinRun").GetString().ShouldBe(id);
    }

    [Fact]
    public void FailureInAForeachJoin_ClonesEveryChild()
    {
        var dir = ResumeProject.Get(product);
        var origin = Run(dir, "Join", expectExit: 1);

        var resumed = Resume(dir);

        var id = RunId(resumed);
        resumed.Output.ShouldContain("re-running from Join", customMessage: resumed.ToString());
        Tasks(dir, id, "Each").Select(t => t.GetProperty("EachRun").GetString()).ShouldAllBe(stamp => stamp == origin);
        Single(dir, id, "Join").GetProperty("Runs").GetString().ShouldBe(string.Join(",", Enumerable.Repeat(origin, 4)));
        // The cloned Each tasks' output is the origin's.
        var logs = product.Flow(dir, "logs", $"{id}/Each/4", "--flow", Flow);
        logs.Stdout.ShouldStartWith("item ", customMessage: logs.ToString());
        logs.Stderr.ShouldContain($"cloned from {Flow}/{origin}/");
        Single(dir, id, "Join").GetProperty("JoinRun").GetString().ShouldBe(id);
    }

    [Fact]
    public void FailureInEnd_OnlyEndRunsAgain_WithTheOriginsParameters()
    {
        var dir = ResumeProject.Get(product);
        var origin = Run(dir, "End", expectExit: 1, "--label", "special");

        var resumed = Resume(dir);

        var id = RunId(resumed);
        resumed.Output.ShouldContain("cloning 8 task(s), re-running from End", customMessage: resumed.ToString());
        var end = Single(dir, id, "End");
        end.GetProperty("EndRun").GetString().ShouldBe(id);
        end.GetProperty("Origin").GetString().ShouldBe(origin);
        end.GetProperty("Label").GetString().ShouldBe("special");
        Single(dir, id, "Join").GetProperty("JoinRun").GetString().ShouldBe(origin);
    }

    [Fact]
    public void ResumeFromAStepThatSucceeded_RunsItAndEverythingAfterIt()
    {
        var dir = ResumeProject.Get(product);
        var origin = Run(dir, null, expectExit: 0);

        var resumed = Resume(dir, "middle", "--origin-run-id", origin);

        var id = RunId(resumed);
        Single(dir, id, "Start").GetProperty("StartRun").GetString().ShouldBe(origin);
        Single(dir, id, "Middle").GetProperty("MiddleRun").GetString().ShouldBe(id);
        Tasks(dir, id, "Each").Select(t => t.GetProperty("EachRun").GetString()).ShouldAllBe(stamp => stamp == id);
    }

    [Fact]
    public void Plan_SaysWhatWouldBeClonedAndWhatRunsAgain_AndCreatesNoRun()
    {
        var dir = ResumeProject.Get(product);
        var origin = Run(dir, "Each3", expectExit: 1);
        var before = LabProject.RunCount(dir, Flow);

        var plan = product.Flow(dir, "resume", "--plan", "--flow", Flow);

        plan.ExitCode.ShouldBe(0, plan.ToString());
        plan.Stdout.ShouldContain($"Resume of {Flow} run {origin}, from where it failed:");
        plan.Stdout.ShouldContain("  clone   Start/1");
        plan.Stdout.ShouldMatch(@"re-run  Each/\d+ +failed: System.InvalidOperationException: asked to fail at Each3");
        plan.Stdout.ShouldContain("the rest runs again, from Each.");
        LabProject.RunCount(dir, Flow).ShouldBe(before);
    }

    [Fact]
    public void Resume_RefusesParameters_AndUnknownSteps_AndMissingRuns()
    {
        var dir = ResumeProject.Get(product);
        Run(dir, null, expectExit: 0);

        var parameter = product.Flow(dir, "resume", "--flow", Flow, "--label", "x");
        var step = product.Flow(dir, "resume", "Nope", "--flow", Flow);
        var origin = product.Flow(dir, "resume", "--flow", Flow, "--origin-run-id", "123");

        parameter.ExitCode.ShouldBe(2, parameter.ToString());
        parameter.Stderr.ShouldContain("reuses the origin run's parameters");
        step.ExitCode.ShouldBe(2, step.ToString());
        step.Stderr.ShouldContain("has no step Nope");
        origin.ExitCode.ShouldBe(2, origin.ToString());
        origin.Stderr.ShouldContain("has no run 123");
    }

    [Fact]
    public void Logs_ShowATasksOutput_FilteredAndTimestamped_AndEveryTaskOfAForeachUnderAHeader()
    {
        var dir = ResumeProject.Get(product);
        var id = Run(dir, null, expectExit: 0, "--label", "logged");

        var middle = product.Flow(dir, "logs", $"{id}/Middle", "--flow", Flow);
        var stdout = product.Flow(dir, "logs", $"{id}/Middle", "--flow", Flow, "--stdout", "--timestamps");
        var stderr = product.Flow(dir, "logs", $"{id}/Middle", "--flow", Flow, "--stderr");
        var each = product.Flow(dir, "logs", $"{id}/Each", "--flow", Flow);
        var attempt = product.Flow(dir, "logs", $"{id}/Middle", "--flow", Flow, "--attempt", "3");

        middle.ExitCode.ShouldBe(0, middle.ToString());
        middle.Stdout.ShouldBe($"middle of logged{Environment.NewLine}a warning{Environment.NewLine}");
        stdout.Stdout.ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z middle of logged\r?\n$");
        stderr.Stdout.Trim().ShouldBe("a warning");
        each.Stdout.ShouldContain($"== {Flow}/{id}/Each/");
        Regex.Matches(each.Stdout, "^== ", RegexOptions.Multiline).Count.ShouldBe(4);
        each.Stdout.ShouldContain("item 4");
        attempt.ExitCode.ShouldBe(2, attempt.ToString());
        attempt.Stderr.ShouldContain("has no attempt 3");
    }

    [Fact]
    public void MaxLogSize_CapsTheStoredLog_AndSaysSo()
    {
        var dir = ResumeProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "ChattyFlow", "--max-log-size", "1");
        var logs = product.Flow(dir, "logs", "latest/Start", "--flow", "ChattyFlow");

        run.ExitCode.ShouldBe(0, run.ToString()[..Math.Min(2000, run.ToString().Length)]);
        logs.ExitCode.ShouldBe(0, logs.Stderr);
        logs.Stdout.Length.ShouldBeLessThan(1_100_000);
        logs.Stdout.ShouldContain("[log truncated: this stream reached --max-log-size 1 MB");
    }

    [Fact]
    public void AnEmptyFileInTheProject_IsPartOfTheSnapshot()
    {
        var dir = ResumeProject.Get(product);
        File.WriteAllText(Path.Combine(dir, "empty.txt"), string.Empty);

        var run = product.Flow(dir, "run", "--flow", "ChattyFlow", "--lines", "1", "--build");

        run.ExitCode.ShouldBe(0, run.ToString());
    }

    [Fact]
    public void Resume_KeepsTheOriginsRunOptionsAndTags_UnlessGivenAgain()
    {
        var dir = ResumeProject.Get(product);
        var origin = Run(dir, "Join", 1, "--max-num-splits", "4", "--max-workers", "3", "--max-log-size", "7", "--tag", "kept-tag");

        var kept = RunId(Resume(dir, "--origin-run-id", origin));
        var changed = RunId(Resume(dir, "--origin-run-id", origin, "--max-workers", "2", "--tag", "new-tag"));

        JsonElement Options(string id) => JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, ".flow", "runs", Flow, id, "run.json"))).RootElement.GetProperty("options");
        string Tags(string id) => File.ReadAllText(Path.Combine(dir, ".flow", "runs", Flow, id, "tags.json"));
        Options(kept).GetProperty("maxNumSplits").GetInt32().ShouldBe(4);
        Options(kept).GetProperty("maxWorkers").GetInt32().ShouldBe(3);
        Options(kept).GetProperty("maxLogMegabytes").GetInt32().ShouldBe(7);
        Tags(kept).ShouldContain("kept-tag");
        Options(changed).GetProperty("maxWorkers").GetInt32().ShouldBe(2);
        Options(changed).GetProperty("maxNumSplits").GetInt32().ShouldBe(4);
        Tags(changed).ShouldContain("new-tag");
        Tags(changed).ShouldNotContain("kept-tag");
    }

    [Fact]
    public void ResumeOfASucceededRun_AfterAnEdit_RunsFromTheStepWhoseCodeChanged_AndClonesTheRest()
    {
        var dir = product.NewProject("Edited");
        var origin = RunId(PackedProduct.Must(product.Flow(dir, "run")));
        var unchanged = product.Flow(dir, "resume", "--plan");
        unchanged.Stdout.ShouldContain("nothing runs again", Case.Sensitive, unchanged.ToString());

        var flowFile = Path.Combine(dir, "HelloFlow.cs");
        File.WriteAllText(flowFile, File.ReadAllText(flowFile).Replace("Message = $\"Hello, {Name}!\";", "Message = $\"Howdy, {Name}!\";"));
        var plan = product.Flow(dir, "resume", "--plan");
        var resumed = PackedProduct.Must(product.Flow(dir, "resume"));

        plan.Stdout.ShouldMatch(@"clone\s+Start/1\s+succeeded");
        plan.Stdout.ShouldMatch(@"re-run\s+Hello/2\s+its code changed");
        plan.Stdout.ShouldMatch(@"re-run\s+End/3\s+its input Hello/2 runs again");
        var id = RunId(resumed);
        resumed.Stdout.ShouldContain($"[{id}/Start/1] Cloned from {origin}/Start/1.");
        resumed.Stdout.ShouldContain("Howdy, world!");
    }

    private string Run(string dir, string? failAt, int expectExit, params string[] args)
    {
        var environment = new Dictionary<string, string?>(product.Environment) { ["FAIL_AT"] = failAt };
        var run = ProcessRunner.Run(product.ToolExecutable, ["run", "--flow", Flow, .. args], dir, environment);
        run.ExitCode.ShouldBe(expectExit, run.ToString());
        return RunId(run);
    }

    private ProcessResult Resume(string dir, params string[] args)
    {
        var resumed = product.Flow(dir, ["resume", .. args, "--flow", Flow]);
        resumed.ExitCode.ShouldBe(0, resumed.ToString());
        return resumed;
    }

    private static string RunId(ProcessResult result)
    {
        var id = RunStarted().Match(result.Stdout).Groups[1].Value;
        id.ShouldNotBeEmpty(result.ToString());
        return id;
    }

    private List<JsonElement> Tasks(string dir, string runId, string step)
    {
        var dump = product.Flow(dir, "dump", $"{runId}/{step}", "--flow", Flow, "--json");
        dump.ExitCode.ShouldBe(0, dump.ToString());
        using var doc = JsonDocument.Parse(dump.Stdout);
        return [.. doc.RootElement.EnumerateObject().Select(p => p.Value.Clone())];
    }

    private JsonElement Single(string dir, string runId, string step) => Tasks(dir, runId, step).ShouldHaveSingleItem();
}

/// <summary>A project made from the template holding Resume/ResumeFlows.cs, built once and shared.</summary>
internal static class ResumeProject
{
    public static string Get(PackedProduct product) => product.SharedProject("ResumeLab", "Resume/ResumeFlows.cs", "ResumeLabFlow", replaceTemplateFlow: true);
}
