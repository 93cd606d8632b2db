using System.Diagnostics;
using System.Text.Json;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// Signals and dead orchestrators, with real processes: SIGINT, SIGTERM and SIGHUP stop every process of the run
/// and record the run and its running attempts as failed with the reason; a worker never outlives its orchestrator,
/// even after SIGKILL of the orchestrator alone; a task's [Timeout] holds without its orchestrator; --max-workers
/// caps pool and [Environment] processes together; a huge output line is stored in bounded pieces.
/// </summary>
[Collection(PackedProductCollection.Name)]
public sealed class InterruptTests(PackedProduct product)
{
    private string Project => product.SharedProject("InterruptLab", "Interrupt/InterruptFlows.cs", "SleepyFlow", replaceTemplateFlow: true);

    [Theory]
    [InlineData("TERM", "tool", 1500, 143)]
    [InlineData("TERM", "tool", 4000, 143)]
    [InlineData("TERM", "orchestrator", 3000, 143)]
    [InlineData("INT", "group", 2500, 130)]
    [InlineData("HUP", "tool", 3000, 129)]
    // The flow's executable as a process of its own (the tool passes SIGTERM and SIGHUP on, ignores Ctrl-C).
    [InlineData("TERM", "tool", 1500, 143, false)]
    [InlineData("TERM", "orchestrator", 3000, 143, false)]
    [InlineData("INT", "group", 2500, 130, false)]
    [InlineData("HUP", "tool", 3000, 129, false)]
    public async Task Signal_StopsEveryProcessOfTheRun_AndRecordsItFailedWithTheReason(string signal, string target, int afterMilliseconds, int exitCode, bool inProcess = true)
    {
        using var run = new RunningFlow(product, Project, ["--flow", "SleepyFlow", "--max-workers", "3"], inProcess);
        if (!inProcess)
        {
            await run.RunIdAsync();
            run.Orchestrator().ShouldNotBe(run.Process.Id, "FLOW_IN_PROCESS=0 starts the flow's executable");
        }
        var id = await run.RunIdAsync();
        await Task.Delay(afterMilliseconds);
        var pid = target switch
        {
            "tool" => run.Process.Id,
            "orchestrator" => run.Orchestrator(),
            _ => -run.Process.Id,
        };

        var signalled = Stopwatch.StartNew();
        Kill(signal, pid);
        var ended = await run.WaitAsync(TimeSpan.FromSeconds(20));
        var stoppedIn = signalled.Elapsed;

        ended.ExitCode.ShouldBe(exitCode, ended.ToString());
        stoppedIn.ShouldBeLessThan(TimeSpan.FromSeconds(8), "the run stops at once (bench/README.md has the measured time)");
        run.WaitForNoProcess(TimeSpan.FromSeconds(2)).ShouldBeEmpty("no process of the run is left");
        var reason = $"interrupted by SIG{signal}";
        ended.Stderr.ShouldContain(reason);
        var end = JsonDocument.Parse(File.ReadAllText(Path.Combine(run.RunDir(id), "end.json"))).RootElement;
        end.GetProperty("status").GetString().ShouldBe("failed");
        end.GetProperty("error").GetString()!.ShouldContain(reason);
        var attempts = Directory.GetFiles(Path.Combine(run.RunDir(id), "steps"), "started.json", SearchOption.AllDirectories).Select(Path.GetDirectoryName).ToList();
        attempts.ShouldAllBe(a => File.Exists(Path.Combine(a!, "done.json")), "every attempt that started is finalized");
        attempts.Select(a => File.ReadAllText(Path.Combine(a!, "done.json"))).Where(d => d.Contains("\"failed\"")).ShouldAllBe(d => d.Contains(reason));

        var status = product.Flow(Project, "dump", $"SleepyFlow/{id}/Start");
        status.ExitCode.ShouldBe(0, status.ToString());
    }

    [Fact]
    public async Task Run_IsHostedByTheToolsOwnProcess_UnlessTurnedOff()
    {
        // The run's heartbeat names the process of its orchestrator: the tool's own (docs/performance.md), or with
        // FLOW_IN_PROCESS=0 the flow's executable the tool started.
        foreach (var inProcess in new[] { true, false })
        {
            using var run = new RunningFlow(product, Project, ["--flow", "SleepyFlow", "--max-workers", "3"], inProcess);
            var id = await run.RunIdAsync();
            var owner = File.ReadAllText(Path.Combine(run.RunDir(id), "heartbeat")).Split('@')[0];

            (owner == run.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ShouldBe(inProcess, $"heartbeat {owner}, tool {run.Process.Id}");
            Kill("INT", -run.Process.Id);
            (await run.WaitAsync(TimeSpan.FromSeconds(20))).ExitCode.ShouldBe(130);
        }
    }

    [Fact]
    public async Task CtrlCTwice_KillsEverythingAtOnce()
    {
        using var run = RunInItsOwnGroup(Project, "--flow", "SleepyFlow", "--max-workers", "3");
        var id = await run.RunIdAsync();
        await Task.Delay(2500);

        Kill("INT", -run.Process.Id);
        Kill("INT", -run.Process.Id);
        var ended = await run.WaitAsync(TimeSpan.FromSeconds(20));

        ended.ExitCode.ShouldBe(130, ended.ToString());
        run.WaitForNoProcess(TimeSpan.FromSeconds(2)).ShouldBeEmpty();
        File.ReadAllText(Path.Combine(run.RunDir(id), "end.json")).ShouldContain("interrupted by SIGINT");
    }

    [Theory]
    [InlineData(1200)]
    [InlineData(3500)]
    [InlineData(3500, false)]
    public async Task SigkillOfTheOrchestratorAlone_LeavesNoProcess_AndEveryCommandReadsTheRunAsFailed(int afterMilliseconds, bool inProcess = true)
    {
        using var run = new RunningFlow(product, Project, ["--flow", "SleepyFlow", "--max-workers", "3"], inProcess);
        var id = await run.RunIdAsync();
        await Task.Delay(afterMilliseconds);
        var workers = run.Workers();

        Kill("KILL", run.Orchestrator());
        await run.WaitAsync(TimeSpan.FromSeconds(20));

        run.WaitForNoProcess(TimeSpan.FromSeconds(5)).ShouldBeEmpty("workers end with their orchestrator");
        workers.ShouldAllBe(pid => !Directory.Exists($"/proc/{pid}"));
        var runs = product.Flow(Project, "dump", $"SleepyFlow/{id}/Start", "--json");
        runs.ExitCode.ShouldBe(0, runs.ToString());
        Global.Client(Project).GetRun($"SleepyFlow/{id}").Status.ShouldBe("failed");
        var orphaned = Directory.GetFiles(Path.Combine(run.RunDir(id), "steps"), "done.json", SearchOption.AllDirectories)
            .Select(File.ReadAllText).Where(d => d.Contains("OrchestratorGone")).ToList();
        (orphaned.Count > 0 || afterMilliseconds < 1500).ShouldBeTrue("tasks that were running record that their orchestrator is gone");
        var resumed = product.Flow(Project, "resume", "--flow", "SleepyFlow", "--origin-run-id", id);
        resumed.ExitCode.ShouldBe(0, resumed.ToString());
    }

    [Fact]
    public async Task Timeout_IsEnforcedByTheTaskItself_EvenWhileItsOrchestratorCannotAct()
    {
        using var run = RunInItsOwnGroup(Project, "--flow", "HangFlow");
        var id = await run.RunIdAsync();
        var hang = await run.AttemptStartedAsync(id, "Hang");
        var orchestrator = run.Orchestrator();

        Kill("STOP", orchestrator); // alive but frozen: only the task can stop itself now
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (!File.Exists(Path.Combine(hang, "done.json")) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            File.ReadAllText(Path.Combine(hang, "done.json")).ShouldContain("\"type\":\"Timeout\"");
        }
        finally
        {
            Kill("CONT", orchestrator);
        }
        var ended = await run.WaitAsync(TimeSpan.FromSeconds(30));
        ended.ExitCode.ShouldBe(1, ended.ToString());
        ended.Stdout.ShouldContain("Task timed out after 2 s.");
    }

    [Fact]
    public async Task MaxWorkers_CapsPoolAndOwnProcessesTogether()
    {
        using var run = RunInItsOwnGroup(Project, "--flow", "MixedFlow", "--max-workers", "2");
        var most = 0;
        while (!run.Process.HasExited)
        {
            most = Math.Max(most, run.Workers().Count);
            await Task.Delay(25);
        }
        var ended = await run.WaitAsync(TimeSpan.FromSeconds(60));

        ended.ExitCode.ShouldBe(0, ended.ToString());
        most.ShouldBeGreaterThan(0);
        most.ShouldBeLessThanOrEqualTo(2, "--max-workers is a hard cap on the run's task processes");
    }

    [Fact]
    public void AHugeOutputLine_IsStoredInBoundedPieces_AndNothingIsLost()
    {
        var result = product.Flow(Project, "run", "--flow", "LongLineFlow");
        result.ExitCode.ShouldBe(0, result.ToString());
        var id = System.Text.RegularExpressions.Regex.Match(result.Stdout, @"Run (\d+) of LongLineFlow started").Groups[1].Value;

        var log = File.ReadAllLines(Path.Combine(Project, ".flow", "runs", "LongLineFlow", id, "steps", "Start", "1", "0", "stdout.log"));

        log.ShouldAllBe(l => l.Length <= (64 * 1024) + 40);
        log.Sum(l => l.Count(c => c == 'x')).ShouldBe(5_000_000);
        log[^1].ShouldEndWith(" after");
    }

    private static void Kill(string signal, int pid)
    {
        using var kill = Process.Start("kill", [$"-{signal}", "--", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    private RunningFlow RunInItsOwnGroup(string dir, params string[] args) => new(product, dir, args);

    /// <summary>A run of the packed tool in a session (and process group) of its own, so every process of it can be found.</summary>
    private sealed class RunningFlow : IDisposable
    {
        private readonly string _dir;
        private readonly string _runIdFile;
        private readonly Task<string> _stdout;
        private readonly Task<string> _stderr;

        public RunningFlow(PackedProduct product, string dir, string[] args, bool inProcess = true)
        {
            _dir = dir;
            _runIdFile = Path.Combine(Path.GetTempPath(), "flow-interrupt-" + Guid.NewGuid().ToString("N"));
            var start = new ProcessStartInfo("setsid") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            foreach (var arg in (string[])[product.ToolExecutable, "run", .. args, "--run-id-file", _runIdFile])
            {
                start.ArgumentList.Add(arg);
            }
            foreach (var (name, value) in product.Environment)
            {
                start.Environment[name] = value;
            }
            if (!inProcess)
            {
                start.Environment["FLOW_IN_PROCESS"] = "0";
            }
            Process = Process.Start(start)!;
            _stdout = Process.StandardOutput.ReadToEndAsync();
            _stderr = Process.StandardError.ReadToEndAsync();
        }

        public Process Process { get; }

        public string RunDir(string id) => Path.Combine(_dir, ".flow", "runs", Directory.GetDirectories(Path.Combine(_dir, ".flow", "runs")).Select(Path.GetFileName).First(f => Directory.Exists(Path.Combine(_dir, ".flow", "runs", f!, id)))!, id);

        public async Task<string> RunIdAsync()
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                if (File.Exists(_runIdFile) && File.ReadAllText(_runIdFile).Trim() is { Length: > 0 } id)
                {
                    return id;
                }
                if (Process.HasExited)
                {
                    throw new InvalidOperationException("the run ended before it started: " + await _stderr);
                }
                await Task.Delay(50);
            }
            throw new TimeoutException("the run did not start");
        }

        public async Task<string> AttemptStartedAsync(string id, string step)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                var steps = Path.Combine(RunDir(id), "steps", step);
                if (Directory.Exists(steps) && Directory.GetFiles(steps, "heartbeat", SearchOption.AllDirectories).FirstOrDefault() is { } beat)
                {
                    return Path.GetDirectoryName(beat)!;
                }
                await Task.Delay(50);
            }
            throw new TimeoutException($"{step} did not start");
        }

        /// <summary>The processes of the run's group: pid and command line.</summary>
        public List<(int Pid, string Args)> Group()
        {
            using var ps = Process.Start(new ProcessStartInfo("ps", ["-o", "pid=,args=", "-g", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true })!;
            var lines = ps.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            ps.WaitForExit();
            return [.. lines.Select(l => l.Trim()).Select(l => (int.Parse(l[..l.IndexOf(' ')], System.Globalization.CultureInfo.InvariantCulture), l[(l.IndexOf(' ') + 1)..]))];
        }

        public List<int> Workers() => [.. Group().Where(p => p.Args.Contains("__worker", StringComparison.Ordinal)).Select(p => p.Pid)];

        /// <summary>
        /// The process running the orchestrator: the flow executable when the tool started it as a process of its own
        /// (FLOW_IN_PROCESS=0), else the tool, which hosts it (docs/performance.md).
        /// </summary>
        public int Orchestrator() =>
            Group().FirstOrDefault(p => p.Pid != Process.Id && (p.Args.Contains(" run ", StringComparison.Ordinal) || p.Args.EndsWith(" run", StringComparison.Ordinal)) && !p.Args.Contains("__worker", StringComparison.Ordinal) && !p.Args.Contains("dotnet-flow", StringComparison.Ordinal)) is { Pid: > 0 } own
                ? own.Pid
                : Process.Id;

        /// <summary>Waits until the group is empty (or the time is up); returns what is left.</summary>
        public List<(int Pid, string Args)> WaitForNoProcess(TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            var left = Group();
            while (left.Count > 0 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
                left = Group();
            }
            return left;
        }

        public async Task<ProcessResult> WaitAsync(TimeSpan within)
        {
            using var cancel = new CancellationTokenSource(within);
            await Process.WaitForExitAsync(cancel.Token);
            return new ProcessResult(Process.ExitCode, await _stdout, await _stderr, TimeSpan.Zero);
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                using var kill = Process.Start("kill", ["-KILL", "--", $"-{Process.Id}"])!;
                kill.WaitForExit();
            }
            Process.Dispose();
            File.Delete(_runIdFile);
        }
    }
}

/// <summary>Reads a project's datastore through the client, in every namespace.</summary>
internal static class Global
{
    public static ClientView Client(string project) => new(Path.Combine(project, ".flow"));

    internal sealed class ClientView(string datastore)
    {
        public Flow.Sdk.RunInfo GetRun(string pathspec)
        {
            Flow.Sdk.FlowClient.UseDatastore(datastore);
            return Flow.Sdk.FlowClient.GetRun(pathspec);
        }
    }
}
