using System.Text.Json;
using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>One artifact of a task: its name, type, size, and its value, loaded on demand.</summary>
public sealed class ArtifactInfo
{
    private readonly FlowDatastore _store;
    private readonly ArtifactRef _reference;
    private readonly Lock _gate = new();
    private (Type Type, object? Value)? _loaded;

    internal ArtifactInfo(FlowDatastore store, TaskInfo task, string name, ArtifactRef reference)
    {
        _store = store;
        Task = task;
        Name = name;
        _reference = reference;
    }

    /// <summary>Gets the task.</summary>
    public TaskInfo Task { get; }

    /// <summary>Gets the artifact's name (its property name).</summary>
    public string Name { get; }

    /// <summary>Gets the CLR full name of the artifact's declared type.</summary>
    public string Type => _reference.Type;

    /// <summary>Gets the size of the serialized value in bytes.</summary>
    public long Size => _reference.Size;

    /// <summary>Gets the SHA-256 of the serialized value (the blob key).</summary>
    public string Sha => _reference.Sha;

    internal string Encoding => _reference.Encoding;

    /// <summary>Gets the pathspec, <c>Flow/runId/Step/taskId/Name</c>.</summary>
    public string Pathspec => $"{Task.Pathspec}/{Name}";

    /// <summary>Loads the value as <typeparamref name="T"/>; it is loaded once and the same object returned after that.</summary>
    /// <typeparam name="T">The artifact's type (or a type its JSON binds to).</typeparam>
    /// <returns>The value.</returns>
    /// <remarks>A <see cref="Stream"/> is opened anew on every call (read it once; dispose it).</remarks>
    public T Value<T>()
    {
        try
        {
            if (typeof(T) == typeof(Stream))
            {
                return (T)ArtifactCodec.Load(_store.Blobs, _reference, typeof(T))!;
            }
            lock (_gate)
            {
                if (_loaded is not { } loaded || loaded.Type != typeof(T))
                {
                    loaded = (typeof(T), ArtifactCodec.Load(_store.Blobs, _reference, typeof(T)));
                    _loaded = loaded;
                }
                return (T)loaded.Value!;
            }
        }
        catch (BlobCorruptException e)
        {
            throw new FlowException($"Artifact {Pathspec} cannot be read: {e.Message}. Run 'dotnet flow verify'.", ExitCodes.Failure);
        }
        catch (MissingSerializerException e)
        {
            throw new FlowException($"Artifact {Pathspec} cannot be read: {e.Message}.", ExitCodes.Failure);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidCastException or NullReferenceException)
        {
            throw new FlowException($"Artifact {Pathspec} (stored as {Type}) cannot be read as {typeof(T).FullName}: {e.Message}", ExitCodes.Failure);
        }
    }

    /// <summary>Writes the value as JSON (byte[] as base64) without needing the flow's assembly.</summary>
    /// <param name="writer">The JSON writer.</param>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (_reference.Encoding.StartsWith(ArtifactCodec.CustomPrefix, StringComparison.Ordinal))
        {
            ArtifactCodec.WriteCustomPlaceholder(writer, _reference.Encoding, _reference.Size);
            return;
        }
        var bytes = Bytes();
        try
        {
            ArtifactCodec.WriteJson(writer, bytes, _reference.Encoding);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new FlowException($"Artifact {Pathspec} cannot be shown: its stored value (encoding '{_reference.Encoding}') is not readable by this version ({e.Message}).", ExitCodes.Failure, e);
        }
    }

    /// <summary>Gets the value as JSON text, without needing the flow's assembly.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            WriteJson(writer);
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private byte[] Bytes()
    {
        try
        {
            return _store.Blobs.Get(_reference.Sha);
        }
        catch (BlobCorruptException e)
        {
            throw new FlowException($"Artifact {Pathspec} cannot be read: {e.Message}. Run 'dotnet flow verify'.", ExitCodes.Failure);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"Artifact('{Pathspec}')";
}
