using System.Text.Json;

namespace Flow.Sdk.Datastore;

/// <summary>One reference to a blob: which blob, how big its content is, and who uses it (for messages).</summary>
/// <param name="Sha">The blob key.</param>
/// <param name="Size">The uncompressed size the reference records.</param>
/// <param name="User">What uses it: <c>Flow/run/Step/task artifact X</c>, <c>Flow/run parameter X</c>, ...</param>
/// <param name="AttemptDir">The attempt that uses it, when a task does.</param>
/// <param name="Flow">The flow.</param>
/// <param name="Run">The run.</param>
/// <param name="Task">The task id that uses it (0 for the run's own records), to list the first user first.</param>
internal sealed record BlobUse(string Sha, long Size, string User, string? AttemptDir, string Flow, string Run, long Task = 0);

/// <summary>A record that exists but cannot be read, or a run that has data but no record.</summary>
/// <param name="Path">The file (or run folder).</param>
/// <param name="Flow">The flow.</param>
/// <param name="Run">The run.</param>
/// <param name="What">One line: what is wrong and how to fix it.</param>
/// <param name="MayReferenceBlobs">Whether it might name blobs nobody else names: gc then collects no blob at all.</param>
/// <param name="Repairable">Whether <c>verify --repair</c> can set it aside (the attempt then reads as unfinished).</param>
internal sealed record RecordProblem(string Path, string Flow, string Run, string What, bool MayReferenceBlobs, bool Repairable);

/// <summary>What runs reference, and the records that could not be read while finding out.</summary>
/// <param name="Uses">Every blob reference found.</param>
/// <param name="Problems">Unreadable records and runs without a record.</param>
/// <param name="Runs">The runs looked at (flow, run id).</param>
internal sealed record Inventory(List<BlobUse> Uses, List<RecordProblem> Problems, List<(string Flow, string Run)> Runs);

/// <summary>
/// Walks what runs reference in a datastore (parameters, every attempt's artifacts, foreach item lists and items,
/// code snapshots) for <c>verify</c>, <c>du</c> and <c>gc</c>; reads only records and, to verify, streams each blob
/// once. A record that cannot be read is reported, never skipped silently: gc must not collect what it might name.
/// </summary>
internal sealed class DatastoreInspector(FlowDatastore store)
{
    /// <summary>Every blob reference of the runs in scope (all runs, a flow's, or one run), with the problems met.</summary>
    public Inventory Take(string? flow = null, string? run = null, Func<string, string, bool>? include = null)
    {
        var inventory = new Inventory([], [], []);
        foreach (var flowName in flow is null ? store.ListFlows() : [flow])
        {
            foreach (var runId in run is null ? store.ListRunFolders(flowName) : [run])
            {
                if (include is null || include(flowName, runId))
                {
                    AddRun(inventory, flowName, runId);
                }
            }
        }
        return inventory;
    }

    private void AddRun(Inventory inventory, string flow, string runId)
    {
        var fs = store.FileSystem;
        var runDir = store.RunDir(flow, runId);
        var steps = store.ListSteps(flow, runId);
        RunRecord? record;
        try
        {
            record = store.ReadRun(flow, runId);
        }
        catch (FlowException)
        {
            inventory.Problems.Add(new RecordProblem(fs.Path.Combine(runDir, "run.json"), flow, runId,
                $"run {flow}/{runId} has a damaged run.json (its parameters and code cannot be read); restore the file, or remove the run folder {runDir}",
                MayReferenceBlobs: true, Repairable: false));
            record = null;
        }
        if (record is null && steps.Count == 0)
        {
            return; // a claimed id whose run never started (or is starting now): nothing references anything yet
        }
        if (record is null && fs.File.Exists(fs.Path.Combine(runDir, "run.json")) is false)
        {
            inventory.Problems.Add(new RecordProblem(runDir, flow, runId,
                $"run {flow}/{runId} has tasks but no run.json (its parameters and code are unknown); restore run.json, or remove the run folder {runDir}",
                MayReferenceBlobs: false, Repairable: false));
        }
        inventory.Runs.Add((flow, runId));
        if (record is not null)
        {
            foreach (var (name, reference) in record.Parameters)
            {
                inventory.Uses.Add(new BlobUse(reference.Sha, reference.Size, $"{flow}/{runId} parameter {name}", null, flow, runId));
            }
            AddSnapshot(inventory, flow, runId, record.Snapshot);
        }
        foreach (var step in steps)
        {
            foreach (var task in store.ListTasks(flow, runId, step))
            {
                foreach (var attempt in store.ListAttempts(flow, runId, step, task))
                {
                    AddAttempt(inventory, flow, runId, step, task, attempt);
                }
            }
        }
    }

    private void AddAttempt(Inventory inventory, string flow, string runId, string step, string task, int attempt)
    {
        var fs = store.FileSystem;
        var dir = store.AttemptDir(flow, runId, step, task, attempt);
        var who = $"{flow}/{runId}/{step}/{task}{(attempt > 0 ? $" (attempt {attempt})" : "")}";
        var donePath = fs.Path.Combine(dir, "done.json");
        if (store.IsDamaged<AttemptDoneRecord>(donePath))
        {
            inventory.Problems.Add(new RecordProblem(donePath, flow, runId,
                $"{who} has a damaged done.json (torn by a crash or edited); 'dotnet flow verify --repair' sets it aside so the task reads as unfinished and resume runs it again",
                MayReferenceBlobs: true, Repairable: true));
            return;
        }
        var startPath = fs.Path.Combine(dir, "started.json");
        if (store.IsDamaged<AttemptStartRecord>(startPath))
        {
            inventory.Problems.Add(new RecordProblem(startPath, flow, runId,
                $"{who} has a damaged started.json; 'dotnet flow verify --repair' sets it aside",
                MayReferenceBlobs: false, Repairable: true));
        }
        if (store.ReadRecord<AttemptDoneRecord>(donePath, tolerateDamage: true) is not { } done)
        {
            return;
        }
        var order = long.TryParse(task, out var number) ? number : 0;
        foreach (var (name, reference) in done.Artifacts)
        {
            inventory.Uses.Add(new BlobUse(reference.Sha, reference.Size, $"{who} artifact {name}", dir, flow, runId, order));
        }
        foreach (var frame in done.Position)
        {
            if (frame.Item is { } item)
            {
                inventory.Uses.Add(new BlobUse(item.Sha, 0, $"{who} foreach item of {frame.Step}", dir, flow, runId, order));
            }
        }
        if (done.ForEach is { } forEach)
        {
            inventory.Uses.Add(new BlobUse(forEach.Items, 0, $"{who} foreach item list", dir, flow, runId, order));
            AddItems(inventory, forEach.Items, who, dir, flow, runId, order);
        }
    }

    private void AddSnapshot(Inventory inventory, string flow, string run, string snapshot)
    {
        if (!BlobStore.IsKey(snapshot))
        {
            return;
        }
        inventory.Uses.Add(new BlobUse(snapshot, 0, $"{flow}/{run} code snapshot manifest", null, flow, run));
        try
        {
            foreach (var file in SnapshotManifest.Parse(store.Blobs.Get(snapshot)).Files)
            {
                inventory.Uses.Add(new BlobUse(file.Sha, file.Size, $"{flow}/{run} code file {file.Path}", null, flow, run));
            }
        }
        catch (Exception e) when (e is BlobCorruptException or JsonException)
        {
            Unreadable(inventory, snapshot, $"the code snapshot manifest of {flow}/{run}", flow, run, e);
        }
    }

    private void AddItems(Inventory inventory, string list, string who, string dir, string flow, string run, long order)
    {
        try
        {
            var items = Json.Parse<ForEachItems>(store.Blobs.Get(list));
            for (var i = 0; i < items.Items.Count; i++)
            {
                inventory.Uses.Add(new BlobUse(items.Items[i].Sha, items.Items[i].Size, $"{who} foreach item {i}", dir, flow, run, order));
            }
        }
        catch (Exception e) when (e is BlobCorruptException or JsonException)
        {
            Unreadable(inventory, list, $"the foreach item list of {who}", flow, run, e);
        }
    }

    /// <summary>
    /// A blob whose content names other blobs could not be read. Missing, it names nothing any more (verify reports
    /// the blob itself); present but damaged, it might name blobs nothing else names, so gc must keep every blob.
    /// </summary>
    private void Unreadable(Inventory inventory, string sha, string what, string flow, string run, Exception e)
    {
        if (e is BlobCorruptException { Missing: true })
        {
            return;
        }
        inventory.Problems.Add(new RecordProblem(store.Blobs.PathOf(sha), flow, run,
            $"{what} (blob {sha[..12]}) cannot be read: {e.Message}; 'dotnet flow verify --repair' sets it aside and marks the tasks that use it",
            MayReferenceBlobs: true, Repairable: true));
    }

    /// <summary>Reads every used blob once, to its end (bounded memory); returns the damaged ones and why.</summary>
    public Dictionary<string, string> Verify(IEnumerable<BlobUse> uses)
    {
        var damaged = new Dictionary<string, string>(StringComparer.Ordinal);
        var buffer = new byte[1 << 20];
        foreach (var sha in uses.Select(u => u.Sha).Distinct(StringComparer.Ordinal))
        {
            try
            {
                using var stream = store.Blobs.OpenRead(sha);
                while (stream.Read(buffer) > 0)
                {
                }
            }
            catch (BlobCorruptException e)
            {
                damaged[sha] = e.Message;
            }
        }
        return damaged;
    }

    /// <summary>
    /// Sets damage aside so resume recomputes it: damaged blobs move to <c>damaged/</c>, and every attempt of every
    /// run that uses one (<paramref name="allUses"/>: the whole datastore's, since blobs are shared) gets
    /// <c>damaged.json</c>; unreadable attempt records move to <c>damaged/records/</c>, so their attempts read as
    /// unfinished.
    /// </summary>
    /// <returns>The attempts marked and the records set aside.</returns>
    public (int Marked, int RecordsMoved) Repair(IReadOnlyDictionary<string, string> damaged, IEnumerable<BlobUse> allUses, IEnumerable<RecordProblem> problems)
    {
        var fs = store.FileSystem;
        foreach (var sha in damaged.Keys)
        {
            var path = store.Blobs.PathOf(sha);
            if (fs.File.Exists(path))
            {
                fs.Directory.CreateDirectory(store.DamagedDir);
                fs.File.Move(path, fs.Path.Combine(store.DamagedDir, sha), overwrite: true);
            }
        }
        var marked = 0;
        foreach (var attempt in allUses.Where(u => u.AttemptDir is not null && damaged.ContainsKey(u.Sha)).GroupBy(u => u.AttemptDir!))
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteStartArray("damaged");
                foreach (var use in attempt)
                {
                    json.WriteStringValue($"{use.User}: {damaged[use.Sha]}");
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            AtomicFile.WriteBytes(fs, store.TmpDir, fs.Path.Combine(attempt.Key, "damaged.json"), buffer.ToArray(), overwrite: true, durable: true);
            marked++;
        }
        var moved = 0;
        foreach (var problem in problems.Where(p => p.Repairable && fs.File.Exists(p.Path) && p.Path.StartsWith(store.FlowsDir, StringComparison.Ordinal)))
        {
            var target = fs.Path.Combine(store.DamagedDir, "records", fs.Path.GetRelativePath(store.FlowsDir, problem.Path));
            fs.Directory.CreateDirectory(fs.Path.GetDirectoryName(target)!);
            fs.File.Move(problem.Path, target, overwrite: true);
            moved++;
        }
        return (marked, moved);
    }

    /// <summary>The size of a blob's file on disk (compressed or raw), or 0 when it is missing.</summary>
    public long StoredSize(string sha)
    {
        var info = store.FileSystem.FileInfo.New(store.Blobs.PathOf(sha));
        return info.Exists ? info.Length : 0;
    }
}
