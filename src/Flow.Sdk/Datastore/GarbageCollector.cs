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
/// <param name="Runs">The runs to remove, with the reason.</param>
/// <param name="KeptRuns">How many runs stay.</param>
/// <param name="Blobs">The blobs to remove.</param>
/// <param name="Other">Code folders, claims, dead leases and old temp files to remove.</param>
/// <param name="Cutoff">Nothing modified after this is collected.</param>
/// <param name="RunBytes">The bytes the removed runs' folders hold.</param>
/// <param name="Blocking">Unreadable records that might name blobs: while there are any, no blob is collected.</param>
internal sealed record GcPlan(
    IReadOnlyList<(string Flow, string Run, string Why)> Runs,
    int KeptRuns,
    IReadOnlyList<(string Sha, long Bytes)> Blobs,
    IReadOnlyList<(string Path, long Bytes)> Other,
    DateTime Cutoff,
    long RunBytes,
    IReadOnlyList<RecordProblem> Blocking)
{
    public long FreedBytes => Blobs.Sum(b => b.Bytes) + Other.Sum(o => o.Bytes) + RunBytes;
}

/// <summary>
/// Collects what no kept run reaches: removed runs' records, then every blob that no remaining run references
/// (parameters, artifacts of every attempt, foreach item lists, items and frames, code snapshots), code folders of
/// snapshots no run uses, claims of runs that never started, dead writer leases and old temp files.
/// </summary>
/// <remarks>
/// Safe beside writers by a written protocol (docs/datastore.md, "Writers and gc"): every writer holds a lease
/// (<see cref="Lease"/>) and writes or touches each blob it will reference after taking it; gc reads the leases
/// first and never collects a blob modified after the start of a live lease or of a running run (nor within the
/// grace period), so a
/// blob a writer is about to reference survives even before its record names it. A blob is moved aside before it
/// is deleted and put back if a writer touched it in between. A record gc cannot read might name any blob: while
/// one exists, gc collects no blob at all (runs are still removed), and says so.
/// </remarks>
internal sealed class GarbageCollector(FlowDatastore store)
{
    /// <summary>Blobs and temp files younger than this are never collected (a writer may not have referenced them yet).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(15);

    /// <summary>Leeway for clocks of different machines writing one datastore (a shared file system).</summary>
    private static readonly TimeSpan s_clockSkew = TimeSpan.FromMinutes(1);

    public GcPlan Plan(RetentionRules rules, DateTime? now = null)
    {
        var fs = store.FileSystem;
        var started = now ?? DateTime.UtcNow;
        var other = new List<(string Path, long Bytes)>();

        // 1. Leases first: whatever a live writer touched after its lease began stays, whatever gc reads later.
        var cutoff = started - (rules.Grace ?? Grace);
        var (live, dead) = Lease.Scan(fs, store.Root, own: store.LeasePath);
        foreach (var leaseStart in live)
        {
            cutoff = Min(cutoff, leaseStart - s_clockSkew);
        }
        other.AddRange(dead.Select(d => (d, 0L)));

        // 2. Runs: which go, which stay.
        var removed = new List<(string Flow, string Run, string Why)>();
        var keptRuns = new HashSet<(string Flow, string Run)>();
        var snapshots = new HashSet<string>(StringComparer.Ordinal);
        foreach (var flow in store.ListFlows())
        {
            var latestSuccessful = (string?)null;
            var index = 0;
            foreach (var run in store.ListRunFolders(flow))
            {
                RunRecord? record;
                try
                {
                    record = store.ReadRun(flow, run);
                }
                catch (FlowException)
                {
                    keptRuns.Add((flow, run)); // damaged: nothing can be decided about it, so it stays
                    continue;
                }
                if (record is null)
                {
                    var dir = store.RunDir(flow, run);
                    if (store.ListSteps(flow, run).Count > 0)
                    {
                        keptRuns.Add((flow, run)); // tasks without a run record: verify reports it; its blobs stay
                    }
                    else if (fs.DirectoryInfo.New(dir).LastWriteTimeUtc < cutoff && !Heartbeat.IsAlive(fs, store.RunHeartbeatPath(flow, run)))
                    {
                        other.Add((dir, DirectorySize(dir))); // a claim of a run that never started
                    }
                    continue;
                }
                var status = store.RunStatus(flow, run);
                if (status == RunStates.Running)
                {
                    // Also for writers that hold no lease (an older SDK writing the same datastore): whatever a
                    // running run may have stored and not yet named is younger than its start.
                    cutoff = Min(cutoff, record.StartedAt.UtcDateTime - s_clockSkew);
                }
                var why = Keeps(rules, flow, index++, record, status, ref latestSuccessful, run, started);
                if (why is null)
                {
                    keptRuns.Add((flow, run));
                    snapshots.Add(record.Snapshot);
                }
                else
                {
                    removed.Add((flow, run, why));
                }
            }
        }

        // 3. Blobs: reachable from every run that stays; unreadable records block collection.
        var inventory = new DatastoreInspector(store).Take(include: (flow, run) => keptRuns.Contains((flow, run)));
        var reachable = inventory.Uses.Select(u => u.Sha).ToHashSet(StringComparer.Ordinal);
        var blocking = inventory.Problems.Where(p => p.MayReferenceBlobs).ToList();
        var blobs = new List<(string Sha, long Bytes)>();
        var blobRoot = fs.Path.Combine(store.Root, "blobs");
        if (blocking.Count == 0 && fs.Directory.Exists(blobRoot))
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

        // 4. Derivable and left-over files.
        var code = fs.Path.Combine(store.Root, "code");
        if (fs.Directory.Exists(code))
        {
            foreach (var dir in fs.Directory.EnumerateDirectories(code))
            {
                // A run reusing a materialized snapshot touches its .complete, so a starting run's folder stays.
                var complete = fs.FileInfo.New(fs.Path.Combine(dir, ".complete"));
                var touched = complete.Exists ? complete.LastWriteTimeUtc : fs.DirectoryInfo.New(dir).LastWriteTimeUtc;
                if (!snapshots.Contains(fs.Path.GetFileName(dir)) && touched < cutoff)
                {
                    other.Add((dir, DirectorySize(dir)));
                }
            }
        }
        if (fs.Directory.Exists(store.TmpDir))
        {
            foreach (var entry in fs.Directory.EnumerateFileSystemEntries(store.TmpDir))
            {
                var isDir = fs.Directory.Exists(entry);
                var modified = isDir ? fs.DirectoryInfo.New(entry).LastWriteTimeUtc : fs.FileInfo.New(entry).LastWriteTimeUtc;
                if (modified < started - TimeSpan.FromDays(1))
                {
                    other.Add((entry, isDir ? DirectorySize(entry) : fs.FileInfo.New(entry).Length));
                }
            }
        }
        return new GcPlan(removed, keptRuns.Count, blobs, other, cutoff, removed.Sum(r => DirectorySize(store.RunDir(r.Flow, r.Run))), blocking);
    }

    /// <summary>
    /// Removes what the plan names: runs first (each disappears at once), then blobs and the rest; then rewrites the
    /// run index of every flow that lost runs. <paramref name="removedRun"/> hears of each run once it is gone.
    /// </summary>
    /// <returns>The bytes freed.</returns>
    public long Execute(GcPlan plan, Action<string, string, string>? removedRun = null)
    {
        var fs = store.FileSystem;
        long freed = 0;
        foreach (var (flow, run, why) in plan.Runs)
        {
            var dir = store.RunDir(flow, run);
            var bytes = DirectorySize(dir);
            if (RemoveDirectory(dir))
            {
                freed += bytes;
                removedRun?.Invoke(flow, run, why);
            }
        }
        foreach (var flow in plan.Runs.Select(r => r.Flow).Distinct(StringComparer.Ordinal))
        {
            RunIndex.Compact(store, flow);
        }
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
                // Touched by a writer between the plan and now: it goes back.
                AtomicFile.Publish(fs, aside, path, overwrite: false);
                continue;
            }
            fs.File.Delete(aside);
            freed += bytes;
        }
        foreach (var (path, bytes) in plan.Other)
        {
            if (fs.Directory.Exists(path) && fs.File.Exists(fs.Path.Combine(path, ".complete")))
            {
                // A code folder: a run starting now may have touched it to execute from it. Aside, checked, back.
                var aside = AtomicFile.TempPath(fs, store.TmpDir);
                fs.Directory.Move(path, aside);
                if (fs.File.GetLastWriteTimeUtc(fs.Path.Combine(aside, ".complete")) >= plan.Cutoff)
                {
                    fs.Directory.Move(aside, path);
                    continue;
                }
                fs.Directory.Delete(aside, recursive: true);
            }
            else if (fs.Directory.Exists(path))
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
    private string? Keeps(RetentionRules rules, string flow, int index, RunRecord record, string status, ref string? latestSuccessful, string run, DateTime now)
    {
        var firstSuccess = false;
        if (status == RunStates.Succeeded && latestSuccessful is null)
        {
            latestSuccessful = run;
            firstSuccess = true;
        }
        if (!rules.RemovesRuns || (rules.Flow is not null && rules.Flow != flow))
        {
            return null;
        }
        if (status == RunStates.Running || firstSuccess)
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
        store.FileSystem.Directory.Exists(dir)
            ? store.FileSystem.Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => store.FileSystem.FileInfo.New(f).Length)
            : 0;

    /// <summary>Renames the folder into <c>tmp/</c> first, so readers see it whole or not at all, then deletes it.</summary>
    /// <returns>False when it was gone already.</returns>
    private bool RemoveDirectory(string dir)
    {
        var fs = store.FileSystem;
        if (!fs.Directory.Exists(dir))
        {
            return false;
        }
        var aside = AtomicFile.TempPath(fs, store.TmpDir);
        fs.Directory.Move(dir, aside);
        fs.Directory.Delete(aside, recursive: true);
        return true;
    }
}
