using System.Text.Json;
using Flow.Cli.Tests.Support;
using Flow.Sdk;
using Flow.Sdk.Datastore;
using Flow.Tests;

namespace Flow.Cli.Tests.Commands;

public sealed class DumpCommandTests : IDisposable
{
    private readonly DatastoreScenario _scenario = new();
    private readonly string _run;
    private readonly IReadOnlyDictionary<string, ArtifactRef> _start;

    public DumpCommandTests()
    {
        _run = _scenario.AddRun();
        _start = _scenario.AddTask(_run, "Start", "1", new Dictionary<string, object?>
        {
            ["Greeting"] = "hello",
            ["Count"] = 3,
            ["Numbers"] = new[] { 1, 2, 3 },
        });
    }

    public void Dispose() => _scenario.Dispose();

    private string StartTask => $"HelloFlow/{_run}/Start/1";

    private static JsonElement ParseJson(ToolResult result)
    {
        using var doc = JsonDocument.Parse(result.Output);
        return doc.RootElement.Clone();
    }

    private static void ShouldFailWithUsage(ToolResult result, params string[] fragments)
    {
        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        var line = result.SingleErrorLine;
        line.ShouldStartWith("error: ");
        foreach (var fragment in fragments)
        {
            line.ShouldContain(fragment);
        }
        result.Output.ShouldBeEmpty();
    }

    [Fact]
    public void Dump_Step_PrintsTheTaskHeaderAndEachArtifact()
    {
        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Error.ShouldBeEmpty();
        result.Output.ShouldBe(
            $"{StartTask} (attempt 0, succeeded)\n" +
            "  Count [System.Int32, 1 bytes] = 3\n" +
            "  Greeting [System.String, 5 bytes] = \"hello\"\n" +
            "  Numbers [System.Int32[], 12 bytes] = [1,2,3]\n");
    }

    [Fact]
    public void Dump_PathspecWithoutFlow_UsesTheOnlyFlowOfTheDatastore()
    {
        var result = _scenario.Run("dump", $"{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldStartWith($"{StartTask} (attempt 0, succeeded)\n");
    }

    [Fact]
    public void Dump_RunStepTaskWithoutFlow_PrintsThatTask()
    {
        var result = _scenario.Run("dump", $"{_run}/Start/1");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldStartWith($"{StartTask} (attempt 0, succeeded)\n");
    }

    [Fact]
    public void Dump_StepNameInOtherCase_FindsTheStep()
    {
        var result = _scenario.Run("dump", $"HelloFlow/{_run}/start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldStartWith($"{StartTask} (attempt 0, succeeded)\n");
    }

    [Fact]
    public void Dump_StepWithSeveralTasks_PrintsEveryTaskInNumericOrder()
    {
        foreach (var (id, item) in new[] { ("10", "c"), ("2", "a"), ("9", "b") })
        {
            _scenario.AddTask(_run, "Each", id, new Dictionary<string, object?> { ["Item"] = item });
        }

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Each");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe(
            $"HelloFlow/{_run}/Each/2 (attempt 0, succeeded)\n  Item [System.String, 1 bytes] = \"a\"\n" +
            $"HelloFlow/{_run}/Each/9 (attempt 0, succeeded)\n  Item [System.String, 1 bytes] = \"b\"\n" +
            $"HelloFlow/{_run}/Each/10 (attempt 0, succeeded)\n  Item [System.String, 1 bytes] = \"c\"\n");
    }

    [Fact]
    public void Dump_Task_PrintsOnlyThatTask()
    {
        _scenario.AddTask(_run, "Each", "2", new Dictionary<string, object?> { ["Item"] = "a" });
        _scenario.AddTask(_run, "Each", "3", new Dictionary<string, object?> { ["Item"] = "b" });

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Each/3");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe($"HelloFlow/{_run}/Each/3 (attempt 0, succeeded)\n  Item [System.String, 1 bytes] = \"b\"\n");
    }

    [Fact]
    public void Dump_TaskWithSeveralAttempts_PrintsTheLatest()
    {
        _scenario.AddTask(_run, "Retry", "2", new Dictionary<string, object?> { ["Value"] = "first" }, attempt: 0,
            error: new ErrorRecord("System.InvalidOperationException", "flaky", null));
        _scenario.AddTask(_run, "Retry", "2", new Dictionary<string, object?> { ["Value"] = "second" }, attempt: 1);

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Retry");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe($"HelloFlow/{_run}/Retry/2 (attempt 1, succeeded)\n  Value [System.String, 6 bytes] = \"second\"\n");
    }

    [Fact]
    public void Dump_FailedTask_PrintsItsError()
    {
        _scenario.AddTask(_run, "Broken", "2", new Dictionary<string, object?>(), error: new ErrorRecord("System.InvalidOperationException", "it broke", "at somewhere"));

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Broken");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe($"HelloFlow/{_run}/Broken/2 (attempt 0, failed)\n  error: System.InvalidOperationException: it broke\n");
    }

    [Fact]
    public void Dump_UnfinishedTask_WithAFreshHeartbeat_IsRunningWithoutArtifacts()
    {
        var store = _scenario.Store;
        var attempt = store.AttemptDir(DatastoreScenario.FlowName, _run, "Slow", "2", 0);
        store.StartAttempt(attempt, new AttemptStartRecord(DatastoreScenario.Time(3), []));
        File.WriteAllBytes(Path.Combine(attempt, "heartbeat"), []);

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Slow");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe($"HelloFlow/{_run}/Slow/2 (attempt 0, running)\n");
    }

    [Fact]
    public void Dump_UnfinishedTask_WhoseHeartbeatStopped_HasDied()
    {
        var store = _scenario.Store;
        var attempt = store.AttemptDir(DatastoreScenario.FlowName, _run, "Slow", "2", 0);
        store.StartAttempt(attempt, new AttemptStartRecord(DatastoreScenario.Time(3), []));
        File.WriteAllBytes(Path.Combine(attempt, "heartbeat"), []);
        File.SetLastWriteTimeUtc(Path.Combine(attempt, "heartbeat"), DateTime.UtcNow.AddMinutes(-5));

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Slow");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe($"HelloFlow/{_run}/Slow/2 (attempt 0, died)\n");
    }

    [Fact]
    public void Dump_BytesAndNull_PrintAsBase64AndNull()
    {
        _scenario.AddTask(_run, "Blobs", "2", new Dictionary<string, object?> { ["Raw"] = new byte[] { 1, 2, 3 }, ["Nothing"] = null });

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Blobs");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain("  Raw [System.Byte[], 3 bytes] = \"AQID\"\n");
        result.Output.ShouldContain("  Nothing [System.Object, 0 bytes] = null\n");
    }

    [Fact]
    public void Dump_Json_PrintsAnObjectKeyedByTaskPathspec()
    {
        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--json");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Error.ShouldBeEmpty();
        var root = ParseJson(result);
        root.EnumerateObject().Select(p => p.Name).ShouldBe([StartTask]);
        var task = root.GetProperty(StartTask);
        task.EnumerateObject().Select(p => p.Name).ShouldBe(["Count", "Greeting", "Numbers", "$index", "$attempt"]);
        task.GetProperty("Greeting").GetString().ShouldBe("hello");
        task.GetProperty("Count").GetInt32().ShouldBe(3);
        task.GetProperty("Numbers").EnumerateArray().Select(e => e.GetInt32()).ShouldBe([1, 2, 3]);
        task.GetProperty("$index").GetArrayLength().ShouldBe(0);
        task.GetProperty("$attempt").GetInt32().ShouldBe(0);
    }

    [Fact]
    public void Dump_JsonOfSeveralTasks_HasOneKeyPerTask()
    {
        _scenario.AddTask(_run, "Each", "2", new Dictionary<string, object?> { ["Item"] = "a" });
        _scenario.AddTask(_run, "Each", "3", new Dictionary<string, object?> { ["Item"] = "b" }, attempt: 2);

        var root = ParseJson(_scenario.Run("dump", $"HelloFlow/{_run}/Each", "--json"));

        root.EnumerateObject().Select(p => p.Name).ShouldBe([$"HelloFlow/{_run}/Each/2", $"HelloFlow/{_run}/Each/3"]);
        root.GetProperty($"HelloFlow/{_run}/Each/3").GetProperty("Item").GetString().ShouldBe("b");
        root.GetProperty($"HelloFlow/{_run}/Each/3").GetProperty("$attempt").GetInt32().ShouldBe(2);
    }

    [Fact]
    public void Dump_Include_PrintsOnlyTheNamedArtifacts()
    {
        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--include", "Numbers, Greeting");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe(
            $"{StartTask} (attempt 0, succeeded)\n" +
            "  Greeting [System.String, 5 bytes] = \"hello\"\n" +
            "  Numbers [System.Int32[], 12 bytes] = [1,2,3]\n");
    }

    [Fact]
    public void Dump_IncludeWithJson_PrintsOnlyTheNamedArtifacts()
    {
        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--include", "Count", "--json");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        ParseJson(result).GetProperty(StartTask).EnumerateObject().Select(p => p.Name).ShouldBe(["Count", "$index", "$attempt"]);
    }

    [Fact]
    public void Dump_IncludeUnknownName_ExitsWithUsageNamingIt()
    {
        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--include", "Greeting,Missing");

        ShouldFailWithUsage(result, "No artifact Missing", "Count, Greeting, Numbers");
    }

    [Fact]
    public void Dump_MaxValueSize_MarksLargerValuesTruncatedInJson()
    {
        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--json", "--max-value-size", "3");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        var task = ParseJson(result).GetProperty(StartTask);
        task.GetProperty("Count").GetInt32().ShouldBe(3);
        var greeting = task.GetProperty("Greeting");
        greeting.EnumerateObject().Select(p => p.Name).ShouldBe(["$truncated", "size", "type"]);
        greeting.GetProperty("$truncated").GetBoolean().ShouldBeTrue();
        greeting.GetProperty("size").GetInt64().ShouldBe(5);
        greeting.GetProperty("type").GetString().ShouldBe("System.String");
        task.GetProperty("Numbers").GetProperty("size").GetInt64().ShouldBe(12);
    }

    [Fact]
    public void Dump_MaxValueSize_NotesLargerValuesAsNotLoadedInText()
    {
        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--max-value-size", "3");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe(
            $"{StartTask} (attempt 0, succeeded)\n" +
            "  Count [System.Int32, 1 bytes] = 3\n" +
            "  Greeting [System.String, 5 bytes] = <not loaded: larger than --max-value-size 3>\n" +
            "  Numbers [System.Int32[], 12 bytes] = <not loaded: larger than --max-value-size 3>\n");
    }

    [Fact]
    public void Dump_MaxValueSizeEqualToTheSize_LoadsTheValue()
    {
        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--max-value-size", "5", "--include", "Greeting");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain("= \"hello\"");
    }

    [Fact]
    public void Dump_NegativeMaxValueSize_ExitsWithUsage() =>
        ShouldFailWithUsage(_scenario.Run("dump", $"HelloFlow/{_run}/Start", "--max-value-size=-1"), "--max-value-size");

    [Theory]
    [InlineData("a")]
    [InlineData("../../x")]
    [InlineData("a/b/c/d/e")]
    [InlineData("latest/../x")]
    [InlineData("latest//Start")]
    [InlineData("/latest/Start")]
    [InlineData("HelloFlow/latest/Start/")]
    [InlineData("latest/Start/..")]
    [InlineData("HelloFlow/../Start/1")]
    [InlineData("..\\..\\x/Start")]
    [InlineData("latest/St art")]
    public void Dump_MalformedPathspec_ExitsWithUsage(string pathspec) =>
        ShouldFailWithUsage(_scenario.Run("dump", pathspec), "Malformed pathspec", pathspec);

    [Fact]
    public void Dump_NoPathspec_ExitsWithUsage() =>
        ShouldFailWithUsage(_scenario.Run("dump"), "pathspec");

    [Fact]
    public void Dump_UnknownRun_ExitsWithUsageNamingIt() =>
        ShouldFailWithUsage(_scenario.Run("dump", "HelloFlow/123456/Start"), "123456", "HelloFlow");

    [Fact]
    public void Dump_UnknownFlow_ExitsWithUsageNamingIt() =>
        ShouldFailWithUsage(_scenario.Run("dump", $"NoSuchFlow/{_run}/Start/1"), "NoSuchFlow", "HelloFlow");

    [Fact]
    public void Dump_UnknownStep_ExitsWithUsageNamingItAndTheSteps() =>
        ShouldFailWithUsage(_scenario.Run("dump", $"HelloFlow/{_run}/Middle"), "Middle", "Start");

    [Fact]
    public void Dump_UnknownTask_ExitsWithUsageNamingIt() =>
        ShouldFailWithUsage(_scenario.Run("dump", $"HelloFlow/{_run}/Start/7"), "'7'");

    [Fact]
    public void Dump_RunDirectoryWithoutRunJson_IsAnUnknownRun()
    {
        var claimed = _scenario.Store.CreateRun(DatastoreScenario.FlowName, DatastoreScenario.Time(30));

        ShouldFailWithUsage(_scenario.Run("dump", $"HelloFlow/{claimed}/Start"), claimed);
    }

    [Fact]
    public void Dump_NewerDatastoreFormat_ExitsWithUsageNamingTheVersion()
    {
        _scenario.FileSystem.File.WriteAllText(_scenario.FileSystem.Path.Combine(_scenario.Root, "format.json"), "{\"format\":99,\"createdBy\":\"x\"}");

        ShouldFailWithUsage(_scenario.Run("dump", $"HelloFlow/{_run}/Start"), "format version 99", _scenario.Root);
    }

    [Fact]
    public void Dump_UnreadableFormatFile_FailsWithOneLine()
    {
        _scenario.FileSystem.File.WriteAllText(_scenario.FileSystem.Path.Combine(_scenario.Root, "format.json"), "{format");

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Failure, result.ToString());
        result.SingleErrorLine.ShouldContain("format.json");
    }

    [Fact]
    public void Dump_ExplicitDatastoreThatDoesNotExist_ExitsWithUsage()
    {
        var missing = _scenario.FileSystem.Path.Combine(_scenario.WorkingDirectory, "nowhere");

        ShouldFailWithUsage(_scenario.Run("dump", "latest/Start", "--datastore", missing), "No datastore", missing);
        _scenario.FileSystem.Directory.Exists(missing).ShouldBeFalse();
    }

    [Fact]
    public void Dump_NoDatastoreAboveTheFolder_ExitsWithUsage()
    {
        using var empty = new TempDirectory("dotnet-flow-tests-empty-");
        for (var dir = empty.Path; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            Directory.Exists(Path.Combine(dir, ".flow")).ShouldBeFalse($"a datastore above the temp folder ({dir}) would make this test meaningless");
        }
        Environment.GetEnvironmentVariable("FLOW_DATASTORE").ShouldBeNullOrEmpty();

        var result = ToolRunner.Run(_scenario.FileSystem, empty.Path, "dump", "latest/Start");

        ShouldFailWithUsage(result, "No datastore");
        Directory.Exists(Path.Combine(empty.Path, ".flow")).ShouldBeFalse();
    }

    [Fact]
    public void Dump_ExplicitDatastore_IsUsedFromAnyFolder()
    {
        using var elsewhere = new TempDirectory("dotnet-flow-tests-elsewhere-");

        var result = ToolRunner.Run(_scenario.FileSystem, elsewhere.Path, "dump", $"HelloFlow/{_run}/Start", "--datastore", _scenario.Root);

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldStartWith(StartTask);
    }

    [Fact]
    public void Dump_CorruptBlob_FailsNamingTheArtifact()
    {
        _scenario.CorruptBlob(_start["Greeting"].Sha);

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Failure, result.ToString());
        var line = result.SingleErrorLine;
        line.ShouldStartWith("error: ");
        line.ShouldContain($"{StartTask}/Greeting");
        line.ShouldContain("damaged");
        result.Output.ShouldBeEmpty();
    }

    [Fact]
    public void Dump_CorruptBlobWithJson_FailsWithoutPrintingPartialJson()
    {
        _scenario.CorruptBlob(_start["Numbers"].Sha);

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--json");

        result.ExitCode.ShouldBe(ExitCodes.Failure, result.ToString());
        result.SingleErrorLine.ShouldContain($"{StartTask}/Numbers");
        result.Output.ShouldBeEmpty();
    }

    [Fact]
    public void Dump_CorruptCompressedBlob_FailsNamingTheArtifact()
    {
        var refs = _scenario.AddTask(_run, "Big", "2", new Dictionary<string, object?> { ["Text"] = new string('x', 10_000) });
        _scenario.CorruptBlob(refs["Text"].Sha);

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Big");

        result.ExitCode.ShouldBe(ExitCodes.Failure, result.ToString());
        result.SingleErrorLine.ShouldContain($"HelloFlow/{_run}/Big/2/Text");
    }

    [Fact]
    public void Dump_MissingBlob_FailsNamingTheArtifact()
    {
        _scenario.FileSystem.File.Delete(_scenario.Store.Blobs.PathOf(_start["Count"].Sha));

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Failure, result.ToString());
        result.SingleErrorLine.ShouldContain($"{StartTask}/Count");
        result.SingleErrorLine.ShouldContain("missing");
    }

    [Fact]
    public void Dump_CorruptBlobOfAnArtifactNotShown_Succeeds()
    {
        _scenario.CorruptBlob(_start["Greeting"].Sha);

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--include", "Count");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldContain("Count [System.Int32, 1 bytes] = 3");
    }

    [Fact]
    public void Dump_TornDoneRecord_ShowsTheTaskAsUnfinished_WithOneWarningNamingTheFile()
    {
        // A power cut can leave a torn record: it must never block reading the rest (issue 12).
        var path = _scenario.FileSystem.Path.Combine(_scenario.Store.AttemptDir(DatastoreScenario.FlowName, _run, "Start", "1", 0), "done.json");
        _scenario.FileSystem.File.WriteAllText(path, "{\"status\":");

        var result = _scenario.Run("dump", $"HelloFlow/{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.SingleErrorLine.ShouldStartWith("warning: ");
        result.SingleErrorLine.ShouldContain(path);
        result.SingleErrorLine.ShouldContain("verify --repair");
        result.Output.ShouldContain($"HelloFlow/{_run}/Start/1 (attempt 0, died)");
    }

    [Fact]
    public void Dump_TwoFlowsAndNoFlowInThePathspec_AsksForTheFlow()
    {
        var other = _scenario.AddRun(flow: "OtherFlow");

        ShouldFailWithUsage(_scenario.Run("dump", $"{other}/Start"), "HelloFlow", "OtherFlow");
    }

    [Fact]
    public void Dump_TwoFlowsAndFlowOption_UsesTheNamedFlow()
    {
        var other = _scenario.AddRun(second: 5, flow: "OtherFlow");
        _scenario.AddTask(other, "Start", "1", new Dictionary<string, object?> { ["Greeting"] = "other" }, flow: "OtherFlow");

        var result = _scenario.Run("dump", $"{other}/Start", "--flow", "OtherFlow");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldBe($"OtherFlow/{other}/Start/1 (attempt 0, succeeded)\n  Greeting [System.String, 5 bytes] = \"other\"\n");
    }

    [Fact]
    public void Dump_InAProjectFolder_UsesTheProjectsFlow()
    {
        var other = _scenario.AddRun(second: 5, flow: "OtherFlow");
        var project = new FlowProject(_scenario.FileSystem, _scenario.FileSystem.Path.Combine(_scenario.WorkingDirectory, "Hello"));
        project.Write("HelloFlow.cs", "partial class HelloFlow { }");
        project.Build();

        var result = ToolRunner.Run(_scenario.FileSystem, project.Directory, "dump", $"{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldStartWith($"{StartTask} (attempt 0, succeeded)\n");
        ShouldFailWithUsage(ToolRunner.Run(_scenario.FileSystem, project.Directory, "dump", $"{other}/Start"), other, "HelloFlow");
    }

    [Fact]
    public void Dump_InAProjectFolderWithAnIncompleteBuildRecord_FallsBackToTheDatastoresFlow()
    {
        var project = new FlowProject(_scenario.FileSystem, _scenario.FileSystem.Path.Combine(_scenario.WorkingDirectory, "Hello"));
        project.Build();
        _scenario.FileSystem.File.WriteAllText(project.BuildRecordPath, "{}");

        var result = ToolRunner.Run(_scenario.FileSystem, project.Directory, "dump", $"{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldStartWith($"{StartTask} (attempt 0, succeeded)\n");
    }

    [Fact]
    public void Dump_InAProjectFolderWithAMalformedBuildRecord_FallsBackToTheDatastoresFlow()
    {
        var project = new FlowProject(_scenario.FileSystem, _scenario.FileSystem.Path.Combine(_scenario.WorkingDirectory, "Hello"));
        project.Build();
        _scenario.FileSystem.File.WriteAllText(project.BuildRecordPath, "{\"flows\":");

        var result = ToolRunner.Run(_scenario.FileSystem, project.Directory, "dump", $"{_run}/Start");

        result.ExitCode.ShouldBe(ExitCodes.Success, result.ToString());
        result.Output.ShouldStartWith($"{StartTask} (attempt 0, succeeded)\n");
    }

    [Fact]
    public void Dump_ProjectOptionNamingAMissingProject_ExitsWithUsage() =>
        ShouldFailWithUsage(_scenario.Run("dump", $"{_run}/Start", "--project", "Missing.csproj"), "Missing.csproj");

    [Fact]
    public void Dump_Verbose_ShowsTheStackTrace()
    {
        var result = _scenario.Run("dump", "a", "--verbose");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.Error.ShouldContain("Flow.Sdk.FlowException: Malformed pathspec 'a'");
        result.Error.ShouldContain("DumpCommand");
        result.ErrorLines.Count.ShouldBeGreaterThan(1);
    }

    [Fact]
    public void Dump_WithoutVerbose_PrintsExactlyOneErrorLine()
    {
        var result = _scenario.Run("dump", "a");

        result.ExitCode.ShouldBe(ExitCodes.Usage, result.ToString());
        result.Error.ShouldBe("error: Malformed pathspec 'a': expected [Flow/]run/step[/task], such as latest/Start or HelloFlow/latest/End/3.\n");
    }

    [Fact]
    public void Dump_DoesNotWriteToTheDatastore()
    {
        var before = Snapshot(_scenario.Root);

        _scenario.Run("dump", $"HelloFlow/{_run}/Start", "--json").ExitCode.ShouldBe(ExitCodes.Success);
        _scenario.Run("dump", "HelloFlow/999/Start").ExitCode.ShouldBe(ExitCodes.Usage);

        Snapshot(_scenario.Root).ShouldBe(before);
    }

    private static List<string> Snapshot(string root) =>
        [.. Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
}
