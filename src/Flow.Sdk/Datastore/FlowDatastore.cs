using System.IO.Abstractions;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Flow.Sdk.Datastore;

/// <summary>
/// The one library that reads and writes a <c>.flow</c> datastore: its format version, its layout, runs, task
/// attempts and blobs. The layout is documented in <c>docs/datastore.md</c>.
/// </summary>
internal sealed partial class FlowDatastore
{
    /// <summary>The format version this SDK writes and the newest it reads.</summary>
    public const int FormatVersion = 1;

    private FlowDatastore(IFileSystem fs, string root)
    {
        FileSystem = fs;
        Root = root;
        Blobs = new BlobStore(fs, root);
        TmpDir = fs.Path.Combine(root, "tmp");
    }

    public IFileSystem FileSystem { get; }

    public string Root { get; }

    public BlobStore Blobs { get; }

    public string TmpDir { get; }

    /// <summary>Opens a datastore, creating it when <paramref name="create"/> is set and it does not exist.</summary>
    public static FlowDatastore Open(IFileSystem fs, string root, bool create)
    {
        var formatFile = fs.Path.Combine(root, "format.json");
        if (fs.File.Exists(formatFile))
        {
            FormatRecord? format;
            try
            {
                format = Json.Parse<FormatRecord>(fs.File.ReadAllBytes(formatFile));
            }
            catch (JsonException)
            {
                throw new FlowException($"The datastore at {root} has an unreadable format.json; restore it or point --datastore elsewhere.", ExitCodes.Failure);
            }
            if (format is null)
            {
                throw new FlowException($"The datastore at {root} has an empty format.json; restore it or point --datastore elsewhere.", ExitCodes.Failure);
            }
            if (format.Format > FormatVersion)
            {
                throw new FlowException(
                    $"The datastore at {root} has format version {format.Format}, newer than this dotnet flow reads ({FormatVersion}); update dotnet flow and Flow.Sdk.",
                    ExitCodes.Usage);
            }
            return new FlowDatastore(fs, root);
        }
        if (!create)
        {
            throw new FlowException($"No datastore at {root}: run a flow first (dotnet flow run) or pass --datastore DIR.", ExitCodes.Usage);
        }
        fs.Directory.CreateDirectory(root);
        var store = new FlowDatastore(fs, root);
        AtomicFile.WriteJson(fs, store.TmpDir, formatFile, new FormatRecord(FormatVersion, "Flow.Sdk " + SdkInfo.Version), overwrite: false);
        return store;
    }

    // ---- names that become path segments -------------------------------------------------------------------

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*\z")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]*\z")]
    private static partial Regex IdPattern();

    public static bool IsIdentifier(string value) => IdentifierPattern().IsMatch(value);

    public static bool IsId(string value) => IdPattern().IsMatch(value) && !value.Contains("..", StringComparison.Ordinal);

    private static string Segment(string kind, string value, bool identifier)
    {
        if (!(identifier ? IsIdentifier(value) : IsId(value)))
        {
            throw new FlowException($"'{value}' is not a valid {kind} name.", ExitCodes.Usage);
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

    // ---- runs ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Claims a new run id: microseconds since the Unix epoch, so ids sort by start time; a claim file created
    /// with CreateNew makes ids unique when several runs start in the same microsecond.
    /// </summary>
    public string CreateRun(string flow, DateTimeOffset now)
    {
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
        AtomicFile.WriteJson(FileSystem, TmpDir, FileSystem.Path.Combine(RunDir(run.Flow, run.RunId), "run.json"), run, overwrite: false);
        RunIndex.AppendStart(this, run);
    }

    public RunRecord? ReadRun(string flow, string runId) => ReadJson<RunRecord>(FileSystem.Path.Combine(RunDir(flow, runId), "run.json"));

    public void WriteTags(string flow, string runId, IReadOnlyList<string> tags)
    {
        AtomicFile.WriteJson(FileSystem, TmpDir, FileSystem.Path.Combine(RunDir(flow, runId), "tags.json"), new TagsRecord(tags), overwrite: true);
        RunIndex.AppendTags(this, flow, runId, tags);
    }

    public IReadOnlyList<string> ReadTags(string flow, string runId) =>
        ReadJson<TagsRecord>(FileSystem.Path.Combine(RunDir(flow, runId), "tags.json"))?.Tags ?? [];

    public void WriteRunEnd(string flow, string runId, RunEndRecord end)
    {
        if (AtomicFile.WriteJson(FileSystem, TmpDir, FileSystem.Path.Combine(RunDir(flow, runId), "end.json"), end, overwrite: false))
        {
            RunIndex.AppendEnd(this, flow, runId, end.Status);
        }
    }

    public RunEndRecord? ReadRunEnd(string flow, string runId) => ReadJson<RunEndRecord>(FileSystem.Path.Combine(RunDir(flow, runId), "end.json"));

    public string RunHeartbeatPath(string flow, string runId) => FileSystem.Path.Combine(RunDir(flow, runId), "heartbeat");

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
    public IReadOnlyList<string> ListRuns(string flow)
    {
        var dir = FlowDir(flow);
        if (!FileSystem.Directory.Exists(dir))
        {
            return [];
        }
        return [.. FileSystem.Directory.EnumerateDirectories(dir)
            .Where(d => FileSystem.File.Exists(FileSystem.Path.Combine(d, "run.json")))
            .Select(FileSystem.Path.GetFileName).OfType<string>()
            .OrderByDescending(id => id.Length).ThenByDescending(id => id, StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> ListSteps(string flow, string runId)
    {
        var dir = FileSystem.Path.Combine(RunDir(flow, runId), "steps");
        return FileSystem.Directory.Exists(dir)
            ? [.. FileSystem.Directory.EnumerateDirectories(dir).Select(FileSystem.Path.GetFileName).OfType<string>()]
            : [];
    }

    /// <summary>The task ids of a step, in numeric order.</summary>
    public IReadOnlyList<string> ListTasks(string flow, string runId, string step)
    {
        var dir = StepDir(flow, runId, step);
        return FileSystem.Directory.Exists(dir)
            ? [.. FileSystem.Directory.EnumerateDirectories(dir).Select(FileSystem.Path.GetFileName).OfType<string>()
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
        return [.. FileSystem.Directory.EnumerateDirectories(dir)
            .Select(d => int.TryParse(FileSystem.Path.GetFileName(d), out var n) ? n : -1)
            .Where(n => n >= 0).Order()];
    }

    public void StartAttempt(string attemptDir, AttemptStartRecord start)
    {
        FileSystem.Directory.CreateDirectory(attemptDir);
        AtomicFile.WriteJson(FileSystem, TmpDir, FileSystem.Path.Combine(attemptDir, "started.json"), start, overwrite: false);
    }

    /// <summary>Finalizes an attempt. Returns false when it was already finalized (the first marker wins).</summary>
    public bool FinishAttempt(string attemptDir, AttemptDoneRecord done) =>
        AtomicFile.WriteJson(FileSystem, TmpDir, FileSystem.Path.Combine(attemptDir, "done.json"), done, overwrite: false);

    public AttemptDoneRecord? ReadAttemptDone(string attemptDir) =>
        ReadJson<AttemptDoneRecord>(FileSystem.Path.Combine(attemptDir, "done.json"));

    public AttemptStartRecord? ReadAttemptStart(string attemptDir) =>
        ReadJson<AttemptStartRecord>(FileSystem.Path.Combine(attemptDir, "started.json"));

    private T? ReadJson<T>(string path)
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
        try
        {
            return Json.Parse<T>(bytes);
        }
        catch (JsonException e)
        {
            throw new FlowException($"The datastore file {path} is damaged ({e.Message}); run 'dotnet flow verify'.", ExitCodes.Failure);
        }
    }
}
