using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flow.Sdk.Datastore;

/// <summary>JSON settings for the datastore's own metadata files (not for artifact values).</summary>
internal static class DatastoreJson
{
    /// <summary>Source-generated metadata: no reflection or JIT-heavy warm-up on the start-up path of every command.</summary>
    public static readonly JsonSerializerOptions Options = DatastoreJsonContext.Default.Options;
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FormatRecord))]
[JsonSerializable(typeof(RunRecord))]
[JsonSerializable(typeof(TagsRecord))]
[JsonSerializable(typeof(RunEndRecord))]
[JsonSerializable(typeof(AttemptStartRecord))]
[JsonSerializable(typeof(AttemptDoneRecord))]
[JsonSerializable(typeof(Flow.Sdk.Runtime.TaskRequest))]
[JsonSerializable(typeof(SnapshotManifest))]
[JsonSerializable(typeof(Flow.Sdk.Graph.FlowGraph))]
internal sealed partial class DatastoreJsonContext : JsonSerializerContext
{
}

/// <summary>A reference from a task (or a run's parameters) to a stored value.</summary>
/// <param name="Sha">The blob key: SHA-256 of the serialized bytes.</param>
/// <param name="Encoding">How the bytes encode the value (see <see cref="ArtifactCodec"/>).</param>
/// <param name="Type">The CLR full name of the declared type.</param>
/// <param name="Size">The length of the serialized bytes.</param>
internal sealed record ArtifactRef(string Sha, string Encoding, string Type, long Size);

/// <summary><c>format.json</c> at the datastore root.</summary>
internal sealed record FormatRecord(int Format, string CreatedBy);

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
    string? OriginRunId = null);

/// <summary><c>tags.json</c>: the run's user tags, the one mutable part of a run.</summary>
internal sealed record TagsRecord(IReadOnlyList<string> Tags);

/// <summary><c>end.json</c>: written once when the run ends.</summary>
internal sealed record RunEndRecord(string Status, DateTimeOffset FinishedAt, string? Error = null);

/// <summary><c>started.json</c> of an attempt.</summary>
internal sealed record AttemptStartRecord(DateTimeOffset StartedAt, IReadOnlyList<string> InputPaths, int? Pid = null);

/// <summary>The error a failed attempt ended with.</summary>
internal sealed record ErrorRecord(string Type, string Message, string? StackTrace);

/// <summary>
/// <c>done.json</c>: the marker that finalizes an attempt, written last. Readers ignore an attempt without it.
/// </summary>
internal sealed record AttemptDoneRecord(
    string Status,
    DateTimeOffset FinishedAt,
    IReadOnlyDictionary<string, ArtifactRef> Artifacts,
    IReadOnlyList<string> Next,
    ErrorRecord? Error = null)
{
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    public bool IsSuccess => Status == Succeeded;
}
