using System.Diagnostics;
using Flow.Sdk.Graph;
using Flow.Sdk.Runtime;
using Flow.Tests;

namespace Flow.Sdk.Tests.Runtime;

/// <summary>
/// The Slurm launcher's parts that need no cluster: <c>--with slurm</c> settings, which steps go to the cluster, the
/// job script (run by a real bash with a stand-in for dotnet), the queue's id forms. The cluster itself: the
/// end-to-end SlurmTests.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SlurmTests
{
    private static readonly GraphStep s_plain = new("Train", "linear", ["End"], null, null, null, 1);

    [Fact]
    public void WithSlurm_Alone_SendsEveryStepButLocalOnes()
    {
        var settings = SlurmSettings.Parse("slurm");

        settings.AllSteps.ShouldBeTrue();
        settings.Runs(s_plain).ShouldBeTrue();
        settings.Runs(s_plain with { Local = true }).ShouldBeFalse();
    }

    [Fact]
    public void WithoutWithSlurm_OnlyStepsWithSlurmGo()
    {
        SlurmSettings.StepsOnly.Runs(s_plain).ShouldBeFalse();
        SlurmSettings.StepsOnly.Runs(s_plain with { Slurm = new GraphSlurm(null, null, null) }).ShouldBeTrue();
    }

    [Fact]
    public void WithSlurm_Settings_AreRead()
    {
        var settings = SlurmSettings.Parse("slurm:partition=gpu,time=1-12,account=lab,shared=/srv/a:/srv/b/,dotnet=/opt/dotnet/dotnet");

        settings.Partition.ShouldBe("gpu");
        settings.Time.ShouldBe("1-12");
        settings.Account.ShouldBe("lab");
        settings.SharedRoots.ShouldBe(["/srv/a", "/srv/b"]);
        settings.Dotnet.ShouldBe("/opt/dotnet/dotnet");
    }

    [Theory]
    [InlineData("slurm:time=soon", "not a Slurm time")]
    [InlineData("slurm:queue=a", "unknown setting 'queue'")]
    [InlineData("slurm:partition=", "needs a value")]
    [InlineData("slurm:partition", "needs a value")]
    public void WithSlurm_BadSettings_AreOneLine(string with, string message)
    {
        var error = Should.Throw<FlowException>(() => SlurmSettings.Parse(with));

        error.Message.ShouldContain(message);
        error.Message.ShouldNotContain("\n");
    }

    [Theory]
    [InlineData("12", new[] { "12" })]
    [InlineData("12_3", new[] { "12_3" })]
    [InlineData("12_[4-6,9%2]", new[] { "12_4", "12_5", "12_6", "12_9" })]
    [InlineData("12_[7]", new[] { "12_7" })]
    public void QueueIds_PendingRangesExpand(string id, string[] expected) => SlurmLauncher.ExpandIds(id).ShouldBe(expected);

    [Fact]
    public void ShareRoots_Declared_RefuseAPathOutsideThem()
    {
        var settings = SlurmSettings.Parse("slurm:shared=/srv/shared");

        Should.NotThrow(() => SlurmReach.Check(settings, "the datastore", "/srv/shared/project/.flow"));
        var error = Should.Throw<FlowException>(() => SlurmReach.Check(settings, "the datastore", "/srv/sharedness/.flow"));
        error.Message.ShouldContain("outside the shared folders declared with shared=/srv/shared");
    }

    [Fact]
    public void FileSystemType_IsReadFromTheMountTable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        SlurmReach.FileSystemType("/proc/self").ShouldBe("proc");
    }

    [Theory]
    [InlineData(null, 0, null)]
    [InlineData(null, 90, "4")]
    [InlineData("30", 0, "31")]
    [InlineData("2:30", 0, "4")]
    [InlineData("2:00:00", 0, "121")]
    [InlineData("1-12", 0, "2161")]
    [InlineData("UNLIMITED", 0, "UNLIMITED")]
    public void JobTime_IsTheTasksLimitAndTheMinuteAnElementMayStillClaimIn(string? given, int timeout, string? expected) =>
        SlurmLauncher.JobTime(given, timeout).ShouldBe(expected);

    [Fact]
    public void JobScript_AnElementRunsItsOwnLineFirst_ThenClaimsWhatIsLeft_WithArgumentsIntact_AndKeepsEachExitCode()
    {
        using var temp = new TempDirectory("flow-slurm-script-");
        var fake = FakeDotnet(temp, "for a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\nexit 3\n");
        var odd = new TaskRequest(temp.Combine("data store's $HOME `x`"), "F", "1", "Each", "7", 0, ["1/Start/1"], SplitIndex: 0);
        var (script, claims) = Script(temp, fake, [odd with { TaskId = "6" }, odd, odd with { TaskId = "8" }], elements: 2, new Dictionary<string, string> { ["GREETING"] = "it's \"fine\"" });
        File.WriteAllText(Path.Combine(claims, "2"), "55_0\n"); // another element has line 2

        var output = RunScript(script, element: 1);

        // Element 1 of 2 starts at line 2 (taken), goes on to line 0 and 1; every argument arrives as it was.
        output.IndexOf("<--task-id>\n<6>", StringComparison.Ordinal).ShouldBeGreaterThan(0);
        output.IndexOf("<--task-id>\n<7>", StringComparison.Ordinal).ShouldBeGreaterThan(output.IndexOf("<--task-id>\n<6>", StringComparison.Ordinal));
        output.ShouldNotContain("<8>");
        output.ShouldContain("<exec>\n</snap/App.dll>\n<step>\n");
        output.ShouldContain($"<--datastore>\n<{odd.Datastore}>\n");
        output.ShouldContain("<--split-index>\n<0>\n");
        output.ShouldContain("<--logs>\n");
        File.ReadAllText(Path.Combine(claims, "0")).Trim().ShouldBe("55_1");
        File.ReadAllText(temp.Combine("Each-1.0.exit")).Trim().ShouldBe("3");
        File.ReadAllText(temp.Combine("Each-1.1.exit")).Trim().ShouldBe("3");
        File.Exists(temp.Combine("Each-1.2.exit")).ShouldBeFalse();
    }

    [Fact]
    public void JobScript_PassesSigtermToTheRunningTask_KeepsItsExitCode_AndClaimsNothingAfter()
    {
        using var temp = new TempDirectory("flow-slurm-term-");
        // A stand-in for a task: on SIGTERM it records the signal and exits 143, as the step command does.
        var fake = FakeDotnet(temp, $"trap 'echo term > {temp.Combine("got")}; exit 143' TERM\necho started > {temp.Combine("ready")}\nwhile true; do sleep 0.1; done\n");
        var request = new TaskRequest("/d", "F", "1", "Start", "1", 0, []);
        var (script, claims) = Script(temp, fake, [request, request with { TaskId = "2" }], elements: 1, null);

        using var process = Process.Start(new ProcessStartInfo("bash", [script]))!;
        var waited = Stopwatch.StartNew();
        while (!File.Exists(temp.Combine("ready")) && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            Thread.Sleep(50);
        }
        ProcessSignals.Send(process.Id, ProcessSignals.SIGTERM).ShouldBeTrue();
        process.WaitForExit(20_000).ShouldBeTrue();

        File.ReadAllText(temp.Combine("got")).Trim().ShouldBe("term");
        File.ReadAllText(temp.Combine("Each-1.0.exit")).Trim().ShouldBe("143");
        Directory.GetFiles(claims).Select(Path.GetFileName).ShouldBe(["0"]);
    }

    private static string FakeDotnet(TempDirectory temp, string body)
    {
        var fake = temp.Combine("fake-dotnet");
        File.WriteAllText(fake, "#!/bin/bash\n" + body);
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return fake;
    }

    private static (string Script, string Claims) Script(TempDirectory temp, string dotnet, TaskRequest[] tasks, int elements, Dictionary<string, string>? environment)
    {
        var tasksFile = temp.Combine("tasks");
        File.WriteAllText(tasksFile, string.Concat(tasks.Select(t => SlurmLauncher.StepArguments(t) + "\n")));
        var claims = Directory.CreateDirectory(temp.Combine("claims")).FullName;
        var script = temp.Combine("job.sh");
        File.WriteAllText(script, SlurmScript.Write(dotnet, "/snap/App.dll", tasksFile, claims, temp.Combine("Each-1"), tasks.Length, elements, environment));
        return (script, claims);
    }

    private static string RunScript(string script, int element)
    {
        var start = new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true };
        start.Environment["SLURM_ARRAY_TASK_ID"] = element.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["SLURM_ARRAY_JOB_ID"] = "55";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }
}
