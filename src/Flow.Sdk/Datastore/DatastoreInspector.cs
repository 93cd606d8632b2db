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

/// <summary>
/// Walks what runs reference in a datastore (parameters, every attempt's artifacts, foreach item lists and items,
/// code snapshots) for <c>verify</c> and <c>du</c>; reads only records and, to verify, streams each blob once.
/// </summary>
internal sealed class DatastoreInspector(FlowDatastore store)
{
    /// <summary>Every blob reference of the runs in scope (all runs, a flow's, or one run).</summary>
    public List<BlobUse> Uses(string? flow = null, string? run = null)
    {
        var uses = new List<BlobUse>();
        foreach (var flowName in flow is null ? store.ListFlows() : [flow])
        {
            foreach (var runId in run is null ? store.ListRuns(flowName) : [run])
            {
                var record = store.ReadRun(flowName, runId);
                if (record is null)
                {
                    continue;
                }
                foreach (var (name, reference) in record.Parameters)
                {
                    uses.Add(new BlobUse(reference.Sha, reference.Size, $"{flowName}/{runId} parameter {name}", null, flowName, runId));
                }
                AddSnapshot(uses, flowName, runId, record.Snapshot);
                foreach (var step in store.ListSteps(flowName, runId))
                {
                    foreach (var task in store.ListTasks(flowName, runId, step))
                    {
                        foreach (var attempt in store.ListAttempts(flowName, runId, step, task))
                        {
                            var dir = store.AttemptDir(flowName, runId, step, task, attempt);
                            if (store.ReadAttemptDone(dir) is not { } done)
                            {
                                continue;
                            }
                            var who = $"{flowName}/{runId}/{step}/{task}{(attempt > 0 ? $" (attempt {attempt})" : "")}";
                            var order = long.TryParse(task, out var number) ? number : 0;
                            foreach (var (name, reference) in done.Artifacts)
                            {
                                uses.Add(new BlobUse(reference.Sha, reference.Size, $"{who} artifact {name}", dir, flowName, runId, order));
                            }
                            foreach (var frame in done.Position)
                            {
                                if (frame.Item is { } item)
                                {
                                    uses.Add(new BlobUse(item.Sha, 0, $"{who} foreach item of {frame.Step}", dir, flowName, runId, order));
                                }
                            }
                            if (done.ForEach is { } forEach)
                            {
                                uses.Add(new BlobUse(forEach.Items, 0, $"{who} foreach item list", dir, flowName, runId));
                                AddItems(uses, forEach.Items, who, dir, flowName, runId);
                            }
                        }
                    }
                }
            }
        }
        return uses;
    }

    private void AddSnapshot(List<BlobUse> uses, string flow, string run, string snapshot)
    {
        if (!BlobStore.IsKey(snapshot))
        {
            return;
        }
        uses.Add(new BlobUse(snapshot, 0, $"{flow}/{run} code snapshot manifest", null, flow, run));
        try
        {
            foreach (var file in SnapshotManifest.Parse(store.Blobs.Get(snapshot)).Files)
            {
                uses.Add(new BlobUse(file.Sha, file.Size, $"{flow}/{run} code file {file.Path}", null, flow, run));
            }
        }
        catch (Exception e) when (e is BlobCorruptException or JsonException)
        {
            // The manifest itself is reported as damaged by verify.
        }
    }

    private void AddItems(List<BlobUse> uses, string list, string who, string dir, string flow, string run)
    {
        try
        {
            var items = Json.Parse<ForEachItems>(store.Blobs.Get(list));
            for (var i = 0; i < items.Items.Count; i++)
            {
                uses.Add(new BlobUse(items.Items[i].Sha, items.Items[i].Size, $"{who} foreach item {i}", dir, flow, run));
            }
        }
        catch (Exception e) when (e is BlobCorruptException or JsonException)
        {
            // The list itself is reported as damaged by verify.
        }
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
    /// Moves damaged blobs aside (to <c>damaged/</c>) and marks every attempt that uses one with <c>damaged.json</c>,
    /// so resume recomputes those tasks instead of cloning them.
    /// </summary>
    public int Repair(IReadOnlyDictionary<string, string> damaged, IEnumerable<BlobUse> uses)
    {
        var fs = store.FileSystem;
        var aside = fs.Path.Combine(store.Root, "damaged");
        foreach (var sha in damaged.Keys)
        {
            var path = store.Blobs.PathOf(sha);
            if (fs.File.Exists(path))
            {
                fs.Directory.CreateDirectory(aside);
                fs.File.Move(path, fs.Path.Combine(aside, sha), overwrite: true);
            }
        }
        var marked = 0;
        foreach (var attempt in uses.Where(u => u.AttemptDir is not null && damaged.ContainsKey(u.Sha)).GroupBy(u => u.AttemptDir!))
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
            AtomicFile.WriteBytes(fs, store.TmpDir, fs.Path.Combine(attempt.Key, "damaged.json"), buffer.ToArray(), overwrite: true);
            marked++;
        }
        return marked;
    }

    /// <summary>The size of a blob's file on disk (compressed or raw), or 0 when it is missing.</summary>
    public long StoredSize(string sha)
    {
        var info = store.FileSystem.FileInfo.New(store.Blobs.PathOf(sha));
        return info.Exists ? info.Length : 0;
    }
}
