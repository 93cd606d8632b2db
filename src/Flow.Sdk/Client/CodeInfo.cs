using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>The code snapshot a run executed: the sources, project files and build output, as stored.</summary>
public sealed class CodeInfo
{
    private readonly FlowDatastore _store;
    private SnapshotManifest? _manifest;

    internal CodeInfo(FlowDatastore store, string hash)
    {
        _store = store;
        Hash = hash;
    }

    /// <summary>Gets the snapshot's hash (the SHA-256 of its manifest).</summary>
    public string Hash { get; }

    private SnapshotManifest Manifest => _manifest ??= Read();

    /// <summary>Gets the snapshot's source files and project files, as paths relative to the project's source root.</summary>
    public IReadOnlyList<string> Sources => [.. Manifest.Files.Where(f => f.Path.StartsWith("src/", StringComparison.Ordinal)).Select(f => f.Path["src/".Length..])];

    /// <summary>Gets the graphs of the snapshot's flows, as the build recorded them.</summary>
    public IReadOnlyList<Graph.FlowGraph> Graphs => Manifest.Graphs();

    /// <summary>
    /// Writes the snapshot's build output to the datastore's <c>code/&lt;hash&gt;/</c> (once; a complete folder is
    /// reused) and returns the path of the flow assembly there: what a cluster node runs the task contract's
    /// <c>step</c> command from (<c>dotnet exec PATH step ...</c>, docs/task-contract.md).
    /// </summary>
    /// <returns>The flow assembly's full path.</returns>
    public string Materialize()
    {
        _store.Protect();
        var dir = new SnapshotStore(_store).Materialize(Hash, Manifest);
        return Path.GetFullPath(Path.Combine(dir, Manifest.Assembly));
    }

    /// <summary>Opens one of <see cref="Sources"/> to read, as the run executed it.</summary>
    /// <param name="path">The file's path, as <see cref="Sources"/> lists it.</param>
    /// <returns>The file's content; dispose it.</returns>
    public Stream OpenSource(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = Manifest.Files.FirstOrDefault(f => f.Path == "src/" + path)
            ?? throw new FlowException($"The code snapshot {Hash[..12]} has no source file '{path}'; 'dotnet flow code RUN' lists them.");
        try
        {
            return _store.Blobs.OpenRead(file.Sha);
        }
        catch (BlobCorruptException e)
        {
            throw new FlowException($"File {path} of snapshot {Hash[..12]} cannot be read: {e.Message}. Run 'dotnet flow verify'.", ExitCodes.Failure);
        }
    }

    /// <summary>Writes the sources and project files the run executed into <paramref name="directory"/> (created if needed); they build as they did.</summary>
    /// <param name="directory">The folder to write to; existing files with the same names are replaced.</param>
    /// <returns>The number of files written.</returns>
    public int ExtractTo(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var fs = _store.FileSystem;
        var root = fs.Path.GetFullPath(directory);
        var count = 0;
        foreach (var file in Manifest.Files.Where(f => f.Path.StartsWith("src/", StringComparison.Ordinal)))
        {
            var relative = file.Path["src/".Length..];
            var target = SafePath.Under(fs, root, relative);
            if (target is null)
            {
                throw new FlowException($"The snapshot {Hash[..12]} lists '{file.Path}', which points outside the folder; the datastore is damaged (run 'dotnet flow verify').", ExitCodes.Failure);
            }
            fs.Directory.CreateDirectory(fs.Path.GetDirectoryName(target)!);
            try
            {
                using var source = _store.Blobs.OpenRead(file.Sha);
                using var output = fs.FileStream.New(target, FileMode.Create, FileAccess.Write);
                source.CopyTo(output);
            }
            catch (BlobCorruptException e)
            {
                throw new FlowException($"File {relative} of snapshot {Hash[..12]} cannot be read: {e.Message}. Run 'dotnet flow verify'.", ExitCodes.Failure);
            }
            count++;
        }
        return count;
    }

    private SnapshotManifest Read()
    {
        if (!BlobStore.IsKey(Hash))
        {
            throw new FlowException($"The run has no code snapshot ('{Hash}').", ExitCodes.Failure);
        }
        try
        {
            return SnapshotManifest.Parse(_store.Blobs.Get(Hash));
        }
        catch (BlobCorruptException e)
        {
            throw new FlowException($"Code snapshot {Hash[..12]} cannot be read: {e.Message}. Run 'dotnet flow verify'.", ExitCodes.Failure);
        }
    }

    /// <inheritdoc/>
    public override string ToString() => Hash;
}
