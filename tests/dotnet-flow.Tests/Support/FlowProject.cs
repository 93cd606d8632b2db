using System.IO.Abstractions;
using System.Text.Json;

namespace Flow.Cli.Tests.Support;

/// <summary>
/// A flow project on a file system (mock or real) that looks built: sources, an assembly, a snapshot manifest, and
/// an <c>obj/flow/build.json</c> in the shape Flow.Build's CreateFlowSnapshot writes, listing the inputs and
/// source folders as they are when <see cref="Build"/> runs.
/// </summary>
internal sealed class FlowProject
{
    public FlowProject(IFileSystem fs, string directory, string name = "Hello")
    {
        FileSystem = fs;
        Directory = directory;
        ProjectPath = fs.Path.Combine(directory, name + ".csproj");
        OutputDirectory = fs.Path.Combine(directory, "bin", "Debug", "net10.0");
        AssemblyPath = fs.Path.Combine(OutputDirectory, name + ".dll");
        SnapshotDirectory = fs.Path.Combine(OutputDirectory, "flow-snapshot");
        fs.Directory.CreateDirectory(directory);
        fs.File.WriteAllText(ProjectPath, "<Project Sdk=\"Microsoft.NET.Sdk\" />\n");
    }

    public IFileSystem FileSystem { get; }

    public string Directory { get; }

    public string ProjectPath { get; }

    public string OutputDirectory { get; }

    public string AssemblyPath { get; }

    public string SnapshotDirectory { get; }

    public string BuildRecordPath => FileSystem.Path.Combine(Directory, "obj", "flow", "build.json");

    /// <summary>Gets or sets the flows the build record lists, by name; each is a Start → End graph.</summary>
    public IReadOnlyList<string> Flows { get; set; } = ["HelloFlow"];

    /// <summary>Writes a file below the project folder and returns its full path.</summary>
    public string Write(string relativePath, string content)
    {
        var path = FileSystem.Path.Combine(Directory, relativePath);
        FileSystem.Directory.CreateDirectory(FileSystem.Path.GetDirectoryName(path)!);
        FileSystem.File.WriteAllText(path, content);
        return path;
    }

    /// <summary>Writes the build output and the build record of the project as it is now.</summary>
    public FlowProject Build(string configuration = "Debug")
    {
        FileSystem.Directory.CreateDirectory(SnapshotDirectory);
        FileSystem.File.WriteAllBytes(AssemblyPath, [0x4D, 0x5A]);
        FileSystem.File.WriteAllText(FileSystem.Path.Combine(SnapshotDirectory, "snapshot.json"), "{\"format\":1}");
        FileSystem.Directory.CreateDirectory(FileSystem.Path.GetDirectoryName(BuildRecordPath)!);
        FileSystem.File.WriteAllBytes(BuildRecordPath, BuildRecordJson(configuration));
        return this;
    }

    /// <summary>The graph JSON the generator embeds for a two-step flow.</summary>
    public static string GraphJson(string flowName) =>
        $$"""
        {"name":"{{flowName}}","description":"Says hello.","steps":[{"name":"Start","kind":"linear","next":["End"],"forEach":null,"description":"Begins.","file":"{{flowName}}.cs","line":5},{"name":"End","kind":"end","next":[],"forEach":null,"description":null,"file":"{{flowName}}.cs","line":9}],"parameters":[{"name":"Count","option":"count","type":"int","default":"3","required":false,"help":"How many."}]}
        """;

    private byte[] BuildRecordJson(string configuration)
    {
        var fs = FileSystem;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("format", 1);
            json.WriteString("projectPath", ProjectPath);
            json.WriteString("configuration", configuration);
            json.WriteString("assemblyPath", AssemblyPath);
            json.WriteString("snapshotDirectory", SnapshotDirectory);
            json.WriteString("snapshot", new string('a', 64));
            json.WriteStartArray("flows");
            foreach (var flow in Flows)
            {
                using var doc = JsonDocument.Parse(GraphJson(flow));
                doc.RootElement.WriteTo(json);
            }
            json.WriteEndArray();
            json.WriteStartArray("inputs");
            foreach (var input in Sources())
            {
                var info = fs.FileInfo.New(input);
                json.WriteStartObject();
                json.WriteString("path", input);
                json.WriteNumber("modified", info.LastWriteTimeUtc.Ticks);
                json.WriteNumber("size", info.Length);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("absent");
            for (var dir = fs.Path.GetDirectoryName(ProjectPath); dir is not null; dir = fs.Path.GetDirectoryName(dir))
            {
                foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props", "global.json", "nuget.config" })
                {
                    if (!fs.File.Exists(fs.Path.Combine(dir, name)))
                    {
                        json.WriteStringValue(fs.Path.Combine(dir, name));
                    }
                }
            }
            json.WriteEndArray();
            json.WriteStartArray("directories");
            foreach (var dir in SourceDirectories())
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

    /// <summary>The project file and every C# file in the source folders, sorted ordinally.</summary>
    private IEnumerable<string> Sources() =>
        SourceDirectories().SelectMany(d => FileSystem.Directory.EnumerateFiles(d, "*.cs")).Append(ProjectPath).Order(StringComparer.Ordinal);

    private IEnumerable<string> SourceEntries(string dir) =>
        FileSystem.Directory.EnumerateFiles(dir, "*.cs").Select(FileSystem.Path.GetFileName).OfType<string>()
            .Concat(FileSystem.Directory.EnumerateDirectories(dir).Select(FileSystem.Path.GetFileName).OfType<string>().Where(IsSourceDirectory).Select(d => d + "/"))
            .Order(StringComparer.Ordinal);

    private IEnumerable<string> SourceDirectories()
    {
        var pending = new Stack<string>();
        pending.Push(Directory);
        while (pending.Count > 0)
        {
            var dir = pending.Pop();
            yield return dir;
            foreach (var child in FileSystem.Directory.EnumerateDirectories(dir).Where(d => IsSourceDirectory(FileSystem.Path.GetFileName(d))).OrderBy(d => d, StringComparer.Ordinal))
            {
                pending.Push(child);
            }
        }
    }
}
