using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.IO.Abstractions;
using System.Text;
using System.Text.Json;
using Flow.Sdk.Datastore;

namespace Flow.Sdk;

/// <summary>
/// Runs a flow project from C# code (a test, a notebook-style script, another tool) and returns the run, like
/// Metaflow's Runner: <c>var run = await new FlowRunner("Churn").RunAsync(new() { ["TestSize"] = 0.3 });</c>.
/// </summary>
/// <remarks>
/// The project is built (incrementally, with <c>dotnet build</c>) and its executable run exactly as
/// <c>dotnet flow run</c> runs it, in its own process, so the run is the same as one from the command line: code
/// snapshot, worker processes, datastore. Input errors (a missing required parameter, a bad value) throw
/// <see cref="FlowException"/> with the one-line message and no run exists; a flow that fails returns its run,
/// whose <see cref="RunInfo.Successful"/> is false.
/// </remarks>
public sealed class FlowRunner
{
    /// <summary>Initializes a new instance of the <see cref="FlowRunner"/> class.</summary>
    /// <param name="project">The flow project: its .csproj, or the folder holding it.</param>
    public FlowRunner(string project)
    {
        ArgumentNullException.ThrowIfNull(project);
        var full = Path.GetFullPath(project);
        if (Directory.Exists(full))
        {
            var projects = Directory.GetFiles(full, "*.csproj");
            full = projects.Length == 1 ? projects[0]
                : throw new FlowException($"{full} holds {(projects.Length == 0 ? "no" : projects.Length.ToString(CultureInfo.InvariantCulture))} .csproj files; name the project file.");
        }
        else if (!File.Exists(full))
        {
            throw new FlowException($"No flow project at {full}: give a .csproj or the folder that holds it.");
        }
        ProjectPath = full;
    }

    /// <summary>Gets the project file.</summary>
    public string ProjectPath { get; }

    /// <summary>Gets or sets the flow to run when the project holds several (its class name).</summary>
    public string? Flow { get; init; }

    /// <summary>Gets or sets the datastore (the <c>.flow</c> directory); default: found as <c>dotnet flow</c> finds it from the project.</summary>
    public string? Datastore { get; init; }

    /// <summary>Gets or sets the tags the run gets.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Gets or sets the most worker processes at a time (default: the flow's default, 16).</summary>
    public int? MaxWorkers { get; init; }

    /// <summary>Gets or sets the working directory of the run (relative included files resolve against it); default: the project's folder.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Gets or sets where the run's console lines go; default: this process's console.</summary>
    public TextWriter? Output { get; init; }

    /// <summary>Gets or sets the build configuration (default Debug).</summary>
    public string Configuration { get; init; } = "Debug";

    /// <summary>Runs the flow and returns the run once it has ended.</summary>
    /// <param name="parameters">Parameter values by property name (<c>TestSize</c>) or option name (<c>test-size</c>); lists and records as JSON.</param>
    /// <param name="cancellationToken">Stops the run (its processes are ended; the run is recorded as failed).</param>
    /// <returns>The run.</returns>
    public Task<RunInfo> RunAsync(IReadOnlyDictionary<string, object?>? parameters = null, CancellationToken cancellationToken = default) =>
        ExecuteAsync("run", assembly =>
        {
            var graph = Graph(assembly);
            var args = new List<string>();
            foreach (var (name, value) in parameters ?? new Dictionary<string, object?>())
            {
                args.Add("--" + OptionName(graph, name));
                args.Add(Text(value));
            }
            return args;
        }, cancellationToken);

    /// <summary>Resumes the flow's newest run (or <paramref name="originRunId"/>'s) from its failure, or from <paramref name="step"/>.</summary>
    /// <param name="step">The step to run again from; default: the failed one.</param>
    /// <param name="originRunId">The run to resume; default: the newest.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    /// <returns>The new run.</returns>
    public Task<RunInfo> ResumeAsync(string? step = null, string? originRunId = null, CancellationToken cancellationToken = default)
    {
        var args = new List<string>();
        if (step is not null)
        {
            args.Add(step);
        }
        if (originRunId is not null)
        {
            args.Add("--origin-run-id");
            args.Add(originRunId);
        }
        return ExecuteAsync("resume", _ => args, cancellationToken);
    }

    private async Task<RunInfo> ExecuteAsync(string verb, Func<string, List<string>> arguments, CancellationToken cancellationToken)
    {
        var output = Output ?? Console.Out;
        var projectDir = Path.GetDirectoryName(ProjectPath)!;
        var assembly = await BuildAsync(cancellationToken).ConfigureAwait(false);
        var args = arguments(assembly);
        var fs = new FileSystem();
        var datastore = DatastoreLocator.Locate(fs, Datastore, projectDir);
        var runIdFile = Path.Combine(Path.GetTempPath(), "flow-runner-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            UseShellExecute = false,
            WorkingDirectory = WorkingDirectory ?? projectDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in (string[])["exec", assembly, verb, .. args, "--datastore", datastore, "--run-id-file", runIdFile])
        {
            start.ArgumentList.Add(arg);
        }
        if (Flow is not null)
        {
            start.ArgumentList.Add("--flow");
            start.ArgumentList.Add(Flow);
        }
        foreach (var tag in Tags)
        {
            start.ArgumentList.Add("--tag");
            start.ArgumentList.Add(tag);
        }
        if (MaxWorkers is { } workers)
        {
            start.ArgumentList.Add("--max-workers");
            start.ArgumentList.Add(workers.ToString(CultureInfo.InvariantCulture));
        }
        var errors = new StringBuilder();
        using var process = Process.Start(start) ?? throw new FlowException("Could not start the flow's executable.", ExitCodes.Failure);
        var gate = new Lock();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (gate)
                {
                    output.WriteLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (gate)
                {
                    output.WriteLine(e.Data);
                    errors.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        try
        {
            var runId = File.Exists(runIdFile) ? File.ReadAllText(runIdFile).Trim() : "";
            if (runId.Length == 0)
            {
                var line = errors.ToString().Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("error:", StringComparison.Ordinal));
                throw new FlowException(line?["error:".Length..].Trim() ?? $"The flow exited with code {process.ExitCode} before a run started.", process.ExitCode == 0 ? ExitCodes.Failure : process.ExitCode);
            }
            var store = FlowDatastore.Open(fs, datastore, create: false);
            var flow = store.ListFlows().FirstOrDefault(f => fs.Directory.Exists(store.RunDir(f, runId)))
                ?? throw new FlowException($"Run {runId} is not in {datastore}.", ExitCodes.Failure);
            return new RunInfo(store, flow, runId);
        }
        finally
        {
            File.Delete(runIdFile);
        }
    }

    /// <summary>Builds the project (a no-op when nothing changed) and returns its executable's path.</summary>
    private async Task<string> BuildAsync(CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(DotnetHost.Path)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(ProjectPath)!,
        };
        foreach (var arg in (string[])["build", ProjectPath, "-nologo", "-v:q", "-c", Configuration, "-getProperty:TargetPath"])
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new FlowException("Could not start dotnet build.", ExitCodes.Failure);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        var text = (await stdout.ConfigureAwait(false)).Trim();
        if (process.ExitCode != 0 || !text.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            var firstError = (text + "\n" + await stderr.ConfigureAwait(false)).Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase));
            throw new FlowException($"The project {ProjectPath} did not build{(firstError is null ? "" : ": " + firstError)}", ExitCodes.Failure);
        }
        return text.Split('\n').Last().Trim();
    }

    /// <summary>The flow's graph, from the code snapshot the build wrote beside the executable.</summary>
    private Graph.FlowGraph Graph(string assembly)
    {
        var manifestPath = Path.Combine(Path.GetDirectoryName(assembly)!, SnapshotManifest.FolderName, SnapshotManifest.FileName);
        SnapshotManifest manifest;
        try
        {
            manifest = SnapshotManifest.Parse(File.ReadAllBytes(manifestPath));
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
        {
            throw new FlowException($"The project {ProjectPath} built, but its code snapshot {manifestPath} cannot be read ({e.Message}); rebuild it.", ExitCodes.Failure);
        }
        return Sdk.Graph.FlowChoice.Choose(manifest.Graphs(), g => g.Name, Flow);
    }

    /// <summary>
    /// The option of a parameter given by property name (<c>TestSize</c>) or by option (<c>test-size</c>), as the
    /// generator named it (<c>[Parameter("name")]</c> included): the flow's own graph says.
    /// </summary>
    private string OptionName(Graph.FlowGraph graph, string name) =>
        graph.Parameters.FirstOrDefault(p => p.Name == name)?.Option
        ?? graph.Parameters.FirstOrDefault(p => p.Option == name)?.Option
        ?? throw new FlowException($"{graph.Name} has no parameter '{name}'; its parameters are {(graph.Parameters.Count == 0 ? "none" : string.Join(", ", graph.Parameters.Select(p => $"{p.Name} (--{p.Option})")))}.");

    private static string Text(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        DateTime d => d.ToString("O", CultureInfo.InvariantCulture),
        DateTimeOffset d => d.ToString("O", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        Enum e => e.ToString(),
        IFormattable f when value.GetType().IsPrimitive || value is decimal => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable or _ => JsonSerializer.Serialize(value, value.GetType(), ArtifactCodec.ValueOptions),
    };
}
