using System.Reflection;
using Flow.Cli.Projects;

namespace Flow.Cli.Tests.Projects;

/// <summary>
/// When `dotnet flow run` may host the flow's executable in its own process: only when nothing could tell the two
/// apart (the same Flow.Sdk, this runtime, no runtime option). Real files: the check reads the build's outputs.
/// </summary>
public sealed class InProcessRunTests : IDisposable
{
    private static readonly string s_sdkVersion =
        typeof(Flow.Sdk.FlowException).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion.Split('+')[0];

    private readonly string _bin = Directory.CreateTempSubdirectory("flow-inprocess-").FullName;

    public void Dispose() => Directory.Delete(_bin, recursive: true);

    private BuildRecord Build(string runtimeConfig, string? sdkVersion = null)
    {
        var snapshot = Directory.CreateDirectory(Path.Combine(_bin, "flow-snapshot")).FullName;
        File.WriteAllText(Path.Combine(snapshot, "snapshot.json"), $$"""{"format":1,"sdkVersion":"{{sdkVersion ?? s_sdkVersion}}","assembly":"App.dll","projectPath":"App.csproj","files":[],"flows":[]}""");
        File.WriteAllText(Path.Combine(_bin, "App.runtimeconfig.json"), runtimeConfig);
        return new BuildRecord(Path.Combine(_bin, "App.csproj"), "Debug", Path.Combine(_bin, "App.dll"), snapshot, "hash", [], [], []);
    }

    private static string Config(string framework = "Microsoft.NETCore.App", string version = "10.0.0", string properties = """
        "System.Runtime.Serialization.EnableUnsafeBinaryFormatterSerialization": false
        """) =>
        "{\"runtimeOptions\":{\"tfm\":\"net10.0\",\"framework\":{\"name\":\"" + framework + "\",\"version\":\"" + version + "\"},\"configProperties\":{" + properties + "}}}";

    [Fact]
    public void ANewProjectOfTheToolsSdk_RunsInTheToolsProcess()
    {
        InProcessRun.Refusal(Build(Config())).ShouldBeNull();
    }

    [Fact]
    public void AnotherFlowSdkVersion_RunsAsItsOwnProcess()
    {
        InProcessRun.Refusal(Build(Config(), sdkVersion: "0.0.1-other")).ShouldBe("the project's Flow.Sdk is not the tool's version");
    }

    [Theory]
    [InlineData("\"System.GC.Server\": true")]
    [InlineData("\"System.Globalization.Invariant\": false")]
    public void ARuntimeOption_RunsAsItsOwnProcess(string option)
    {
        InProcessRun.Refusal(Build(Config(properties: option))).ShouldNotBeNull().ShouldStartWith("runtime option");
    }

    [Theory]
    [InlineData("Microsoft.WindowsDesktop.App", "10.0.0")]
    [InlineData("Microsoft.NETCore.App", "9.0.0")]
    public void AnotherFramework_RunsAsItsOwnProcess(string framework, string version)
    {
        InProcessRun.Refusal(Build(Config(framework, version))).ShouldNotBeNull().ShouldStartWith("framework");
    }

    [Fact]
    public void ASelfContainedBuild_RunsAsItsOwnProcess()
    {
        InProcessRun.Refusal(Build("""{"runtimeOptions":{"tfm":"net10.0","includedFrameworks":[{"name":"Microsoft.NETCore.App","version":"10.0.12"}]}}""")).ShouldBe("a self-contained build");
    }
}
