using System.IO.Abstractions;
using System.Text.Json;
using Flow.Sdk.Graph;

namespace Flow.Cli.Projects;

/// <summary>
/// <c>obj/flow/build.json</c>, written by Flow.Build's snapshot task at the end of each build: the flows, the
/// snapshot, and the inputs the build read, so the tool can tell cheaply whether a build is needed.
/// </summary>
internal sealed record BuildRecord(
    string ProjectPath,
    string Configuration,
    string AssemblyPath,
    string SnapshotDirectory,
    string Snapshot,
    IReadOnlyList<JsonElement> Flows,
    IReadOnlyList<BuildRecord.Input> Inputs,
    IReadOnlyList<BuildRecord.Folder> Directories,
    IReadOnlyList<string>? Absent = null)
{

    public static string PathFor(IFileSystem fs, string projectPath) =>
        fs.Path.Combine(fs.Path.GetDirectoryName(projectPath)!, "obj", "flow", "build.json");

    public static BuildRecord? Read(IFileSystem fs, string projectPath)
    {
        var path = PathFor(fs, projectPath);
        if (!fs.File.Exists(path))
        {
            return null;
        }
        try
        {
            // Read with JsonDocument rather than the serializer: this is on the start-up path of every command,
            // and the serializer's first use costs tens of milliseconds there.
            using var doc = JsonDocument.Parse(fs.File.ReadAllBytes(path));
            var root = doc.RootElement;
            return new BuildRecord(
                Text(root, "projectPath"),
                Text(root, "configuration"),
                Text(root, "assemblyPath"),
                Text(root, "snapshotDirectory"),
                Text(root, "snapshot"),
                ClonedFlows(root.GetProperty("flows")),
                Map(root, "inputs", i => new Input(Text(i, "path"), i.GetProperty("modified").GetInt64(), i.GetProperty("size").GetInt64())),
                Map(root, "directories", d => new Folder(Text(d, "path"), Map(d, "entries", e => e.GetString() ?? string.Empty))),
                root.TryGetProperty("absent", out _) ? Map(root, "absent", a => a.GetString() ?? string.Empty) : []);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // An incomplete or foreign record is no record: the tool builds, and the build writes a whole one.
            return null;
        }
    }

    private static string Text(JsonElement element, string name) =>
        element.GetProperty(name).GetString() ?? throw new FormatException(name);

    // Loops and arrays rather than LINQ over JSON elements: generic code over a struct is compiled at start-up, and
    // this is on the start-up path of every command (docs/performance.md).
    private static List<T> Map<T>(JsonElement element, string name, Func<JsonElement, T> map)
        where T : class
    {
        var list = new List<T>();
        foreach (var item in element.GetProperty(name).EnumerateArray())
        {
            list.Add(map(item));
        }
        return list;
    }

    private static JsonElement[] ClonedFlows(JsonElement flows)
    {
        var array = new JsonElement[flows.GetArrayLength()];
        var i = 0;
        foreach (var flow in flows.EnumerateArray())
        {
            array[i++] = flow.Clone();
        }
        return array;
    }

    public IReadOnlyList<FlowGraph> Graphs()
    {
        var graphs = new List<FlowGraph>(Flows.Count);
        for (var i = 0; i < Flows.Count; i++)
        {
            graphs.Add(FlowGraph.Parse(Flows[i]));
        }
        return graphs;
    }

    /// <summary>The first input that changed since the build, or null when nothing did. Missing outputs count as changes.</summary>
    public string? FirstChange(IFileSystem fs, string configuration)
    {
        if (!string.Equals(Configuration, configuration, StringComparison.OrdinalIgnoreCase))
        {
            return $"configuration {Configuration} -> {configuration}";
        }
        if (!fs.File.Exists(AssemblyPath) || !fs.File.Exists(fs.Path.Combine(SnapshotDirectory, "snapshot.json")))
        {
            return "build output missing";
        }
        foreach (var input in Inputs)
        {
            var info = fs.FileInfo.New(input.Path);
            if (!info.Exists || info.LastWriteTimeUtc.Ticks != input.Modified || info.Length != input.Size)
            {
                return input.Path;
            }
        }
        // A Directory.Build.props, global.json, nuget.config ... created since the build, in the project's folder or above.
        foreach (var path in Absent ?? [])
        {
            if (path.Length > 0 && fs.File.Exists(path))
            {
                return path;
            }
        }
        foreach (var folder in Directories)
        {
            if (folder.Entries is null || !fs.Directory.Exists(folder.Path) || !SourceEntries(fs, folder.Path).SequenceEqual(folder.Entries, StringComparer.Ordinal))
            {
                return folder.Path;
            }
        }
        return null;
    }

    /// <summary>A file the build read.</summary>
    internal sealed record Input(string Path, long Modified, long Size);

    /// <summary>
    /// The C# files and source folders of a folder, the same rule as Flow.Build's CreateFlowSnapshot: a change in
    /// this list (a new or deleted source) calls for a build, while other files (a datastore, a run id file) do not.
    /// </summary>
    private static IEnumerable<string> SourceEntries(IFileSystem fs, string dir) =>
        fs.Directory.EnumerateFiles(dir, "*.cs").Select(fs.Path.GetFileName).OfType<string>()
            .Concat(fs.Directory.EnumerateDirectories(dir).Select(fs.Path.GetFileName).OfType<string>()
                .Where(name => name is not ("bin" or "obj") && !name.StartsWith('.')).Select(d => d + "/"))
            .Order(StringComparer.Ordinal);

    /// <summary>A source folder and its entries when the build ran.</summary>
    internal sealed record Folder(string Path, IReadOnlyList<string> Entries);
}

