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

    [Fact]
    public void JobScript_RunsItsArrayElementsLine_WithArgumentsIntact_AndKeepsTheExitCode()
    {
        using var temp = new TempDirectory("flow-slurm-script-");
        // A stand-in for dotnet: prints each argument on its own line, exits 3.
        var fake = temp.Combine("fake-dotnet");
        File.WriteAllText(fake, "#!/bin/bash\nfor a in \"$@\"; do printf '<%s>\\n' \"$a\"; done\nexit 3\n");
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var odd = new TaskRequest(temp.Combine("data store's $HOME `x`"), "F", "1", "Each", "7", 0, ["1/Start/1"], SplitIndex: 0);
        var tasks = temp.Combine("tasks");
        File.WriteAllText(tasks, SlurmLauncher.StepArguments(odd with { TaskId = "6" }) + "\n" + SlurmLauncher.StepArguments(odd) + "\n");
        var script = temp.Combine("job.sh");
        File.WriteAllText(script, SlurmScript.Write(fake, "/snap/App.dll", tasks, temp.Combine("Each-1"), new Dictionary<string, string> { ["GREETING"] = "it's \"fine\"" }));

        var start = new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true };
        start.Environment["SLURM_ARRAY_TASK_ID"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();

        process.ExitCode.ShouldBe(3);
        File.ReadAllText(temp.Combine("Each-1.1.exit")).Trim().ShouldBe("3");
        output.ShouldContain("<exec>\n</snap/App.dll>\n<step>\n");
        output.ShouldContain($"<--datastore>\n<{odd.Datastore}>\n");
        output.ShouldContain("<--task-id>\n<7>\n");
        output.ShouldContain("<--split-index>\n<0>\n");
        output.ShouldContain("<--logs>\n");
    }

    [Fact]
    public void JobScript_PassesSigtermToTheTask_AndKeepsItsExitCode()
    {
        using var temp = new TempDirectory("flow-slurm-term-");
        // A stand-in for a task: on SIGTERM it records the signal and exits 143, as the step command does.
        var fake = temp.Combine("fake-dotnet");
        File.WriteAllText(fake, $"#!/bin/bash\ntrap 'echo term > {temp.Combine("got")}; exit 143' TERM\necho started > {temp.Combine("ready")}\nwhile true; do sleep 0.1; done\n");
        File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var tasks = temp.Combine("tasks");
        File.WriteAllText(tasks, SlurmLauncher.StepArguments(new TaskRequest("/d", "F", "1", "Start", "1", 0, [])) + "\n");
        var script = temp.Combine("job.sh");
        File.WriteAllText(script, SlurmScript.Write(fake, "/snap/App.dll", tasks, temp.Combine("Start-1"), null));

        using var process = Process.Start(new ProcessStartInfo("bash", [script]))!;
        var waited = Stopwatch.StartNew();
        while (!File.Exists(temp.Combine("ready")) && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            Thread.Sleep(50);
        }
        ProcessSignals.Send(process.Id, ProcessSignals.SIGTERM).ShouldBeTrue();
        process.WaitForExit(20_000).ShouldBeTrue();

        File.ReadAllText(temp.Combine("got")).Trim().ShouldBe("term");
        File.ReadAllText(temp.Combine("Start-1.0.exit")).Trim().ShouldBe("143");
    }
}
