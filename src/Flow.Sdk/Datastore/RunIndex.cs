using System.Text.Json;

namespace Flow.Sdk.Datastore;

/// <summary>What the run index knows of one run without opening its folder.</summary>
/// <param name="Id">The run id.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="User">Who started it.</param>
/// <param name="SystemTags">Its system tags.</param>
/// <param name="Tags">Its user tags, as last recorded.</param>
/// <param name="EndStatus"><c>succeeded</c> or <c>failed</c> once it ended; null while running or when it died.</param>
internal sealed record RunIndexEntry(string Id, DateTimeOffset StartedAt, string User, IReadOnlyList<string> SystemTags, IReadOnlyList<string> Tags, string? EndStatus)
{
    public bool HasTag(string tag) => SystemTags.Contains(tag, StringComparer.Ordinal) || Tags.Contains(tag, StringComparer.Ordinal);
}

/// <summary>
/// The run index of a flow, <c>runs/&lt;Flow&gt;/index.jsonl</c>: one JSON line appended when a run starts, when it
/// ends and when its tags change, so listing runs, filtering them by namespace and finding the latest successful
/// run read one file instead of every run's folder (docs/datastore.md, "The run index").
/// </summary>
/// <remarks>
/// The index is a cache, never the truth: it is read together with the list of run folders, so a run the index
/// lacks (a crash between <c>run.json</c> and its line, an index deleted or from an older version) is read from its
/// folder, and a line whose folder is gone (removed by gc) is ignored. Readers never write. Writers append under the
/// flow's lock (<c>index.lock</c>), so lines of concurrent processes never overwrite or interleave; <c>gc</c> and a
/// run that finds the index missing rewrite it whole from the run folders (<see cref="Compact"/>).
/// </remarks>
internal static class RunIndex
{
    public const string FileName = "index.jsonl";
    public const string LockName = "index.lock";

    /// <summary>Takes the flow's metadata lock: index appends, tag changes and compaction hold it.</summary>
    public static FileLock Lock(FlowDatastore store, string flow)
    {
        var dir = store.FlowDir(flow);
        store.FileSystem.Directory.CreateDirectory(dir);
        return FileLock.Acquire(store.FileSystem, store.FileSystem.Path.Combine(dir, LockName));
    }

    /// <summary>Appends a run's start line; a flow whose index is missing while it has other runs gets it rebuilt first.</summary>
    public static void AppendStart(FlowDatastore store, RunRecord run)
    {
        try
        {
            using (Lock(store, run.Flow))
            {
                var fs = store.FileSystem;
                if (!fs.File.Exists(fs.Path.Combine(store.FlowDir(run.Flow), FileName)) && store.ListRunFolders(run.Flow).Count > 1)
                {
                    CompactLocked(store, run.Flow); // it includes this run, whose run.json exists
                    return;
                }
                AppendLocked(store, run.Flow, StartLine(run));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FlowException)
        {
            // The index is a cache: readers read a run it lacks from its folder.
        }
    }

    private static Action<Utf8JsonWriter> StartLine(RunRecord run) => json =>
    {
        json.WriteString("run", run.RunId);
        json.WriteString("startedAt", run.StartedAt);
        json.WriteString("user", run.User);
        WriteArray(json, "systemTags", run.SystemTags);
    };

    public static void AppendEnd(FlowDatastore store, string flow, string runId, string status)
    {
        try
        {
            using (Lock(store, flow))
            {
                AppendLocked(store, flow, json =>
                {
                    json.WriteString("run", runId);
                    json.WriteString("end", status);
                });
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FlowException)
        {
            // The index is a cache: a reader asks the run's folder for its end.
        }
    }

    /// <summary>Appends a tags line; the caller holds the flow's lock (<see cref="FlowDatastore.ChangeTags"/>).</summary>
    public static void AppendTagsLocked(FlowDatastore store, string flow, string runId, IReadOnlyList<string> tags) =>
        AppendLocked(store, flow, json =>
        {
            json.WriteString("run", runId);
            WriteArray(json, "tags", tags);
        });

    /// <summary>Every run of the flow that has a readable <c>run.json</c>, newest first; runs the index lacks are read from their folders.</summary>
    public static IReadOnlyList<RunIndexEntry> Read(FlowDatastore store, string flow)
    {
        var fs = store.FileSystem;
        var dir = store.FlowDir(flow);
        if (!fs.Directory.Exists(dir))
        {
            return [];
        }
        var known = Parse(store, flow);
        var entries = new List<RunIndexEntry>();
        foreach (var path in fs.Directory.EnumerateDirectories(dir))
        {
            var id = fs.Path.GetFileName(path);
            if (known.TryGetValue(id, out var entry) && entry.Start is { } start)
            {
                entries.Add(new RunIndexEntry(id, start.At, start.User, start.SystemTags, entry.Tags ?? [], entry.End));
            }
            else if (FlowDatastore.IsId(id) && FromFolder(store, flow, id) is { } rebuilt)
            {
                entries.Add(rebuilt);
            }
        }
        entries.Sort((a, b) => a.Id.Length != b.Id.Length ? b.Id.Length.CompareTo(a.Id.Length) : string.CompareOrdinal(b.Id, a.Id));
        return entries;
    }

    private sealed class Partial
    {
        public (DateTimeOffset At, string User, IReadOnlyList<string> SystemTags)? Start;
        public IReadOnlyList<string>? Tags;
        public string? End;
    }

    private static Dictionary<string, Partial> Parse(FlowDatastore store, string flow)
    {
        var result = new Dictionary<string, Partial>(StringComparer.Ordinal);
        byte[] bytes;
        try
        {
            bytes = store.FileSystem.File.ReadAllBytes(store.FileSystem.Path.Combine(store.FlowDir(flow), FileName));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return result;
        }
        var span = bytes.AsSpan();
        while (!span.IsEmpty)
        {
            var end = span.IndexOf((byte)'\n');
            var line = end < 0 ? span : span[..end];
            span = end < 0 ? [] : span[(end + 1)..];
            if (line.IsEmpty)
            {
                continue;
            }
            try
            {
                ParseLine(line, result);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
            {
                // A torn or damaged line: the run it names is read from its folder instead.
            }
        }
        return result;
    }

    private static void ParseLine(ReadOnlySpan<byte> line, Dictionary<string, Partial> result)
    {
        var reader = new Utf8JsonReader(line);
        string? run = null;
        DateTimeOffset? at = null;
        string? user = null;
        List<string>? systemTags = null;
        List<string>? tags = null;
        string? status = null;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("not an object");
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "run": run = reader.GetString(); break;
                case "startedAt": at = reader.GetDateTimeOffset(); break;
                case "user": user = reader.GetString(); break;
                case "end": status = reader.GetString(); break;
                case "systemTags": systemTags = ReadArray(ref reader); break;
                case "tags": tags = ReadArray(ref reader); break;
                default: reader.Skip(); break;
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject || run is null)
        {
            throw new JsonException("incomplete line");
        }
        if (!result.TryGetValue(run, out var partial))
        {
            result[run] = partial = new Partial();
        }
        if (at is { } started)
        {
            partial.Start = (started, user ?? "", systemTags ?? []);
        }
        if (tags is not null)
        {
            partial.Tags = tags;
        }
        if (status is not null)
        {
            partial.End = status;
        }
    }

    private static List<string> ReadArray(ref Utf8JsonReader reader)
    {
        var items = new List<string>();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("expected an array");
        }
        while (reader.Read() && reader.TokenType == JsonTokenType.String)
        {
            items.Add(reader.GetString()!);
        }
        return items;
    }

    /// <summary>Reads a run the index lacks from its folder; null when it has no readable <c>run.json</c> (verify reports a damaged one).</summary>
    private static RunIndexEntry? FromFolder(FlowDatastore store, string flow, string id)
    {
        try
        {
            if (store.ReadRun(flow, id) is not { } run)
            {
                return null;
            }
            var tags = store.ReadTags(flow, id);
            return new RunIndexEntry(id, run.StartedAt, run.User, run.SystemTags, tags, store.ReadRunEnd(flow, id)?.Status);
        }
        catch (FlowException)
        {
            return null;
        }
    }

    /// <summary>
    /// Rewrites the index whole from the run folders (the truth): drops lines of removed runs, torn lines and
    /// superseded tag lines, and adds runs it lacks. Under the flow's lock; the new index replaces the old atomically.
    /// </summary>
    public static void Compact(FlowDatastore store, string flow)
    {
        using (Lock(store, flow))
        {
            CompactLocked(store, flow);
        }
    }

    private static void CompactLocked(FlowDatastore store, string flow)
    {
        using var buffer = new MemoryStream();
        foreach (var id in store.ListRunFolders(flow).Reverse())
        {
            if (FromFolder(store, flow, id) is not { } entry || store.ReadRun(flow, id) is not { } run)
            {
                continue;
            }
            WriteLine(buffer, StartLine(run));
            if (entry.Tags.Count > 0)
            {
                WriteLine(buffer, json => { json.WriteString("run", id); WriteArray(json, "tags", entry.Tags); });
            }
            if (entry.EndStatus is { } end)
            {
                WriteLine(buffer, json => { json.WriteString("run", id); json.WriteString("end", end); });
            }
        }
        AtomicFile.WriteBytes(store.FileSystem, store.TmpDir, store.FileSystem.Path.Combine(store.FlowDir(flow), FileName), buffer.ToArray(), overwrite: true, durable: true);
    }

    private static void WriteArray(Utf8JsonWriter json, string name, IReadOnlyList<string> items)
    {
        json.WriteStartArray(name);
        foreach (var item in items)
        {
            json.WriteStringValue(item);
        }
        json.WriteEndArray();
    }

    private static void WriteLine(MemoryStream buffer, Action<Utf8JsonWriter> write)
    {
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
    }

    /// <summary>Appends one line; the caller holds the flow's lock, so no other writer is between the seek and the write.</summary>
    private static void AppendLocked(FlowDatastore store, string flow, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        // A newline first as well: a line torn by a crash never swallows the next one.
        buffer.WriteByte((byte)'\n');
        WriteLine(buffer, write);
        var fs = store.FileSystem;
        using var file = fs.FileStream.New(fs.Path.Combine(store.FlowDir(flow), FileName), FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        file.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
