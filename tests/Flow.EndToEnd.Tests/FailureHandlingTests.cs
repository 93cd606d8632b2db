using System.Text.Json;
using System.Text.RegularExpressions;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>[Retry], [Catch], [Timeout], --with retry, and a failure that ends the run's other running tasks.</summary>
[Collection(PackedProductCollection.Name)]
public sealed partial class FailureHandlingTests(PackedProduct product)
{
    [GeneratedRegex(@"Run (\d+) of (\w+) started")]
    private static partial Regex RunStarted();

    [Fact]
    public void RetryCatchAndTimeout_LetTheFlowFinish_WithEveryAttemptStored()
    {
        var dir = ResumeProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "RetryFlow");

        run.ExitCode.ShouldBe(0, run.ToString());
        var id = RunStarted().Match(run.Stdout).Groups[1].Value;
        run.Stdout.ShouldContain($"[{id}/Flaky/2] Retrying: attempt 1");
        run.Stdout.ShouldContain($"[{id}/Slow/4] Task timed out after 1 s.");
        run.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(25), "the 30 s sleep was stopped by its 1 s timeout");
        var steps = Path.Combine(dir, ".flow", "runs", "RetryFlow", id, "steps");
        Directory.GetDirectories(Path.Combine(steps, "Flaky", "2")).Length.ShouldBe(3);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var logs = product.Flow(dir, "logs", $"{id}/Flaky/2", "--flow", "RetryFlow", "--attempt", $"{attempt}", "--stdout");
            logs.Stdout.Trim().ShouldBe($"attempt {attempt}");
        }
        var end = Dump(dir, $"{id}/End");
        end.GetProperty("Tries").GetInt32().ShouldBe(2);
        end.GetProperty("$attempt").GetInt32().ShouldBe(0);
        // What a killed or exited attempt changed is lost; the caught attempt records the failure and goes on.
        end.GetProperty("Seen").GetString().ShouldBe("|ProcessExited");
        end.GetProperty("Problem").GetProperty("Type").GetString().ShouldBe("ProcessExited");
        Dump(dir, $"{id}/Risky").GetProperty("Problem").GetProperty("Message").GetString().ShouldBe("always");
        var slow = Dump(dir, $"{id}/Slow");
        slow.GetProperty("$attempt").GetInt32().ShouldBe(1);
        File.ReadAllText(Path.Combine(steps, "Slow", "4", "1", "done.json")).ShouldContain("\"type\":\"Timeout\"");
        Dump(dir, $"{id}/Flaky").GetProperty("$attempt").GetInt32().ShouldBe(2);
    }

    [Fact]
    public void WithRetry_RetriesEveryStep_AndAFailureAfterTheRetriesStopsTheRun()
    {
        var dir = ResumeProject.Get(product);
        var environment = new Dictionary<string, string?>(product.Environment) { ["FAIL_AT"] = "Middle" };

        var run = ProcessRunner.Run(product.ToolExecutable, ["run", "--flow", "ResumeLabFlow", "--with", "retry:times=1"], dir, environment);

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Stdout.ShouldContain("/Middle/2] Retrying: attempt 1");
        run.Stderr.ShouldContain("step Middle (task 2, attempt 1) failed: System.InvalidOperationException: asked to fail at Middle");
    }

    [Fact]
    public void AFailure_EndsTheOtherRunningTasks_AndTheRunFails()
    {
        var dir = ResumeProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "StopFlow");

        run.ExitCode.ShouldBe(1, run.ToString());
        run.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(40), "the 60 s sleeper was ended");
        var id = RunStarted().Match(run.Stdout).Groups[1].Value;
        var sleeper = Directory.GetDirectories(Path.Combine(dir, ".flow", "runs", "StopFlow", id, "steps", "Sleeps")).Single();
        File.ReadAllText(Path.Combine(sleeper, "0", "done.json")).ShouldContain("stopped: another task of the run failed");
        run.Stderr.ShouldContain("step Fails");
    }

    [Fact]
    public void WithAnUnknownDecorator_IsAUsageError()
    {
        var dir = ResumeProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "RetryFlow", "--with", "cards");

        run.ExitCode.ShouldBe(2, run.ToString());
        run.Stderr.ShouldContain("--with cards");
    }

    private JsonElement Dump(string dir, string pathspec)
    {
        var dump = product.Flow(dir, "dump", pathspec, "--flow", "RetryFlow", "--json");
        dump.ExitCode.ShouldBe(0, dump.ToString());
        using var doc = JsonDocument.Parse(dump.Stdout);
        return doc.RootElement.EnumerateObject().Single().Value.Clone();
    }
}

/// <summary><c>logs --follow</c> on a task that is still running prints its lines as they come, until it ends.</summary>
[Collection(PackedProductCollection.Name)]
public sealed class LogsFollowTests(PackedProduct product)
{
    [Fact]
    public async Task Follow_PrintsARunningTasksLines_UntilItEnds()
    {
        var dir = ResumeProject.Get(product);
        var start = new System.Diagnostics.ProcessStartInfo(product.ToolExecutable) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "run", "--flow", "SlowPrintFlow" })
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in product.Environment)
        {
            start.Environment[name] = value;
        }
        using var run = System.Diagnostics.Process.Start(start)!;
        var output = run.StandardOutput.ReadToEndAsync();
        var errors = run.StandardError.ReadToEndAsync();
        string? started = null;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (started is null && DateTime.UtcNow < deadline && !run.HasExited)
        {
            var runs = Path.Combine(dir, ".flow", "runs", "SlowPrintFlow");
            started = Directory.Exists(runs)
                ? Directory.GetFiles(runs, "started.json", SearchOption.AllDirectories).FirstOrDefault(f => f.Contains($"{Path.DirectorySeparatorChar}Talk{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                : null;
            await Task.Delay(50);
        }
        started.ShouldNotBeNull("the Talk task never started");
        var attempt = Path.GetDirectoryName(started)!;
        var task = Path.GetFileName(Path.GetDirectoryName(attempt))!;
        var runId = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(attempt))))!)!;
        var finishedBefore = File.Exists(Path.Combine(attempt, "done.json"));

        var follow = product.Flow(dir, "logs", $"{runId}/Talk/{task}", "--flow", "SlowPrintFlow", "--follow");

        run.WaitForExit(TimeSpan.FromSeconds(60)).ShouldBeTrue();
        run.ExitCode.ShouldBe(0, await output + await errors);
        finishedBefore.ShouldBeFalse("the task should still be running when logs --follow starts");
        follow.ExitCode.ShouldBe(0, follow.ToString());
        follow.Stdout.ShouldBe(string.Concat(Enumerable.Range(1, 8).Select(i => $"line {i}{Environment.NewLine}")), follow.ToString());
    }
}

/// <summary>[Environment] gives a step's tasks their variables, each in a process of its own.</summary>
[Collection(PackedProductCollection.Name)]
public sealed class EnvironmentDecoratorTests(PackedProduct product)
{
    [Fact]
    public void EnvironmentVariables_ReachOnlyThatStep_InItsOwnProcess()
    {
        var dir = ResumeProject.Get(product);

        var run = product.Flow(dir, "run", "--flow", "EnvFlow");
        var dump = product.Flow(dir, "dump", "latest/End", "--flow", "EnvFlow", "--json");

        run.ExitCode.ShouldBe(0, run.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(dump.Stdout);
        var end = doc.RootElement.EnumerateObject().Single().Value;
        end.GetProperty("Inside").GetString().ShouldBe("hola mundo");
        end.GetProperty("Outside").GetString().ShouldBe("--");
        end.GetProperty("InsidePid").GetInt32().ShouldNotBe(end.GetProperty("OutsidePid").GetInt32());
    }
}

/// <summary>
/// SIGKILL of every process of a run (tool, orchestrator, workers) at several moments of a 100-task foreach: every
/// command still reads the datastore, and resume completes the work with every artifact intact.
/// </summary>
[Collection(PackedProductCollection.Name)]
public sealed class KillTests(PackedProduct product)
{
    [Theory]
    [InlineData(1500)]
    [InlineData(3500)]
    [InlineData(6000)]
    public async Task KillingEveryProcess_LeavesAReadableDatastore_AndResumeCompletesTheWork(int afterMilliseconds)
    {
        var dir = ResumeProject.Get(product);
        var runIdFile = Path.Combine(dir, $"kill-{afterMilliseconds}.txt");
        var start = new System.Diagnostics.ProcessStartInfo("setsid") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { product.ToolExecutable, "run", "--flow", "KillFlow", "--max-workers", "2", "--run-id-file", runIdFile })
        {
            start.ArgumentList.Add(arg);
        }
        foreach (var (name, value) in product.Environment)
        {
            start.Environment[name] = value;
        }
        using (var run = System.Diagnostics.Process.Start(start)!)
        {
            var output = run.StandardOutput.ReadToEndAsync();
            var errors = run.StandardError.ReadToEndAsync();
            await Task.Delay(afterMilliseconds);
            // setsid made the tool a session (and group) leader: its group holds the orchestrator and the workers.
            using (var kill = System.Diagnostics.Process.Start("kill", ["-9", "--", $"-{run.Id}"]))
            {
                await kill.WaitForExitAsync();
            }
            await run.WaitForExitAsync();
            await output;
            await errors;
        }
        File.Exists(runIdFile).ShouldBeTrue("the run id file is written before any task starts");
        var origin = File.ReadAllText(runIdFile).Trim();

        foreach (var command in new[] { new[] { "dump", $"{origin}/Start", "--json" }, ["dump", $"{origin}/Each"], ["logs", $"{origin}/Start"], ["show"] })
        {
            var read = product.Flow(dir, [.. command, "--flow", "KillFlow"]);
            read.ExitCode.ShouldBe(0, $"{string.Join(' ', command)}: {read}");
        }
        var resumed = product.Flow(dir, "resume", "--flow", "KillFlow", "--origin-run-id", origin, "--max-num-splits", "100");
        resumed.ExitCode.ShouldBe(0, resumed.ToString());
        var id = System.Text.RegularExpressions.Regex.Match(resumed.Stdout, @"Run (\d+) of KillFlow started").Groups[1].Value;

        var each = product.Flow(dir, "dump", $"{id}/Each", "--flow", "KillFlow", "--json");
        each.ExitCode.ShouldBe(0, each.ToString());
        using var doc = System.Text.Json.JsonDocument.Parse(each.Stdout);
        var tasks = doc.RootElement.EnumerateObject().Select(p => p.Value).ToList();
        tasks.Count.ShouldBe(100);
        tasks.ShouldAllBe(t => t.GetProperty("Square").GetInt64() == (long)t.GetProperty("$index")[0].GetInt32() * t.GetProperty("$index")[0].GetInt32());
        var end = product.Flow(dir, "dump", $"{id}/End", "--flow", "KillFlow", "--json");
        end.Stdout.ShouldContain("\"Total\": 328350");
    }
}

/// <summary><c>verify</c> finds a damaged blob and names its users; <c>--repair</c> lets resume recompute them; <c>du</c>.</summary>
[Collection(PackedProductCollection.Name)]
public sealed partial class VerifyAndDuTests(PackedProduct product)
{
    [GeneratedRegex(@"Run (\d+) of (\w+) started")]
    private static partial Regex RunStarted();

    [Fact]
    public void Verify_FindsAFlippedByte_Repair_MarksTheTask_AndResumeRecomputesIt()
    {
        var dir = ResumeProject.Get(product);
        var run = product.Flow(dir, "run", "--flow", "ResumeLabFlow");
        run.ExitCode.ShouldBe(0, run.ToString());
        var id = RunStarted().Match(run.Stdout).Groups[1].Value;
        var intact = product.Flow(dir, "verify", $"ResumeLabFlow/{id}");
        intact.ExitCode.ShouldBe(0, intact.ToString());
        intact.Stdout.ShouldContain("all intact");

        var attempt = Path.Combine(dir, ".flow", "runs", "ResumeLabFlow", id, "steps", "Middle", "2", "0");
        using (var done = JsonDocument.Parse(File.ReadAllText(Path.Combine(attempt, "done.json"))))
        {
            var sha = done.RootElement.GetProperty("artifacts").GetProperty("MiddleRun").GetProperty("sha").GetString()!;
            var blob = Path.Combine(dir, ".flow", "blobs", sha[..2], sha);
            var bytes = File.ReadAllBytes(blob);
            bytes[^1] ^= 0x55;
            File.WriteAllBytes(blob, bytes);
        }

        var broken = product.Flow(dir, "verify", $"ResumeLabFlow/{id}");
        var repaired = product.Flow(dir, "verify", $"ResumeLabFlow/{id}", "--repair");
        var plan = product.Flow(dir, "resume", "--plan", "--flow", "ResumeLabFlow", "--origin-run-id", id);
        var resumed = product.Flow(dir, "resume", "--flow", "ResumeLabFlow", "--origin-run-id", id);

        broken.ExitCode.ShouldBe(1, broken.ToString());
        broken.Stdout.ShouldContain($"used by ResumeLabFlow/{id}/Middle/2 artifact MiddleRun");
        broken.Stderr.ShouldContain("verify --repair");
        repaired.ExitCode.ShouldBe(1, repaired.ToString());
        File.Exists(Path.Combine(attempt, "damaged.json")).ShouldBeTrue();
        plan.Stdout.ShouldMatch(@"re-run  Middle/2 +a blob it uses is damaged");
        // StartRun holds the same value (the run id), so the same blob: Start is recomputed too.
        plan.Stdout.ShouldMatch(@"re-run  Start/1 +a blob it uses is damaged");
        resumed.ExitCode.ShouldBe(0, resumed.ToString());
        var newId = RunStarted().Match(resumed.Stdout).Groups[1].Value;
        product.Flow(dir, "verify", $"ResumeLabFlow/{newId}").ExitCode.ShouldBe(0);
    }

    [Fact]
    public void Du_ShowsLogicalAndStoredBytesPerFlowAndRun()
    {
        var dir = ResumeProject.Get(product);
        product.Flow(dir, "run", "--flow", "EnvFlow").ExitCode.ShouldBe(0);

        var du = product.Flow(dir, "du", "--runs");

        du.ExitCode.ShouldBe(0, du.ToString());
        du.Stdout.ShouldContain("EnvFlow");
        du.Stdout.ShouldContain("Total");
        du.Stdout.ShouldContain("Dedup and compression ratio:");
    }
}
