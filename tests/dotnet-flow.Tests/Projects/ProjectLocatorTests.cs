using System.IO.Abstractions.TestingHelpers;
using Flow.Cli.Projects;
using Flow.Sdk;

namespace Flow.Cli.Tests.Projects;

public sealed class ProjectLocatorTests
{
    private readonly MockFileSystem _fs = new();

    private FlowException Fails(string? project, string workingDirectory)
    {
        var error = Should.Throw<FlowException>(() => ProjectLocator.Locate(_fs, project, workingDirectory));
        error.Message.ShouldNotContain("\n");
        return error;
    }

    [Fact]
    public void Locate_FolderWithOneProject_ReturnsIt()
    {
        _fs.AddFile("/work/Hello/Hello.csproj", new MockFileData("<Project />"));
        _fs.AddFile("/work/Hello/HelloFlow.cs", new MockFileData("class HelloFlow {}"));

        ProjectLocator.Locate(_fs, null, "/work/Hello").ShouldBe("/work/Hello/Hello.csproj");
    }

    [Fact]
    public void Locate_ProjectOptionNamingAFolder_ReturnsItsProject()
    {
        _fs.AddFile("/work/Hello/Hello.csproj", new MockFileData("<Project />"));
        _fs.AddDirectory("/elsewhere");

        ProjectLocator.Locate(_fs, "../work/Hello", "/elsewhere").ShouldBe("/work/Hello/Hello.csproj");
    }

    [Fact]
    public void Locate_ProjectOptionNamingAFile_ReturnsIt()
    {
        _fs.AddFile("/work/Hello/Hello.csproj", new MockFileData("<Project />"));
        _fs.AddFile("/work/Hello/Other.csproj", new MockFileData("<Project />"));

        ProjectLocator.Locate(_fs, "Other.csproj", "/work/Hello").ShouldBe("/work/Hello/Other.csproj");
        ProjectLocator.Locate(_fs, "/work/Hello/Hello.csproj", "/").ShouldBe("/work/Hello/Hello.csproj");
    }

    [Fact]
    public void Locate_FolderWithoutProject_SaysNoFlowProjectAndHowToCreateOne()
    {
        _fs.AddFile("/work/empty/readme.txt", new MockFileData("nothing"));

        var error = Fails(null, "/work/empty");

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("No flow project");
        error.Message.ShouldContain("/work/empty");
        error.Message.ShouldContain("dotnet new flow");
        error.Message.ShouldContain("--project");
    }

    [Fact]
    public void Locate_FolderWithTwoProjects_AsksForProject()
    {
        _fs.AddFile("/work/Two/First.csproj", new MockFileData("<Project />"));
        _fs.AddFile("/work/Two/Second.csproj", new MockFileData("<Project />"));

        var error = Fails(null, "/work/Two");

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("First.csproj");
        error.Message.ShouldContain("Second.csproj");
        error.Message.ShouldContain("--project");
    }

    [Fact]
    public void Locate_ProjectOptionNamingANonProjectFile_Fails()
    {
        _fs.AddFile("/work/Hello/HelloFlow.cs", new MockFileData("class HelloFlow {}"));

        var error = Fails("HelloFlow.cs", "/work/Hello");

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("/work/Hello/HelloFlow.cs");
        error.Message.ShouldContain(".csproj");
    }

    [Fact]
    public void Locate_MissingPath_Fails()
    {
        _fs.AddDirectory("/work");

        var error = Fails("Missing/Missing.csproj", "/work");

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("/work/Missing/Missing.csproj");
        error.Message.ShouldContain("--project");
    }

    [Fact]
    public void Locate_MissingWorkingDirectory_Fails()
    {
        var error = Fails(null, "/gone");

        error.ExitCode.ShouldBe(ExitCodes.Usage);
        error.Message.ShouldContain("/gone");
    }
}
