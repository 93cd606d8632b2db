using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Abstractions;
using System.IO.Abstractions.TestingHelpers;
using Flow.Sdk.Datastore;
using Flow.Tests;

namespace Flow.Sdk.Tests.Datastore;

public sealed class FlowDatastoreTests
{
    private readonly MockFileSystem _fs = new();
    private readonly string _root;

    public FlowDatastoreTests() => _root = _fs.Path.Combine(_fs.Path.GetTempPath(), "project", ".flow");

    private static RunRecord Run(string flow, string runId, string user = "tester") =>
        new(flow, runId, DateTimeOffset.UnixEpoch, user, "snapshot", "0.0.0", "/work", new Dictionary<string, ArtifactRef>(), [$"user:{user}"]);

    private static AttemptDoneRecord Done(string status, string marker) =>
        new(status, DateTimeOffset.UnixEpoch, new Dictionary<string, ArtifactRef> { ["Marker"] = new(marker, "string", "System.String", 1) }, []);

    [Fact]
    public void Open_MissingFolderWithoutCreate_ThrowsUsageError()
    {
        var error = Should.Throw<FlowException>(() => FlowDatastore.Open(_fs, _root, create: false));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain(_root);
        _fs.Directory.Exists(_root).ShouldBeFalse("opening without create writes nothing");
    }

    [Fact]
    public void Open_WithCreate_WritesFormatFileThatReopens()
    {
        FlowDatastore.Open(_fs, _root, create: true);

        _fs.File.ReadAllText(_fs.Path.Combine(_root, "format.json")).ShouldContain("\"format\":1");
        FlowDatastore.Open(_fs, _root, create: false).Root.ShouldBe(_root);
        FlowDatastore.Open(_fs, _root, create: true).Root.ShouldBe(_root);
    }

    [Fact]
    public void Open_NewerFormat_ThrowsUsageErrorNamingTheVersion()
    {
        _fs.AddFile(_fs.Path.Combine(_root, "format.json"), new MockFileData("""{"format":99,"createdBy":"Flow.Sdk 9.0.0"}"""));

        var error = Should.Throw<FlowException>(() => FlowDatastore.Open(_fs, _root, create: true));

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("99");
        error.Message.ShouldContain("newer");
    }

    [Fact]
    public void Open_UnreadableFormatFile_ThrowsFailure()
    {
        _fs.AddFile(_fs.Path.Combine(_root, "format.json"), new MockFileData("{not json"));

        var error = Should.Throw<FlowException>(() => FlowDatastore.Open(_fs, _root, create: false));

        error.ExitCode.ShouldBe(ExitCodes.Failure);
        error.Message.ShouldContain("format.json");
    }

    [Fact]
    public void CreateRun_ManyThreadsAtTheSameInstant_GiveUniqueIds()
    {
        using var temp = new TempDirectory("flow-sdk-tests-");
        var store = FlowDatastore.Open(new FileSystem(), temp.Combine(".flow"), create: true);
        var now = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(1234567);
        var ids = new ConcurrentBag<string>();

        var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            for (var i = 0; i < 25; i++)
            {
                ids.Add(store.CreateRun("Busy", now));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        ids.Count.ShouldBe(200);
        ids.ShouldBeUnique();
        ids.ShouldAllBe(id => FlowDatastore.IsId(id));
    }

    [Fact]
    public void CreateRun_LaterTimes_GiveIdsThatSortLater()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);
        var start = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
        DateTimeOffset[] times = [start, start.AddTicks(10), start.AddMilliseconds(1), start.AddSeconds(1), start.AddDays(400)];

        var ids = times.Select(t => store.CreateRun("Timed", t)).ToList();

        ids.ShouldBe(ids.Order(StringComparer.Ordinal).ToList());
        ids.ShouldBe(ids.OrderBy(long.Parse).ToList());
        ids.ShouldBeUnique();
    }

    [Fact]
    public void CreateRun_SameInstantTwice_SecondIdSortsAfterTheFirst()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);
        var now = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

        var first = store.CreateRun("Twice", now);
        var second = store.CreateRun("Twice", now);

        long.Parse(second).ShouldBeGreaterThan(long.Parse(first));
    }

    [Fact]
    public void CreateRun_OffsetOfTheClock_DoesNotChangeTheId()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);
        var utc = new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(4560);

        var a = store.CreateRun("Zoned", utc);
        var b = store.CreateRun("Other", utc.ToOffset(TimeSpan.FromHours(5.5)));

        b.ShouldBe(a);
    }

    [Theory]
    [InlineData("flow", "..")]
    [InlineData("flow", "a/b")]
    [InlineData("flow", "../x")]
    [InlineData("flow", "a\\b")]
    [InlineData("flow", "")]
    [InlineData("flow", "1abc")]
    [InlineData("run", "..")]
    [InlineData("run", ".")]
    [InlineData("run", "a/b")]
    [InlineData("run", "../x")]
    [InlineData("run", "1..2")]
    [InlineData("run", "")]
    [InlineData("step", "..")]
    [InlineData("step", "a/b")]
    [InlineData("step", "../x")]
    [InlineData("task", "..")]
    [InlineData("task", "a/b")]
    [InlineData("task", "../x")]
    [InlineData("task", "/etc")]
    public void PathSegments_UnsafeNames_AreRejectedAsUsageErrors(string kind, string name)
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);
        Action build = kind switch
        {
            "flow" => () => store.FlowDir(name),
            "run" => () => store.RunDir("MyFlow", name),
            "step" => () => store.StepDir("MyFlow", "1", name),
            _ => () => store.TaskDir("MyFlow", "1", "Start", name),
        };

        var error = Should.Throw<FlowException>(build);

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain(kind);
    }

    [Fact]
    public void PathSegments_UnsafeFlowName_IsRejectedBeforeCreatingARun()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);

        Should.Throw<FlowException>(() => store.CreateRun("../Escape", DateTimeOffset.UtcNow)).ExitCode.ShouldBe(ExitCodes.Usage);

        _fs.Directory.Exists(_fs.Path.Combine(_fs.Path.GetDirectoryName(_root)!, "Escape")).ShouldBeFalse();
    }

    [Fact]
    public void PathSegments_OrdinaryNames_StayInsideTheDatastore()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);

        var dir = store.AttemptDir("MyFlow", "1740830400000000", "Train_2", "17", 0);

        dir.ShouldBe(_fs.Path.Combine(_root, "runs", "MyFlow", "1740830400000000", "steps", "Train_2", "17", "0"));
        store.RunDir("MyFlow", "resumed-1.a_b").ShouldEndWith("resumed-1.a_b");
    }

    [Theory]
    [InlineData("flow", "MyFlow\n")]
    [InlineData("run", "123\n")]
    public void PathSegments_NameWithTrailingNewline_IsRejected(string kind, string name)
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);

        Should.Throw<FlowException>(() => kind == "flow" ? store.FlowDir(name) : store.RunDir("MyFlow", name));
    }

    [Fact]
    public void FinishAttempt_SecondTime_ReturnsFalseAndTheFirstMarkerWins()
    {
        using var temp = new TempDirectory("flow-sdk-tests-");
        var store = FlowDatastore.Open(new FileSystem(), temp.Combine(".flow"), create: true);
        var attempt = store.AttemptDir("MyFlow", "1", "Start", "1", 0);
        store.StartAttempt(attempt, new AttemptStartRecord(DateTimeOffset.UnixEpoch, []));

        store.FinishAttempt(attempt, Done(AttemptDoneRecord.Succeeded, "first")).ShouldBeTrue();
        store.FinishAttempt(attempt, Done(AttemptDoneRecord.Failed, "second")).ShouldBeFalse();

        var done = store.ReadAttemptDone(attempt).ShouldNotBeNull();
        done.Status.ShouldBe(AttemptDoneRecord.Succeeded);
        done.Artifacts["Marker"].Sha.ShouldBe("first");
    }

    [Fact]
    public void FinishAttempt_ManyThreadsAtOnce_ExactlyOneWinsAndItsMarkerIsKept()
    {
        // Many rounds, the writers released together: a check-then-rename publish lets two win now and then.
        using var temp = new TempDirectory("flow-sdk-tests-");
        var store = FlowDatastore.Open(new FileSystem(), temp.Combine(".flow"), create: true);
        for (var round = 0; round < 40; round++)
        {
            var attempt = store.AttemptDir("MyFlow", "1", "Start", (round + 1).ToString(CultureInfo.InvariantCulture), 0);
            store.StartAttempt(attempt, new AttemptStartRecord(DateTimeOffset.UnixEpoch, []));
            var results = new bool[8];
            using var gate = new Barrier(results.Length);
            var writers = Enumerable.Range(0, results.Length).Select(i => new Thread(() =>
            {
                gate.SignalAndWait();
                results[i] = store.FinishAttempt(attempt, Done(AttemptDoneRecord.Succeeded, "writer" + i));
            })).ToList();
            writers.ForEach(w => w.Start());
            writers.ForEach(w => w.Join());

            results.Count(r => r).ShouldBe(1, $"round {round}");
            var winner = Array.IndexOf(results, true);
            store.ReadAttemptDone(attempt).ShouldNotBeNull().Artifacts["Marker"].Sha.ShouldBe("writer" + winner);
        }
        Directory.GetFiles(store.TmpDir).ShouldBeEmpty();
    }

    [Fact]
    public void ListRuns_IsNewestFirstAndSkipsRunsWithoutRunJson()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);
        var old = store.CreateRun("Listed", new DateTimeOffset(1999, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var middle = store.CreateRun("Listed", new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var newest = store.CreateRun("Listed", new DateTimeOffset(2025, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var unwritten = store.CreateRun("Listed", new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        foreach (var id in new[] { middle, old, newest })
        {
            store.WriteRun(Run("Listed", id));
        }

        old.Length.ShouldBeLessThan(newest.Length, "a run from 1999 has a shorter id");
        store.ListRuns("Listed").ShouldBe([newest, middle, old]);
        store.ListRuns("Listed").ShouldNotContain(unwritten);
    }

    [Fact]
    public void ListRuns_UnknownFlow_IsEmpty()
    {
        FlowDatastore.Open(_fs, _root, create: true).ListRuns("Nothing").ShouldBeEmpty();
    }

    [Fact]
    public void WriteRun_SecondTime_KeepsTheFirstRecord()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);
        var id = store.CreateRun("Once", DateTimeOffset.UtcNow);

        store.WriteRun(Run("Once", id, user: "alice"));
        store.WriteRun(Run("Once", id, user: "mallory"));

        store.ReadRun("Once", id).ShouldNotBeNull().User.ShouldBe("alice");
    }

    [Fact]
    public void ReadRun_DamagedJson_ThrowsFailureNamingTheFile()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);
        var id = store.CreateRun("Damaged", DateTimeOffset.UtcNow);
        var path = _fs.Path.Combine(store.RunDir("Damaged", id), "run.json");
        _fs.File.WriteAllText(path, "{\"flow\":");

        var error = Should.Throw<FlowException>(() => store.ReadRun("Damaged", id));

        error.ExitCode.ShouldBe(ExitCodes.Failure);
        error.Message.ShouldContain(path);
    }

    [Fact]
    public void ListTasks_IsInNumericOrder()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);
        foreach (var task in new[] { "10", "2", "1", "100", "9" })
        {
            _fs.Directory.CreateDirectory(store.TaskDir("MyFlow", "1", "Fan", task));
        }

        store.ListTasks("MyFlow", "1", "Fan").ShouldBe(["1", "2", "9", "10", "100"]);
    }

    [Fact]
    public void ListAttempts_IsNumericAndIgnoresOtherFolders()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);
        foreach (var attempt in new[] { 10, 2, 0 })
        {
            _fs.Directory.CreateDirectory(store.AttemptDir("MyFlow", "1", "Start", "1", attempt));
        }
        _fs.Directory.CreateDirectory(_fs.Path.Combine(store.TaskDir("MyFlow", "1", "Start", "1"), "notes"));

        store.ListAttempts("MyFlow", "1", "Start", "1").ShouldBe([0, 2, 10]);
    }

    [Fact]
    public void ListFlows_IsSortedAndIgnoresFoldersThatAreNotFlowNames()
    {
        var store = FlowDatastore.Open(_fs, _root, create: true);
        store.CreateRun("Zeta", DateTimeOffset.UtcNow);
        store.CreateRun("Alpha", DateTimeOffset.UtcNow);
        _fs.Directory.CreateDirectory(_fs.Path.Combine(store.FlowsDir, "not-a-flow"));

        store.ListFlows().ShouldBe(["Alpha", "Zeta"]);
    }

    [Fact]
    public void Open_WithCreate_WhileAnotherWriterCreatesTheSameDatastore_OpensItInsteadOfCallingItDamaged()
    {
        // The other writer finishes creating the datastore (format.json, then its first blobs) just after this one
        // found no format.json: runs started at once on a new datastore.
        var fs = new RacingFileSystem();
        var root = fs.Path.Combine(fs.Path.GetTempPath(), "project", ".flow");
        fs.BeforeFirstLook = () =>
        {
            FlowDatastore.Open(fs, root, create: true);
            fs.Directory.CreateDirectory(fs.Path.Combine(root, "blobs", "ab"));
        };

        var store = FlowDatastore.Open(fs, root, create: true);

        store.Root.ShouldBe(root);
        fs.File.ReadAllText(fs.Path.Combine(root, "format.json")).ShouldContain("\"format\":1");
    }

    /// <summary>A mock file system where another writer acts right after the first look for a datastore's format.json.</summary>
    private sealed class RacingFileSystem : MockFileSystem
    {
        private readonly RacingFile _file;

        public RacingFileSystem() => _file = new RacingFile(this);

        public Action? BeforeFirstLook { get; set; }

        public override IFile File => _file;

        private sealed class RacingFile(RacingFileSystem owner) : MockFile(owner)
        {
            public override bool Exists(string? path)
            {
                var exists = base.Exists(path);
                if (path is not null && path.EndsWith("format.json", StringComparison.Ordinal) && owner.BeforeFirstLook is { } act)
                {
                    owner.BeforeFirstLook = null;
                    act();
                }
                return exists;
            }
        }
    }
}
