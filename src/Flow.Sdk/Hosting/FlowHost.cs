using System.ComponentModel;
using System.Diagnostics;
using System.IO.Abstractions;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;
using Flow.Sdk.Runtime;

namespace Flow.Sdk.Hosting;

/// <summary>
/// The command line of a flow project's executable: <c>run</c>, <c>show</c>, <c>step</c> (one task, the
/// replayable unit) and the internal worker loop. The generated entry point calls <see cref="Main"/>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class FlowHost
{
    private static readonly string[] s_runOptionsWithValue = ["flow", "datastore", "max-workers", "max-num-splits", "max-log-size", "tag", "run-id-file", "with"];
    private static readonly string[] s_runFlags = ["verbose", "help", "h"];

    /// <summary>Runs the command given in <paramref name="args"/> against the flows of this project.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="flows">The flows the generator found in the project.</param>
    /// <returns>The process exit code.</returns>
    public static int Main(string[] args, params FlowDefinition[] flows)
    {
        ArgumentNullException.ThrowIfNull(args);
        var verbose = args.Contains("--verbose");
        try
        {
            return MainAsync(args, flows, new FileSystem()).GetAwaiter().GetResult();
        }
        catch (FlowException e)
        {
            Console.Error.WriteLine(verbose ? e.ToString() : "error: " + e.Message);
            return e.ExitCode;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or NotSupportedException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine(verbose ? e.ToString() : $"error: {e.GetType().Name}: {e.Message} (rerun with --verbose for details)");
            return ExitCodes.Failure;
        }
    }

    private static Task<int> MainAsync(string[] args, FlowDefinition[] flows, IFileSystem fs)
    {
        var byName = flows.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var command = args.Length == 0 ? "--help" : args[0];
        var rest = args.Skip(1).ToArray();
        return command switch
        {
            WorkerProtocol.WorkerCommand => WorkerLoop.RunAsync(new TaskRunner(fs, byName)),
            "run" => RunAsync(rest, flows, fs),
            "resume" => ResumeAsync(rest, flows, fs),
            "show" => Task.FromResult(Show(rest, flows)),
            "step" => StepAsync(rest, fs, byName),
            "--help" or "-h" or "help" => Task.FromResult(Usage(flows)),
            _ => throw new FlowException($"Unknown command '{command}': use run, show or step (see --help)."),
        };
    }

    private static int Usage(FlowDefinition[] flows)
    {
        Console.WriteLine($"""
            Usage: <flow project> <command> [options]

            Commands:
              run     Run a flow: run [--flow NAME] [--tag T]... [--run-id-file F] [--max-workers N] [--max-num-splits N] [--<parameter> VALUE]...
              show    Print a flow's graph: show [--flow NAME]
              step    Execute one task of a run (the unit a cluster engine launches); see docs/task-contract.md

            Flows: {string.Join(", ", flows.Select(f => f.Name))}
            """);
        return ExitCodes.Success;
    }

    internal static FlowDefinition ChooseFlow(IReadOnlyList<FlowDefinition> flows, string? name) => Choose(flows, f => f.Name, name);

    /// <summary>
    /// The flow named by <c>--flow</c> (matched exactly, else without regard to case), or the project's only flow;
    /// shared by the flow executable and the tool so that both answer alike.
    /// </summary>
    internal static T Choose<T>(IReadOnlyList<T> flows, Func<T, string> nameOf, string? name)
    {
        var names = string.Join(", ", flows.Select(nameOf));
        if (name is not null)
        {
            return flows.FirstOrDefault(f => nameOf(f) == name)
                ?? flows.FirstOrDefault(f => string.Equals(nameOf(f), name, StringComparison.OrdinalIgnoreCase))
                ?? throw new FlowException($"No flow named {name} in this project; its flows are {names}.");
        }
        return flows.Count switch
        {
            1 => flows[0],
            0 => throw new FlowException("This project defines no flow: add a partial class deriving from FlowSpec with [Step] methods."),
            _ => throw new FlowException($"This project has several flows ({names}); choose one with --flow NAME."),
        };
    }

    private static int Show(string[] args, FlowDefinition[] flows)
    {
        var options = CommandLine.Parse(args, ["flow", "format"], ["help", "verbose", "h"]);
        var flow = ChooseFlow(flows, options.Value("flow"));
        Console.Write(options.Value("format") switch
        {
            null or "text" => GraphPrinter.ToText(flow.Graph),
            "dot" => GraphFormats.ToDot(flow.Graph),
            "mermaid" => GraphFormats.ToMermaid(flow.Graph),
            var other => throw new FlowException($"Unknown --format '{other}': use text, dot or mermaid."),
        });
        return ExitCodes.Success;
    }

    private static async Task<int> RunAsync(string[] args, FlowDefinition[] flows, IFileSystem fs)
    {
        var watch = Stopwatch.StartNew();
        var flowName = CommandLine.PeekValue(args, "flow");
        var flow = ChooseFlow(flows, flowName);
        var boolParameters = flow.Parameters.Where(p => (Nullable.GetUnderlyingType(p.Type) ?? p.Type) == typeof(bool))
            .Select(p => flow.Graph.Parameters.First(g => g.Name == p.Name).Option).ToHashSet();
        var options = CommandLine.Parse(args, s_runOptionsWithValue, s_runFlags, allowOthers: true, flagOthers: boolParameters);
        if (options.Has("help") || options.Has("h"))
        {
            Console.Write(FlowHostHelp.RunHelp(flow.Graph));
            return ExitCodes.Success;
        }
        var limits = Limits(options);
        var values = ParameterBinder.Resolve(flow, options.Others);
        return await ExecuteAsync(flow, options, limits, fs, watch, store =>
        {
            try
            {
                return (ParameterBinder.Store(store, flow, values), ParameterBinder.IncludedFiles(values), null);
            }
            catch (Exception e) when (e is NotSupportedException or System.Text.Json.JsonException or InvalidOperationException)
            {
                throw new FlowException($"A parameter of {flow.Name} cannot be stored: {e.Message}", ExitCodes.Usage, e);
            }
        });
    }

    /// <summary>
    /// <c>resume [STEP] [--origin-run-id ID] [--plan]</c>: a new run with the origin's parameters that clones what
    /// succeeded (by reference) and runs the failed step, or STEP, and everything after it again.
    /// </summary>
    private static async Task<int> ResumeAsync(string[] args, FlowDefinition[] flows, IFileSystem fs)
    {
        var watch = Stopwatch.StartNew();
        var flow = ChooseFlow(flows, CommandLine.PeekValue(args, "flow"));
        string? fromStep = null;
        if (args.Length > 0 && !args[0].StartsWith('-'))
        {
            fromStep = flow.Graph.FindStep(args[0])?.Name
                ?? throw new FlowException($"Flow {flow.Name} has no step {args[0]}; its steps are {string.Join(", ", flow.Graph.Ordered().Select(s => s.Name))}.");
            args = args[1..];
        }
        var known = s_runOptionsWithValue.Append("origin-run-id").ToArray();
        foreach (var arg in args.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
        {
            var name = arg[2..].Split('=')[0];
            if (!known.Contains(name) && !s_runFlags.Contains(name) && name != "plan")
            {
                throw new FlowException($"resume does not take --{name}: it reuses the origin run's parameters (options: [STEP] --origin-run-id ID --plan --tag --run-id-file --max-workers --max-num-splits --max-log-size).");
            }
        }
        var options = CommandLine.Parse(args, known, [.. s_runFlags, "plan"]);
        if (options.Has("help") || options.Has("h"))
        {
            Console.Write("""
                Usage: dotnet flow resume [STEP] [--origin-run-id ID] [--plan] [run options]

                Starts a new run with the parameters of the origin run (default: the flow's newest run). Every task of
                the origin that succeeded is cloned by reference; the failed step (or STEP) and everything after it
                runs again, with the current code. --plan prints what would be cloned and what would run, and why,
                without running anything.

                """);
            return ExitCodes.Success;
        }
        var limits = Limits(options);
        var root = DatastoreLocator.Locate(fs, options.Value("datastore"), fs.Directory.GetCurrentDirectory());
        var store = FlowDatastore.Open(fs, root, create: false);
        var originId = options.Value("origin-run-id") ?? store.ListRuns(flow.Name).FirstOrDefault()
            ?? throw new FlowException($"Flow {flow.Name} has no run in {root} to resume; start one with 'dotnet flow run'.");
        if (!FlowDatastore.IsId(originId) || store.ReadRun(flow.Name, originId) is not { } origin)
        {
            throw new FlowException($"Flow {flow.Name} has no run {originId} in {root}; 'dotnet flow resume' without --origin-run-id takes the newest.");
        }
        var client = FlowClient.GetFlow(store, flow.Name).GetRun(originId);
        if (client.Status == "running")
        {
            throw new FlowException($"Run {originId} of {flow.Name} is still running; resume it once it has ended (or its processes have died).");
        }
        var plan = ResumePlan.Build(store, flow.Graph, originId, fromStep);
        if (options.Has("plan"))
        {
            Console.Write(plan.Describe(flow.Name));
            return ExitCodes.Success;
        }
        Console.WriteLine($"Resuming run {originId} of {flow.Name}: cloning {plan.CloneCount} task(s), {(plan.FirstRerun is null ? "nothing runs again" : $"re-running from {plan.FirstRerun}")}.");
        // What runs again although it did not fail says why (a changed graph, STEP, a re-run input); at most 20 lines.
        var why = plan.Tasks.Where(t => !t.Clone && t.Done?.IsSuccess == true).ToList();
        foreach (var task in why.Take(20))
        {
            Console.WriteLine($"  re-run {task.Step}/{task.TaskId}: {task.Reason}");
        }
        if (why.Count > 20)
        {
            Console.WriteLine($"  ... and {why.Count - 20} more (see resume --plan)");
        }
        return await ExecuteAsync(flow, options, limits, fs, watch, _ => (new Dictionary<string, ArtifactRef>(origin.Parameters), origin.Files, plan));
    }

    private static (int MaxWorkers, int MaxNumSplits, int MaxLogMegabytes, IReadOnlyList<string> Tags, int? DefaultRetry) Limits(CommandLine options)
    {
        int? defaultRetry = null;
        foreach (var with in options.Values("with"))
        {
            // --with retry gives every step without [Retry] three more attempts; --with retry:times=N sets how many.
            var match = System.Text.RegularExpressions.Regex.Match(with, @"^retry(?::times=(\d))?$");
            if (!match.Success)
            {
                throw new FlowException($"--with {with}: the decorator that applies to every step is retry, or retry:times=N with N from 0 to 5.");
            }
            defaultRetry = match.Groups[1].Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 3;
            if (defaultRetry > 5)
            {
                throw new FlowException($"--with {with}: a step gets at most 5 more attempts.");
            }
        }
        var maxWorkers = options.Int("max-workers", 16);
        var maxNumSplits = options.Int("max-num-splits", 100);
        var maxLogMegabytes = options.Int("max-log-size", AttemptLog.DefaultMaxMegabytes);
        if (maxWorkers < 1 || maxNumSplits < 1)
        {
            throw new FlowException($"--{(maxWorkers < 1 ? "max-workers" : "max-num-splits")} must be at least 1.");
        }
        var tags = options.Values("tag");
        foreach (var tag in tags)
        {
            TagRules.Check(tag);
        }
        if (tags.Count > TagRules.MaxTags)
        {
            throw new FlowException($"{tags.Count} tags given; a run takes at most {TagRules.MaxTags}.");
        }
        return (maxWorkers, maxNumSplits, maxLogMegabytes, tags, defaultRetry);
    }

    /// <summary>Creates the run and runs it: everything that can still be refused is checked before the run exists.</summary>
    private static async Task<int> ExecuteAsync(
        FlowDefinition flow,
        CommandLine options,
        (int MaxWorkers, int MaxNumSplits, int MaxLogMegabytes, IReadOnlyList<string> Tags, int? DefaultRetry) limits,
        IFileSystem fs,
        Stopwatch watch,
        Func<FlowDatastore, (Dictionary<string, ArtifactRef> Parameters, IReadOnlyDictionary<string, string>? Files, ResumePlan? Plan)> inputs)
    {
        var (maxWorkers, maxNumSplits, maxLogMegabytes, tags, defaultRetry) = limits;
        var root = DatastoreLocator.Locate(fs, options.Value("datastore"), fs.Directory.GetCurrentDirectory());
        var store = FlowDatastore.Open(fs, root, create: true);
        var snapshots = new SnapshotStore(store);
        var (hash, manifest) = snapshots.Import(Path.Combine(AppContext.BaseDirectory, SnapshotManifest.FolderName));
        if (!manifest.Graphs().Any(g => g.Name == flow.Name))
        {
            throw new FlowException($"The code snapshot next to this executable has no flow {flow.Name}; rebuild the project.", ExitCodes.Failure);
        }
        var codeDir = snapshots.Materialize(hash, manifest);

        // Everything that can still be refused is checked before the run exists.
        var (parameters, files, plan) = inputs(store);
        var runIdFile = options.Value("run-id-file") is { } file ? Path.GetFullPath(file) : null;
        if (runIdFile is not null && !Directory.Exists(Path.GetDirectoryName(runIdFile)))
        {
            throw new FlowException($"--run-id-file {runIdFile}: its folder does not exist.");
        }

        var runId = store.CreateRun(flow.Name, DateTimeOffset.UtcNow);
        var heartbeatPath = store.RunHeartbeatPath(flow.Name, runId);
        TryTouch(heartbeatPath);
        var orchestrator = new Orchestrator(fs, store, flow.Graph, runId, Path.Combine(codeDir, manifest.Assembly), maxWorkers, maxNumSplits, maxLogMegabytes * 1024L * 1024L, plan, defaultRetry);
        try
        {
            orchestrator.Prestart();
            store.WriteRun(new RunRecord(
                flow.Name,
                runId,
                DateTimeOffset.UtcNow,
                SdkInfo.User,
                hash,
                SdkInfo.Version,
                fs.Directory.GetCurrentDirectory(),
                parameters,
                [$"user:{SdkInfo.User}", "runtime:local", $"sdk_version:{SdkInfo.Version}"],
                plan?.OriginRunId,
                files));
            store.WriteTags(flow.Name, runId, tags);
            if (runIdFile is not null)
            {
                File.WriteAllText(runIdFile, runId);
            }
            Console.WriteLine($"Run {runId} of {flow.Name} started (code snapshot {hash[..12]}).");

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            using var heartbeat = new Timer(_ => TryTouch(heartbeatPath), null, TimeSpan.Zero, TimeSpan.FromSeconds(5));
            string? failure;
            try
            {
                failure = await orchestrator.RunAsync(cancel.Token);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            store.WriteRunEnd(flow.Name, runId, new RunEndRecord(failure is null ? "succeeded" : "failed", DateTimeOffset.UtcNow, failure));
            if (failure is null)
            {
                Console.WriteLine($"Run {runId} of {flow.Name} succeeded in {watch.Elapsed.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} s.");
                return ExitCodes.Success;
            }
            Console.Error.WriteLine($"Run {runId} of {flow.Name} failed: {failure.TrimEnd('.')}.");
            if (orchestrator.FailedError?.StackTrace is { } trace)
            {
                // The console ends with the user's stack trace of the failure, however much other output came after it.
                Console.Error.WriteLine(trace);
            }
            return ExitCodes.Failure;
        }
        catch (Exception e) when (store.ReadRunEnd(flow.Name, runId) is null)
        {
            // Whatever stopped the orchestrator, the run is recorded as failed, never left looking alive.
            store.WriteRunEnd(flow.Name, runId, new RunEndRecord("failed", DateTimeOffset.UtcNow, e.Message));
            throw;
        }
        finally
        {
            orchestrator.StopWorkers();
        }
    }

    private static void TryTouch(string path)
    {
        try
        {
            // The beat names the orchestrator's process, so a reader on this machine sees at once when it is gone.
            File.WriteAllText(path, $"{Environment.ProcessId}@{Environment.MachineName}");
        }
        catch (IOException)
        {
        }
    }

    private static async Task<int> StepAsync(string[] args, IFileSystem fs, Dictionary<string, FlowDefinition> flows)
    {
        var options = CommandLine.Parse(args, ["datastore", "flow", "run-id", "step", "task-id", "attempt", "input-paths", "split-index"], ["verbose", "help"]);
        string Required(string name) => options.Value(name) ?? throw new FlowException($"step needs --{name}.");
        var inputs = options.Value("input-paths") is { Length: > 0 } paths ? paths.Split(',') : [];
        var request = new TaskRequest(
            fs.Path.GetFullPath(Required("datastore")),
            Required("flow"),
            Required("run-id"),
            Required("step"),
            Required("task-id"),
            options.Int("attempt", 0),
            inputs,
            options.Value("split-index") is null ? null : options.Int("split-index", 0));
        var done = await new TaskRunner(fs, flows).RunAsync(request);
        return done.IsSuccess ? ExitCodes.Success : ExitCodes.Failure;
    }
}
