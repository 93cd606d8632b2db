using System.IO.Abstractions.TestingHelpers;
using Flow.Sdk.Datastore;
using Flow.Sdk.Tests.Support;

namespace Flow.Sdk.Tests.Datastore;

[Collection(EnvironmentCollection.Name)]
public sealed class DatastoreLocatorTests : IDisposable
{
    private readonly EnvironmentScope _environment = new EnvironmentScope().Clear(DatastoreLocator.EnvironmentVariable);
    private readonly MockFileSystem _fs = new();
    private readonly string _repo;
    private readonly string _deep;

    public DatastoreLocatorTests()
    {
        _repo = _fs.Path.Combine(_fs.Path.GetTempPath(), "repo");
        _deep = _fs.Path.Combine(_repo, "src", "app", "bin");
        _fs.Directory.CreateDirectory(_deep);
    }

    public void Dispose() => _environment.Dispose();

    [Fact]
    public void Locate_ExplicitPath_WinsOverEnvironmentAndWalk()
    {
        _fs.Directory.CreateDirectory(_fs.Path.Combine(_repo, ".flow"));
        var fromEnv = _fs.Path.Combine(_fs.Path.GetTempPath(), "env-store");
        var explicitPath = _fs.Path.Combine(_fs.Path.GetTempPath(), "explicit-store");
        _environment.Set(DatastoreLocator.EnvironmentVariable, fromEnv);

        DatastoreLocator.Locate(_fs, explicitPath, _deep).ShouldBe(explicitPath);
    }

    [Fact]
    public void Locate_ExplicitRelativePath_IsMadeAbsolute()
    {
        var fs = new MockFileSystem(new Dictionary<string, MockFileData>(), currentDirectory: _repo);

        DatastoreLocator.Locate(fs, "stores/.flow", _deep).ShouldBe(fs.Path.Combine(_repo, "stores", ".flow"));
    }

    [Fact]
    public void Locate_EnvironmentVariable_WinsOverWalk()
    {
        _fs.Directory.CreateDirectory(_fs.Path.Combine(_repo, "src", ".flow"));
        var fromEnv = _fs.Path.Combine(_fs.Path.GetTempPath(), "env-store");
        _environment.Set(DatastoreLocator.EnvironmentVariable, fromEnv);

        DatastoreLocator.Locate(_fs, null, _deep).ShouldBe(fromEnv);
    }

    [Fact]
    public void Locate_BlankExplicitPathAndEnvironment_AreIgnored()
    {
        var nearest = _fs.Path.Combine(_repo, ".flow");
        _fs.Directory.CreateDirectory(nearest);
        _environment.Set(DatastoreLocator.EnvironmentVariable, "   ");

        DatastoreLocator.Locate(_fs, "  ", _deep).ShouldBe(nearest);
    }

    [Fact]
    public void Locate_WalkingUp_FindsTheNearestFlowDirectory()
    {
        _fs.Directory.CreateDirectory(_fs.Path.Combine(_repo, ".flow"));
        var nearest = _fs.Path.Combine(_repo, "src", ".flow");
        _fs.Directory.CreateDirectory(nearest);

        DatastoreLocator.Locate(_fs, null, _deep).ShouldBe(nearest);
    }

    [Fact]
    public void Locate_FlowFileThatIsNotADirectory_IsSkipped()
    {
        var real = _fs.Path.Combine(_repo, ".flow");
        _fs.Directory.CreateDirectory(real);
        _fs.AddFile(_fs.Path.Combine(_repo, "src", ".flow"), new MockFileData("not a datastore"));

        DatastoreLocator.Locate(_fs, null, _deep).ShouldBe(real);
    }

    [Fact]
    public void Locate_NoneFound_ReturnsFlowInTheStartDirectoryWithoutCreatingIt()
    {
        var expected = _fs.Path.Combine(_deep, ".flow");

        DatastoreLocator.Locate(_fs, null, _deep).ShouldBe(expected);
        _fs.Directory.Exists(expected).ShouldBeFalse();
    }
}
