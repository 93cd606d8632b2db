using System.Formats.Tar;
using System.IO.Abstractions;
using System.Text.Json;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Datastore;

/// <summary>One file of a code snapshot: <c>src/...</c> (sources, relative to the source root) or <c>bin/...</c> (build output).</summary>
internal sealed record SnapshotFile(string Path, string Sha, long Size);


/// <summary>
/// The manifest of a code snapshot, written by Flow.Build's <c>CreateFlowSnapshot</c> task. The snapshot's hash is
/// the SHA-256 of the manifest's bytes, so it is also the key of the manifest's blob.
/// </summary>
internal sealed record SnapshotManifest(
    int Format,
    string SdkVersion,
    string Assembly,
    string ProjectPath,
    IReadOnlyList<SnapshotFile> Files,
    IReadOnlyList<JsonElement> Flows) : IJsonRecord<SnapshotManifest>
{
    public const string FileName = "snapshot.json";
    public const string FolderName = "flow-snapshot";

    public IReadOnlyList<FlowGraph> Graphs() => FlowGraph.Map(Flows, FlowGraph.Parse);

    public static SnapshotManifest Parse(ReadOnlySpan<byte> json) => Json.Parse<SnapshotManifest>(json.ToArray());

    /// <summary>The manifest is written by Flow.Build's task; the SDK only reads it.</summary>
    public void Write(Utf8JsonWriter json) => throw new NotSupportedException("snapshot manifests are written by Flow.Build");

    public static SnapshotManifest Read(JsonElement json) => new(
        json.GetProperty("format").GetInt32(),
        json.Text("sdkVersion"),
        json.Text("assembly"),
        json.Text("projectPath"),
        FlowGraph.Map(json.GetProperty("files").EnumerateArray(), f => new SnapshotFile(f.Text("path"), f.Text("sha"), f.GetProperty("size").GetInt64())),
        ClonedFlows(json.GetProperty("flows")));

    private static JsonElement[] ClonedFlows(JsonElement flows)
    {
        // An array, not a List<JsonElement>: the list's code over a struct would be compiled at run time.
        var array = new JsonElement[flows.GetArrayLength()];
        var i = 0;
        foreach (var flow in flows.EnumerateArray())
        {
            array[i++] = flow.Clone();
        }
        return array;
    }
}

/// <summary>Imports code snapshots into the datastore file by file, and materializes them for execution.</summary>
internal sealed class SnapshotStore(FlowDatastore store)
{
    private readonly IFileSystem _fs = store.FileSystem;

    public string CodeDir(string hash) => _fs.Path.Combine(store.Root, "code", hash);

    /// <summary>
    /// The assembly to execute of the snapshot in <paramref name="snapshotDir"/> when a run materialized it whole
    /// before, found without opening the datastore (a run of unchanged code can start a worker from it at once);
    /// else null.
    /// </summary>
    public static string? MaterializedBefore(IFileSystem fs, string datastoreRoot, string snapshotDir)
    {
        try
        {
            var bytes = fs.File.ReadAllBytes(fs.Path.Combine(snapshotDir, SnapshotManifest.FileName));
            var dir = fs.Path.Combine(datastoreRoot, "code", BlobStore.Hash(bytes));
            return fs.File.Exists(fs.Path.Combine(dir, ".complete")) ? fs.Path.Combine(dir, SnapshotManifest.Parse(bytes).Assembly) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Stores every file of the snapshot in <paramref name="snapshotDir"/> that the datastore lacks, then the
    /// manifest (last, so a present manifest blob means a complete import). A no-op when the snapshot is there.
    /// </summary>
    public (string Hash, SnapshotManifest Manifest) Import(string snapshotDir)
    {
        var manifestPath = _fs.Path.Combine(snapshotDir, SnapshotManifest.FileName);
        if (!_fs.File.Exists(manifestPath))
        {
            throw new FlowException($"No code snapshot in {snapshotDir}: build the project (dotnet build) with Flow.Sdk referenced.", ExitCodes.Usage);
        }
        var manifestBytes = _fs.File.ReadAllBytes(manifestPath);
        var hash = BlobStore.Hash(manifestBytes);
        SnapshotManifest manifest;
        try
        {
            manifest = SnapshotManifest.Parse(manifestBytes);
        }
        catch (JsonException e)
        {
            throw new FlowException($"The code snapshot manifest {manifestPath} is unreadable ({e.Message}); rebuild the project.", ExitCodes.Failure, e);
        }
        // Every file is touched (or stored) before the run that names the snapshot is written: gc protocol.
        var manifestThere = store.Blobs.Reuse(hash);
        var missing = manifest.Files.Where(f => !store.Blobs.Reuse(f.Sha)).ToDictionary(f => f.Path, StringComparer.Ordinal);
        if (manifestThere && missing.Count == 0)
        {
            return (hash, manifest);
        }
        using var batch = store.Blobs.BeginBatch();
        if (missing.Count > 0)
        {
            var archive = _fs.Path.Combine(snapshotDir, hash + ".tar");
            if (!_fs.File.Exists(archive))
            {
                throw new FlowException($"The code snapshot {archive} is missing (a build replaced it meanwhile?); run again.", ExitCodes.Failure);
            }
            using var stream = _fs.File.OpenRead(archive);
            using var reader = new TarReader(stream);
            while (reader.GetNextEntry() is { } entry)
            {
                // An empty file's entry has no data stream.
                if ((entry.DataStream is null && entry.Length != 0) || !missing.Remove(entry.Name, out var file))
                {
                    continue;
                }
                var bytes = new byte[entry.Length];
                entry.DataStream?.ReadExactly(bytes);
                if (store.Blobs.Put(bytes) != file.Sha)
                {
                    throw new FlowException($"The code snapshot {archive} does not match its manifest ({file.Path}); rebuild the project.", ExitCodes.Failure);
                }
            }
            if (missing.Count > 0)
            {
                throw new FlowException($"The code snapshot {archive} lacks {missing.Keys.First()}; rebuild the project.", ExitCodes.Failure);
            }
        }
        // The manifest last, after its files are durable: a present manifest blob means a complete import.
        batch.Commit();
        store.Blobs.Put(manifestBytes);
        return (hash, manifest);
    }

    public SnapshotManifest ReadManifest(string hash) => SnapshotManifest.Parse(store.Blobs.Get(hash));

    /// <summary>
    /// Writes the snapshot's build output to <c>code/&lt;hash&gt;/</c> (once; a complete folder is reused) and
    /// returns the folder. Tasks execute from there, so rebuilding the project during a run changes nothing.
    /// </summary>
    /// <remarks>
    /// A file the last materialized folder has with the same content (after an edit, every file but the project's own
    /// assembly) is hard-linked from there once its content is checked against its hash, instead of decompressed from
    /// its blob: ~35 ms fewer on the way to the first task after each build. Code folders are never changed once
    /// complete, and a link outlives a gc of the folder it came from. Only binaries are linked (<see cref="Linkable"/>):
    /// linked files share their content, so a text file a task rewrites beside its code (a config, a cache) would
    /// change in every folder that links it; those are small and written from their blobs.
    /// </remarks>
    public string Materialize(string hash, SnapshotManifest manifest)
    {
        var dir = CodeDir(hash);
        var complete = _fs.Path.Combine(dir, ".complete");
        if (_fs.File.Exists(complete))
        {
            try
            {
                // gc keeps a code folder touched after its cutoff: this run is about to execute from it.
                _fs.File.SetLastWriteTimeUtc(complete, DateTime.UtcNow);
                return dir;
            }
            catch (FileNotFoundException)
            {
                // Collected in between: materialize it again.
            }
        }
        var temp = _fs.Path.Combine(store.TmpDir, "code-" + Guid.NewGuid().ToString("N"));
        var previous = LastMaterialized();
        var list = new System.Text.StringBuilder();
        foreach (var file in manifest.Files)
        {
            if (!file.Path.StartsWith("bin/", StringComparison.Ordinal))
            {
                continue;
            }
            var relative = file.Path["bin/".Length..];
            var target = SafePath.Under(_fs, temp, relative)
                ?? throw new FlowException($"The code snapshot {hash[..12]} lists '{file.Path}', which points outside its folder; the datastore is damaged (run 'dotnet flow verify').", ExitCodes.Failure);
            _fs.Directory.CreateDirectory(_fs.Path.GetDirectoryName(target)!);
            if (previous is null || !Linkable(relative) || !previous.TryGetValue(file.Sha, out var same) || !TryLinkVerified(same, target, file.Sha))
            {
                _fs.File.WriteAllBytes(target, store.Blobs.Get(file.Sha));
            }
            list.Append(file.Sha).Append(' ').Append(relative).Append('\n');
        }
        _fs.File.WriteAllText(_fs.Path.Combine(temp, FilesList), list.ToString());
        _fs.File.WriteAllText(_fs.Path.Combine(temp, ".complete"), hash);
        _fs.Directory.CreateDirectory(_fs.Path.GetDirectoryName(dir)!);
        if (_fs.Directory.Exists(dir) && !_fs.File.Exists(_fs.Path.Combine(dir, ".complete")))
        {
            // Left by an interrupted materialization before .complete marked whole folders (derivable: redo it).
            _fs.Directory.Delete(dir, recursive: true);
        }
        try
        {
            _fs.Directory.Move(temp, dir);
        }
        catch (IOException) when (_fs.File.Exists(_fs.Path.Combine(dir, ".complete")))
        {
            _fs.Directory.Delete(temp, recursive: true);
        }
        try
        {
            AtomicFile.WriteBytes(_fs, store.TmpDir, _fs.Path.Combine(store.Root, "code", LastFile), System.Text.Encoding.UTF8.GetBytes(hash), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only a shortcut for the next materialization.
        }
        return dir;
    }

    /// <summary>Whether a file of a code folder may share its content with another folder's: assemblies, symbols and
    /// native libraries, which a process loads and does not rewrite.</summary>
    private static bool Linkable(string relative) =>
        relative.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
        || relative.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase)
        || relative.EndsWith(".so", StringComparison.OrdinalIgnoreCase)
        || relative.EndsWith(".dylib", StringComparison.OrdinalIgnoreCase);

    /// <summary>In a code folder: "&lt;sha&gt; &lt;path&gt;" per file, so the next materialization can link what did not change.</summary>
    private const string FilesList = ".files";

    /// <summary>In code/: the hash of the folder materialized last.</summary>
    private const string LastFile = ".last";

    /// <summary>The files of the folder materialized last, by content hash (full paths); null when there is none.</summary>
    private Dictionary<string, string>? LastMaterialized()
    {
        try
        {
            var last = _fs.File.ReadAllText(_fs.Path.Combine(store.Root, "code", LastFile)).Trim();
            if (!BlobStore.IsKey(last))
            {
                return null;
            }
            var dir = CodeDir(last);
            var files = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var line in _fs.File.ReadAllLines(_fs.Path.Combine(dir, FilesList)))
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space > 0 && SafePath.Under(_fs, dir, line[(space + 1)..]) is { } path)
                {
                    files.TryAdd(line[..space], path);
                }
            }
            return files;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // none yet, or collected meanwhile
        }
    }

    /// <summary>Links (else copies) <paramref name="existing"/> to <paramref name="target"/> when its content has <paramref name="sha"/>.</summary>
    private bool TryLinkVerified(string existing, string target, string sha)
    {
        try
        {
            using (var stream = _fs.File.OpenRead(existing))
            {
                if (Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream)) != sha)
                {
                    return false;
                }
            }
            if (!AtomicFile.TryHardLink(_fs, existing, target))
            {
                _fs.File.Copy(existing, target);
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                _fs.File.Delete(target);
            }
            catch (Exception inner) when (inner is IOException or UnauthorizedAccessException)
            {
            }
            return false;
        }
    }
}
