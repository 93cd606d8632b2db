using System.Diagnostics;
using System.IO.Abstractions;
using Flow.Sdk;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Projects;

/// <summary>
/// Builds a flow project when its inputs changed since the last build (or when asked), and returns the build
/// record. Decides from the inputs the last build recorded; builds when in doubt.
/// </summary>
internal sealed class ProjectBuilder(IFileSystem fs, IConsole console)
{
    /// <summary>Set <c>FLOW_BUILD_SERVERS=0</c> to build without the MSBuild and compiler servers.</summary>
    public const string BuildServersVariable = "FLOW_BUILD_SERVERS";

    public BuildRecord Ensure(string projectPath, string configuration, bool force, bool verbose)
    {
        var record = BuildRecord.Read(fs, projectPath);
        Trace.Mark("record read");
        var change = force ? "--build" : record is null ? "no previous build" : record.FirstChange(fs, configuration);
        if (change is null)
        {
            return record!;
        }
        if (verbose)
        {
            console.Error.WriteLine($"Building {fs.Path.GetFileName(projectPath)} ({change})");
        }
        var restore = record is null || force || IsRestoreInput(change) || !fs.File.Exists(fs.Path.Combine(fs.Path.GetDirectoryName(projectPath)!, "obj", "project.assets.json"));
        Build(projectPath, configuration, restore);
        return BuildRecord.Read(fs, projectPath)
            ?? throw new FlowException($"{projectPath} built, but made no code snapshot: does it reference Flow.Sdk and define a flow (a partial class deriving from FlowSpec)?", ExitCodes.Failure);
    }

    private static bool IsRestoreInput(string change) =>
        change.EndsWith("proj", StringComparison.OrdinalIgnoreCase) || change.EndsWith(".props", StringComparison.OrdinalIgnoreCase)
        || change.EndsWith(".targets", StringComparison.OrdinalIgnoreCase) || change.EndsWith(".config", StringComparison.OrdinalIgnoreCase)
        || change.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || change.StartsWith("configuration", StringComparison.Ordinal)
        || change == "build output missing";

    private void Build(string projectPath, string configuration, bool restore)
    {
        var start = new ProcessStartInfo(Flow.Sdk.DotnetHost.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "build", projectPath, "-nologo", "-v:q", "-clp:NoSummary", "-c", configuration })
        {
            start.ArgumentList.Add(arg);
        }
        if (!restore)
        {
            start.ArgumentList.Add("--no-restore");
        }
        // Like an IDE, reuse the MSBuild and compiler servers for the user's edit-build-run loop (DESIGN §4).
        if (Environment.GetEnvironmentVariable(BuildServersVariable) != "0")
        {
            start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "1";
            start.Environment.Remove("MSBUILDDISABLENODEREUSE");
            start.Environment.Remove("UseSharedCompilation");
            start.ArgumentList.Add("-nodeReuse:true");
            // Explicitly: an environment may turn the compiler server off (UseSharedCompilation=false), and then
            // a one-line edit costs seconds of compiler start-up instead of a fraction of one.
            start.ArgumentList.Add("-p:UseSharedCompilation=true");
        }
        else
        {
            start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
            start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
            start.ArgumentList.Add("-nodeReuse:false");
            start.ArgumentList.Add("-p:UseSharedCompilation=false");
        }
        using var process = Process.Start(start) ?? throw new FlowException("Could not start 'dotnet build'.", ExitCodes.Failure);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            var output = (stdout.Result + stderr.Result).Trim();
            if (output.Length > 0)
            {
                console.Error.WriteLine(output);
            }
            throw new FlowException($"The project {projectPath} did not build; fix the errors above and run again.", ExitCodes.Failure);
        }
    }
}
