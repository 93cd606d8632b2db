using System.Formats.Tar;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Build.Framework;

namespace Flow.Build.Tasks;

/// <summary>
/// Packs a flow project's sources, project files and build output into a content-addressed code snapshot:
/// <c>flow-snapshot/snapshot.json</c> (the manifest) and <c>flow-snapshot/&lt;hash&gt;.tar</c> in the output
/// folder, where the hash is the SHA-256 of the manifest. It also records the build's inputs in
/// <c>obj/flow/build.json</c>, so <c>dotnet flow run</c> can tell cheaply whether a build is needed.
/// </summary>
/// <remarks>
/// A no-op rebuild produces the same hash: the manifest lists files sorted by path with their SHA-256, and
/// compiler output is deterministic. A project whose assembly holds no flow (a client script) gets no snapshot.
/// </remarks>
public sealed class CreateFlowSnapshot : Microsoft.Build.Utilities.Task
{
    /// <summary>Gets or sets the built assembly in the output folder (<c>$(TargetPath)</c>).</summary>
    [Required]
    public string AssemblyPath { get; set; } = string.Empty;

    /// <summary>Gets or sets the project file.</summary>
    [Required]
    public string ProjectPath { get; set; } = string.Empty;

    /// <summary>Gets or sets the output folder (<c>$(TargetDir)</c>).</summary>
    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    /// <summary>Gets or sets the project's source items (Compile, EmbeddedResource, None, Content).</summary>
    public ITaskItem[] SourceFiles { get; set; } = [];

    /// <summary>Gets or sets every MSBuild file the project imported (<c>$(MSBuildAllProjects)</c>).</summary>
    public string ImportedProjects { get; set; } = string.Empty;

    /// <summary>Gets or sets further inputs whose change requires a build (assets file, references).</summary>
    public ITaskItem[] OtherInputs { get; set; } = [];

    /// <summary>Gets or sets the folders of intermediate and output files, whose files are never sources.</summary>
    public string[] ExcludedDirectories { get; set; } = [];

    /// <summary>
    /// Gets or sets when the build started (UTC ticks, from evaluation). An input written after that may have been
    /// saved while the compiler ran: it is recorded as changed, so the next <c>dotnet flow run</c> builds again.
    /// </summary>
    public long BuildStartedTicks { get; set; }

    /// <summary>Gets or sets the build configuration, recorded for the tool.</summary>
    public string Configuration { get; set; } = string.Empty;

    /// <summary>Gets the snapshot's hash, empty when the project defines no flow.</summary>
    [Output]
    public string SnapshotHash { get; private set; } = string.Empty;

    /// <inheritdoc/>
    public override bool Execute()
    {
        try
        {
            Run();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or BadImageFormatException or InvalidOperationException or JsonException)
        {
            Log.LogError(null, "FLOW1001", null, ProjectPath, 0, 0, 0, 0, "Could not create the code snapshot: {0}", e.Message);
        }
        return !Log.HasLoggedErrors;
    }

    private void Run()
    {
        var projectDir = Path.GetDirectoryName(Path.GetFullPath(ProjectPath))!;
        var outputDir = Path.GetFullPath(OutputDirectory);
        var snapshotDir = Path.Combine(outputDir, "flow-snapshot");
        var buildRecordDir = Path.Combine(projectDir, "obj", "flow");
        var flows = WithFingerprints(ReadFlowGraphs(AssemblyPath), AssemblyPath);
        if (flows.Count == 0)
        {
            // A project that no longer defines a flow must not leave a stale snapshot for the tool to run.
            if (Directory.Exists(snapshotDir))
            {
                Directory.Delete(snapshotDir, recursive: true);
            }
            if (File.Exists(Path.Combine(buildRecordDir, "build.json")))
            {
                File.Delete(Path.Combine(buildRecordDir, "build.json"));
            }
            Log.LogMessage(MessageImportance.Low, "No flow in {0}; no code snapshot.", AssemblyPath);
            return;
        }

        var sources = SelectSources(projectDir);
        var sourceRoot = CommonRoot(sources.Append(ProjectPath).Select(Path.GetFullPath).Select(Path.GetDirectoryName).OfType<string>());
        var files = new List<(string Name, string FullPath)>();
        files.AddRange(sources.Select(s => ("src/" + Relative(sourceRoot, s), s)));
        files.AddRange(Directory.EnumerateFiles(outputDir, "*", SearchOption.AllDirectories)
            .Where(f => !f.StartsWith(snapshotDir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            .Select(f => ("bin/" + Relative(outputDir, f), f)));
        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        // Streamed: a data file among the project's items is hashed and archived without being held in memory.
        var entries = files.Select(f =>
        {
            using var stream = File.OpenRead(f.FullPath);
            return (f.Name, f.FullPath, Size: stream.Length, Sha: Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant());
        }).ToList();

        var manifest = WriteManifest(entries, flows, Relative(sourceRoot, Path.GetFullPath(ProjectPath)), Path.GetFileName(AssemblyPath), SdkVersion(outputDir));
        var hash = Convert.ToHexString(SHA256.HashData(manifest)).ToLowerInvariant();
        SnapshotHash = hash;

        Directory.CreateDirectory(snapshotDir);
        var archive = Path.Combine(snapshotDir, hash + ".tar");
        if (!File.Exists(archive))
        {
            var temp = archive + ".tmp";
            using (var stream = File.Create(temp))
            using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: false))
            {
                foreach (var entry in entries)
                {
                    using var data = File.OpenRead(entry.FullPath);
                    writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, entry.Name) { DataStream = data, ModificationTime = DateTimeOffset.UnixEpoch });
                }
            }
            File.Move(temp, archive, overwrite: true);
        }
        WriteIfChanged(Path.Combine(snapshotDir, "snapshot.json"), manifest);
        foreach (var old in Directory.EnumerateFiles(snapshotDir, "*.tar").Where(f => !string.Equals(f, archive, StringComparison.Ordinal)))
        {
            File.Delete(old);
        }

        Directory.CreateDirectory(buildRecordDir);
        WriteIfChanged(Path.Combine(buildRecordDir, "build.json"), BuildRecord(projectDir, outputDir, hash, flows, sources));
        Log.LogMessage(MessageImportance.Normal, "Flow code snapshot {0} ({1} files) in {2}", hash[..12], entries.Count, snapshotDir);
    }

    private List<string> SelectSources(string projectDir)
    {
        var result = new SortedSet<string>(StringComparer.Ordinal) { Path.GetFullPath(ProjectPath) };
        var excluded = ExcludedDirectories.Where(d => d.Length > 0).Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d, projectDir)) + Path.DirectorySeparatorChar)
            .Append(Path.Combine(projectDir, "obj") + Path.DirectorySeparatorChar)
            .Append(Path.Combine(projectDir, "bin") + Path.DirectorySeparatorChar)
            .Append(Path.TrimEndingDirectorySeparator(Path.GetFullPath(OutputDirectory)) + Path.DirectorySeparatorChar)
            .ToArray();
        foreach (var item in SourceFiles)
        {
            var full = item.GetMetadata("FullPath");
            if (full.Length > 0 && File.Exists(full) && !excluded.Any(e => full.StartsWith(e, StringComparison.Ordinal)) && !full.Contains(Path.DirectorySeparatorChar + ".flow" + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                result.Add(full);
            }
        }
        // Directory.Build.* and Directory.Packages.props shape the build; nuget.config and global.json its restore.
        foreach (var import in ImportedProjects.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = Path.GetFileName(import);
            if (name.StartsWith("Directory.", StringComparison.OrdinalIgnoreCase) && File.Exists(import))
            {
                result.Add(Path.GetFullPath(import));
            }
        }
        for (var dir = projectDir; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            foreach (var name in new[] { "nuget.config", "NuGet.Config", "NuGet.config", "global.json" })
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    result.Add(candidate);
                }
            }
            if (Directory.Exists(Path.Combine(dir, ".git")))
            {
                break;
            }
        }
        return [.. result];
    }

    private static string CommonRoot(IEnumerable<string> dirs)
    {
        string? root = null;
        foreach (var dir in dirs)
        {
            if (root is null)
            {
                root = dir;
                continue;
            }
            while (!(dir + Path.DirectorySeparatorChar).StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                root = Path.GetDirectoryName(root) ?? root;
                if (root == Path.GetPathRoot(root))
                {
                    return root;
                }
            }
        }
        return root ?? Path.GetPathRoot(Environment.CurrentDirectory)!;
    }

    private static string Relative(string root, string path) => Path.GetRelativePath(root, path).Replace('\\', '/');

    /// <summary>Replaces the file atomically (temp file, then rename), so a run starting meanwhile reads a whole manifest.</summary>
    private static void WriteIfChanged(string path, byte[] bytes)
    {
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
        {
            return;
        }
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    private static byte[] WriteManifest(List<(string Name, string FullPath, long Size, string Sha)> entries, List<string> flows, string projectPath, string assembly, string sdkVersion)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("format", 1);
            json.WriteString("sdkVersion", sdkVersion);
            json.WriteString("assembly", assembly);
            json.WriteString("projectPath", projectPath);
            json.WriteStartArray("files");
            foreach (var entry in entries)
            {
                json.WriteStartObject();
                json.WriteString("path", entry.Name);
                json.WriteString("sha", entry.Sha);
                json.WriteNumber("size", entry.Size);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("flows");
            foreach (var flow in flows)
            {
                using var doc = JsonDocument.Parse(flow);
                doc.RootElement.WriteTo(json);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// Files found by walking up from the project: MSBuild's Directory.Build.props/.targets, central package
    /// versions, the SDK's global.json and NuGet's configuration (in the spellings NuGet reads).
    /// </summary>
    internal static readonly string[] WatchedAbove =
        ["Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json", "nuget.config", "NuGet.config", "NuGet.Config"];

    private byte[] BuildRecord(string projectDir, string outputDir, string hash, List<string> flows, List<string> sources)
    {
        var inputs = new SortedSet<string>(StringComparer.Ordinal);
        inputs.UnionWith(sources);
        inputs.UnionWith(ImportedProjects.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(File.Exists).Select(Path.GetFullPath));
        inputs.UnionWith(OtherInputs.Select(i => i.GetMetadata("FullPath")).Where(p => p.Length > 0 && File.Exists(p)));
        // The files MSBuild, NuGet and the SDK resolver look for in the project's folder and every folder above it:
        // each that exists is an input; each that does not is recorded as absent, so creating one calls for a build.
        var absent = new List<string>();
        for (var dir = Path.GetFullPath(projectDir); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            foreach (var name in WatchedAbove)
            {
                var path = Path.Combine(dir, name);
                if (File.Exists(path))
                {
                    inputs.Add(path);
                }
                else
                {
                    absent.Add(path);
                }
            }
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("format", 1);
            json.WriteString("projectPath", Path.GetFullPath(ProjectPath));
            json.WriteString("configuration", Configuration);
            json.WriteString("assemblyPath", Path.GetFullPath(AssemblyPath));
            json.WriteString("snapshotDirectory", Path.Combine(outputDir, "flow-snapshot"));
            json.WriteString("snapshot", hash);
            json.WriteStartArray("flows");
            foreach (var flow in flows)
            {
                using var doc = JsonDocument.Parse(flow);
                doc.RootElement.WriteTo(json);
            }
            json.WriteEndArray();
            json.WriteStartArray("inputs");
            foreach (var input in inputs)
            {
                var info = new FileInfo(input);
                var modified = info.LastWriteTimeUtc.Ticks;
                json.WriteStartObject();
                json.WriteString("path", input);
                json.WriteNumber("modified", BuildStartedTicks > 0 && modified > BuildStartedTicks ? -1 : modified);
                json.WriteNumber("size", info.Length);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("absent");
            foreach (var path in absent)
            {
                json.WriteStringValue(path);
            }
            json.WriteEndArray();
            // New or deleted sources are noticed by listing the source folders again; dotnet-flow's BuildRecord applies the same rule.
            json.WriteStartArray("directories");
            foreach (var dir in SourceDirectories(projectDir))
            {
                json.WriteStartObject();
                json.WriteString("path", dir);
                json.WriteStartArray("entries");
                foreach (var entry in SourceEntries(dir))
                {
                    json.WriteStringValue(entry);
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static bool IsSourceDirectory(string name) => name is not ("bin" or "obj") && !name.StartsWith('.');

    /// <summary>The names whose appearance or disappearance in a source folder calls for a build: C# files and source folders.</summary>
    private static IEnumerable<string> SourceEntries(string dir) =>
        Directory.EnumerateFiles(dir, "*.cs").Select(Path.GetFileName).OfType<string>()
            .Concat(Directory.EnumerateDirectories(dir).Select(Path.GetFileName).OfType<string>().Where(IsSourceDirectory).Select(d => d + "/"))
            .Order(StringComparer.Ordinal);

    private static IEnumerable<string> SourceDirectories(string projectDir)
    {
        var pending = new Stack<string>();
        pending.Push(projectDir);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            yield return dir;
            foreach (var child in Directory.EnumerateDirectories(dir).Where(d => IsSourceDirectory(Path.GetFileName(d))).OrderBy(d => d, StringComparer.Ordinal))
            {
                pending.Push(child);
            }
        }
    }

    /// <summary>The graph JSON of every flow, from the generator's <c>[assembly: AssemblyMetadata("Flow.Graph", ...)]</c>.</summary>
    /// <summary>Each flow's graph with every step's code fingerprint added as <c>"code"</c> (resume after an edit).</summary>
    internal static List<string> WithFingerprints(List<string> flows, string assemblyPath)
    {
        var result = new List<string>();
        foreach (var flow in flows)
        {
            var graph = System.Text.Json.Nodes.JsonNode.Parse(flow)!.AsObject();
            var steps = graph["steps"]!.AsArray().Select(s => s!.AsObject()).ToList();
            var fingerprints = StepFingerprints.Read(assemblyPath, (string)graph["name"]!, steps.Select(s => (string)s["name"]!));
            if (fingerprints.Count == 0)
            {
                result.Add(flow);
                continue;
            }
            foreach (var step in steps)
            {
                if (fingerprints.TryGetValue((string)step["name"]!, out var code))
                {
                    step["code"] = code;
                }
            }
            result.Add(graph.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        }
        return result;
    }

    internal static List<string> ReadFlowGraphs(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        var graphs = new List<string>();
        foreach (var handle in reader.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = reader.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference)
            {
                continue;
            }
            var ctor = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
            if (ctor.Parent.Kind != HandleKind.TypeReference
                || reader.GetString(reader.GetTypeReference((TypeReferenceHandle)ctor.Parent).Name) != "AssemblyMetadataAttribute")
            {
                continue;
            }
            var blob = reader.GetBlobReader(attribute.Value);
            if (blob.ReadUInt16() != 1)
            {
                continue;
            }
            var key = blob.ReadSerializedString();
            var value = blob.ReadSerializedString();
            if (key == "Flow.Graph" && value is not null)
            {
                graphs.Add(value);
            }
        }
        return graphs;
    }

    private static string SdkVersion(string outputDir)
    {
        var sdk = Path.Combine(outputDir, "Flow.Sdk.dll");
        if (!File.Exists(sdk))
        {
            return "unknown";
        }
        using var stream = File.OpenRead(sdk);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        foreach (var handle in reader.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = reader.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind == HandleKind.MemberReference)
            {
                var ctor = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
                if (ctor.Parent.Kind == HandleKind.TypeReference
                    && reader.GetString(reader.GetTypeReference((TypeReferenceHandle)ctor.Parent).Name) == "AssemblyInformationalVersionAttribute")
                {
                    var blob = reader.GetBlobReader(attribute.Value);
                    blob.ReadUInt16();
                    return (blob.ReadSerializedString() ?? "unknown").Split('+')[0];
                }
            }
        }
        return reader.GetAssemblyDefinition().Version.ToString();
    }
}
