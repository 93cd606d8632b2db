using System.Reflection;
using System.Runtime.Loader;
using System.Text.Json;

namespace Flow.Cli.Projects;

/// <summary>
/// Runs the flow's executable (<c>run</c>, <c>resume</c>) inside this process instead of starting it: the project's
/// own assembly and its own Flow.Sdk are loaded into a load context of their own (never the tool's copy), and its
/// generated entry point is called with the same arguments the process would get. That saves a runtime start and
/// its first compilations (~50 ms of a ~300 ms run; docs/performance.md).
/// Only when nothing could tell the two apart: the project uses the Flow.Sdk of this tool's version (the template pins
/// both), targets this runtime's major version on the frameworks this process has, and sets no runtime option in its
/// runtimeconfig.json beyond the defaults a new project gets. Otherwise, or with <c>FLOW_IN_PROCESS=0</c>, the tool
/// starts the executable as before.
/// </summary>
internal static class InProcessRun
{
    /// <summary>Set <c>FLOW_IN_PROCESS=0</c> to always run the flow's executable as a process of its own.</summary>
    public const string Variable = "FLOW_IN_PROCESS";

    /// <summary>Runtime options a new project's runtimeconfig.json carries that change nothing the run depends on.</summary>
    private static readonly HashSet<string> s_harmlessOptions = new(StringComparer.Ordinal)
    {
        "System.Runtime.Serialization.EnableUnsafeBinaryFormatterSerialization",
        "System.Reflection.Metadata.MetadataUpdater.IsSupported",
    };

    /// <summary>Why the project cannot run in this process, or null when it can.</summary>
    public static string? Refusal(BuildRecord record)
    {
        if (Environment.GetEnvironmentVariable(Variable) == "0")
        {
            return $"{Variable}=0";
        }
        // The build's code snapshot names the Flow.Sdk it was built with (and the build is current: just checked).
        try
        {
            using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(record.SnapshotDirectory, "snapshot.json")));
            if (!manifest.RootElement.TryGetProperty("sdkVersion", out var version) || version.GetString() != ToolSdkVersion)
            {
                return "the project's Flow.Sdk is not the tool's version";
            }
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return "an unreadable snapshot.json";
        }
        var config = Path.ChangeExtension(record.AssemblyPath, ".runtimeconfig.json");
        if (!File.Exists(config))
        {
            return "no runtimeconfig.json";
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(config));
            var options = doc.RootElement.GetProperty("runtimeOptions");
            if (options.TryGetProperty("includedFrameworks", out _))
            {
                return "a self-contained build";
            }
            if (options.TryGetProperty("framework", out var one) && Foreign(one) is { } framework)
            {
                return framework;
            }
            if (options.TryGetProperty("frameworks", out var many))
            {
                foreach (var each in many.EnumerateArray())
                {
                    if (Foreign(each) is { } listed)
                    {
                        return listed;
                    }
                }
            }
            if (options.TryGetProperty("configProperties", out var properties))
            {
                foreach (var property in properties.EnumerateObject())
                {
                    if (!s_harmlessOptions.Contains(property.Name))
                    {
                        return $"runtime option {property.Name}";
                    }
                }
            }
            foreach (var property in options.EnumerateObject())
            {
                if (property.Name is not ("tfm" or "framework" or "frameworks" or "configProperties"))
                {
                    return $"runtime setting {property.Name}";
                }
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IOException)
        {
            return "an unreadable runtimeconfig.json";
        }
        return null;
    }

    /// <summary>A framework this process does not run, as "framework NAME VERSION"; null for one it does.</summary>
    private static string? Foreign(JsonElement framework)
    {
        var name = framework.GetProperty("name").GetString();
        var version = framework.GetProperty("version").GetString() ?? string.Empty;
        return name is ("Microsoft.NETCore.App" or "Microsoft.AspNetCore.App")
            && Version.TryParse(version.Split('-')[0], out var wanted) && wanted.Major == Environment.Version.Major
            ? null
            : $"framework {name} {version}";
    }

    /// <summary>Calls the project's entry point with <paramref name="args"/> and returns its exit code.</summary>
    public static int Run(string assemblyPath, string[] args)
    {
        var context = new ProjectLoadContext(assemblyPath);
        var assembly = context.LoadFromAssemblyPath(assemblyPath);
        var entry = assembly.EntryPoint ?? throw new Flow.Sdk.FlowException($"{assemblyPath} has no entry point; rebuild the project.", Flow.Sdk.ExitCodes.Failure);
        // The flow's own exceptions are its own to report (it does, as one line); anything else is the tool's error.
        var result = entry.Invoke(null, BindingFlags.DoNotWrapExceptions, null, [args], null);
        return result is int code ? code : 0;
    }

    private static string? ToolSdkVersion { get; } =
        typeof(Flow.Sdk.FlowException).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];

    /// <summary>The project's assemblies as its deps.json resolves them; the shared framework from the default context.</summary>
    private sealed class ProjectLoadContext(string assemblyPath) : AssemblyLoadContext("flow-project")
    {
        private readonly AssemblyDependencyResolver _resolver = new(assemblyPath);

        protected override Assembly? Load(AssemblyName assemblyName) =>
            _resolver.ResolveAssemblyToPath(assemblyName) is { } path ? LoadFromAssemblyPath(path) : null;

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
            _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}
