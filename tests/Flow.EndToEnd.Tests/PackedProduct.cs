using System.Globalization;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// The real product, packed from this repository with a fresh version into a throwaway feed, the tool installed
/// into a throwaway tool path and the template into a throwaway template hive; restores use a throwaway
/// package cache, so nothing on the machine is changed and no stale package is ever used.
/// </summary>
public sealed class PackedProduct : IDisposable
{
    private readonly TempDirectory _root = new("flow-e2e-");
    private readonly Dictionary<string, string> _shared = new(StringComparer.Ordinal);

    public PackedProduct()
    {
        RepoRoot = FindRepoRoot();
        Version = "0.1.0-e2e." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        Feed = _root.Combine("feed");
        ToolPath = _root.Combine("tools");
        Hive = _root.Combine("hive");
        Environment = new Dictionary<string, string?>
        {
            ["NUGET_PACKAGES"] = _root.Combine("nuget"),
            ["FLOW_USER"] = "e2e",
        };
        // Runs are made with FLOW_USER=e2e; the tests read them in every namespace.
        global::Flow.Sdk.FlowClient.Namespace = null;
        // Keep the repository's Directory.Build.* and nuget.config out of the projects the tests create.
        File.WriteAllText(_root.Combine("Directory.Build.props"), "<Project />");
        File.WriteAllText(_root.Combine("Directory.Build.targets"), "<Project />");

        // The packs build into their own artifacts folder with the machine's package cache: sharing the
        // repository's obj/ (its project.assets.json) with the test run's own builds would race.
        var packEnvironment = new Dictionary<string, string?>(Environment) { ["NUGET_PACKAGES"] = null };
        foreach (var project in new[] { "src/Flow.Sdk/Flow.Sdk.csproj", "src/dotnet-flow/dotnet-flow.csproj", "templates/Flow.Templates.csproj" })
        {
            Must(ProcessRunner.Run(ProcessRunner.Dotnet, ["pack", Path.Combine(RepoRoot, project), "-c", "Release", "-nr:false", $"-p:Version={Version}",
                $"-p:PackageOutputPath={Feed}/", $"-p:ArtifactsPath={_root.Combine("artifacts")}"], RepoRoot, packEnvironment, TimeSpan.FromMinutes(8)));
        }
        Must(Dotnet(_root.Path, "tool", "install", "dotnet-flow", "--tool-path", ToolPath, "--add-source", Feed, "--version", Version));
        Must(Dotnet(_root.Path, "new", "install", Path.Combine(Feed, $"Flow.Templates.{Version}.nupkg"), "--debug:custom-hive", Hive));
    }

    public string RepoRoot { get; }

    public string Version { get; }

    public string Feed { get; }

    public string ToolPath { get; }

    public string Hive { get; }

    public string Root => _root.Path;

    public Dictionary<string, string?> Environment { get; }

    public string ToolExecutable => Path.Combine(ToolPath, "dotnet-flow");

    /// <summary>Creates a project from the installed template in a new folder.</summary>
    public string NewProject(string name)
    {
        var dir = Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Must(Dotnet(Root, "new", "flow", "-n", name, "-o", dir, "--debug:custom-hive", Hive));
        return dir;
    }

    /// <summary>
    /// A project made once per test run from the template, with a flow source file from the test output folder
    /// (instead of the template's flow, or next to it), built by showing one of its flows; shared by the tests.
    /// </summary>
    public string SharedProject(string name, string source, string flowToBuild, bool replaceTemplateFlow)
    {
        lock (_shared)
        {
            if (!_shared.TryGetValue(name, out var dir))
            {
                dir = NewProject(name);
                if (replaceTemplateFlow)
                {
                    File.Delete(Path.Combine(dir, "HelloFlow.cs"));
                }
                File.Copy(Path.Combine(AppContext.BaseDirectory, source), Path.Combine(dir, Path.GetFileName(source)));
                Must(Flow(dir, "show", "--flow", flowToBuild));
                _shared[name] = dir;
            }
            return dir;
        }
    }

    public ProcessResult Flow(string workingDirectory, params string[] args) =>
        ProcessRunner.Run(ToolExecutable, args, workingDirectory, Environment);

    public ProcessResult Dotnet(string workingDirectory, params string[] args) =>
        ProcessRunner.Run(ProcessRunner.Dotnet, args, workingDirectory, Environment, TimeSpan.FromMinutes(8));

    public static ProcessResult Must(ProcessResult result)
    {
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException("A set-up step failed: " + result);
        }
        return result;
    }

    private static string FindRepoRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "flow.sln")))
            {
                return dir;
            }
        }
        throw new InvalidOperationException("flow.sln not found above " + AppContext.BaseDirectory);
    }

    public void Dispose() => _root.Dispose();
}

[CollectionDefinition(Name)]
public sealed class PackedProductCollection : ICollectionFixture<PackedProduct>
{
    public const string Name = "Packed product";
}
