using System.Text;
using System.Text.Json;
using Flow.Sdk.Datastore;
using Flow.Sdk.Tests.Support;
using Flow.Tests;

namespace Flow.Sdk.Tests.Client;

/// <summary>
/// The run index (<c>runs/&lt;Flow&gt;/index.jsonl</c>): one line per start, end and tags change; read together with the
/// run folders, so runs it lacks are read from their folders (and appended), lines of removed runs and damaged lines
/// are ignored.
/// </summary>
public sealed class RunIndexTests
{
    private const string Flow = "IndexFlow";

    private readonly SyntheticRuns _runs = SyntheticRuns.InMemory();

    private FlowDatastore Store => _runs.Store;

    private IReadOnlyList<RunIndexEntry> Read() => RunIndex.Read(Store, Flow);

    private static string Describe(RunIndexEntry e) =>
        $"{e.Id}|{e.StartedAt:O}|{e.User}|{string.Join(",", e.SystemTags)}|{string.Join(",", e.Tags)}|{e.EndStatus ?? "-"}";

    private static JsonElement Parse(string line)
    {
        using var doc = JsonDocument.Parse(line);
        return doc.RootElement.Clone();
    }

    [Fact]
    public void WriteRun_AppendsOneStartLineWithTheRunsTimeUserAndSystemTags()
    {
        var id = _runs.AddRun(Flow, second: 5, user: "ada", status: null);

        var line = Parse(_runs.IndexLines(Flow).ShouldHaveSingleItem());

        line.GetProperty("run").GetString().ShouldBe(id);
        line.GetProperty("startedAt").GetDateTimeOffset().ShouldBe(SyntheticRuns.Time(5));
        line.GetProperty("user").GetString().ShouldBe("ada");
        line.GetProperty("systemTags").EnumerateArray().Select(t => t.GetString()).ShouldBe(["user:ada", "runtime:test"]);
        line.TryGetProperty("end", out _).ShouldBeFalse();
        line.TryGetProperty("tags", out _).ShouldBeFalse();
    }

    [Fact]
    public void WriteTagsAndWriteRunEnd_AppendATagsLineAndAnEndLine()
    {
        var id = _runs.AddRun(Flow, second: 0, status: null);

        Store.WriteTags(Flow, id, ["exp-1", "gpu"]);
        Store.WriteRunEnd(Flow, id, new RunEndRecord("failed", SyntheticRuns.Time(9)));

        var lines = _runs.IndexLines(Flow).Select(Parse).ToList();
        lines.Count.ShouldBe(3);
        lines.ShouldAllBe(l => l.GetProperty("run").GetString() == id);
        lines[1].GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ShouldBe(["exp-1", "gpu"]);
        lines[2].GetProperty("end").GetString().ShouldBe("failed");
    }

    [Fact]
    public void Read_MergesTheStartTagsAndEndLinesOfEachRun()
    {
        var first = _runs.AddRun(Flow, second: 0, user: "ada", status: "succeeded", tags: ["a"]);
        var second = _runs.AddRun(Flow, second: 10, user: "bob", status: null);

        Read().Select(Describe).ShouldBe(
        [
            $"{second}|{SyntheticRuns.Time(10):O}|bob|user:bob,runtime:test||-",
            $"{first}|{SyntheticRuns.Time(0):O}|ada|user:ada,runtime:test|a|succeeded",
        ]);
    }

    [Fact]
    public void Read_TagsChangedSeveralTimes_UsesTheLastTagsLine()
    {
        var id = _runs.AddRun(Flow, second: 0, tags: ["a"]);
        Store.WriteTags(Flow, id, ["a", "b"]);
        Store.WriteTags(Flow, id, ["c"]);

        Read().ShouldHaveSingleItem().Tags.ShouldBe(["c"]);
    }

    [Fact]
    public void Read_TagsAllRemoved_HasNoTags()
    {
        var id = _runs.AddRun(Flow, second: 0, tags: ["a", "b"]);
        Store.WriteTags(Flow, id, []);

        Read().ShouldHaveSingleItem().Tags.ShouldBeEmpty();
    }

    [Fact]
    public void WriteRunEnd_SecondEnd_AppendsNoLineAndTheFirstStatusStays()
    {
        var id = _runs.AddRun(Flow, second: 0, status: "failed");
        var lines = _runs.IndexLines(Flow).Count;

        Store.WriteRunEnd(Flow, id, new RunEndRecord("succeeded", SyntheticRuns.Time(99)));

        _runs.IndexLines(Flow).Count.ShouldBe(lines);
        Read().ShouldHaveSingleItem().EndStatus.ShouldBe("failed");
    }

    [Fact]
    public void Read_RunsWrittenOutOfOrder_AreNewestFirst()
    {
        var middle = _runs.AddRun(Flow, second: 10);
        var newest = _runs.AddRun(Flow, second: 20);
        var oldest = _runs.AddRun(Flow, second: 0);

        Read().Select(e => e.Id).ShouldBe([newest, middle, oldest]);
    }

    [Fact]
    public void Read_NoFlowFolder_IsEmpty()
    {
        Read().ShouldBeEmpty();
        _runs.Fs.File.Exists(_runs.IndexPath(Flow)).ShouldBeFalse();
    }

    [Fact]
    public void Read_IndexDeleted_ReturnsTheSameEntries_AndReadersNeverWrite()
    {
        var a = _runs.AddRun(Flow, second: 0, user: "ada", status: "succeeded", tags: ["x", "y"]);
        _runs.AddRun(Flow, second: 10, user: "bob", status: "failed");
        _runs.AddRun(Flow, second: 20, user: "ada", status: null);
        Store.WriteTags(Flow, a, ["y"]);
        var before = Read().Select(Describe).ToList();

        _runs.Fs.File.Delete(_runs.IndexPath(Flow));
        var fromFolders = Read().Select(Describe).ToList();

        fromFolders.ShouldBe(before);
        _runs.Fs.File.Exists(_runs.IndexPath(Flow)).ShouldBeFalse("a reader never writes");
    }

    [Fact]
    public void Compact_AfterTheIndexWasDeleted_RecreatesItWhole_OneLinePerFact()
    {
        var a = _runs.AddRun(Flow, second: 0, user: "ada", status: "succeeded", tags: ["x", "y"]);
        _runs.AddRun(Flow, second: 10, user: "bob", status: "failed");
        _runs.AddRun(Flow, second: 20, user: "ada", status: null);
        Store.WriteTags(Flow, a, ["y"]);
        var before = Read().Select(Describe).ToList();
        _runs.Fs.File.Delete(_runs.IndexPath(Flow));

        RunIndex.Compact(Store, Flow);

        var lines = _runs.IndexLines(Flow).Select(Parse).ToList();
        lines.Count(l => l.TryGetProperty("startedAt", out _)).ShouldBe(3);
        lines.Count(l => l.TryGetProperty("tags", out _)).ShouldBe(1, "superseded tag lines are dropped");
        Read().Select(Describe).ShouldBe(before, "the compacted index alone gives the same entries");
    }

    [Fact]
    public void Compact_IndexDeleted_RebuiltIndexIsUsedWithoutTheRunFolders()
    {
        var id = _runs.AddRun(Flow, second: 0, user: "ada", status: "succeeded", tags: ["t"]);
        _runs.Fs.File.Delete(_runs.IndexPath(Flow));
        RunIndex.Compact(Store, Flow);

        // Damage run.json: a run the index knows is listed from its lines, never from its folder.
        _runs.Fs.File.WriteAllText(_runs.Fs.Path.Combine(Store.RunDir(Flow, id), "run.json"), "{ damaged");

        Read().Select(Describe).ShouldBe([$"{id}|{SyntheticRuns.Time(0):O}|ada|user:ada,runtime:test|t|succeeded"]);
    }

    [Fact]
    public void Read_RunWrittenWithoutItsIndexLine_IsListedFromItsFolder()
    {
        var indexed = _runs.AddRun(Flow, second: 0);
        // A crash between run.json and its line: run.json, tags.json and end.json exist, the index has nothing of them.
        var at = SyntheticRuns.Time(10);
        var missing = Store.CreateRun(Flow, at);
        Store.WriteRecord(_runs.Fs.Path.Combine(Store.RunDir(Flow, missing), "run.json"), SyntheticRuns.Record(Flow, missing, at, "bob"), overwrite: false, durable: false);
        Store.WriteRecord(_runs.Fs.Path.Combine(Store.RunDir(Flow, missing), "tags.json"), new TagsRecord(["late"]), overwrite: true, durable: false);
        Store.WriteRecord(_runs.Fs.Path.Combine(Store.RunDir(Flow, missing), "end.json"), new RunEndRecord("failed", at), overwrite: false, durable: false);
        _runs.IndexLines(Flow).ShouldNotContain(l => l.Contains(missing, StringComparison.Ordinal));

        Read().Select(Describe).ShouldBe(
        [
            $"{missing}|{at:O}|bob|user:bob,runtime:test|late|failed",
            $"{indexed}|{SyntheticRuns.Time(0):O}|ada|user:ada,runtime:test||succeeded",
        ]);
    }

    [Fact]
    public void Read_RunWhoseIndexLinesWereTruncated_IsListedFromItsFolder_AndCompactionRestoresItsLines()
    {
        var id = _runs.AddRun(Flow, second: 0, user: "bob", status: "succeeded", tags: ["keep"]);
        _runs.Fs.File.WriteAllText(_runs.IndexPath(Flow), string.Empty);

        var entry = Read().ShouldHaveSingleItem();
        entry.Id.ShouldBe(id);
        entry.Tags.ShouldBe(["keep"]);
        entry.EndStatus.ShouldBe("succeeded");
        _runs.IndexLines(Flow).ShouldBeEmpty("a reader never writes");

        RunIndex.Compact(Store, Flow);
        var lines = _runs.IndexLines(Flow).Select(Parse).ToList();
        lines.ShouldAllBe(l => l.GetProperty("run").GetString() == id);
        lines.Count(l => l.TryGetProperty("startedAt", out _)).ShouldBe(1);
        lines.Single(l => l.TryGetProperty("tags", out _)).GetProperty("tags")[0].GetString().ShouldBe("keep");
        lines.Single(l => l.TryGetProperty("end", out _)).GetProperty("end").GetString().ShouldBe("succeeded");
    }

    [Fact]
    public void Read_RunClaimedButWithoutRunJson_IsNotListedAndNothingIsAppended()
    {
        var listed = _runs.AddRun(Flow, second: 0);
        var lines = _runs.IndexLines(Flow).Count;
        Store.CreateRun(Flow, SyntheticRuns.Time(10));

        Read().Select(e => e.Id).ShouldBe([listed]);
        _runs.IndexLines(Flow).Count.ShouldBe(lines);
    }

    [Fact]
    public void Read_RunWithDamagedRunJsonAndNoIndexLine_IsSkipped()
    {
        var listed = _runs.AddRun(Flow, second: 0);
        var damaged = Store.CreateRun(Flow, SyntheticRuns.Time(10));
        _runs.Fs.File.WriteAllText(_runs.Fs.Path.Combine(Store.RunDir(Flow, damaged), "run.json"), "{\"flow\":");

        Read().Select(e => e.Id).ShouldBe([listed]);
    }

    [Fact]
    public void Read_RunFolderRemoved_IsNotListed()
    {
        var kept = _runs.AddRun(Flow, second: 0);
        var removed = _runs.AddRun(Flow, second: 10, tags: ["x"]);

        _runs.Fs.Directory.Delete(Store.RunDir(Flow, removed), recursive: true);

        Read().Select(e => e.Id).ShouldBe([kept]);
        _runs.IndexLines(Flow).ShouldContain(l => l.Contains(removed, StringComparison.Ordinal), "the index keeps the lines; the reader ignores them");
    }

    [Fact]
    public void Read_FolderThatIsNotARunId_IsIgnored()
    {
        var id = _runs.AddRun(Flow, second: 0);
        _runs.Fs.Directory.CreateDirectory(_runs.Fs.Path.Combine(Store.FlowDir(Flow), ".hidden"));

        Read().Select(e => e.Id).ShouldBe([id]);
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("{\"run\":")]
    [InlineData("[1,2,3]")]
    [InlineData("{}")]
    [InlineData("\"just a string\"")]
    [InlineData("\u0000\u0000\u0000\u0000")]
    [InlineData("{\"startedAt\":\"2025-03-01T12:00:00+00:00\",\"user\":\"mallory\"}")]
    [InlineData("{\"run\":\"{id}\",\"tags\":\"not-an-array\"}")]
    [InlineData("{\"run\":\"{id}\",\"systemTags\":{\"a\":1}}")]
    [InlineData("{\"run\":\"{id}\",\"end\":\"failed\"")]
    public void Read_GarbageLine_IsIgnored(string garbage)
    {
        var id = _runs.AddRun(Flow, second: 0, user: "ada", status: null, tags: ["a"]);
        _runs.AppendToIndex(Flow, garbage.Replace("{id}", id, StringComparison.Ordinal) + "\n");
        var other = _runs.AddRun(Flow, second: 10, user: "bob", status: "failed");
        Store.WriteRunEnd(Flow, id, new RunEndRecord("succeeded", SyntheticRuns.Time(5)));

        Read().Select(Describe).ShouldBe(
        [
            $"{other}|{SyntheticRuns.Time(10):O}|bob|user:bob,runtime:test||failed",
            $"{id}|{SyntheticRuns.Time(0):O}|ada|user:ada,runtime:test|a|succeeded",
        ]);
    }

    /// <summary>
    /// Lines that are valid JSON objects whose values have the wrong type (a flipped byte, a foreign writer): the
    /// reader must skip them as it skips torn lines, not fail every listing of the flow.
    /// </summary>
    [Theory]
    [InlineData("{\"run\":12345}")]
    [InlineData("{\"run\":\"{id}\",\"end\":5}")]
    [InlineData("{\"run\":\"{id}\",\"user\":true}")]
    [InlineData("{\"run\":\"{id}\",\"startedAt\":\"not a date\"}")]
    [InlineData("{\"run\":\"{id}\",\"startedAt\":20250301}")]
    public void Read_LineWithValuesOfTheWrongType_IsIgnored(string damaged)
    {
        var id = _runs.AddRun(Flow, second: 0, user: "ada", status: "succeeded");
        _runs.AppendToIndex(Flow, damaged.Replace("{id}", id, StringComparison.Ordinal) + "\n");

        var entry = Should.NotThrow(Read).ShouldHaveSingleItem();

        entry.Id.ShouldBe(id);
        entry.EndStatus.ShouldBe("succeeded");
    }

    [Fact]
    public void Read_LineWithInvalidUtf8_IsIgnored()
    {
        var id = _runs.AddRun(Flow, second: 0, user: "ada", status: "succeeded");
        var bytes = Encoding.UTF8.GetBytes($"{{\"run\":\"{id}\",\"tags\":[\"").Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat("\"]}\n"u8.ToArray()).ToArray();
        using (var file = _runs.Fs.FileStream.New(_runs.IndexPath(Flow), FileMode.Append, FileAccess.Write))
        {
            file.Write(bytes);
        }

        var entry = Should.NotThrow(Read).ShouldHaveSingleItem();

        entry.Id.ShouldBe(id);
        entry.Tags.ShouldBeEmpty();
    }

    [Fact]
    public void Read_TornStartLineAtTheEnd_RunIsReadFromItsFolder()
    {
        var first = _runs.AddRun(Flow, second: 0);
        var at = SyntheticRuns.Time(10);
        var torn = Store.CreateRun(Flow, at);
        Store.WriteRecord(_runs.Fs.Path.Combine(Store.RunDir(Flow, torn), "run.json"), SyntheticRuns.Record(Flow, torn, at, "bob"), overwrite: false, durable: false);
        _runs.AppendToIndex(Flow, $"{{\"run\":\"{torn}\",\"startedAt\":\"2025-03-01T12:0");

        Read().Select(e => $"{e.Id}|{e.User}").ShouldBe([$"{torn}|bob", $"{first}|{SyntheticRuns.User}"]);
    }

    [Fact]
    public void Read_TornLineThenANewRun_NewRunIsStillListed()
    {
        var first = _runs.AddRun(Flow, second: 0);
        _runs.AppendToIndex(Flow, "{\"run\":\"123\",\"tag");
        var second = _runs.AddRun(Flow, second: 10, user: "bob", status: "failed");

        Read().Select(e => $"{e.Id}|{e.User}|{e.EndStatus}").ShouldBe([$"{second}|bob|failed", $"{first}|{SyntheticRuns.User}|succeeded"]);
    }

    /// <summary>
    /// A torn line (a crash mid-append leaves no newline) must not swallow the next line appended after it: a tags
    /// change made after the crash has to reach the index, or filtering by that tag misses the run.
    /// </summary>
    [Fact]
    public void Read_TornLineThenATagsChange_SeesTheNewTags()
    {
        var id = _runs.AddRun(Flow, second: 0, tags: ["old"]);
        _runs.AppendToIndex(Flow, $"{{\"run\":\"{id}\",\"end\":\"succ");

        Store.WriteTags(Flow, id, ["new"]);

        Read().ShouldHaveSingleItem().Tags.ShouldBe(["new"]);
    }

    [Fact]
    public void Read_TagWithQuotesBackslashesAndNonAsciiCharacters_RoundTrips()
    {
        const string tag = "say \"hi\" \\ to 東京 🚀 \u2028 done";
        var id = _runs.AddRun(Flow, second: 0, tags: [tag]);

        var entry = Read().ShouldHaveSingleItem();

        entry.Tags.ShouldBe([tag]);
        entry.HasTag(tag).ShouldBeTrue();
        _runs.IndexLines(Flow).Count.ShouldBe(3, "one line each for start, tags and end; no tag breaks a line");
        Should.NotThrow(() => Parse(_runs.IndexLines(Flow)[1])).GetProperty("run").GetString().ShouldBe(id);
    }

    [Fact]
    public void HasTag_MatchesSystemAndUserTagsExactly()
    {
        _runs.AddRun(Flow, second: 0, user: "ada", tags: ["Exp"]);

        var entry = Read().ShouldHaveSingleItem();

        entry.HasTag("user:ada").ShouldBeTrue();
        entry.HasTag("runtime:test").ShouldBeTrue();
        entry.HasTag("Exp").ShouldBeTrue();
        entry.HasTag("exp").ShouldBeFalse();
        entry.HasTag("user:ad").ShouldBeFalse();
    }
}

/// <summary>A flow with 10,000 runs, written through <see cref="FlowDatastore"/> into a real temp folder.</summary>
public sealed class LargeRunIndexFixture : IDisposable
{
    public const string Flow = "ScaleFlow";
    public const int Count = 10_000;

    /// <summary>The newest runs of <c>scale</c> (from <see cref="Count"/> - 150) failed or died; <c>other</c>'s succeeded.</summary>
    public const int Tail = 150;

    private readonly TempDirectory _temp = new("flow-run-index-");

    public LargeRunIndexFixture()
    {
        Runs = SyntheticRuns.OnDisk(_temp.Combine(".flow"));
        var store = Runs.Store;
        Ids = new string[Count];
        for (var i = 0; i < Count; i++)
        {
            var at = SyntheticRuns.Time(i);
            var id = store.CreateRun(Flow, at);
            Ids[i] = id;
            store.WriteRun(SyntheticRuns.Record(Flow, id, at, UserOf(i)));
            if (i % 1000 == 0)
            {
                store.WriteTags(Flow, id, ["milestone"]);
            }
            if (StatusOf(i) is { } status)
            {
                store.WriteRunEnd(Flow, id, new RunEndRecord(status, at.AddSeconds(1)));
            }
        }
    }

    internal SyntheticRuns Runs { get; }

    /// <summary>The run ids, oldest (run 0) first.</summary>
    public string[] Ids { get; }

    /// <summary>Every tenth run is another user's.</summary>
    public static string UserOf(int i) => i % 10 == 3 ? "other" : "scale";

    /// <summary>The end status run <paramref name="i"/> wrote; null when it died without one.</summary>
    public static string? StatusOf(int i)
    {
        if (i >= Count - Tail)
        {
            return UserOf(i) == "other" ? "succeeded" : i % 25 == 1 ? null : "failed";
        }
        return i % 5 == 0 ? "succeeded" : "failed";
    }

    /// <summary>What a reader should report as the status of run <paramref name="i"/>: a run without end.json and without a heartbeat failed.</summary>
    public static string ExpectedStatus(int i) => StatusOf(i) ?? "failed";

    public void Dispose() => _temp.Dispose();
}

/// <summary>
/// The run index at scale: the newest runs, the latest successful run and tagged runs of a flow with 10,000 runs are
/// found from the index (correct even with every run.json unreadable), and a deleted index is rebuilt to the same list.
/// </summary>
[Collection(FlowClientStateCollection.Name)]
public sealed class LargeRunIndexTests(LargeRunIndexFixture fixture) : IClassFixture<LargeRunIndexFixture>
{
    private const int NewestSuccessfulOfScale = LargeRunIndexFixture.Count - LargeRunIndexFixture.Tail - 5;

    private FlowInfo Flow => fixture.Runs.Flow(LargeRunIndexFixture.Flow);

    private static IEnumerable<int> Newest(string? user) =>
        Enumerable.Range(0, LargeRunIndexFixture.Count).Reverse().Where(i => user is null || LargeRunIndexFixture.UserOf(i) == user);

    private string Describe(int i) =>
        $"{fixture.Ids[i]}|{LargeRunIndexFixture.UserOf(i)}|{SyntheticRuns.Time(i):O}|{LargeRunIndexFixture.ExpectedStatus(i)}";

    private static string Describe(RunInfo run) => $"{run.Id}|{run.User}|{run.StartedAt:O}|{run.Status}";

    private void AssertNewestAndLatestSuccessful()
    {
        using (new FlowClientStateScope().Namespace(Namespace.User("scale")))
        {
            Flow.Runs.Take(20).Select(Describe).ShouldBe(Newest("scale").Take(20).Select(Describe));
            Flow.LatestRun.ShouldNotBeNull().Id.ShouldBe(fixture.Ids[LargeRunIndexFixture.Count - 1]);
            Flow.LatestSuccessfulRun.ShouldNotBeNull().Id.ShouldBe(fixture.Ids[NewestSuccessfulOfScale]);
        }
        using (new FlowClientStateScope().Namespace(Namespace.Global))
        {
            Flow.Runs.Take(20).Select(Describe).ShouldBe(Newest(null).Take(20).Select(Describe));
            Flow.LatestSuccessfulRun.ShouldNotBeNull().Id.ShouldBe(fixture.Ids[LargeRunIndexFixture.Count - 7], "run 9993 is other's, successful, and newer");
        }
    }

    [Fact]
    public void Fixture_NewestSuccessfulRunOfScale_IsAtTheKnownPosition()
    {
        // Guards the fixture itself: run 9845 is the newest successful run of user:scale, 139th newest of that user.
        LargeRunIndexFixture.StatusOf(NewestSuccessfulOfScale).ShouldBe("succeeded");
        LargeRunIndexFixture.UserOf(NewestSuccessfulOfScale).ShouldBe("scale");
        Newest("scale").TakeWhile(i => i != NewestSuccessfulOfScale).Count().ShouldBe(139);
        Newest("scale").TakeWhile(i => i != NewestSuccessfulOfScale).ShouldAllBe(i => LargeRunIndexFixture.ExpectedStatus(i) != "succeeded");
    }

    [Fact]
    public void RunsAndLatestSuccessfulRun_TenThousandRuns_AreTheNewestInTheNamespace()
    {
        AssertNewestAndLatestSuccessful();
    }

    [Fact]
    public void RunsIn_TenThousandRuns_ListsEveryRunOnceNewestFirst()
    {
        var all = Flow.RunsIn(Namespace.Global).Select(r => r.Id).ToList();

        all.Count.ShouldBe(LargeRunIndexFixture.Count);
        all.ShouldBe(Enumerable.Reverse(fixture.Ids));
    }

    [Fact]
    public void RunsIn_UserTag_TenThousandRuns_ListsTheTaggedRunsNewestFirst()
    {
        Flow.RunsIn("milestone").Select(r => r.Id).ShouldBe(Enumerable.Range(0, 10).Reverse().Select(k => fixture.Ids[k * 1000]));
        Flow.RunsIn("milestone").ShouldAllBe(r => r.Tags.SequenceEqual(new[] { "milestone" }));
    }

    [Fact]
    public void Runs_EveryRunJsonUnreadable_NewestAndLatestSuccessfulStillComeFromTheIndex()
    {
        // Listing reads the index, not each run's folder: with every run.json damaged (a reader that opened them
        // would skip or fail on each), the newest runs, their users, times, statuses and system tags are still right.
        var fs = fixture.Runs.Fs;
        var paths = fixture.Ids.Select(id => fs.Path.Combine(fixture.Runs.Store.RunDir(LargeRunIndexFixture.Flow, id), "run.json")).ToList();
        var saved = paths.Select(fs.File.ReadAllBytes).ToList();
        try
        {
            foreach (var path in paths)
            {
                fs.File.WriteAllText(path, "{ damaged");
            }

            AssertNewestAndLatestSuccessful();
            using (new FlowClientStateScope().Namespace(Namespace.User("scale")))
            {
                Flow.Runs.Take(20).ShouldAllBe(r => r.SystemTags.SequenceEqual(new[] { "user:scale", "runtime:test" }));
            }
        }
        finally
        {
            for (var i = 0; i < paths.Count; i++)
            {
                fs.File.WriteAllBytes(paths[i], saved[i]);
            }
        }
    }

    [Fact]
    public void Runs_IndexDeleted_TenThousandRuns_AreReadFromTheirFolders_AndCompactionRebuildsTheSameList()
    {
        var before = Flow.RunsIn(Namespace.Global).Select(r => $"{r.Id}|{r.User}|{r.StartedAt:O}|{string.Join(",", r.SystemTags)}").ToList();
        var fs = fixture.Runs.Fs;

        fs.File.Delete(fixture.Runs.IndexPath(LargeRunIndexFixture.Flow));

        Flow.RunsIn(Namespace.Global).Select(r => $"{r.Id}|{r.User}|{r.StartedAt:O}|{string.Join(",", r.SystemTags)}").ShouldBe(before);
        fs.File.Exists(fixture.Runs.IndexPath(LargeRunIndexFixture.Flow)).ShouldBeFalse("a reader never writes");
        RunIndex.Compact(fixture.Runs.Store, LargeRunIndexFixture.Flow);
        fixture.Runs.IndexLines(LargeRunIndexFixture.Flow).Count(l => l.Contains("\"startedAt\"", StringComparison.Ordinal)).ShouldBe(LargeRunIndexFixture.Count);
        Flow.RunsIn(Namespace.Global).Select(r => $"{r.Id}|{r.User}|{r.StartedAt:O}|{string.Join(",", r.SystemTags)}").ShouldBe(before);
        AssertNewestAndLatestSuccessful();
        Flow.RunsIn("milestone").Count().ShouldBe(10);
    }
}
