using System.Text.Json;

namespace Flow.Sdk.Datastore;

/// <summary>
/// A datastore metadata file: written and read by hand with <see cref="Utf8JsonWriter"/> and
/// <see cref="JsonDocument"/>, not with the serializer, whose first use costs tens of milliseconds in every
/// process (the orchestrator, each worker, each read-only command). Property names are camelCase.
/// </summary>
/// <typeparam name="TSelf">The record type.</typeparam>
internal interface IJsonRecord<TSelf>
    where TSelf : IJsonRecord<TSelf>
{
    void Write(Utf8JsonWriter json);

    static abstract TSelf Read(JsonElement json);
}

/// <summary>Reading helpers: a missing or mistyped required property is a <see cref="JsonException"/>.</summary>
internal static class Json
{
    /// <summary>
    /// A dictionary's keys in ordinal order, for records written in a stable order. An array sort rather than LINQ's
    /// OrderBy over key-value pairs: this runs in every task, and that generic code is compiled at run time, not
    /// ahead of it (docs/performance.md).
    /// </summary>
    public static string[] SortedKeys<TValue>(IReadOnlyDictionary<string, TValue> dictionary)
    {
        var keys = new string[dictionary.Count];
        var i = 0;
        foreach (var key in dictionary.Keys)
        {
            keys[i++] = key;
        }
        Array.Sort(keys, StringComparer.Ordinal);
        return keys;
    }

    public static byte[] Bytes<T>(T record)
        where T : IJsonRecord<T>
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            record.Write(writer);
        }
        return buffer.ToArray();
    }

    public static T Parse<T>(ReadOnlyMemory<byte> bytes)
        where T : IJsonRecord<T>
    {
        using var doc = JsonDocument.Parse(bytes);
        try
        {
            return T.Read(doc.RootElement);
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new JsonException($"{typeof(T).Name}: {e.Message}", e);
        }
    }

    public static string Text(this JsonElement json, string name) =>
        json.GetProperty(name).GetString() ?? throw new JsonException($"'{name}' is null");

    public static string? OptionalText(this JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static IReadOnlyList<string> Texts(this JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? Graph.FlowGraph.Map(value.EnumerateArray(), e => e.GetString() ?? string.Empty)
            : [];

    public static void WriteTexts(this Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }
        json.WriteEndArray();
    }

    public static Dictionary<string, ArtifactRef> Artifacts(this JsonElement json, string name)
    {
        var result = new Dictionary<string, ArtifactRef>(StringComparer.Ordinal);
        if (json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in value.EnumerateObject())
            {
                result[property.Name] = ArtifactRef.Read(property.Value);
            }
        }
        return result;
    }

    public static void WriteArtifacts(this Utf8JsonWriter json, string name, IReadOnlyDictionary<string, ArtifactRef> artifacts)
    {
        json.WriteStartObject(name);
        foreach (var key in Json.SortedKeys(artifacts))
        {
            json.WritePropertyName(key);
            artifacts[key].Write(json);
        }
        json.WriteEndObject();
    }
}

/// <summary>A reference from a task (or a run's parameters) to a stored value.</summary>
/// <param name="Sha">The blob key: SHA-256 of the serialized bytes.</param>
/// <param name="Encoding">How the bytes encode the value (see <see cref="ArtifactCodec"/>).</param>
/// <param name="Type">The CLR full name of the declared type.</param>
/// <param name="Size">The length of the serialized bytes.</param>
internal sealed record ArtifactRef(string Sha, string Encoding, string Type, long Size) : IJsonRecord<ArtifactRef>
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("sha", Sha);
        json.WriteString("encoding", Encoding);
        json.WriteString("type", Type);
        json.WriteNumber("size", Size);
        json.WriteEndObject();
    }

    public static ArtifactRef Read(JsonElement json) =>
        new(json.Text("sha"), json.Text("encoding"), json.Text("type"), json.GetProperty("size").GetInt64());
}

/// <summary><c>format.json</c> at the datastore root.</summary>
internal sealed record FormatRecord(int Format, string CreatedBy) : IJsonRecord<FormatRecord>
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteNumber("format", Format);
        json.WriteString("createdBy", CreatedBy);
        json.WriteEndObject();
    }

    public static FormatRecord Read(JsonElement json) =>
        new(json.GetProperty("format").GetInt32(), json.OptionalText("createdBy") ?? string.Empty);
}

/// <summary><c>run.json</c>: written once when the run starts, never changed.</summary>
internal sealed record RunRecord(
    string Flow,
    string RunId,
    DateTimeOffset StartedAt,
    string User,
    string Snapshot,
    string SdkVersion,
    string WorkingDirectory,
    IReadOnlyDictionary<string, ArtifactRef> Parameters,
    IReadOnlyList<string> SystemTags,
    string? OriginRunId = null,
    IReadOnlyDictionary<string, string>? Files = null,
    RunOptions? Options = null) : IJsonRecord<RunRecord>
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("flow", Flow);
        json.WriteString("runId", RunId);
        json.WriteString("startedAt", StartedAt);
        json.WriteString("user", User);
        json.WriteString("snapshot", Snapshot);
        json.WriteString("sdkVersion", SdkVersion);
        json.WriteString("workingDirectory", WorkingDirectory);
        json.WriteArtifacts("parameters", Parameters);
        json.WriteTexts("systemTags", SystemTags);
        if (OriginRunId is not null)
        {
            json.WriteString("originRunId", OriginRunId);
        }
        if (Files is { Count: > 0 })
        {
            // Included files: the property name and the path the run was given (the content is the parameter's blob).
            json.WriteStartObject("files");
            foreach (var name in Json.SortedKeys(Files))
            {
                json.WriteString(name, Files[name]);
            }
            json.WriteEndObject();
        }
        if (Options is not null)
        {
            json.WritePropertyName("options");
            Options.Write(json);
        }
        json.WriteEndObject();
    }

    public static RunRecord Read(JsonElement json) => new(
        json.Text("flow"),
        json.Text("runId"),
        json.GetProperty("startedAt").GetDateTimeOffset(),
        json.Text("user"),
        json.Text("snapshot"),
        json.Text("sdkVersion"),
        json.Text("workingDirectory"),
        json.Artifacts("parameters"),
        json.Texts("systemTags"),
        json.OptionalText("originRunId"),
        json.TryGetProperty("files", out var files) && files.ValueKind == JsonValueKind.Object
            ? Graph.FlowGraph.TextProperties(files)
            : null,
        json.TryGetProperty("options", out var options) && options.ValueKind == JsonValueKind.Object ? RunOptions.Read(options) : null);
}

/// <summary>The options a run was started with: tasks enforce the fan-out limit themselves, and resume keeps them.</summary>
/// <param name="MaxWorkers">The most task processes at a time.</param>
/// <param name="MaxNumSplits">The widest foreach allowed.</param>
/// <param name="MaxLogMegabytes">The cap of each stored output stream of an attempt.</param>
internal sealed record RunOptions(int MaxWorkers, int MaxNumSplits, int MaxLogMegabytes) : IJsonRecord<RunOptions>
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteNumber("maxWorkers", MaxWorkers);
        json.WriteNumber("maxNumSplits", MaxNumSplits);
        json.WriteNumber("maxLogMegabytes", MaxLogMegabytes);
        json.WriteEndObject();
    }

    public static RunOptions Read(JsonElement json) => new(
        json.GetProperty("maxWorkers").GetInt32(),
        json.GetProperty("maxNumSplits").GetInt32(),
        json.GetProperty("maxLogMegabytes").GetInt32());
}

/// <summary><c>tags.json</c>: the run's user tags, the one mutable part of a run.</summary>
internal sealed record TagsRecord(IReadOnlyList<string> Tags) : IJsonRecord<TagsRecord>
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteTexts("tags", Tags);
        json.WriteEndObject();
    }

    public static TagsRecord Read(JsonElement json) => new(json.Texts("tags"));
}

/// <summary><c>end.json</c>: written once when the run ends.</summary>
internal sealed record RunEndRecord(string Status, DateTimeOffset FinishedAt, string? Error = null) : IJsonRecord<RunEndRecord>
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("status", Status);
        json.WriteString("finishedAt", FinishedAt);
        if (Error is not null)
        {
            json.WriteString("error", Error);
        }
        json.WriteEndObject();
    }

    public static RunEndRecord Read(JsonElement json) =>
        new(json.Text("status"), json.GetProperty("finishedAt").GetDateTimeOffset(), json.OptionalText("error"));
}

/// <summary><c>started.json</c> of an attempt.</summary>
internal sealed record AttemptStartRecord(DateTimeOffset StartedAt, IReadOnlyList<string> InputPaths, int? Pid = null, int? SplitIndex = null) : IJsonRecord<AttemptStartRecord>
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("startedAt", StartedAt);
        json.WriteTexts("inputPaths", InputPaths);
        if (Pid is { } pid)
        {
            json.WriteNumber("pid", pid);
        }
        if (SplitIndex is { } index)
        {
            json.WriteNumber("splitIndex", index);
        }
        json.WriteEndObject();
    }

    public static AttemptStartRecord Read(JsonElement json) => new(
        json.GetProperty("startedAt").GetDateTimeOffset(),
        json.Texts("inputPaths"),
        json.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number ? pid.GetInt32() : null,
        json.TryGetProperty("splitIndex", out var index) && index.ValueKind == JsonValueKind.Number ? index.GetInt32() : null);
}

/// <summary>The error a failed attempt ended with.</summary>
internal sealed record ErrorRecord(string Type, string Message, string? StackTrace) : IJsonRecord<ErrorRecord>
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("type", Type);
        json.WriteString("message", Message);
        if (StackTrace is not null)
        {
            json.WriteString("stackTrace", StackTrace);
        }
        json.WriteEndObject();
    }

    public static ErrorRecord Read(JsonElement json) => new(json.Text("type"), json.Text("message"), json.OptionalText("stackTrace"));
}

/// <summary>
/// One level of a task's position in the graph: the split or foreach that opened it, and which branch or item the
/// task belongs to. A task's frames are its parent's plus one per split it is inside; a join removes the top one.
/// </summary>
/// <param name="Kind"><c>split</c> (a static split) or <c>foreach</c>.</param>
/// <param name="Step">The step that split.</param>
/// <param name="Task">The task id of that step's task.</param>
/// <param name="Index">The branch (split order) or item index, from 0.</param>
/// <param name="Count">The number of branches or items.</param>
/// <param name="Item">The foreach item, stored as its own blob; null for a static split.</param>
internal sealed record FrameRecord(string Kind, string Step, string Task, int Index, int Count, ArtifactRef? Item = null) : IJsonRecord<FrameRecord>
{
    public const string Split = "split";
    public const string ForEach = "foreach";

    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("kind", Kind);
        json.WriteString("step", Step);
        json.WriteString("task", Task);
        json.WriteNumber("index", Index);
        json.WriteNumber("count", Count);
        if (Item is not null)
        {
            json.WritePropertyName("item");
            Item.Write(json);
        }
        json.WriteEndObject();
    }

    public static FrameRecord Read(JsonElement json) => new(
        json.Text("kind"),
        json.Text("step"),
        json.Text("task"),
        json.GetProperty("index").GetInt32(),
        json.GetProperty("count").GetInt32(),
        json.TryGetProperty("item", out var item) && item.ValueKind == JsonValueKind.Object ? ArtifactRef.Read(item) : null);
}

/// <summary>What a foreach task fanned out over: the collection artifact, its size and the blob listing its items.</summary>
/// <param name="Artifact">The collection artifact's name.</param>
/// <param name="Count">The number of items.</param>
/// <param name="Items">The blob of the item list (<see cref="ForEachItems"/>): one reference per item, in order.</param>
internal sealed record ForEachRecord(string Artifact, int Count, string Items) : IJsonRecord<ForEachRecord>
{
    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("artifact", Artifact);
        json.WriteNumber("count", Count);
        json.WriteString("items", Items);
        json.WriteEndObject();
    }

    public static ForEachRecord Read(JsonElement json) =>
        new(json.Text("artifact"), json.GetProperty("count").GetInt32(), json.Text("items"));
}

/// <summary>
/// The item list of a foreach: each item serialized as its own blob, so a child loads only its item (never the
/// whole collection) and equal items are stored once.
/// </summary>
/// <param name="Type">The CLR full name of the element type.</param>
/// <param name="Items">Per item: its blob key, serialized size and encoding.</param>
internal sealed record ForEachItems(string Type, IReadOnlyList<(string Sha, long Size, string Encoding)> Items) : IJsonRecord<ForEachItems>
{
    public ArtifactRef this[int index] => new(Items[index].Sha, Items[index].Encoding, Type, Items[index].Size);

    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("type", Type);
        json.WriteStartArray("items");
        foreach (var (sha, size, encoding) in Items)
        {
            json.WriteStartArray();
            json.WriteStringValue(sha);
            json.WriteNumberValue(size);
            json.WriteStringValue(encoding);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static ForEachItems Read(JsonElement json) => new(
        json.Text("type"),
        [.. json.GetProperty("items").EnumerateArray().Select(i => (i[0].GetString() ?? string.Empty, i[1].GetInt64(), i[2].GetString() ?? string.Empty))]);
}

/// <summary>
/// <c>done.json</c>: the marker that finalizes an attempt, written last. Readers ignore an attempt without it.
/// </summary>
internal sealed record AttemptDoneRecord(
    string Status,
    DateTimeOffset FinishedAt,
    IReadOnlyDictionary<string, ArtifactRef> Artifacts,
    IReadOnlyList<string> Next,
    ErrorRecord? Error = null,
    IReadOnlyList<FrameRecord>? Frames = null,
    int Iteration = 0,
    ForEachRecord? ForEach = null,
    string? ClonedFrom = null) : IJsonRecord<AttemptDoneRecord>
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public bool IsSuccess => Status == Succeeded;

    /// <summary>Gets the task's frames, outermost first (never null).</summary>
    public IReadOnlyList<FrameRecord> Position => Frames ?? [];

    public void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("status", Status);
        json.WriteString("finishedAt", FinishedAt);
        json.WriteArtifacts("artifacts", Artifacts);
        json.WriteTexts("next", Next);
        if (Error is not null)
        {
            json.WritePropertyName("error");
            Error.Write(json);
        }
        if (Frames is { Count: > 0 })
        {
            json.WriteStartArray("frames");
            foreach (var frame in Frames)
            {
                frame.Write(json);
            }
            json.WriteEndArray();
        }
        if (Iteration > 0)
        {
            json.WriteNumber("iteration", Iteration);
        }
        if (ForEach is not null)
        {
            json.WritePropertyName("forEach");
            ForEach.Write(json);
        }
        if (ClonedFrom is not null)
        {
            json.WriteString("clonedFrom", ClonedFrom);
        }
        json.WriteEndObject();
    }

    public static AttemptDoneRecord Read(JsonElement json) => new(
        json.Text("status"),
        json.GetProperty("finishedAt").GetDateTimeOffset(),
        json.Artifacts("artifacts"),
        json.Texts("next"),
        json.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object ? ErrorRecord.Read(error) : null,
        json.TryGetProperty("frames", out var frames) && frames.ValueKind == JsonValueKind.Array ? [.. frames.EnumerateArray().Select(FrameRecord.Read)] : null,
        json.TryGetProperty("iteration", out var iteration) && iteration.ValueKind == JsonValueKind.Number ? iteration.GetInt32() : 0,
        json.TryGetProperty("forEach", out var forEach) && forEach.ValueKind == JsonValueKind.Object ? ForEachRecord.Read(forEach) : null,
        json.OptionalText("clonedFrom"));
}
