using System.Text.Json;
using System.Text.RegularExpressions;
using Flow.Sdk;

namespace Flow.EndToEnd.Tests;

/// <summary>create → build → run → show → dump, through the packed tool and template, as a user does it.</summary>
[Collection(PackedProductCollection.Name)]
public sealed partial class TemplateLoopTests(PackedProduct product)
{
    [GeneratedRegex(@"Run (\d+) of HelloFlow started")]
    private static partial Regex RunStarted();

    [Fact]
    public void Template_CreatesProject_ThatBuildsWithZeroWarnings_AndReferencesThePackedSdk()
    {
        var dir = product.NewProject("Hello");

        var build = product.Dotnet(dir, "build", "-nr:false");

        build.ExitCode.ShouldBe(0, build.ToString());
        build.Stdout.ShouldContain("0 Warning(s)", customMessage: build.ToString());
        File.ReadAllText(Path.Combine(dir, "Hello.csproj")).ShouldContain($"Version=\"{product.Version}\"");
        File.Exists(Path.Combine(dir, "HelloFlow.cs")).ShouldBeTrue();
    }

    [Fact]
    public void TheSdksPackageDependencies_AreCopiedCompiledAheadOfTime_UnlessTheProjectPinsAnotherVersion()
    {
        // Every process of a run loads them: compiled ahead of time, none of them is JIT-compiled at its start.
        var dir = product.NewProject("Deps");
        var build = product.Dotnet(dir, "build", "-nr:false");
        build.ExitCode.ShouldBe(0, build.ToString());
        var output = Path.Combine(dir, "bin", "Debug", "net10.0");
        // The product is compiled ahead of time only when it is packed on linux-x64 (eng/ReadyToRun.targets).
        var packedCompiled = OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.X64;
        foreach (var dependency in new[] { "ZstdSharp", "TestableIO.System.IO.Abstractions.Wrappers", "Testably.Abstractions.FileSystem.Interface", "Markdig" })
        {
            IsReadyToRun(Path.Combine(output, dependency + ".dll")).ShouldBe(packedCompiled, $"{dependency}.dll in the build output: ahead-of-time code expected where the package was packed with it");
        }

        // A version of the project's own choosing (here an older one) is copied from its package, as it is.
        var project = Path.Combine(dir, "Deps.csproj");
        File.WriteAllText(project, File.ReadAllText(project).Replace("</Project>", "<ItemGroup><PackageReference Include=\"ZstdSharp.Port\" Version=\"0.8.7\" NoWarn=\"NU1605\" /></ItemGroup></Project>", StringComparison.Ordinal));
        build = product.Dotnet(dir, "build", "-nr:false");
        build.ExitCode.ShouldBe(0, build.ToString());
        IsReadyToRun(Path.Combine(output, "ZstdSharp.dll")).ShouldBeFalse();
    }

    private static bool IsReadyToRun(string assembly)
    {
        using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(assembly));
        return pe.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }

    [Fact]
    public void Run_Show_Dump_WorkOnTheTemplateFlow()
    {
        var dir = product.NewProject("Hello");
        var runIdFile = Path.Combine(dir, "run-id.txt");

        var run = product.Flow(dir, "run", "--run-id-file", runIdFile, "--tag", "first-try");

        run.ExitCode.ShouldBe(0, run.ToString());
        var runId = RunStarted().Match(run.Stdout).Groups[1].Value;
        runId.ShouldNotBeEmpty(run.ToString());
        File.ReadAllText(runIdFile).ShouldBe(runId);
        run.Stdout.ShouldContain($"[{runId}/Start/1] Starting run {runId} for world");
        run.Stdout.ShouldContain($"[{runId}/Hello/2] Hello, world!");
        run.Stdout.ShouldContain($"[{runId}/End/3] Done: Hello, world!");

        var show = product.Flow(dir, "show");
        show.ExitCode.ShouldBe(0, show.ToString());
        show.Stdout.ShouldContain("HelloFlow: A first flow");
        show.Stdout.ShouldContain("Step Hello");
        show.Stdout.ShouldContain("Composes the greeting.");
        show.Stdout.ShouldContain("--name string = \"world\"");

        var dump = product.Flow(dir, "dump", "latest/Hello");
        dump.ExitCode.ShouldBe(0, dump.ToString());
        dump.Stdout.ShouldContain($"HelloFlow/{runId}/Hello/2");
        dump.Stdout.ShouldContain("Message [System.String, 13 bytes] = \"Hello, world!\"");

        var json = product.Flow(dir, "dump", $"HelloFlow/{runId}/End", "--json");
        json.ExitCode.ShouldBe(0, json.ToString());
        using var doc = JsonDocument.Parse(json.Stdout);
        var task = doc.RootElement.GetProperty($"HelloFlow/{runId}/End/3");
        task.GetProperty("Message").GetString().ShouldBe("Hello, world!");
        task.GetProperty("Name").GetString().ShouldBe("world");
        task.GetProperty("$attempt").GetInt32().ShouldBe(0);
        task.GetProperty("$index").GetArrayLength().ShouldBe(0);

        FlowClient.UseDatastore(Path.Combine(dir, ".flow"));
        var stored = FlowClient.GetRun($"HelloFlow/{runId}");
        stored.Successful.ShouldBeTrue();
        stored.Tags.ShouldBe(["first-try"]);
        stored.SystemTags.ShouldContain("user:e2e");
        stored["Hello"].Task.Data<string>("Message").ShouldBe("Hello, world!");
        stored["hello"].Successful.ShouldBeTrue();
        stored["Hello"].Finished.ShouldBeTrue();
        stored.Steps.Select(s => s.Name).ShouldBe(["Start", "Hello", "End"]);
        stored["Hello"].Task.Stdout.ShouldBe("Hello, world!" + Environment.NewLine);
    }

    [Fact]
    public void Run_WithParameter_RecordsIt_AndDumpTruncatesLargeValues()
    {
        var dir = product.NewProject("Hello");

        // The tool's own options may follow the flow's: --project after --name still names the project.
        var run = product.Flow(product.Root, "run", "--name", "Ada", "--project", dir);

        run.ExitCode.ShouldBe(0, run.ToString());
        run.Stdout.ShouldContain("Hello, Ada!");
        var dump = product.Flow(dir, "dump", "latest/End", "--json", "--max-value-size", "5", "--include", "Message");
        dump.ExitCode.ShouldBe(0, dump.ToString());
        using var doc = JsonDocument.Parse(dump.Stdout);
        var message = doc.RootElement.EnumerateObject().Single().Value.GetProperty("Message");
        message.GetProperty("$truncated").GetBoolean().ShouldBeTrue();
        message.GetProperty("size").GetInt64().ShouldBe(11);
        message.GetProperty("type").GetString().ShouldBe("System.String");
        doc.RootElement.EnumerateObject().Single().Value.TryGetProperty("Name", out _).ShouldBeFalse();
    }

    [Fact]
    public void UnchangedRerun_DoesNotBuild_AndStoresNoNewBlob()
    {
        var dir = product.NewProject("Hello");
        PackedProduct.Must(product.Flow(dir, "run"));
        var buildRecord = Path.Combine(dir, "obj", "flow", "build.json");
        var builtAt = File.GetLastWriteTimeUtc(buildRecord);
        var blobs = Directory.GetFiles(Path.Combine(dir, ".flow", "blobs"), "*", SearchOption.AllDirectories).Length;

        var again = product.Flow(dir, "run");

        again.ExitCode.ShouldBe(0, again.ToString());
        File.GetLastWriteTimeUtc(buildRecord).ShouldBe(builtAt);
        Directory.GetFiles(Path.Combine(dir, ".flow", "blobs"), "*", SearchOption.AllDirectories).Length.ShouldBe(blobs);
        Directory.GetDirectories(Path.Combine(dir, ".flow", "code")).Length.ShouldBe(1);
    }

    [Fact]
    public void ADirectoryBuildPropsCreatedBesideTheProject_MakesTheNextRunBuild_AndBecomesAnInput()
    {
        var dir = product.NewProject("Hello");
        PackedProduct.Must(product.Flow(dir, "run"));
        var buildRecord = Path.Combine(dir, "obj", "flow", "build.json");
        var builtAt = File.GetLastWriteTimeUtc(buildRecord);
        File.ReadAllText(buildRecord).ShouldContain(Path.Combine(dir, "Directory.Build.props"), Case.Sensitive, "recorded as absent");

        File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), "<Project><PropertyGroup><NoWarn>$(NoWarn);CS1591</NoWarn></PropertyGroup></Project>");
        var again = product.Flow(dir, "run");

        again.ExitCode.ShouldBe(0, again.ToString());
        File.GetLastWriteTimeUtc(buildRecord).ShouldBeGreaterThan(builtAt);
        File.ReadAllText(buildRecord).ShouldContain("\"path\": \"" + Path.Combine(dir, "Directory.Build.props").Replace("\\", "\\\\") + "\"", Case.Sensitive, "now an input");
    }

    [Fact]
    public void ANewProject_RunsWithDotnetFlowAsTyped_ThroughItsToolManifest_AtItsSdksVersion()
    {
        var dir = product.NewProject("Hello");

        var manifest = File.ReadAllText(Path.Combine(dir, ".config", "dotnet-tools.json"));
        manifest.ShouldContain($"\"version\": \"{product.Version}\"");
        File.ReadAllText(Path.Combine(dir, "Hello.csproj")).ShouldContain($"<PackageReference Include=\"Flow.Sdk\" Version=\"{product.Version}\" />");
        var version = product.Dotnet(dir, "flow", "--version");
        var run = product.Dotnet(dir, "flow", "run");

        version.ExitCode.ShouldBe(0, version.ToString());
        version.Stdout.Trim().ShouldEndWith(product.Version, Case.Sensitive, "the manifest's tool runs, with nothing typed before it");
        run.ExitCode.ShouldBe(0, run.ToString());
        run.Stdout.ShouldContain("Hello, world!");
    }

    [Fact]
    public void FlowProject_IsItsOwnCommandLine_WithDotnetRun()
    {
        var dir = product.NewProject("Hello");

        var run = product.Dotnet(dir, "run", "--", "run", "--name", "Grace");

        run.ExitCode.ShouldBe(0, run.ToString());
        run.Stdout.ShouldContain("Hello, Grace!");
        Directory.Exists(Path.Combine(dir, ".flow", "runs", "HelloFlow")).ShouldBeTrue();
    }

    [Fact]
    public void RunHelp_ListsTheFlowsParameters_WithoutRunning()
    {
        var dir = product.NewProject("Hello");

        var help = product.Flow(dir, "run", "--help");

        help.ExitCode.ShouldBe(0, help.ToString());
        help.Stdout.ShouldContain("--name string  (default \"world\"; env FLOW_RUN_NAME)  Who to greet");
        Directory.Exists(Path.Combine(dir, ".flow")).ShouldBeFalse();
    }
}
