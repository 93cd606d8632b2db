using System.IO.Abstractions;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Flow.Sdk.Datastore;

/// <summary>
/// The one library that reads and writes a <c>.flow</c> datastore: its format version, its layout, runs, task
/// attempts and blobs. The layout and the protocols between its writers are documented in <c>docs/datastore.md</c>.
/// </summary>
internal sealed partial class FlowDatastore
{
    /// <summary>The format version this SDK writes and the newest it reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The longest run, task or flow name that becomes a path segment.</summary>
    public const int MaxNameLength = 128;

    private readonly Lock _leaseGate = new();
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private Lease? _lease;
    private bool _leaseTaken;

    private FlowDatastore(IFileSystem fs, string root)
    {
        FileSystem = fs;
        Root = root;
        TmpDir = fs.Path.Combine(root, "tmp");
        Blobs = new BlobStore(fs, root, Protect);
    }

    public IFileSystem FileSystem { get; }

    public string Root { get; }

    public BlobStore Blobs { get; }

    public string TmpDir { get; }

    /// <summary>Gets or sets where warnings about damaged records go (default: standard error).</summary>
    public Action<string> Warn { get; set; } = message => Console.Error.WriteLine("warning: " + message);

    /// <summary>Opens a datastore, creating it when <paramref name="create"/> is set and it does not exist.</summary>
    public static FlowDatastore Open(IFileSystem fs, string root, bool create)
    {
        if (fs.File.Exists(root))
        {
            throw new FlowException($"The datastore path {root} is a file, not a folder; point --datastore (or FLOW_DATASTORE) at a .flow folder.");
        }
        var formatFile = fs.Path.Combine(root, "format.json");
        if (fs.File.Exists(formatFile))
        {
            CheckFormat(fs, root, formatFile);
            var existing = new FlowDatastore(fs, root);
            if (create && !existing.IsWritable())
            {
                // A writer (run, resume) learns it now, before it imports a snapshot or claims a run id.
                throw new FlowException(
                    $"The datastore {root} is read-only for this user: a run cannot be recorded there (nothing was changed); run as a user who can write there, or pass --datastore DIR.",
                    ExitCodes.Failure);
            }
            return existing;
        }
        var exists = fs.Directory.Exists(root);
        if (exists)
        {
            try
            {
                _ = fs.Directory.EnumerateFileSystemEntries(root).Any();
            }
            catch (UnauthorizedAccessException)
            {
                // format.json is there or not: this user cannot even look.
                throw new FlowException($"The datastore folder {root} is not readable by this user; fix its permissions or point --datastore elsewhere.", ExitCodes.Failure);
            }
        }
        if (exists && LooksLikeADatastore(fs, root))
        {
            if (fs.File.Exists(formatFile))
            {
                // Another writer created the datastore between the first look and this one (runs started at once on
                // a new datastore): it is whole now.
                return Open(fs, root, create);
            }
            throw new FlowException(
                $"The datastore at {root} has runs or blobs but no format.json: it is damaged; restore format.json (its content is {{\"format\":{FormatVersion}}}) or point --datastore elsewhere.",
                ExitCodes.Failure);
        }
        if (!create)
        {
            throw new FlowException($"No datastore at {root}: run a flow first (dotnet flow run) or pass --datastore DIR.", ExitCodes.Usage);
        }
        if (exists && fs.Directory.EnumerateFileSystemEntries(root).Select(fs.Path.GetFileName).Any(name => !s_layoutNames.Contains(name!)))
        {
            throw new FlowException($"{root} is not empty and is not a datastore; point --datastore at a new or empty folder, or at an existing .flow folder.");
        }
        try
        {
            fs.Directory.CreateDirectory(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            for (var up = fs.Path.GetDirectoryName(root); up is not null; up = fs.Path.GetDirectoryName(up))
            {
                if (fs.File.Exists(up))
                {
                    throw new FlowException($"Cannot create the datastore {root}: {up} is a file, not a folder; point --datastore at a folder.", ExitCodes.Usage, e);
                }
            }
            throw new FlowException($"Cannot create the datastore {root}: {e.Message.TrimEnd('.')}; choose a writable folder with --datastore.", ExitCodes.Usage, e);
        }
        var store = new FlowDatastore(fs, root);
        store.WriteRecord(formatFile, new FormatRecord(FormatVersion, "Flow.Sdk " + SdkInfo.Version), overwrite: false, durable: true);
        FileSync.Path(fs, root);
        return store;
    }

    private static void CheckFormat(IFileSystem fs, string root, string formatFile)
    {
        FormatRecord? format;
        try
        {
            format = Json.Parse<FormatRecord>(fs.File.ReadAllBytes(formatFile));
        }
        catch (JsonException)
        {
            throw new FlowException($"The datastore at {root} has an unreadable format.json; restore it (its content is {{\"format\":{FormatVersion}}}) or point --datastore elsewhere.", ExitCodes.Failure);
        }
        catch (UnauthorizedAccessException)
        {
            throw new FlowException($"The datastore at {root} is not readable by this user (format.json); fix its permissions or point --datastore elsewhere.", ExitCodes.Failure);
        }
        if (format.Format < 1)
        {
            throw new FlowException($"The datastore at {root} has format version {format.Format}, which no version of dotnet flow writes; restore its format.json (its content is {{\"format\":{FormatVersion}}}).", ExitCodes.Failure);
        }
        if (format.Format > FormatVersion)
        {
            throw new FlowException(
                $"The datastore at {root} has format version {format.Format}, newer than this dotnet flow reads ({FormatVersion}); update dotnet flow and Flow.Sdk.",
                ExitCodes.Usage);
        }
    }

    /// <summary>What a datastore's root holds; a folder with anything else is not one (another process may be creating one).</summary>
    private static readonly HashSet<string> s_layoutNames = new(StringComparer.Ordinal) { "format.json", "tmp", "blobs", "runs", "code", Lease.FolderName, "damaged" };

    private static bool LooksLikeADatastore(IFileSystem fs, string root) =>
        fs.Directory.Exists(fs.Path.Combine(root, "runs")) || fs.Directory.Exists(fs.Path.Combine(root, "blobs"));

    // ---- writers and gc --------------------------------------------------------------------------------------

    /// <summary>
    /// Takes this process's writer lease (once) before its first write: <c>gc</c> never collects a blob written or
    /// touched after the start of a live lease (docs/datastore.md, "Writers and gc").
    /// </summary>
    public void Protect()
    {
        lock (_leaseGate)
        {
            if (!_leaseTaken)
            {
                _leaseTaken = true;
                _lease = Lease.Take(FileSystem, Root);
            }
        }
    }

    /// <summary>Gives the lease up (the process is about to end abruptly; a normal exit releases it by itself).</summary>
    public void ReleaseLease()
    {
        lock (_leaseGate)
        {
            _lease?.Dispose();
        }
    }

    /// <summary>Gets this process's lease file, or null when it has written nothing.</summary>
    public string? LeasePath => _lease?.Path;

    /// <summary>Whether a file can be created here; gc and repairs check before they announce anything.</summary>
    public bool IsWritable()
    {
        try
        {
            FileSystem.Directory.CreateDirectory(TmpDir);
            var probe = AtomicFile.TempPath(FileSystem, TmpDir);
            FileSystem.File.WriteAllBytes(probe, []);
            FileSystem.File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    // ---- names that become path segments -------------------------------------------------------------------

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]*\z")]
    private static partial Regex IdPattern();

    public static bool IsIdentifier(string value) => value.Length <= MaxNameLength && IdentifierPattern().IsMatch(value);

    public static bool IsId(string value) => value.Length <= MaxNameLength && IdPattern().IsMatch(value) && !value.Contains("..", StringComparison.Ordinal);

    private static string Segment(string kind, string value, bool identifier)
    {
        if (!(identifier ? IsIdentifier(value) : IsId(value)))
        {
            throw new FlowException($"'{(value.Length > 40 ? value[..40] + "..." : value)}' is not a valid {kind} name.", ExitCodes.Usage);
        }
        return value;
    }

    // ---- layout ----------------------------------------------------------------------------------------------

    public string FlowsDir => FileSystem.Path.Combine(Root, "runs");

    public string FlowDir(string flow) => FileSystem.Path.Combine(FlowsDir, Segment("flow", flow, true));

    public string RunDir(string flow, string runId) => FileSystem.Path.Combine(FlowDir(flow), Segment("run", runId, false));

    public string StepDir(string flow, string runId, string step) =>
        FileSystem.Path.Combine(RunDir(flow, runId), "steps", Segment("step", step, true));

    public string TaskDir(string flow, string runId, string step, string taskId) =>
        FileSystem.Path.Combine(StepDir(flow, runId, step), Segment("task", taskId, false));

    public string AttemptDir(string flow, string runId, string step, string taskId, int attempt) =>
        FileSystem.Path.Combine(TaskDir(flow, runId, step, taskId), attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public string DamagedDir => FileSystem.Path.Combine(Root, "damaged");

    // ---- runs ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Claims a new run id: microseconds since the Unix epoch, so ids sort by start time; a claim file created
    /// with CreateNew makes ids unique when several runs start in the same microsecond.
    /// </summary>
    public string CreateRun(string flow, DateTimeOffset now)
    {
        Protect();
        var flowDir = FlowDir(flow);
        FileSystem.Directory.CreateDirectory(flowDir);
        var id = (now.ToUnixTimeMilliseconds() * 1000) + (now.Ticks / 10 % 1000);
        while (true)
        {
            var runId = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var runDir = FileSystem.Path.Combine(flowDir, runId);
            FileSystem.Directory.CreateDirectory(runDir);
            try
            {
                using (FileSystem.FileStream.New(FileSystem.Path.Combine(runDir, "claim"), FileMode.CreateNew, FileAccess.Write))
                {
                }
                return runId;
            }
            catch (IOException) when (FileSystem.File.Exists(FileSystem.Path.Combine(runDir, "claim")))
            {
                id++;
            }
        }
    }

    public void WriteRun(RunRecord run)
    {
        WriteRecord(FileSystem.Path.Combine(RunDir(run.Flow, run.RunId), "run.json"), run, overwrite: false, durable: true);
        RunIndex.AppendStart(this, run);
    }

    /// <summary>The run's record; null when it has none (yet); a damaged one is a <see cref="FlowException"/>.</summary>
    public RunRecord? ReadRun(string flow, string runId) => ReadRecord<RunRecord>(FileSystem.Path.Combine(RunDir(flow, runId), "run.json"), tolerateDamage: false);

    /// <summary>
    /// Changes a run's user tags atomically: the current tags are read, changed and written under the flow's
    /// metadata lock, so concurrent changes (two <c>tag add</c> at once) all land.
    /// </summary>
    /// <returns>The tags now stored.</returns>
    public IReadOnlyList<string> ChangeTags(string flow, string runId, Func<IReadOnlyList<string>, IReadOnlyList<string>> change)
    {
        Protect();
        using (RunIndex.Lock(this, flow))
        {
            var current = ReadTags(flow, runId);
            var tags = change(current);
            if (!tags.SequenceEqual(current, StringComparer.Ordinal))
            {
                WriteRecord(FileSystem.Path.Combine(RunDir(flow, runId), "tags.json"), new TagsRecord(tags), overwrite: true, durable: true);
                RunIndex.AppendTagsLocked(this, flow, runId, tags);
            }
            return tags;
        }
    }

    /// <summary>Replaces a run's user tags (under the flow's lock, like every tag change).</summary>
    public void WriteTags(string flow, string runId, IReadOnlyList<string> tags) => ChangeTags(flow, runId, _ => tags);

    public IReadOnlyList<string> ReadTags(string flow, string runId) =>
        ReadRecord<TagsRecord>(FileSystem.Path.Combine(RunDir(flow, runId), "tags.json"), tolerateDamage: false)?.Tags ?? [];

    public void WriteRunEnd(string flow, string runId, RunEndRecord end)
    {
        if (WriteRecord(FileSystem.Path.Combine(RunDir(flow, runId), "end.json"), end, overwrite: false, durable: true))
        {
            RunIndex.AppendEnd(this, flow, runId, end.Status);
        }
    }

    /// <summary>The run's end record; a torn one (a power cut) reads as none, with a warning.</summary>
    public RunEndRecord? ReadRunEnd(string flow, string runId) => ReadRecord<RunEndRecord>(FileSystem.Path.Combine(RunDir(flow, runId), "end.json"), tolerateDamage: true);

    public string RunHeartbeatPath(string flow, string runId) => FileSystem.Path.Combine(RunDir(flow, runId), "heartbeat");

    /// <summary>
    /// The run's state: its <c>end.json</c> status (<paramref name="indexedEnd"/> when the index already knows it),
    /// else <c>running</c> while its orchestrator's heartbeat is alive (<see cref="Heartbeat"/>), else <c>failed</c>.
    /// </summary>
    public string RunStatus(string flow, string runId, string? indexedEnd = null)
    {
        if (indexedEnd is not null)
        {
            return indexedEnd;
        }
        if (ReadRunEnd(flow, runId) is { } end)
        {
            return end.Status;
        }
        return Heartbeat.IsAlive(FileSystem, RunHeartbeatPath(flow, runId)) ? RunStates.Running : RunStates.Failed;
    }

    public IReadOnlyList<string> ListFlows()
    {
        if (!FileSystem.Directory.Exists(FlowsDir))
        {
            return [];
        }
        return [.. FileSystem.Directory.EnumerateDirectories(FlowsDir).Select(FileSystem.Path.GetFileName).OfType<string>()
            .Where(IsIdentifier).Order(StringComparer.Ordinal)];
    }

    /// <summary>The runs of a flow that have a <c>run.json</c>, newest first.</summary>
    public IReadOnlyList<string> ListRuns(string flow) =>
        [.. ListRunFolders(flow).Where(id => FileSystem.File.Exists(FileSystem.Path.Combine(RunDir(flow, id), "run.json")))];

    /// <summary>Every run folder of a flow (with or without a record), newest first.</summary>
    public IReadOnlyList<string> ListRunFolders(string flow)
    {
        var dir = FlowDir(flow);
        if (!FileSystem.Directory.Exists(dir))
        {
            return [];
        }
        return [.. FileSystem.Directory.EnumerateDirectories(dir)
            .Select(FileSystem.Path.GetFileName).OfType<string>().Where(IsId)
            .OrderByDescending(id => id.Length).ThenByDescending(id => id, StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> ListSteps(string flow, string runId)
    {
        var dir = FileSystem.Path.Combine(RunDir(flow, runId), "steps");
        return FileSystem.Directory.Exists(dir)
            ? [.. FileSystem.Directory.EnumerateDirectories(dir).Select(FileSystem.Path.GetFileName).OfType<string>().Where(IsIdentifier)]
            : [];
    }

    /// <summary>The task ids of a step, in numeric order.</summary>
    public IReadOnlyList<string> ListTasks(string flow, string runId, string step)
    {
        var dir = StepDir(flow, runId, step);
        return FileSystem.Directory.Exists(dir)
            ? [.. FileSystem.Directory.EnumerateDirectories(dir).Select(FileSystem.Path.GetFileName).OfType<string>().Where(IsId)
                .OrderBy(id => id.Length).ThenBy(id => id, StringComparer.Ordinal)]
            : [];
    }

    // ---- attempts --------------------------------------------------------------------------------------------

    public IReadOnlyList<int> ListAttempts(string flow, string runId, string step, string taskId)
    {
        var dir = TaskDir(flow, runId, step, taskId);
        if (!FileSystem.Directory.Exists(dir))
        {
            return [];
        }
        var attempts = new List<int>();
        foreach (var d in FileSystem.Directory.EnumerateDirectories(dir))
        {
            if (int.TryParse(FileSystem.Path.GetFileName(d), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
            {
                attempts.Add(n);
            }
        }
        attempts.Sort();
        return attempts;
    }

    public void StartAttempt(string attemptDir, AttemptStartRecord start)
    {
        FileSystem.Directory.CreateDirectory(attemptDir);
        WriteRecord(FileSystem.Path.Combine(attemptDir, "started.json"), start, overwrite: false, durable: false);
    }

    /// <summary>
    /// Finalizes an attempt. Returns false when it was already finalized (the first marker wins). Every blob the
    /// record names must be durable before this is called (the runtime commits its blob batch first).
    /// </summary>
    public bool FinishAttempt(string attemptDir, AttemptDoneRecord done) =>
        WriteRecord(FileSystem.Path.Combine(attemptDir, "done.json"), done, overwrite: false, durable: false);

    /// <summary>The attempt's final record; a torn or empty one (a power cut) reads as unfinished, with a warning.</summary>
    public AttemptDoneRecord? ReadAttemptDone(string attemptDir) =>
        ReadRecord<AttemptDoneRecord>(FileSystem.Path.Combine(attemptDir, "done.json"), tolerateDamage: true);

    /// <summary>The attempt's start record; a torn one reads as none, with a warning.</summary>
    public AttemptStartRecord? ReadAttemptStart(string attemptDir) =>
        ReadRecord<AttemptStartRecord>(FileSystem.Path.Combine(attemptDir, "started.json"), tolerateDamage: true);

    /// <summary>Whether the attempt has a start record (without reading it).</summary>
    public bool HasAttemptStart(string attemptDir) => FileSystem.File.Exists(FileSystem.Path.Combine(attemptDir, "started.json"));

    public string AttemptHeartbeatPath(string attemptDir) => FileSystem.Path.Combine(attemptDir, "heartbeat");

    /// <summary>The attempt's card: an HTML fragment, rewritten whole (atomically) by each refresh and last before done.json.</summary>
    public string CardPath(string attemptDir) => FileSystem.Path.Combine(attemptDir, "card.html");

    /// <summary>Stores the attempt's card, replacing the one before (docs/cards.md).</summary>
    public void WriteCard(string attemptDir, string html) =>
        AtomicFile.WriteBytes(FileSystem, TmpDir, CardPath(attemptDir), System.Text.Encoding.UTF8.GetBytes(html), overwrite: true);

    /// <summary>When the attempt's card was stored, or null when it has none (the card itself is not read).</summary>
    public DateTimeOffset? CardStoredAt(string attemptDir)
    {
        var info = FileSystem.FileInfo.New(CardPath(attemptDir));
        return info.Exists ? info.LastWriteTimeUtc : null;
    }

    /// <summary>The attempt's card, or null when it has none.</summary>
    public string? ReadCard(string attemptDir)
    {
        try
        {
            return FileSystem.File.ReadAllText(CardPath(attemptDir));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// An attempt's state: <c>succeeded</c> or <c>failed</c> from its record, else <c>running</c> while its task's
    /// heartbeat is alive, else <c>died</c> (its process is gone).
    /// </summary>
    public string AttemptStatus(string attemptDir, AttemptDoneRecord? done) =>
        done?.Status ?? (Heartbeat.IsAlive(FileSystem, AttemptHeartbeatPath(attemptDir)) ? RunStates.Running : AttemptStates.Died);

    // ---- records ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Writes a record atomically (temp file, then rename). A durable record is flushed to the disk before the
    /// rename, so after a power cut it is either whole or absent.
    /// </summary>
    /// <returns>False when the record existed and <paramref name="overwrite"/> was false.</returns>
    public bool WriteRecord<T>(string path, T record, bool overwrite, bool durable)
        where T : IJsonRecord<T> =>
        AtomicFile.WriteBytes(FileSystem, TmpDir, path, Json.Bytes(record), overwrite, durable);

    /// <summary>
    /// Reads a record: null when the file does not exist. A damaged one (torn by a power cut, emptied, edited) is
    /// read as absent with a warning when <paramref name="tolerateDamage"/> is set (an attempt that never finished),
    /// and is a <see cref="FlowException"/> otherwise.
    /// </summary>
    public T? ReadRecord<T>(string path, bool tolerateDamage)
        where T : class, IJsonRecord<T>
    {
        byte[] bytes;
        try
        {
            bytes = FileSystem.File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (UnauthorizedAccessException e)
        {
            throw new FlowException($"The datastore file {path} is not readable by this user; fix the datastore's permissions.", ExitCodes.Failure, e);
        }
        try
        {
            return Json.Parse<T>(bytes);
        }
        catch (JsonException e)
        {
            if (!tolerateDamage)
            {
                throw new FlowException($"The datastore file {path} is damaged ({e.Message}); run 'dotnet flow verify'.", ExitCodes.Failure);
            }
            lock (_warned)
            {
                if (!_warned.Add(path))
                {
                    return null;
                }
            }
            Warn($"{path} is damaged ({(bytes.Length == 0 ? "empty" : "unreadable")}); it is read as an attempt that did not finish ('dotnet flow verify --repair' sets it aside).");
            return null;
        }
    }

    /// <summary>Whether a record file exists but cannot be read (verify and gc look for these).</summary>
    public bool IsDamaged<T>(string path)
        where T : class, IJsonRecord<T>
    {
        try
        {
            var bytes = FileSystem.File.ReadAllBytes(path);
            Json.Parse<T>(bytes);
            return false;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
        catch (JsonException)
        {
            return true;
        }
    }
}

/// <summary>The states of a run.</summary>
internal static class RunStates
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

/// <summary>The states of an attempt beyond its record's (<c>succeeded</c>, <c>failed</c>) and <c>running</c>.</summary>
internal static class AttemptStates
{
    public const string Died = "died";
}
