using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Flow.Sdk;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// A fact that needs a real Slurm cluster: skipped, with the reason, only where Slurm is not installed and cannot be
/// (not root, or no apt-get); otherwise <see cref="SlurmCluster"/> installs Debian's packages and starts one.
/// </summary>
public sealed class SlurmFactAttribute : FactAttribute
{
    public SlurmFactAttribute()
    {
        if (SlurmCluster.CannotRun() is { } why)
        {
            Skip = why;
        }
    }
}

/// <summary>
/// A real single-node Slurm cluster (eng/slurm.sh: Debian's slurm-wlm and munge, daemons started by hand) for one test
/// class: the one .ci/run started (FLOW_TEST_SLURM_CONF), else one of its own, stopped at the end.
/// </summary>
public sealed class SlurmCluster : IDisposable
{
    private readonly TempDirectory _dir = new("flow-slurm-");
    private readonly string _script;

    private readonly bool _owned;

    public SlurmCluster()
    {
        _script = Path.Combine(RepoRoot(), "eng", "slurm.sh");
        if (CannotRun() is not null)
        {
            return;
        }
        if (Environment.GetEnvironmentVariable("FLOW_TEST_SLURM_CONF") is { Length: > 0 } given && File.Exists(given))
        {
            // .ci/run started the cluster (and stops it).
            Config = given;
            return;
        }
        _owned = true;
        var started = ProcessRunner.Run("bash", [_script, "start", _dir.Path], _dir.Path, timeout: TimeSpan.FromMinutes(10));
        if (started.ExitCode != 0)
        {
            throw new InvalidOperationException("The Slurm cluster did not start: " + started);
        }
        Config = Regex.Match(started.Stdout, "SLURM_CONF=(\\S+)").Groups[1].Value.Trim('\'', '"');
        File.Exists(Config).ShouldBeTrue(started.ToString());
    }

    /// <summary>Gets the cluster's slurm.conf (what SLURM_CONF names for its clients).</summary>
    public string Config { get; } = string.Empty;

    /// <summary>Why Slurm tests cannot run here, or null when they can (installed, or installable as root with apt).</summary>
    public static string? CannotRun()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "Slurm tests run on Linux only.";
        }
        var installed = File.Exists("/usr/sbin/slurmctld") && File.Exists("/usr/bin/sbatch");
        var root = Environment.UserName == "root";
        if (!root)
        {
            return "Slurm tests start a cluster's daemons, which needs root (the tests' user is not); .ci/run runs them as root.";
        }
        if (!installed && !File.Exists("/usr/bin/apt-get"))
        {
            return "Slurm is not installed and there is no apt-get to install slurm-wlm and munge.";
        }
        return null;
    }

    /// <summary>Runs a Slurm client command against the cluster.</summary>
    public ProcessResult Client(string command, params string[] args) =>
        ProcessRunner.Run(command, args, _dir.Path, new Dictionary<string, string?> { ["SLURM_CONF"] = Config });

    /// <summary>The cluster's jobs now: id, state and name per line.</summary>
    public List<(string Id, string State, string Name)> Queue() =>
        [.. Client("squeue", "-h", "-r", "-o", "%i|%T|%j").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Trim().Split('|')).Where(f => f.Length == 3).Select(f => (f[0], f[1], f[2]))];

    public void Dispose()
    {
        if (_owned && Config.Length > 0)
        {
            ProcessRunner.Run("bash", [_script, "stop", _dir.Path], _dir.Path, timeout: TimeSpan.FromMinutes(2));
        }
        _dir.Dispose();
    }

    private static string RepoRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "flow.sln")))
            {
                return dir;
            }
        }
        throw new InvalidOperationException("flow.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>
/// The same flows on a real single-node Slurm cluster (Slurm/SlurmFlows.cs) through the packed tool: a job array for a
/// wide foreach, mixed local and Slurm steps, failures that reach the task, scancel retried, the submitter killed and
/// resumed, the samples giving the same artifacts as locally.
/// </summary>
[Collection(PackedProductCollection.Name)]
public sealed partial class SlurmTests(PackedProduct product, SlurmCluster cluster) : IClassFixture<SlurmCluster>
{
    [GeneratedRegex(@"Run (\d+) of (\w+) started")]
    private static partial Regex RunStarted();

    private string Project => product.SharedProject("SlurmLab", "Slurm/SlurmFlows.cs", "WideFlow", replaceTemplateFlow: true);

    [SlurmFact]
    public void WideForeach_RunsAsOneJobArray_WithTheSameResultAsLocally()
    {
        var local = Run(Project, "WideFlow", "--width", "200", "--max-num-splits", "200");
        var onSlurm = Run(Project, "WideFlow", "--width", "200", "--max-num-splits", "200", "--max-workers", "8", "--with", "slurm");

        var run = Client(Project).GetRun($"WideFlow/{onSlurm.Id}");
        run["Join"].Task.Data<long>("Total").ShouldBe(Enumerable.Range(0, 200).Sum(i => (long)i * i));
        run["Join"].Task.Data<long>("Total").ShouldBe(Client(Project).GetRun($"WideFlow/{local.Id}")["Join"].Task.Data<long>("Total"));
        run["Start"].Task.Data<string>("Job").ShouldBeEmpty("Start is [Local]");
        var jobs = run["Each"].Tasks.Select(t => t.Data<string>("Job")).ToList();
        jobs.Count.ShouldBe(200);
        jobs.ShouldAllBe(j => j.Length > 0);
        // One array: every element's SLURM_JOB_ID differs, but the submitted jobs (slurm/jobs) hold one line for Each.
        File.ReadAllLines(Path.Combine(RunDir(Project, "WideFlow", onSlurm.Id), "slurm", "jobs")).Count(l => l.EndsWith(".Each", StringComparison.Ordinal)).ShouldBe(1);
        run.SystemTags.ShouldContain("runtime:slurm");
        // The task's own output reached its logs (the step command's --logs) and the console.
        onSlurm.Result.Stdout.ShouldContain("square of 199 is 39601");
        run["Each"].Tasks.First(t => t.Data<int>("Square") == 49).Stdout.ShouldContain("square of 7 is 49");
    }

    [SlurmFact]
    public void SlurmOnOneStep_OnlyThatStepRunsOnTheCluster_WithItsResources()
    {
        var run = Client(Project).GetRun($"MixedFlow/{Run(Project, "MixedFlow").Id}");

        run["Start"].Task.Data<string>("Job").ShouldBeEmpty();
        run["Heavy"].Task.Data<string>("Job").ShouldNotBeEmpty();
        run["Heavy"].Task.Data<int>("Cpus").ShouldBe(1);
        run["End"].Task.Data<string>("Job").ShouldBeEmpty();
    }

    [SlurmFact]
    public void FailingJob_ItsExceptionAndStackTrace_ReachTheTask_AndTheRunFails()
    {
        var result = Tool(Project, "run", "--flow", "BoomFlow", "--with", "slurm");

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Stderr.ShouldContain("boom on a Slurm node", customMessage: result.ToString());
        result.Stderr.ShouldContain("Detonator.Fire", customMessage: result.ToString());
        var logs = Tool(Project, "logs", $"BoomFlow/{RunId(result)}/Boom");
        logs.Output.ShouldContain("about to fail on the cluster", customMessage: logs.ToString());
    }

    [SlurmFact]
    public void JobThatExits_ItsExitCodeIsTheTasksFailure()
    {
        var result = Tool(Project, "run", "--flow", "BoomFlow", "--mode", "exit", "--with", "slurm");

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Stderr.ShouldContain("exited with code 3", customMessage: result.ToString());
    }

    [SlurmFact]
    public async Task Scancel_IsRecordedAsTheTasksFailure_AndRetried()
    {
        var gate = NewGate();
        using var running = await StartAtTheGateAsync(gate);
        var job = await File.ReadAllTextAsync(gate + ".ready-0");

        cluster.Client("scancel", job.Trim()).ExitCode.ShouldBe(0);
        await WaitForFileAsync(gate + ".ready-1");
        File.WriteAllText(gate, "open");
        var result = await running.WaitAsync();

        result.ExitCode.ShouldBe(0, result.ToString());
        var run = Client(Project).GetRun($"GateFlow/{RunId(result)}");
        var sleep = run["Sleep"].Task;
        sleep.Data<int>("Attempt").ShouldBe(1);
        var first = sleep.Attempts.First(a => a.Number == 0);
        first.Exception.ShouldNotBeNull().Message.ShouldContain("SIGTERM");
    }

    [SlurmFact]
    public async Task TaskKilledBeforeItCouldRecordAnything_IsLostWithItsExitCode_AndRetried()
    {
        var gate = NewGate();
        using var running = await StartAtTheGateAsync(gate);
        var id = await running.RunIdAsync();

        // SIGKILL to the task's own process (its pid in started.json): it cannot record anything; its job goes on and ends.
        var started = Directory.GetFiles(Path.Combine(RunDir(Project, "GateFlow", id), "steps", "Sleep"), "started.json", SearchOption.AllDirectories).Single();
        var pid = System.Text.Json.JsonDocument.Parse(File.ReadAllText(started)).RootElement.GetProperty("pid").GetInt32();
        ProcessSignals(pid, "KILL");
        await WaitForFileAsync(gate + ".ready-1");
        File.WriteAllText(gate, "open");
        var result = await running.WaitAsync();

        result.ExitCode.ShouldBe(0, result.ToString());
        var sleep = Client(Project).GetRun($"GateFlow/{RunId(result)}")["Sleep"].Task;
        var lost = sleep.Attempts.First(a => a.Number == 0).Exception.ShouldNotBeNull();
        lost.Type.ShouldBe("SlurmJobLost");
        lost.Message.ShouldContain("ended without the task recording its outcome (its process exited with code 137)");
    }

    [SlurmFact]
    public async Task SubmitterKilled_ResumeCancelsItsLeftoverJobs_AndFinishesTheRun()
    {
        var gate = NewGate();
        using var running = await StartAtTheGateAsync(gate);
        var origin = await running.RunIdAsync();

        running.KillOrchestrator();
        cluster.Queue().ShouldContain(j => j.Name == $"flow.{origin}.Sleep", "the job outlives its submitter");
        var plan = Tool(Project, "resume", "--flow", "GateFlow", "--origin-run-id", origin, "--plan");
        plan.ExitCode.ShouldBe(0, plan.ToString());
        cluster.Queue().ShouldContain(j => j.Name == $"flow.{origin}.Sleep", "resume --plan changes nothing, not even the queue");
        File.Delete(gate + ".ready-0");
        using var resuming = new Background(product.ToolExecutable, ["resume", "--flow", "GateFlow", "--origin-run-id", origin, "--with", "slurm"], Project, Environment());
        await WaitForFileAsync(gate + ".ready-0"); // the resumed run's Sleep, after the origin's job was cancelled
        File.WriteAllText(gate, "open");
        var resumed = await resuming.WaitAsync();

        resumed.ExitCode.ShouldBe(0, resumed.ToString());
        resumed.Stdout.ShouldContain("Cancelled 1 Slurm job(s)", customMessage: resumed.ToString());
        resumed.Stdout.ShouldContain("re-running from Sleep", customMessage: resumed.ToString());
        cluster.Queue().ShouldNotContain(j => j.Name.StartsWith($"flow.{origin}.", StringComparison.Ordinal));
        cluster.Queue().ShouldNotContain(j => j.Name.StartsWith($"flow.{RunId(resumed)}.", StringComparison.Ordinal));
        Client(Project).GetRun($"GateFlow/{RunId(resumed)}").Successful.ShouldBeTrue();
    }

    [SlurmFact]
    public async Task LogsFollow_StreamsAJobsOutputWhileItRuns_AndEndsWithTheTask()
    {
        var gate = NewGate();
        using var running = await StartAtTheGateAsync(gate);
        var id = await running.RunIdAsync();

        var follow = Task.Run(() => Tool(Project, "logs", $"GateFlow/{id}/Sleep", "--follow"));
        await Task.Delay(1000);
        follow.IsCompleted.ShouldBeFalse("--follow waits while the job runs");
        File.WriteAllText(gate, "open");
        var followed = await follow;
        var result = await running.WaitAsync();

        result.ExitCode.ShouldBe(0, result.ToString());
        followed.ExitCode.ShouldBe(0, followed.ToString());
        followed.Stdout.ShouldContain("waiting at the gate (attempt 0)");
        followed.Stdout.ShouldContain("through the gate");
    }

    [SlurmFact]
    public async Task InterruptingTheRun_CancelsEveryJobItSubmitted_AndRecordsTheTaskFailed()
    {
        var gate = NewGate();
        using var running = await StartAtTheGateAsync(gate);
        var id = await running.RunIdAsync();

        running.Signal("TERM");
        var result = await running.WaitAsync();

        result.ExitCode.ShouldNotBe(0, result.ToString());
        cluster.Queue().ShouldNotContain(j => j.Name.StartsWith($"flow.{id}.", StringComparison.Ordinal));
        var sleep = Client(Project).GetRun($"GateFlow/{id}")["Sleep"].Task;
        sleep.Successful.ShouldBeFalse();
        sleep.Finished.ShouldBeTrue("the task's attempt is recorded, not left running");
    }

    [SlurmFact]
    public void ResumeOfASlurmRun_RunsLocally_WhenNotGivenWithSlurm()
    {
        var failed = Tool(Project, "run", "--flow", "BoomFlow", "--with", "slurm");
        failed.ExitCode.ShouldBe(1, failed.ToString());

        var resumed = Tool(Project, "resume", "--flow", "BoomFlow", "--origin-run-id", RunId(failed));

        // The origin's Start (on Slurm) is cloned; Boom runs again here and fails the same way.
        resumed.ExitCode.ShouldBe(1, resumed.ToString());
        resumed.Stdout.ShouldContain("cloning 1 task(s)", customMessage: resumed.ToString());
        resumed.Stderr.ShouldContain("boom on a Slurm node");
        Client(Project).GetRun($"BoomFlow/{RunId(resumed)}").SystemTags.ShouldContain("runtime:local");
    }

    [SlurmFact]
    public void SharedRootDeclared_ADatastoreOutsideItIsRefused_BeforeTheRunExists()
    {
        var before = LabProject.RunCount(Project, "MixedFlow");

        var result = Tool(Project, "run", "--flow", "MixedFlow", "--with", "slurm:shared=/srv/nowhere");

        result.ExitCode.ShouldBe(2, result.ToString());
        result.Stderr.Trim().Split('\n').Length.ShouldBe(1, result.ToString());
        result.Stderr.ShouldContain("outside the shared folders declared with shared=/srv/nowhere");
        LabProject.RunCount(Project, "MixedFlow").ShouldBe(before);
    }

    [SlurmFact]
    public void Samples_WithSlurm_GiveTheSameArtifactsAsLocally()
    {
        foreach (var (sample, flow) in new[] { ("HelloFlow", "HelloFlow"), ("ForeachFlow", "ForeachFlow"), ("CounterFlow", "CounterFlow") })
        {
            var dir = SampleProjects.Get(product, sample, flow);
            var local = Client(dir).GetRun($"{flow}/{Run(dir, flow).Id}");
            var slurm = Client(dir).GetRun($"{flow}/{Run(dir, flow, "--with", "slurm").Id}");

            Artifacts(slurm).ShouldBe(Artifacts(local), sample);
        }

        static List<string> Artifacts(RunInfo run) =>
            [.. run.Steps.SelectMany(s => s.Tasks.SelectMany(t => t.Artifacts.Where(a => !a.Name.StartsWith('_')).Select(a => $"{s.Name}/{t.Index}/{a.Name}={a.Sha}"))).Order()];
    }

    private ProcessResult Tool(string dir, params string[] args) =>
        ProcessRunner.Run(product.ToolExecutable, args, dir, Environment(), TimeSpan.FromMinutes(5));

    private (string Id, ProcessResult Result) Run(string dir, string flow, params string[] args)
    {
        var result = Tool(dir, ["run", "--flow", flow, .. args]);
        result.ExitCode.ShouldBe(0, result.ToString());
        return (RunId(result), result);
    }

    private static void ProcessSignals(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    private static string RunId(ProcessResult result) => RunStarted().Match(result.Output).Groups[1].Value;

    private Dictionary<string, string?> Environment()
    {
        var environment = new Dictionary<string, string?>(product.Environment) { ["SLURM_CONF"] = cluster.Config };
        return environment;
    }

    private static Global.ClientView Client(string dir) => Global.Client(dir);

    private static string RunDir(string dir, string flow, string id) => Path.Combine(dir, ".flow", "runs", flow, id);

    private static async Task<string> WaitForFileAsync(string path)
    {
        var waited = Stopwatch.StartNew();
        while (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(90))
            {
                throw new TimeoutException(path + " did not appear");
            }
            await Task.Delay(100);
        }
        return await File.ReadAllTextAsync(path);
    }

    private string NewGate() => Path.Combine(product.Root, "gate-" + Guid.NewGuid().ToString("N"));

    /// <summary>GateFlow on the cluster, returned once its Sleep task (attempt 0) stands at the closed gate.</summary>
    private async Task<Background> StartAtTheGateAsync(string gate)
    {
        var running = Start(Project, "--flow", "GateFlow", "--gate", gate, "--with", "slurm");
        try
        {
            await WaitForFileAsync(gate + ".ready-0");
            return running;
        }
        catch
        {
            running.Dispose();
            throw;
        }
    }

    private Background Start(string dir, params string[] args) => new(product.ToolExecutable, ["run", .. args], dir, Environment());

    /// <summary>A run of the tool in its own process group, to wait for or to kill its orchestrator.</summary>
    private sealed class Background : IDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _stdout;
        private readonly Task<string> _stderr;

        public Background(string tool, string[] args, string dir, Dictionary<string, string?> environment)
        {
            var start = new ProcessStartInfo("setsid") { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            foreach (var arg in (string[])[tool, .. args])
            {
                start.ArgumentList.Add(arg);
            }
            foreach (var (name, value) in environment)
            {
                start.Environment[name] = value;
            }
            _process = Process.Start(start)!;
            _stdout = _process.StandardOutput.ReadToEndAsync();
            _stderr = _process.StandardError.ReadToEndAsync();
        }

        public async Task<string> RunIdAsync()
        {
            var waited = Stopwatch.StartNew();
            while (waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                // The tool's stdout is read whole at its end; the run's heartbeat names it sooner: the newest run folder.
                var runs = Directory.GetDirectories(Path.Combine(_process.StartInfo.WorkingDirectory, ".flow", "runs", "GateFlow"));
                if (runs.Length > 0)
                {
                    return Path.GetFileName(runs.OrderByDescending(r => Directory.GetCreationTimeUtc(r)).First());
                }
                await Task.Delay(100);
            }
            throw new TimeoutException("the run did not start");
        }

        /// <summary>A signal to the tool's process group (as a terminal's Ctrl-C reaches it).</summary>
        public void Signal(string signal)
        {
            using var kill = Process.Start("kill", [$"-{signal}", "--", $"-{_process.Id}"])!;
            kill.WaitForExit();
        }

        /// <summary>SIGKILL to every process of the run's group: the tool and its orchestrator, nothing of Slurm's.</summary>
        public void KillOrchestrator()
        {
            using var kill = Process.Start("kill", ["-KILL", "--", $"-{_process.Id}"])!;
            kill.WaitForExit();
            _process.WaitForExit(30_000);
        }

        public async Task<ProcessResult> WaitAsync()
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            await _process.WaitForExitAsync(cancel.Token);
            return new ProcessResult(_process.ExitCode, await _stdout, await _stderr, TimeSpan.Zero);
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                using var kill = Process.Start("kill", ["-KILL", "--", $"-{_process.Id}"])!;
                kill.WaitForExit();
            }
            _process.Dispose();
        }
    }
}
