using System.Formats.Tar;
using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using Flow.Build.Tasks;
using Flow.Tests;
using Microsoft.Build.Utilities;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Flow.Build.Tests;

/// <summary>A flow project on disk: a project file, a source file and a built assembly in bin/.</summary>
internal sealed class SnapshotProject : IDisposable
{
    public const string GraphJson = """{"name":"HelloFlow","description":"Says hello.","steps":[{"name":"Start","kind":"linear","next":["End"],"forEach":null,"description":null,"file":"HelloFlow.cs","line":5},{"name":"End","kind":"end","next":[],"forEach":null,"description":null,"file":"HelloFlow.cs","line":8}],"parameters":[]}""";

    public SnapshotProject(string projectFolder = "")
    {
        Directory.CreateDirectory(Root.Combine(".git"));
        ProjectDirectory = projectFolder.Length == 0 ? Root.Path : Root.Combine(projectFolder);
        Directory.CreateDirectory(OutputDirectory);
        File.WriteAllText(ProjectPath, """<Project Sdk="Microsoft.NET.Sdk"><PropertyGroup><OutputType>Exe</OutputType></PropertyGroup></Project>""");
        File.WriteAllText(SourcePath, "public partial class HelloFlow { }\n");
    }

    public TempDirectory Root { get; } = new("flow-snapshot-test-");

    public string ProjectDirectory { get; }

    public string ProjectPath => Path.Combine(ProjectDirectory, "App.csproj");

    public string SourcePath => Path.Combine(ProjectDirectory, "HelloFlow.cs");

    public string OutputDirectory => Path.Combine(ProjectDirectory, "bin") + Path.DirectorySeparatorChar;

    public string AssemblyPath => Path.Combine(OutputDirectory, "App.dll");

    public string SnapshotDirectory => Path.Combine(OutputDirectory, "flow-snapshot");

    public string BuildRecordPath => Path.Combine(ProjectDirectory, "obj", "flow", "build.json");

    public FakeBuildEngine Engine { get; } = new();

    /// <summary>Compiles an assembly into bin/ with the given <c>Flow.Graph</c> values (none: a client, not a flow project).</summary>
    public void BuildAssembly(params string[] graphs)
    {
        var attributes = string.Concat(graphs.Select(g =>
            $"[assembly: System.Reflection.AssemblyMetadata(\"Flow.Graph\", {SymbolDisplay.FormatLiteral(g, quote: true)})]\n"));
        var source = attributes + "[assembly: System.Reflection.AssemblyMetadata(\"Other\", \"value\")]\npublic static class Marker { }\n";
        var compilation = CSharpCompilation.Create(
            "App",
            [CSharpSyntaxTree.ParseText(source)],
            [MetadataReference.CreateFromFile(typeof(object).Assembly.Location)],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, deterministic: true));
        Emit(compilation);
    }

    public void Emit(Compilation compilation)
    {
        using var file = File.Create(AssemblyPath);
        var result = compilation.Emit(file);
        result.Success.ShouldBeTrue(string.Join(Environment.NewLine, result.Diagnostics));
    }

    public CreateFlowSnapshot Task(Action<CreateFlowSnapshot>? configure = null)
    {
        var task = new CreateFlowSnapshot
        {
            BuildEngine = Engine,
            AssemblyPath = AssemblyPath,
            ProjectPath = ProjectPath,
            OutputDirectory = OutputDirectory,
            SourceFiles = [new TaskItem(SourcePath)],
            ImportedProjects = "",
            Configuration = "Debug",
        };
        configure?.Invoke(task);
        return task;
    }

    /// <summary>Runs the task and asserts it succeeded without errors or warnings.</summary>
    public string Snapshot(Action<CreateFlowSnapshot>? configure = null)
    {
        var task = Task(configure);
        task.Execute().ShouldBeTrue(Engine.Describe());
        Engine.Errors.ShouldBeEmpty(Engine.Describe());
        Engine.Warnings.ShouldBeEmpty(Engine.Describe());
        return task.SnapshotHash;
    }

    public JsonElement Manifest() => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(SnapshotDirectory, "snapshot.json"))).RootElement;

    public void Dispose() => Root.Dispose();
}

public class CreateFlowSnapshotTests
{
    private static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    private static string Sha256(string path) => Sha256(File.ReadAllBytes(path));

    [Fact]
    public void The_snapshot_is_named_by_the_hash_of_its_manifest()
    {
        using var project = new SnapshotProject();
        project.BuildAssembly(SnapshotProject.GraphJson);

        var hash = project.Snapshot();

        hash.ShouldMatch("^[0-9a-f]{64}$");
        var manifestPath = Path.Combine(project.SnapshotDirectory, "snapshot.json");
        File.Exists(manifestPath).ShouldBeTrue();
        Sha256(manifestPath).ShouldBe(hash);
        Directory.GetFiles(project.SnapshotDirectory).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal)
            .ShouldBe([hash + ".tar", "snapshot.json"]);
        var shortHash = hash[..12];
        project.Engine.Messages.ShouldContain(m => m.Message!.Contains(shortHash, StringComparison.Ordinal));
    }

    [Fact]
    public void The_manifest_lists_sources_and_build_output_sorted_with_their_hashes()
    {
        using var project = new SnapshotProject();
        project.BuildAssembly(SnapshotProject.GraphJson);

        project.Snapshot();

        var manifest = project.Manifest();
        manifest.GetProperty("format").GetInt32().ShouldBe(1);
        manifest.GetProperty("assembly").GetString().ShouldBe("App.dll");
        manifest.GetProperty("projectPath").GetString().ShouldBe("App.csproj");
        manifest.GetProperty("sdkVersion").GetString().ShouldBe("unknown", "there is no Flow.Sdk.dll in bin/");
        var files = manifest.GetProperty("files").EnumerateArray()
            .Select(f => (Path: f.GetProperty("path").GetString()!, Sha: f.GetProperty("sha").GetString()!, Size: f.GetProperty("size").GetInt64()))
            .ToList();
        files.Select(f => f.Path).ShouldBe(["bin/App.dll", "src/App.csproj", "src/HelloFlow.cs"]);
        files.Select(f => f.Path).ShouldBe(files.Select(f => f.Path).OrderBy(p => p, StringComparer.Ordinal));
        var onDisk = new Dictionary<string, string>
        {
            ["bin/App.dll"] = project.AssemblyPath,
            ["src/App.csproj"] = project.ProjectPath,
            ["src/HelloFlow.cs"] = project.SourcePath,
        };
        foreach (var (path, sha, size) in files)
        {
            sha.ShouldBe(Sha256(onDisk[path]), path);
            size.ShouldBe(new FileInfo(onDisk[path]).Length, path);
        }
        var flow = manifest.GetProperty("flows").EnumerateArray().ShouldHaveSingleItem();
        flow.GetProperty("name").GetString().ShouldBe("HelloFlow");
        flow.GetProperty("steps").GetArrayLength().ShouldBe(2);
    }

    [Fact]
    public void The_tar_holds_exactly_the_files_of_the_manifest()
    {
        using var project = new SnapshotProject();
        project.BuildAssembly(SnapshotProject.GraphJson);

        var hash = project.Snapshot();

        var expected = project.Manifest().GetProperty("files").EnumerateArray()
            .Select(f => (f.GetProperty("path").GetString()!, f.GetProperty("sha").GetString()!, f.GetProperty("size").GetInt64()))
            .ToList();
        var actual = new List<(string, string, long)>();
        using (var stream = File.OpenRead(Path.Combine(project.SnapshotDirectory, hash + ".tar")))
        using (var reader = new TarReader(stream))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                entry.EntryType.ShouldBe(TarEntryType.RegularFile);
                entry.ModificationTime.ShouldBe(DateTimeOffset.UnixEpoch);
                using var data = new MemoryStream();
                entry.DataStream?.CopyTo(data);
                actual.Add((entry.Name, Sha256(data.ToArray()), entry.Length));
            }
        }
        actual.ShouldBe(expected);
    }

    [Fact]
    public void A_no_op_rebuild_gives_the_same_hash_and_rewrites_nothing()
    {
        using var project = new SnapshotProject();
        project.BuildAssembly(SnapshotProject.GraphJson);
        var first = project.Snapshot();
        var tar = Path.Combine(project.SnapshotDirectory, first + ".tar");
        var manifest = Path.Combine(project.SnapshotDirectory, "snapshot.json");
        var old = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(tar, old);
        File.SetLastWriteTimeUtc(manifest, old);

        project.BuildAssembly(SnapshotProject.GraphJson);
        var second = project.Snapshot();

        second.ShouldBe(first);
        File.GetLastWriteTimeUtc(tar).ShouldBe(old, "an existing snapshot is not written again");
        File.GetLastWriteTimeUtc(manifest).ShouldBe(old, "an unchanged manifest is not written again");
        Directory.GetFiles(project.SnapshotDirectory, "*.tar").ShouldBe([tar]);
    }

    [Fact]
    public void A_changed_source_gives_a_new_hash_and_removes_the_old_tar()
    {
        using var project = new SnapshotProject();
        project.BuildAssembly(SnapshotProject.GraphJson);
        var first = project.Snapshot();

        File.AppendAllText(project.SourcePath, "// changed\n");
        var second = project.Snapshot();

        second.ShouldNotBe(first);
        Directory.GetFiles(project.SnapshotDirectory).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal)
            .ShouldBe([second + ".tar", "snapshot.json"]);
        Sha256(Path.Combine(project.SnapshotDirectory, "snapshot.json")).ShouldBe(second);
        project.Manifest().GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == "src/HelloFlow.cs")
            .GetProperty("sha").GetString().ShouldBe(Sha256(project.SourcePath));
    }

    [Fact]
    public void A_changed_graph_gives_a_new_hash()
    {
        using var project = new SnapshotProject();
        project.BuildAssembly(SnapshotProject.GraphJson);
        var first = project.Snapshot();

        project.BuildAssembly(SnapshotProject.GraphJson.Replace("Says hello.", "Says hi.", StringComparison.Ordinal));
        var second = project.Snapshot();

        second.ShouldNotBe(first);
        project.Manifest().GetProperty("flows")[0].GetProperty("description").GetString().ShouldBe("Says hi.");
    }

    [Fact]
    public void The_build_record_lists_flows_snapshot_and_inputs()
    {
        using var project = new SnapshotProject();
        project.BuildAssembly(SnapshotProject.GraphJson);
        var assets = Path.Combine(project.ProjectDirectory, "obj", "project.assets.json");
        Directory.CreateDirectory(Path.GetDirectoryName(assets)!);
        File.WriteAllText(assets, "{}");

        var hash = project.Snapshot(t => t.OtherInputs = [new TaskItem(assets), new TaskItem(Path.Combine(project.Root.Path, "missing.dll"))]);

        File.Exists(project.BuildRecordPath).ShouldBeTrue();
        var record = JsonDocument.Parse(File.ReadAllBytes(project.BuildRecordPath)).RootElement;
        record.GetProperty("format").GetInt32().ShouldBe(1);
        record.GetProperty("snapshot").GetString().ShouldBe(hash);
        record.GetProperty("configuration").GetString().ShouldBe("Debug");
        record.GetProperty("projectPath").GetString().ShouldBe(project.ProjectPath);
        record.GetProperty("assemblyPath").GetString().ShouldBe(project.AssemblyPath);
        Path.GetFullPath(record.GetProperty("snapshotDirectory").GetString()!).ShouldBe(project.SnapshotDirectory);
        record.GetProperty("flows").EnumerateArray().ShouldHaveSingleItem().GetProperty("name").GetString().ShouldBe("HelloFlow");

        var inputs = record.GetProperty("inputs").EnumerateArray().ToDictionary(i => i.GetProperty("path").GetString()!);
        inputs.Keys.Order(StringComparer.Ordinal).ShouldBe([project.ProjectPath, project.SourcePath, assets], ignoreOrder: true);
        foreach (var (path, input) in inputs)
        {
            input.GetProperty("size").GetInt64().ShouldBe(new FileInfo(path).Length, path);
            input.GetProperty("modified").GetInt64().ShouldBe(File.GetLastWriteTimeUtc(path).Ticks, path);
        }
        var directories = record.GetProperty("directories").EnumerateArray().Select(d => d.GetProperty("path").GetString()).ToList();
        directories.ShouldContain(project.ProjectDirectory);
        directories.ShouldNotContain(d => d!.EndsWith("bin", StringComparison.Ordinal) || d.EndsWith("obj", StringComparison.Ordinal) || d.Contains(".git", StringComparison.Ordinal));
    }

    [Fact]
    public void An_assembly_without_a_flow_gets_no_snapshot_and_no_error()
    {
        using var project = new SnapshotProject();
        project.BuildAssembly();

        var task = project.Task();
        task.Execute().ShouldBeTrue(project.Engine.Describe());

        project.Engine.Errors.ShouldBeEmpty();
        project.Engine.Warnings.ShouldBeEmpty();
        task.SnapshotHash.ShouldBeEmpty();
        Directory.Exists(project.SnapshotDirectory).ShouldBeFalse();
        File.Exists(project.BuildRecordPath).ShouldBeFalse();
    }

    [Fact]
    public void Every_flow_of_the_assembly_is_in_the_manifest()
    {
        using var project = new SnapshotProject();
        var other = SnapshotProject.GraphJson.Replace("HelloFlow\",\"description", "OtherFlow\",\"description", StringComparison.Ordinal);
        project.BuildAssembly(SnapshotProject.GraphJson, other);

        project.Snapshot();

        project.Manifest().GetProperty("flows").EnumerateArray().Select(f => f.GetProperty("name").GetString())
            .ShouldBe(["HelloFlow", "OtherFlow"], ignoreOrder: true);
    }

    [Fact]
    public void A_missing_assembly_fails_with_FLOW1001()
    {
        using var project = new SnapshotProject();

        var task = project.Task();
        task.Execute().ShouldBeFalse();

        var error = project.Engine.Errors.ShouldHaveSingleItem();
        error.Code.ShouldBe("FLOW1001");
        error.File.ShouldBe(project.ProjectPath);
        error.Message!.ShouldContain("Could not create the code snapshot");
    }

    [Fact]
    public void An_assembly_that_is_not_a_PE_file_fails_with_FLOW1001()
    {
        using var project = new SnapshotProject();
        File.WriteAllText(project.AssemblyPath, "not an assembly");

        project.Task().Execute().ShouldBeFalse();

        project.Engine.Errors.ShouldHaveSingleItem().Code.ShouldBe("FLOW1001");
    }

    [Fact]
    public void A_graph_that_is_not_JSON_fails_with_FLOW1001()
    {
        using var project = new SnapshotProject();
        project.BuildAssembly("not json");

        var task = project.Task();
        Should.NotThrow(() => task.Execute()).ShouldBeFalse();

        project.Engine.Errors.ShouldHaveSingleItem().Code.ShouldBe("FLOW1001");
    }

    [Fact]
    public void Sources_come_from_items_imports_and_restore_files_but_not_from_obj_bin_or_the_datastore()
    {
        using var project = new SnapshotProject("app");
        var root = project.Root.Path;
        project.BuildAssembly(SnapshotProject.GraphJson);
        File.WriteAllText(Path.Combine(root, "nuget.config"), "<configuration />");
        var directoryProps = Path.Combine(root, "Directory.Build.props");
        File.WriteAllText(directoryProps, "<Project />");
        Directory.CreateDirectory(Path.Combine(root, "sdk"));
        var sdkTargets = Path.Combine(root, "sdk", "Sdk.targets");
        File.WriteAllText(sdkTargets, "<Project />");
        var generated = Path.Combine(project.ProjectDirectory, "obj", "Debug", "App.AssemblyInfo.cs");
        Directory.CreateDirectory(Path.GetDirectoryName(generated)!);
        File.WriteAllText(generated, "// generated");
        var data = Path.Combine(project.ProjectDirectory, ".flow", "data.json");
        Directory.CreateDirectory(Path.GetDirectoryName(data)!);
        File.WriteAllText(data, "{}");
        var readme = Path.Combine(project.ProjectDirectory, "docs", "readme.md");
        Directory.CreateDirectory(Path.GetDirectoryName(readme)!);
        File.WriteAllText(readme, "# app");

        project.Snapshot(t =>
        {
            t.SourceFiles = [new TaskItem(project.SourcePath), new TaskItem(generated), new TaskItem(data), new TaskItem(readme), new TaskItem(Path.Combine(project.ProjectDirectory, "Gone.cs"))];
            t.ImportedProjects = $"{directoryProps}; {sdkTargets};;{Path.Combine(root, "Directory.Missing.props")}";
        });

        var manifest = project.Manifest();
        manifest.GetProperty("projectPath").GetString().ShouldBe("app/App.csproj");
        manifest.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()).ShouldBe([
            "bin/App.dll",
            "src/Directory.Build.props",
            "src/app/App.csproj",
            "src/app/HelloFlow.cs",
            "src/app/docs/readme.md",
            "src/nuget.config",
        ]);
        var record = JsonDocument.Parse(File.ReadAllBytes(project.BuildRecordPath)).RootElement;
        record.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("path").GetString()).ShouldContain(sdkTargets);
        record.GetProperty("directories").EnumerateArray().Select(d => d.GetProperty("path").GetString())
            .ShouldBe([project.ProjectDirectory, Path.Combine(project.ProjectDirectory, "docs")]);
    }

    [Fact]
    public void The_sdk_version_is_read_from_Flow_Sdk_in_the_output()
    {
        using var project = new SnapshotProject();
        project.BuildAssembly(SnapshotProject.GraphJson);
        var sdk = typeof(Flow.Sdk.FlowSpec).Assembly;
        File.Copy(sdk.Location, Path.Combine(project.OutputDirectory, "Flow.Sdk.dll"));

        project.Snapshot();

        var expected = sdk.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];
        project.Manifest().GetProperty("sdkVersion").GetString().ShouldBe(expected);
        project.Manifest().GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()).ShouldContain("bin/Flow.Sdk.dll");
    }

    [Fact]
    public void The_graph_the_generator_embeds_is_the_graph_the_task_reads()
    {
        using var project = new SnapshotProject();
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([GeneratorTests.HelloFlow]));
        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        project.Emit(run.Output);

        var graphs = CreateFlowSnapshot.ReadFlowGraphs(project.AssemblyPath);

        graphs.ShouldBe(run.GraphMetadata);
        project.Snapshot();
        project.Manifest().GetProperty("flows")[0].GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString())
            .ShouldBe(["Start", "Hello", "End"]);
    }
}
