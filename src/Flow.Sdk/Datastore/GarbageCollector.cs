namespace Flow.Sdk.Datastore;

/// <summary>Which runs <c>gc</c> keeps. A run is kept when any rule keeps it; with no rule, every run is kept.</summary>
/// <param name="KeepLast">Keep the newest N runs of each flow.</param>
/// <param name="KeepDays">Keep runs started within the last D days.</param>
/// <param name="KeepTags">Keep runs carrying any of these tags (user or system tags).</param>
/// <param name="Flow">Only this flow's runs may be removed (blobs are shared, so they are collected store-wide).</param>
/// <param name="Grace">Blobs, code folders and claims younger than this are never collected (default <see cref="GarbageCollector.Grace"/>).</param>
internal sealed record RetentionRules(int? KeepLast = null, double? KeepDays = null, IReadOnlyList<string>? KeepTags = null, string? Flow = null, TimeSpan? Grace = null)
{
    public bool RemovesRuns => KeepLast is not null || KeepDays is not null || KeepTags is { Count: > 0 };
}

/// <summary>What a <c>gc</c> removes, and why each run goes.</summary>
internal sealed record GcPlan(
    IReadOnlyList<(string Flow, string Run, string Why)> Runs,
    int KeptRuns,
    IReadOnlyList<(string Sha, long Bytes)> Blobs,
    IReadOnlyList<(string Path, long Bytes)> Other,
    DateTime Cutoff,
    long RunBytes)
{
    public long FreedBytes => Blobs.Sum(b => b.Bytes) + Other.Sum(o => o.Bytes) + RunBytes;
}

/// <summary>
/// Collects what no kept run reaches: removed runs' records, then every blob that no remaining run references
/// (parameters, artifacts of every attempt, foreach item lists, items and frames, code snapshots), code folders of
/// snapshots no run uses, and temp files left by crashed writers.
/// </summary>
/// <remarks>
/// Safe beside running flows (docs/datastore.md, "gc"): running runs are always kept; a writer refreshes the time
/// of every blob it reuses (<see cref="BlobStore.Reuse"/>) and writes new ones with a fresh time, and gc never
/// removes a blob modified after the cutoff — the oldest start of a running run, and never later than
/// <see cref="Grace"/> before gc started — so a blob a task is about to reference survives even before the task's
/// <c>done.json</c> names it. A blob is moved aside before it is deleted and put back if it was reused meanwhile.
/// </remarks>
internal sealed class GarbageCollector(FlowDatastore store)
{
    /// <summary>Blobs and temp files younger than this are never collected (a writer may not have referenced them yet).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(15);

    public GcPlan Plan(RetentionRules rules, DateTime? now = null)
    {
        var fs = store.FileSystem;
        var started = now ?? DateTime.UtcNow;
        var cutoff = started - (rules.Grace ?? Grace);
        var removed = new List<(string Flow, string Run, string Why)>();
        var kept = 0;
        var keptRuns = new List<(string Flow, string Run)>();
        var snapshots = new HashSet<string>(StringComparer.Ordinal);
        foreach (var flow in store.ListFlows())
        {
            var latestSuccessful = (string?)null;
            var runs = store.ListRuns(flow);
            for (var i = 0; i < runs.Count; i++)
            {
                var run = new RunInfo(store, flow, runs[i]);
                var record = store.ReadRun(flow, runs[i]);
                var status = run.Status;
                if (status == "running" && record is not null)
                {
                    cutoff = Min(cutoff, record.StartedAt.UtcDateTime - TimeSpan.FromMinutes(1));
                }
                var keep = Keeps(rules, flow, i, record, status, ref latestSuccessful, runs[i], started);
                if (keep is null)
                {
                    keptRuns.Add((flow, runs[i]));
                    if (record is not null)
                    {
                        snapshots.Add(record.Snapshot);
                    }
                    kept++;
                }
                else
                {
                    removed.Add((flow, runs[i], keep));
                }
            }
        }

        var reachable = new HashSet<string>(StringComparer.Ordinal);
        var inspector = new DatastoreInspector(store);
        foreach (var (flow, run) in keptRuns)
        {
            foreach (var use in inspector.Uses(flow, run))
            {
                reachable.Add(use.Sha);
            }
        }

        var blobs = new List<(string Sha, long Bytes)>();
        var blobRoot = fs.Path.Combine(store.Root, "blobs");
        if (fs.Directory.Exists(blobRoot))
        {
            foreach (var file in fs.Directory.EnumerateFiles(blobRoot, "*", SearchOption.AllDirectories))
            {
                var sha = fs.Path.GetFileName(file);
                if (!BlobStore.IsKey(sha) || reachable.Contains(sha))
                {
                    continue;
                }
                var info = fs.FileInfo.New(file);
                if (info.LastWriteTimeUtc < cutoff)
                {
                    blobs.Add((sha, info.Length));
                }
            }
        }

        var other = new List<(string Path, long Bytes)>();
        var code = fs.Path.Combine(store.Root, "code");
        if (fs.Directory.Exists(code))
        {
            foreach (var dir in fs.Directory.EnumerateDirectories(code))
            {
                if (!snapshots.Contains(fs.Path.GetFileName(dir)) && fs.DirectoryInfo.New(dir).LastWriteTimeUtc < cutoff)
                {
                    other.Add((dir, DirectorySize(dir)));
                }
            }
        }
        if (fs.Directory.Exists(store.TmpDir))
        {
            foreach (var file in fs.Directory.EnumerateFiles(store.TmpDir))
            {
                var info = fs.FileInfo.New(file);
                if (info.LastWriteTimeUtc < started - TimeSpan.FromDays(1))
                {
                    other.Add((file, info.Length));
                }
            }
        }
        foreach (var flow in store.ListFlows())
        {
            // A run id claimed by a run that never wrote its record (killed in its first milliseconds).
            foreach (var dir in fs.Directory.EnumerateDirectories(store.FlowDir(flow)))
            {
                if (!fs.File.Exists(fs.Path.Combine(dir, "run.json")) && fs.DirectoryInfo.New(dir).LastWriteTimeUtc < cutoff && !dir.EndsWith(".index", StringComparison.Ordinal))
                {
                    other.Add((dir, DirectorySize(dir)));
                }
            }
        }
        return new GcPlan(removed, kept, blobs, other, cutoff, removed.Sum(r => DirectorySize(store.RunDir(r.Flow, r.Run))));
    }

    /// <summary>Removes what the plan names: runs first (each disappears at once), then blobs and the rest.</summary>
    /// <returns>The bytes freed.</returns>
    public long Execute(GcPlan plan)
    {
        var fs = store.FileSystem;
        foreach (var (flow, run, _) in plan.Runs)
        {
            RemoveDirectory(store.RunDir(flow, run));
        }
        var freed = plan.RunBytes;
        foreach (var (sha, bytes) in plan.Blobs)
        {
            var path = store.Blobs.PathOf(sha);
            var aside = AtomicFile.TempPath(fs, store.TmpDir);
            try
            {
                fs.File.Move(path, aside);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                continue;
            }
            if (fs.File.GetLastWriteTimeUtc(aside) >= plan.Cutoff)
            {
                // Reused by a writer between the plan and now: it goes back.
                AtomicFile.Publish(fs, aside, path, overwrite: false);
                continue;
            }
            fs.File.Delete(aside);
            freed += bytes;
        }
        foreach (var (path, bytes) in plan.Other)
        {
            if (fs.Directory.Exists(path))
            {
                RemoveDirectory(path);
            }
            else if (fs.File.Exists(path))
            {
                fs.File.Delete(path);
            }
            freed += bytes;
        }
        return freed;
    }

    /// <summary>Null when the run is kept; otherwise why it goes.</summary>
    private string? Keeps(RetentionRules rules, string flow, int index, RunRecord? record, string status, ref string? latestSuccessful, string run, DateTime now)
    {
        var firstSuccess = false;
        if (status == "succeeded" && latestSuccessful is null)
        {
            latestSuccessful = run;
            firstSuccess = true;
        }
        if (!rules.RemovesRuns || (rules.Flow is not null && rules.Flow != flow) || record is null)
        {
            return null;
        }
        if (status == "running" || firstSuccess)
        {
            return null; // running, or the flow's latest successful run (what other flows and scripts load)
        }
        if (rules.KeepLast is { } last && index < last)
        {
            return null;
        }
        if (rules.KeepDays is { } days && record.StartedAt.UtcDateTime >= now - TimeSpan.FromDays(days))
        {
            return null;
        }
        if (rules.KeepTags is { Count: > 0 } tags && record.SystemTags.Concat(store.ReadTags(flow, run)).Any(t => tags.Contains(t, StringComparer.Ordinal)))
        {
            return null;
        }
        return $"{status}, started {(now - record.StartedAt.UtcDateTime).TotalDays:0.#} days ago";
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private long DirectorySize(string dir) =>
        store.FileSystem.Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => store.FileSystem.FileInfo.New(f).Length);

    /// <summary>Renames the folder into <c>tmp/</c> first, so readers see it whole or not at all, then deletes it.</summary>
    private void RemoveDirectory(string dir)
    {
        var fs = store.FileSystem;
        if (!fs.Directory.Exists(dir))
        {
            return;
        }
        var aside = AtomicFile.TempPath(fs, store.TmpDir);
        fs.Directory.Move(dir, aside);
        fs.Directory.Delete(aside, recursive: true);
    }
}
