using System.IO.Abstractions;
using System.Text;
using Flow.Sdk.Datastore;
using Flow.Sdk.Runtime;
using Flow.Sdk.Tests.Support;

namespace Flow.Sdk.Tests.Datastore;

/// <summary>
/// The writers' protocol with gc (docs/datastore.md, "Writers and gc"), on the real disk: every writer that names a
/// blob — a resume clone, a snapshot import, a task — refreshes it under its lease first, so a gc that planned before
/// the record existed keeps it; a record gc cannot read stops it from collecting blobs at all.
/// </summary>
public sealed class WritersAndGcTests : IDisposable
{
    private static readonly DateTime LongAgo = DateTime.UtcNow.AddDays(-400);
    private readonly PipelineScenario _scenario = new();

    private FlowDatastore Store => _scenario.Store;

    private IFileSystem Fs => Store.FileSystem;

    public void Dispose() => _scenario.Dispose();

    /// <summary>Sets every blob's time far back, as if written long ago.</summary>
    private void AgeEveryBlob()
    {
        foreach (var file in Fs.Directory.GetFiles(Fs.Path.Combine(Store.Root, "blobs"), "*", SearchOption.AllDirectories))
        {
            Fs.File.SetLastWriteTimeUtc(file, LongAgo);
        }
    }

    /// <summary>Another process's view of the datastore: its own lease, its own memory of what it touched.</summary>
    private FlowDatastore OtherProcess() => FlowDatastore.Open(new FileSystem(), Store.Root, create: false);

    private async Task<string> FailedRunAsync()
    {
        _scenario.Hooks = new StepHooks { End = _ => throw new InvalidOperationException("End fails, so this run is not the latest successful one") };
        var origin = _scenario.StartRun();
        (await _scenario.RunAllAsync(origin)).ShouldBe("End");
        Store.WriteRunEnd(PipelineScenario.FlowName, origin, new RunEndRecord(RunStates.Failed, DateTimeOffset.UtcNow));
        _scenario.Hooks = new StepHooks();
        return origin;
    }

    private List<string> ShasNamedBy(string run) =>
        [.. new DatastoreInspector(Store).Take(PipelineScenario.FlowName, run).Uses.Select(u => u.Sha).Distinct()];

    [Fact]
    public async Task ResumeClone_TouchesWhatItNames_SoAGcPlannedBeforeTheCloneKeepsIt()
    {
        var origin = await FailedRunAsync();
        AgeEveryBlob();
        // gc plans to remove the failed origin and, with it, every blob only it names.
        var gc = new GarbageCollector(Store);
        var plan = gc.Plan(new RetentionRules(KeepLast: 0, Grace: TimeSpan.Zero));
        plan.Runs.Select(r => r.Run).ShouldContain(origin);
        plan.Blobs.ShouldNotBeEmpty();

        // Meanwhile a resume (another process) clones Start and Middle from the origin into a new run.
        var resume = OtherProcess();
        var graph = _scenario.Definition.Graph;
        var runId = resume.CreateRun(PipelineScenario.FlowName, DateTimeOffset.UtcNow);
        resume.WriteRun(PipelineScenarioRecord(runId, origin));
        var cloner = new ResumeCloner(resume, graph, runId, ResumePlan.Build(resume, graph, origin, fromStep: "End"));
        var next = 0;
        string NextId() => (++next).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var start = cloner.TryClone(new PendingTask("Start", [], null), NextId).ShouldNotBeNull();
        cloner.TryClone(new PendingTask("Middle", [$"{runId}/Start/{start}"], null), NextId).ShouldNotBeNull();

        gc.Execute(plan);

        var named = ShasNamedBy(runId);
        named.ShouldNotBeEmpty();
        named.ShouldAllBe(sha => Store.Blobs.Exists(sha), "a blob a clone names survives the gc that planned before the clone");
        new DatastoreInspector(Store).Verify(new DatastoreInspector(Store).Take(PipelineScenario.FlowName, runId).Uses).ShouldBeEmpty();
    }

    private RunRecord PipelineScenarioRecord(string runId, string origin)
    {
        var record = Store.ReadRun(PipelineScenario.FlowName, origin)!;
        return record with { RunId = runId, StartedAt = DateTimeOffset.UtcNow, OriginRunId = origin };
    }

    [Fact]
    public async Task ResumeClone_OfATaskWhoseBlobIsGone_RunsItInsteadOfNamingAMissingBlob()
    {
        var origin = await FailedRunAsync();
        var startDone = _scenario.Done(origin, "Start", "1");
        var some = startDone.Artifacts.Values.First();
        Fs.File.Delete(Store.Blobs.PathOf(some.Sha)); // collected (or set aside) before the resume touched it
        var graph = _scenario.Definition.Graph;
        var runId = Store.CreateRun(PipelineScenario.FlowName, DateTimeOffset.UtcNow);
        var cloner = new ResumeCloner(Store, graph, runId, ResumePlan.Build(Store, graph, origin, fromStep: null));

        cloner.TryClone(new PendingTask("Start", [], null), () => "1").ShouldBeNull();

        Store.ListTasks(PipelineScenario.FlowName, runId, "Start").ShouldBeEmpty("nothing that names the missing blob was written");
    }

    [Fact]
    public void SnapshotImport_OfASnapshotThatIsThere_TouchesEveryFile_SoGcKeepsItForTheNewRun()
    {
        var snapshot = SnapshotFixture.Write(_scenario.Root + "-build", ("bin/App.dll", "the program"), ("src/App.cs", "class App {}"));
        var (hash, manifest) = new SnapshotStore(Store).Import(snapshot);
        AgeEveryBlob();
        var plan = new GarbageCollector(Store).Plan(new RetentionRules(Grace: TimeSpan.Zero));
        plan.Blobs.Select(b => b.Sha).ShouldContain(hash, "no run names the snapshot yet");

        // A new run of the same code (another process) imports it again: a no-op that must touch every file.
        new SnapshotStore(OtherProcess()).Import(snapshot);
        new GarbageCollector(Store).Execute(plan);

        Store.Blobs.Exists(hash).ShouldBeTrue();
        manifest.Files.ShouldAllBe(f => Store.Blobs.Exists(f.Sha));
    }

    [Fact]
    public void SnapshotMaterialize_AfterAnEdit_TakesUnchangedBinariesFromTheLastFolder_ButNeverOneWhoseContentChanged_NorATextFile()
    {
        var snapshots = new SnapshotStore(Store);
        var first = SnapshotFixture.Write(_scenario.Root + "-v1", ("bin/App.dll", "v1"), ("bin/lib/Lib.dll", "lib"), ("bin/Other.dll", "other"), ("bin/settings.json", "s"));
        var (hash1, manifest1) = snapshots.Import(first);
        var dir1 = snapshots.Materialize(hash1, manifest1);
        // Damage in the last folder: its content no longer matches its hash.
        File.WriteAllText(Path.Combine(dir1, "Other.dll"), "tampered");

        var second = SnapshotFixture.Write(_scenario.Root + "-v2", ("bin/App.dll", "v2"), ("bin/lib/Lib.dll", "lib"), ("bin/Other.dll", "other"), ("bin/settings.json", "s"));
        var (hash2, manifest2) = snapshots.Import(second);
        // Without Lib.dll's blob, the second folder can only have it from the first.
        var lib = manifest2.Files.Single(f => f.Path == "bin/lib/Lib.dll").Sha;
        File.Delete(Store.Blobs.PathOf(lib));
        var dir2 = snapshots.Materialize(hash2, manifest2);

        File.ReadAllText(Path.Combine(dir2, "App.dll")).ShouldBe("v2");
        File.ReadAllText(Path.Combine(dir2, "lib", "Lib.dll")).ShouldBe("lib");
        File.ReadAllText(Path.Combine(dir2, "Other.dll")).ShouldBe("other", "a changed file is never reused: it comes from its blob");
        // A task may rewrite a text file beside its code; that must not reach another build's folder.
        File.WriteAllText(Path.Combine(dir2, "settings.json"), "rewritten by a task");
        File.ReadAllText(Path.Combine(dir1, "settings.json")).ShouldBe("s");
        // The folder it came from may be collected: the new folder keeps its files.
        Directory.Delete(dir1, recursive: true);
        File.ReadAllText(Path.Combine(dir2, "lib", "Lib.dll")).ShouldBe("lib");
    }

    [Fact]
    public void SnapshotMaterialize_AManifestPathOutsideItsFolder_IsRefusedAndWritesNothingOutside()
    {
        var snapshot = SnapshotFixture.Write(_scenario.Root + "-evil", ("bin/../../escaped.txt", "should never be written"));
        var (hash, manifest) = new SnapshotStore(Store).Import(snapshot);

        var error = Should.Throw<FlowException>(() => new SnapshotStore(Store).Materialize(hash, manifest));

        error.Message.ShouldContain("points outside its folder");
        Fs.Directory.GetFiles(Fs.Path.GetDirectoryName(Store.Root)!, "escaped.txt", SearchOption.AllDirectories).ShouldBeEmpty();
        Fs.Directory.GetFiles(Store.Root, "escaped.txt", SearchOption.AllDirectories).ShouldBeEmpty();
    }

    [Fact]
    public void Gc_BlobsOfALiveWriterNotYetNamed_Survive_UntilItsLeaseEnds()
    {
        var writer = OtherProcess();
        var sha = writer.Blobs.Put(Encoding.UTF8.GetBytes("stored, its done.json not written yet"));
        writer.LeasePath.ShouldNotBeNull();

        new GarbageCollector(Store).Execute(new GarbageCollector(Store).Plan(new RetentionRules(Grace: TimeSpan.Zero)));
        Store.Blobs.Exists(sha).ShouldBeTrue("its writer's lease is alive");

        writer.ReleaseLease();
        new GarbageCollector(Store).Execute(new GarbageCollector(Store).Plan(new RetentionRules(Grace: TimeSpan.Zero)));
        Store.Blobs.Exists(sha).ShouldBeFalse("no lease, no record: garbage");
    }

    [Fact]
    public async Task Gc_WithAnUnreadableDoneJson_CollectsNoBlob_AndNamesTheRecord()
    {
        var run = _scenario.StartRun();
        (await _scenario.RunAllAsync(run)).ShouldBe("succeeded");
        var orphan = Store.Blobs.Put(Encoding.UTF8.GetBytes("garbage that must wait"));
        AgeEveryBlob();
        var done = Fs.Path.Combine(Store.AttemptDir(PipelineScenario.FlowName, run, "Middle", "2", 0), "done.json");
        Fs.File.WriteAllText(done, "{\"status\":\"succ"); // torn by a power cut: it may name any blob

        var plan = new GarbageCollector(Store).Plan(new RetentionRules(Grace: TimeSpan.Zero));

        plan.Blobs.ShouldBeEmpty();
        plan.Blocking.ShouldHaveSingleItem().Path.ShouldBe(done);
        new GarbageCollector(Store).Execute(plan);
        Store.Blobs.Exists(orphan).ShouldBeTrue();
    }

    [Fact]
    public void Gc_ARunWithTasksButNoRunJson_IsKeptWithItsBlobs()
    {
        var runs = new SyntheticRuns(Store);
        var id = runs.AddRun(PipelineScenario.FlowName, 0, status: "failed");
        var value = runs.Artifact("only this run names me");
        runs.AddAttempt(PipelineScenario.FlowName, id, "Start", "1", artifacts: new Dictionary<string, ArtifactRef> { ["X"] = value });
        runs.AddRun(PipelineScenario.FlowName, 10); // the latest successful run, kept anyway
        Fs.File.Delete(Fs.Path.Combine(Store.RunDir(PipelineScenario.FlowName, id), "run.json"));
        AgeEveryBlob();
        Fs.Directory.SetLastWriteTimeUtc(Store.RunDir(PipelineScenario.FlowName, id), LongAgo);

        var gc = new GarbageCollector(Store);
        gc.Execute(gc.Plan(new RetentionRules(KeepLast: 0, Grace: TimeSpan.Zero)));

        Fs.Directory.Exists(Fs.Path.Combine(Store.RunDir(PipelineScenario.FlowName, id), "steps")).ShouldBeTrue();
        Store.Blobs.Exists(value.Sha).ShouldBeTrue();
        new DatastoreInspector(Store).Take().Problems.ShouldContain(p => p.What.Contains("no run.json"));
    }

    [Fact]
    public void Repair_ADamagedBlobSharedByTwoRuns_MarksTheTasksOfBoth_AndNamesTheParameterThatUsesIt()
    {
        var runs = new SyntheticRuns(Store);
        var shared = runs.Artifact("one value, two runs");
        var first = runs.AddRun(PipelineScenario.FlowName, 0, parameters: new Dictionary<string, ArtifactRef> { ["Count"] = shared });
        runs.AddAttempt(PipelineScenario.FlowName, first, "Start", "1", artifacts: new Dictionary<string, ArtifactRef> { ["X"] = shared });
        var second = runs.AddRun(PipelineScenario.FlowName, 10);
        runs.AddAttempt(PipelineScenario.FlowName, second, "Start", "1", artifacts: new Dictionary<string, ArtifactRef> { ["X"] = shared });
        _scenario.CorruptBlob(shared.Sha);
        var inspector = new DatastoreInspector(Store);
        var scoped = inspector.Take(PipelineScenario.FlowName, second);
        var damaged = inspector.Verify(scoped.Uses);
        damaged.Keys.ShouldBe([shared.Sha]);

        var everywhere = inspector.Take();
        inspector.Repair(damaged, everywhere.Uses, scoped.Problems).Marked.ShouldBe(2);

        Fs.File.Exists(Fs.Path.Combine(runs.AttemptDir(PipelineScenario.FlowName, first, "Start", "1"), "damaged.json")).ShouldBeTrue("the other run's task uses the blob too");
        Fs.File.Exists(Fs.Path.Combine(runs.AttemptDir(PipelineScenario.FlowName, second, "Start", "1"), "damaged.json")).ShouldBeTrue();
        everywhere.Uses.ShouldContain(u => u.Sha == shared.Sha && u.AttemptDir == null && u.User.EndsWith("parameter Count", StringComparison.Ordinal));
    }

    [Fact]
    public void Repair_ATornDoneJson_SetsItAside_SoTheAttemptReadsAsUnfinishedAndGcCanCollectAgain()
    {
        var runs = new SyntheticRuns(Store);
        var id = runs.AddRun(PipelineScenario.FlowName, 0);
        runs.AddAttempt(PipelineScenario.FlowName, id, "Start", "1", artifacts: new Dictionary<string, ArtifactRef> { ["X"] = runs.Artifact(1) });
        var done = Fs.Path.Combine(runs.AttemptDir(PipelineScenario.FlowName, id, "Start", "1"), "done.json");
        Fs.File.WriteAllText(done, string.Empty);
        var inspector = new DatastoreInspector(Store);
        var inventory = inspector.Take();
        inventory.Problems.ShouldHaveSingleItem().Repairable.ShouldBeTrue();

        inspector.Repair(new Dictionary<string, string>(), inventory.Uses, inventory.Problems).RecordsMoved.ShouldBe(1);

        Fs.File.Exists(done).ShouldBeFalse();
        Store.ReadAttemptDone(Fs.Path.GetDirectoryName(done)!).ShouldBeNull();
        inspector.Take().Problems.ShouldBeEmpty();
        new GarbageCollector(Store).Plan(new RetentionRules()).Blocking.ShouldBeEmpty();
    }

    [Fact]
    public void TornRecords_ReadAsAnUnfinishedAttempt_WithOneWarningPerFile()
    {
        var warnings = new List<string>();
        Store.Warn = warnings.Add;
        var runs = new SyntheticRuns(Store);
        var id = runs.AddRun(PipelineScenario.FlowName, 0);
        runs.AddAttempt(PipelineScenario.FlowName, id, "Start", "1");
        var dir = runs.AttemptDir(PipelineScenario.FlowName, id, "Start", "1");
        Fs.File.WriteAllText(Fs.Path.Combine(dir, "done.json"), "{\"status\":\"succeeded\",\"fini");

        Store.ReadAttemptDone(dir).ShouldBeNull();
        Store.ReadAttemptDone(dir).ShouldBeNull();
        runs.Run(PipelineScenario.FlowName, id)["Start"].Task.Finished.ShouldBeFalse();

        warnings.ShouldHaveSingleItem().ShouldContain("done.json is damaged");
    }

    [Fact]
    public void IndexAppends_FromManyWritersAtOnce_NeverLoseOrInterleaveALine()
    {
        const int writers = 6;
        const int runsEach = 40;
        var stores = Enumerable.Range(0, writers).Select(_ => OtherProcess()).ToList();
        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
        {
            for (var i = 0; i < runsEach; i++)
            {
                var at = DateTimeOffset.UtcNow;
                var id = stores[w].CreateRun(PipelineScenario.FlowName, at);
                stores[w].WriteRun(SyntheticRuns.Record(PipelineScenario.FlowName, id, at, "w" + w));
                stores[w].WriteRunEnd(PipelineScenario.FlowName, id, new RunEndRecord(RunStates.Succeeded, at));
            }
        });

        var lines = Fs.File.ReadAllText(Fs.Path.Combine(Store.FlowDir(PipelineScenario.FlowName), RunIndex.FileName))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.ShouldAllBe(l => l.StartsWith('{') && l.EndsWith('}'), "no line is torn or interleaved");
        // The first run to find no index rebuilds it from the folders, so a run may have its line twice: harmless
        // (lines merge); a run without its line would not be.
        string RunOf(string line) => System.Text.Json.JsonDocument.Parse(line).RootElement.GetProperty("run").GetString()!;
        lines.Where(l => l.Contains("\"startedAt\"", StringComparison.Ordinal)).Select(RunOf).Distinct().Count().ShouldBe(writers * runsEach);
        lines.Where(l => l.Contains("\"end\"", StringComparison.Ordinal)).Select(RunOf).Distinct().Count().ShouldBe(writers * runsEach);
    }

    [Fact]
    public void TagChanges_FromManyWritersAtOnce_AllLand()
    {
        var runs = new SyntheticRuns(Store);
        var id = runs.AddRun(PipelineScenario.FlowName, 0);
        const int writers = 4;
        const int tagsEach = 6;
        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
        {
            var client = FlowClient.GetFlow(OtherProcess(), PipelineScenario.FlowName).GetRun(id);
            for (var i = 0; i < tagsEach; i++)
            {
                client.AddTags($"w{w}-t{i}");
            }
        });

        Store.ReadTags(PipelineScenario.FlowName, id).Count.ShouldBe(writers * tagsEach);
        RunIndex.Read(Store, PipelineScenario.FlowName).Single(e => e.Id == id).Tags.Count.ShouldBe(writers * tagsEach, "the index's last tags line is the full set");
    }
}

/// <summary>A code snapshot folder as the build writes it: a tar of the files and its manifest.</summary>
internal static class SnapshotFixture
{
    public static string Write(string dir, params (string Path, string Text)[] files)
    {
        Directory.CreateDirectory(dir);
        var entries = files.Select(f => (f.Path, Bytes: Encoding.UTF8.GetBytes(f.Text))).ToList();
        var manifest = new StringBuilder("{\"format\":1,\"sdkVersion\":\"0.0.0\",\"assembly\":\"App.dll\",\"projectPath\":\"App.csproj\",\"files\":[");
        manifest.AppendJoin(",", entries.Select(e => $"{{\"path\":\"{e.Path}\",\"sha\":\"{BlobStore.Hash(e.Bytes)}\",\"size\":{e.Bytes.Length}}}"));
        manifest.Append("],\"flows\":[]}");
        var manifestBytes = Encoding.UTF8.GetBytes(manifest.ToString());
        File.WriteAllBytes(Path.Combine(dir, SnapshotManifest.FileName), manifestBytes);
        using (var tar = File.Create(Path.Combine(dir, BlobStore.Hash(manifestBytes) + ".tar")))
        using (var writer = new System.Formats.Tar.TarWriter(tar))
        {
            foreach (var (path, bytes) in entries)
            {
                var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, path) { DataStream = new MemoryStream(bytes) };
                writer.WriteEntry(entry);
            }
        }
        return dir;
    }
}
