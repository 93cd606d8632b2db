using System.IO.Abstractions.TestingHelpers;
using System.Text.Json.Nodes;
using Flow.Cli.Projects;
using Flow.Cli.Tests.Support;

namespace Flow.Cli.Tests.Projects;

public sealed class BuildRecordTests
{
    private readonly MockFileSystem _fs = new();
    private readonly FlowProject _project;
    private readonly string _flowFile;
    private readonly string _helper;

    public BuildRecordTests()
    {
        _project = new FlowProject(_fs, "/src/Hello");
        _flowFile = _project.Write("HelloFlow.cs", "partial class HelloFlow : FlowSpec { }\n");
        _helper = _project.Write("Helpers/Greeter.cs", "static class Greeter { }\n");
        _project.Write("obj/project.assets.json", "{}");
        _project.Build();
    }

    private BuildRecord Record => BuildRecord.Read(_fs, _project.ProjectPath).ShouldNotBeNull();

    private string? FirstChange(string configuration = "Debug") => Record.FirstChange(_fs, configuration);

    [Fact]
    public void Read_BuildRecord_HasTheRecordedFields()
    {
        var record = Record;

        record.ProjectPath.ShouldBe(_project.ProjectPath);
        record.Configuration.ShouldBe("Debug");
        record.AssemblyPath.ShouldBe(_project.AssemblyPath);
        record.SnapshotDirectory.ShouldBe(_project.SnapshotDirectory);
        record.Inputs.Select(i => i.Path).ShouldBe(["/src/Hello/Hello.csproj", "/src/Hello/HelloFlow.cs", "/src/Hello/Helpers/Greeter.cs"]);
        record.Directories.Single(d => d.Path == "/src/Hello").Entries.ShouldBe(["HelloFlow.cs", "Helpers/"]);
        record.Directories.Single(d => d.Path == "/src/Hello/Helpers").Entries.ShouldBe(["Greeter.cs"]);
    }

    [Fact]
    public void Graphs_ParsesEachFlow()
    {
        var graph = Record.Graphs().ShouldHaveSingleItem();

        graph.Name.ShouldBe("HelloFlow");
        graph.Steps.Select(s => s.Name).ShouldBe(["Start", "End"]);
        graph.Steps[0].Next.ShouldBe(["End"]);
        graph.Parameters.ShouldHaveSingleItem().Option.ShouldBe("count");
    }

    [Fact]
    public void BuildRecordPath_IsObjFlowBuildJsonNextToTheProject() =>
        BuildRecord.PathFor(_fs, _project.ProjectPath).ShouldBe("/src/Hello/obj/flow/build.json");

    [Fact]
    public void FirstChange_NothingChanged_IsNull() => FirstChange().ShouldBeNull();

    [Theory]
    [InlineData("/src/Hello/Directory.Build.props")]
    [InlineData("/src/Directory.Packages.props")]
    [InlineData("/global.json")]
    [InlineData("/src/nuget.config")]
    public void FirstChange_AFileMSBuildOrNuGetLooksForAbove_Created_NamesIt(string path)
    {
        _fs.AddFile(path, new MockFileData("<Project />"));

        FirstChange().ShouldBe(path);
    }

    [Fact]
    public void FirstChange_ARecordWithoutAbsentFiles_StillReads() =>
        (Record with { Absent = null }).FirstChange(_fs, "Debug").ShouldBeNull();

    [Fact]
    public void FirstChange_ConfigurationDiffersOnlyInCase_IsNull() => FirstChange("debug").ShouldBeNull();

    [Fact]
    public void FirstChange_SourceModificationTimeChanged_NamesTheSource()
    {
        _fs.File.SetLastWriteTimeUtc(_flowFile, _fs.File.GetLastWriteTimeUtc(_flowFile).AddSeconds(1));

        FirstChange().ShouldBe(_flowFile);
    }

    [Fact]
    public void FirstChange_SourceSizeChanged_NamesTheSource()
    {
        var modified = _fs.File.GetLastWriteTimeUtc(_helper);
        _fs.File.WriteAllText(_helper, "static class Greeter { static void Hi() { } }\n");
        _fs.File.SetLastWriteTimeUtc(_helper, modified);

        FirstChange().ShouldBe(_helper);
    }

    [Fact]
    public void FirstChange_ProjectFileChanged_NamesTheProjectFile()
    {
        _fs.File.AppendAllText(_project.ProjectPath, "<!-- edited -->");

        FirstChange().ShouldBe(_project.ProjectPath);
    }

    [Fact]
    public void FirstChange_SourceDeleted_NamesTheSource()
    {
        _fs.File.Delete(_helper);

        FirstChange().ShouldBe(_helper);
    }

    [Fact]
    public void FirstChange_NewCSharpFileInTheProjectFolder_NamesTheFolder()
    {
        _project.Write("Extra.cs", "class Extra { }");

        FirstChange().ShouldBe("/src/Hello");
    }

    [Fact]
    public void FirstChange_NewCSharpFileInASourceSubfolder_NamesTheSubfolder()
    {
        _project.Write("Helpers/More.cs", "class More { }");

        FirstChange().ShouldBe("/src/Hello/Helpers");
    }

    [Fact]
    public void FirstChange_NewSourceSubfolder_NamesTheParentFolder()
    {
        _fs.Directory.CreateDirectory("/src/Hello/Models");

        FirstChange().ShouldBe("/src/Hello");
    }

    [Fact]
    public void FirstChange_SourceSubfolderDeleted_IsNotNull()
    {
        _fs.Directory.Delete("/src/Hello/Helpers", recursive: true);

        FirstChange().ShouldNotBeNull();
    }

    [Theory]
    [InlineData("run-id.txt")]
    [InlineData("notes.md")]
    [InlineData(".flow/format.json")]
    [InlineData(".flow/runs/HelloFlow/1/run.json")]
    [InlineData(".vs/state.json")]
    [InlineData("bin/Debug/net10.0/Extra.dll")]
    [InlineData("obj/Debug/net10.0/Generated.cs")]
    [InlineData("Helpers/data.csv")]
    public void FirstChange_UnrelatedFileAppears_IsNull(string relativePath)
    {
        _project.Write(relativePath, "unrelated");

        FirstChange().ShouldBeNull();
    }

    [Fact]
    public void FirstChange_OtherConfiguration_NamesBoth() =>
        FirstChange("Release").ShouldNotBeNull().ShouldContain("Release");

    [Fact]
    public void FirstChange_AssemblyMissing_IsNotNull()
    {
        _fs.File.Delete(_project.AssemblyPath);

        FirstChange().ShouldNotBeNull();
    }

    [Fact]
    public void FirstChange_SnapshotManifestMissing_IsNotNull()
    {
        _fs.File.Delete(_fs.Path.Combine(_project.SnapshotDirectory, "snapshot.json"));

        FirstChange().ShouldNotBeNull();
    }

    [Fact]
    public void Read_MissingFile_ReturnsNull()
    {
        _fs.File.Delete(_project.BuildRecordPath);

        BuildRecord.Read(_fs, _project.ProjectPath).ShouldBeNull();
    }

    [Fact]
    public void Read_ProjectNeverBuilt_ReturnsNull()
    {
        var other = new FlowProject(_fs, "/src/Other", "Other");

        BuildRecord.Read(_fs, other.ProjectPath).ShouldBeNull();
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"format\":1,\"projectPath\":")]
    [InlineData("[1,2,3]")]
    [InlineData("not json at all")]
    [InlineData("{\"inputs\":\"nope\"}")]
    public void Read_MalformedFile_ReturnsNull(string content)
    {
        _fs.File.WriteAllText(_project.BuildRecordPath, content);

        BuildRecord.Read(_fs, _project.ProjectPath).ShouldBeNull();
    }

    private void RemoveFromRecord(string key)
    {
        var json = JsonNode.Parse(_fs.File.ReadAllText(_project.BuildRecordPath))!.AsObject();
        json.Remove(key).ShouldBeTrue();
        _fs.File.WriteAllText(_project.BuildRecordPath, json.ToJsonString());
    }

    /// <summary>A record that cannot answer (null) or that answers "changed" both make the tool build; throwing does not.</summary>
    private void ShouldBeUnreadableOrChanged()
    {
        var record = BuildRecord.Read(_fs, _project.ProjectPath);
        if (record is not null)
        {
            Should.NotThrow(() => record.FirstChange(_fs, "Debug")).ShouldNotBeNull();
        }
    }

    [Fact]
    public void FirstChange_FolderWithoutEntries_IsNotNull()
    {
        var json = JsonNode.Parse(_fs.File.ReadAllText(_project.BuildRecordPath))!.AsObject();
        json["directories"]![0]!.AsObject().Remove("entries");
        _fs.File.WriteAllText(_project.BuildRecordPath, json.ToJsonString());

        ShouldBeUnreadableOrChanged();
    }

    [Fact]
    public void FirstChange_RecordWithoutConfiguration_IsNotNull()
    {
        RemoveFromRecord("configuration");

        ShouldBeUnreadableOrChanged();
    }

    [Fact]
    public void FirstChange_RecordWithoutDirectories_IsUnreadableOrChanged()
    {
        RemoveFromRecord("directories");

        ShouldBeUnreadableOrChanged();
    }

    [Fact]
    public void FirstChange_RecordWithoutInputs_IsUnreadableOrChanged()
    {
        RemoveFromRecord("inputs");

        ShouldBeUnreadableOrChanged();
    }

    [Fact]
    public void Read_EmptyObject_ReturnsNull()
    {
        _fs.File.WriteAllText(_project.BuildRecordPath, "{}");

        BuildRecord.Read(_fs, _project.ProjectPath).ShouldBeNull();
    }
}
