using System.IO.Abstractions.TestingHelpers;
using System.Text;
using Flow.Sdk.Datastore;

namespace Flow.Sdk.Tests.Datastore;

/// <summary>
/// gc: retention rules decide which runs go; no blob a remaining run reaches is ever removed (randomized
/// scenarios against an independent model of the rules); blobs written or reused after the cutoff survive.
/// </summary>
public sealed class GarbageCollectorTests
{
    private static readonly DateTime Now = DateTime.UtcNow;
    private static readonly DateTime Old = Now.AddDays(-400);

    private readonly MockFileSystem _fs = new();
    private readonly FlowDatastore _store;

    public GarbageCollectorTests()
    {
        _store = FlowDatastore.Open(_fs, _fs.Path.Combine(_fs.Path.GetTempPath(), "gc", ".flow"), create: true);
    }

    private sealed record FakeRun(string Flow, string Id, DateTimeOffset Started, string Status, IReadOnlyList<string> Tags, IReadOnlyList<string> Shas);

    /// <summary>A finished (or running) run with one task per value, each referencing that value's blob.</summary>
    private FakeRun AddRun(string flow, double daysAgo, string status, IReadOnlyList<string> values, IReadOnlyList<string>? tags = null)
    {
        var started = new DateTimeOffset(Now.AddDays(-daysAgo));
        var id = _store.CreateRun(flow, started);
        var shas = new List<string>();
        var parameter = ArtifactCodec.Store(_store.Blobs, "param-" + flow, typeof(string));
        shas.Add(parameter.Sha);
        _store.WriteRun(new RunRecord(flow, id, started, "tester", "", "0.0.0", "/", new Dictionary<string, ArtifactRef> { ["P"] = parameter }, ["user:tester"]));
        for (var i = 0; i < values.Count; i++)
        {
            var stored = ArtifactCodec.Store(_store.Blobs, values[i], typeof(string));
            shas.Add(stored.Sha);
            var dir = _store.AttemptDir(flow, id, "Step" + i, (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), 0);
            _store.StartAttempt(dir, new AttemptStartRecord(started, []));
            _store.FinishAttempt(dir, new AttemptDoneRecord(
                status == "failed" && i == values.Count - 1 ? AttemptDoneRecord.Failed : AttemptDoneRecord.Succeeded,
                started, new Dictionary<string, ArtifactRef> { ["X"] = stored, ["P"] = parameter }, []));
        }
        if (tags is { Count: > 0 })
        {
            _store.WriteTags(flow, id, tags);
        }
        if (status == "running")
        {
            _fs.File.WriteAllText(_store.RunHeartbeatPath(flow, id), "1@another-machine");
        }
        else
        {
            _store.WriteRunEnd(flow, id, new RunEndRecord(status, started));
        }
        return new FakeRun(flow, id, started, status, tags ?? [], shas);
    }

    private void AgeEveryBlob(DateTime when)
    {
        foreach (var file in _fs.Directory.GetFiles(_fs.Path.Combine(_store.Root, "blobs"), "*", SearchOption.AllDirectories))
        {
            _fs.File.SetLastWriteTimeUtc(file, when);
        }
        foreach (var dir in _fs.Directory.GetDirectories(_store.FlowsDir, "*", SearchOption.TopDirectoryOnly).SelectMany(f => _fs.Directory.GetDirectories(f)))
        {
            _fs.Directory.SetLastWriteTimeUtc(dir, when);
        }
    }

    private bool BlobExists(string sha) => _fs.File.Exists(_store.Blobs.PathOf(sha));

    private string Orphan(string text, DateTime modified)
    {
        var sha = _store.Blobs.Put(Encoding.UTF8.GetBytes(text));
        _fs.File.SetLastWriteTimeUtc(_store.Blobs.PathOf(sha), modified);
        return sha;
    }

    private GcPlan Collect(RetentionRules rules, bool execute = true)
    {
        var collector = new GarbageCollector(_store);
        var plan = collector.Plan(rules with { Grace = rules.Grace ?? TimeSpan.FromMinutes(15) }, Now);
        if (execute)
        {
            collector.Execute(plan);
        }
        return plan;
    }

    [Fact]
    public void NoRules_RemovesNoRun_ButCollectsOldBlobsNoRunUses()
    {
        var run = AddRun("A", 30, "succeeded", ["a", "b"]);
        AgeEveryBlob(Old);
        var orphan = Orphan("left behind by a crash", Old);

        var plan = Collect(new RetentionRules());

        plan.Runs.ShouldBeEmpty();
        BlobExists(orphan).ShouldBeFalse();
        run.Shas.ShouldAllBe(sha => BlobExists(sha));
        _store.ListRuns("A").ShouldBe([run.Id]);
    }

    [Fact]
    public void KeepLast_RemovesOlderRuns_ButNeverTheLatestSuccessfulOne()
    {
        var oldestSuccess = AddRun("A", 10, "succeeded", ["v1"]);
        var failed1 = AddRun("A", 5, "failed", ["v2"]);
        var failed2 = AddRun("A", 1, "failed", ["v3"]);
        AgeEveryBlob(Old);

        var plan = Collect(new RetentionRules(KeepLast: 1));

        plan.Runs.Select(r => r.Run).ShouldBe([failed1.Id]);
        _store.ListRuns("A").ShouldBe([failed2.Id, oldestSuccess.Id]);
        BlobExists(failed1.Shas[^1]).ShouldBeFalse("v2 was used only by the removed run");
        oldestSuccess.Shas.Concat(failed2.Shas).ShouldAllBe(sha => BlobExists(sha));
    }

    [Fact]
    public void BlobSharedWithAKeptRun_Survives()
    {
        AddRun("A", 9, "succeeded", ["old only"]);
        var shared = AddRun("A", 8, "failed", ["shared"]);
        var kept = AddRun("B", 1, "succeeded", ["shared"]);
        AgeEveryBlob(Old);

        Collect(new RetentionRules(KeepDays: 3));

        _store.ListRuns("A").Count.ShouldBe(1, "A's latest successful run stays");
        BlobExists(shared.Shas[^1]).ShouldBeTrue("B's run uses the same value");
        kept.Shas.ShouldAllBe(sha => BlobExists(sha));
    }

    [Fact]
    public void KeepTag_KeepsTaggedRuns()
    {
        AddRun("A", 1, "succeeded", ["newest"]);
        var tagged = AddRun("A", 50, "failed", ["tagged"], ["paper"]);
        var untagged = AddRun("A", 40, "failed", ["untagged"]);
        AgeEveryBlob(Old);

        Collect(new RetentionRules(KeepLast: 1, KeepTags: ["paper"]));

        _store.ListRuns("A").ShouldContain(tagged.Id);
        _store.ListRuns("A").ShouldNotContain(untagged.Id);
    }

    [Fact]
    public void DryRun_ChangesNothing_AndCountsWhatWouldBeFreed()
    {
        AddRun("A", 1, "succeeded", ["keep"]);
        var gone = AddRun("A", 20, "failed", [new string('x', 5000)]);
        AgeEveryBlob(Old);
        var before = _fs.AllFiles.Order(StringComparer.Ordinal).ToList();

        var plan = Collect(new RetentionRules(KeepLast: 1), execute: false);

        plan.Runs.Select(r => r.Run).ShouldBe([gone.Id]);
        plan.Blobs.Select(b => b.Sha).ShouldContain(gone.Shas[^1]);
        plan.FreedBytes.ShouldBeGreaterThan(0);
        _fs.AllFiles.Order(StringComparer.Ordinal).ToList().ShouldBe(before);
    }

    [Fact]
    public void RecentBlobs_AreNeverCollected_EvenWhenNoRunUsesThemYet()
    {
        AddRun("A", 1, "succeeded", ["a"]);
        AgeEveryBlob(Old);
        var justWritten = Orphan("a task is about to reference me", Now.AddMinutes(-2));

        Collect(new RetentionRules());

        BlobExists(justWritten).ShouldBeTrue();
    }

    [Fact]
    public void RunningRun_IsKept_AndBlobsWrittenSinceItStarted_Survive()
    {
        var running = AddRun("A", 2, "running", ["in progress"]);
        AddRun("A", 1, "failed", ["newer failure"]);
        AgeEveryBlob(Old);
        var writtenDuringTheRun = Orphan("not referenced yet", Now.AddDays(-1));

        var plan = Collect(new RetentionRules(KeepLast: 0));

        plan.Runs.Select(r => r.Run).ShouldNotContain(running.Id);
        _store.ListRuns("A").ShouldContain(running.Id);
        BlobExists(writtenDuringTheRun).ShouldBeTrue("it is newer than the start of a running run");
    }

    [Fact]
    public void BlobReusedBetweenPlanAndExecute_IsPutBack()
    {
        AddRun("A", 1, "succeeded", ["a"]);
        AgeEveryBlob(Old);
        var orphan = Orphan("about to be reused", Old);
        var collector = new GarbageCollector(_store);
        var plan = collector.Plan(new RetentionRules(), Now);
        plan.Blobs.Select(b => b.Sha).ShouldContain(orphan);

        // A writer in another process reuses it: its time is refreshed.
        FlowDatastore.Open(_fs, _store.Root, create: false).Blobs.Put(Encoding.UTF8.GetBytes("about to be reused")).ShouldBe(orphan);
        collector.Execute(plan);

        BlobExists(orphan).ShouldBeTrue();
        _store.Blobs.Get(orphan).ShouldBe(Encoding.UTF8.GetBytes("about to be reused"));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomRetention_NeverRemovesABlobAKeptRunReaches(int seed)
    {
        var random = new Random(seed);
        var pool = Enumerable.Range(0, 12).Select(i => $"value {i}").ToArray();
        var tagPool = new[] { "paper", "prod", "baseline" };
        var runs = new List<FakeRun>();
        foreach (var flow in new[] { "A", "B", "C" }.Take(random.Next(1, 4)))
        {
            for (var r = random.Next(1, 7); r > 0; r--)
            {
                var status = random.Next(10) switch { 0 => "running", < 6 => "succeeded", _ => "failed" };
                var values = Enumerable.Range(0, random.Next(1, 4)).Select(_ => pool[random.Next(pool.Length)]).ToList();
                var tags = tagPool.Where(_ => random.Next(4) == 0).ToList();
                runs.Add(AddRun(flow, random.Next(0, 90) + random.NextDouble(), status, values, tags));
            }
        }
        AgeEveryBlob(Old);
        var fresh = random.Next(2) == 0 ? Orphan("fresh orphan", Now.AddMinutes(-1)) : null;
        var stale = Orphan("stale orphan", Old);
        var rules = new RetentionRules(
            KeepLast: random.Next(3) == 0 ? null : random.Next(0, 4),
            KeepDays: random.Next(3) == 0 ? null : random.Next(0, 60),
            KeepTags: random.Next(2) == 0 ? [] : [tagPool[random.Next(tagPool.Length)]],
            Flow: random.Next(4) == 0 ? "A" : null);

        Collect(rules);

        // The model: which runs must stay.
        var expectedKept = new HashSet<string>();
        foreach (var byFlow in runs.GroupBy(r => r.Flow))
        {
            var newestFirst = byFlow.OrderByDescending(r => r.Started).ToList();
            var latestSuccess = newestFirst.FirstOrDefault(r => r.Status == "succeeded");
            for (var i = 0; i < newestFirst.Count; i++)
            {
                var run = newestFirst[i];
                var keep = !rules.RemovesRuns || (rules.Flow is not null && rules.Flow != run.Flow) || run.Status == "running" || run == latestSuccess
                    || (rules.KeepLast is { } last && i < last)
                    || (rules.KeepDays is { } days && run.Started.UtcDateTime >= Now.AddDays(-days))
                    || (rules.KeepTags is { Count: > 0 } keepTags && run.Tags.Intersect(keepTags).Any());
                if (keep)
                {
                    expectedKept.Add(run.Id);
                }
            }
        }
        var remaining = runs.Where(r => _store.ListRuns(r.Flow).Contains(r.Id)).ToList();
        remaining.Select(r => r.Id).Order().ShouldBe(expectedKept.Order(), $"seed {seed}");
        foreach (var run in remaining)
        {
            foreach (var sha in run.Shas)
            {
                Should.NotThrow(() => _store.Blobs.Get(sha), $"seed {seed}: a blob of kept run {run.Flow}/{run.Id} was removed");
            }
        }
        if (fresh is not null)
        {
            BlobExists(fresh).ShouldBeTrue($"seed {seed}: a blob younger than the grace period was removed");
        }
        var anyRunning = runs.Any(r => r.Status == "running");
        if (!anyRunning)
        {
            BlobExists(stale).ShouldBeFalse($"seed {seed}: an old blob no run uses was kept");
        }
    }

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (var seed = 1; seed <= 60; seed++)
        {
            data.Add(seed);
        }
        return data;
    }
}
