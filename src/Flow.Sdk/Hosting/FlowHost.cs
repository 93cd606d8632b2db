using System.ComponentModel;
using System.Diagnostics;
using System.IO.Abstractions;
using System.Runtime.InteropServices;
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
    private static readonly string[] s_runFlags = ["verbose", "help", "h", "quiet", "verbose-tasks"];

    /// <summary>Runs the command given in <paramref name="args"/> against the flows of this project.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="flows">The flows the generator found in the project.</param>
    /// <returns>The process exit code.</returns>
    public static int Main(string[] args, params FlowDefinition[] flows)
    {
        ArgumentNullException.ThrowIfNull(args);
        StartupTrace.Mark("main");
        var verbose = args.Contains("--verbose");
        try
        {
            var code = MainAsync(args, flows, new FileSystem()).GetAwaiter().GetResult();
            StartupTrace.Mark("exit");
            return code;
        }
        catch (FlowException e)
        {
            Console.Error.WriteLine(verbose ? e.ToString() : "error: " + e.Message);
            return e.ExitCode;
        }
        catch (Exception e) when (InputChecks.Describe(e) is { } known)
        {
            // A file system error no check turned into its own line: permission denied, a path too long, ...
            Console.Error.WriteLine(verbose ? e.ToString() : "error: " + known.Line);
            return known.ExitCode;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine(verbose ? e.ToString() : $"error: {e.Message.TrimEnd('.')}: a file operation failed (rerun with --verbose for details).");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.Text.Json.JsonException)
        {
            Console.Error.WriteLine(verbose ? e.ToString() : $"error: {e.GetType().Name}: {e.Message} (rerun with --verbose for details)");
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// The folder of the flow's assembly (its build output, with the code snapshot beside it). Not always the
    /// process's base directory: <c>dotnet flow run</c> may host the orchestrator in its own process (docs/performance.md).
    /// </summary>
    private static string AppDirectory { get; set; } = AppContext.BaseDirectory;

    private static Task<int> MainAsync(string[] args, FlowDefinition[] flows, IFileSystem fs)
    {
        // The generated factories live in the flow's assembly.
        if (flows.Length > 0 && flows[0].CreateDefault.Method.Module.Assembly is { Location.Length: > 0 } assembly)
        {
            AppDirectory = Path.GetDirectoryName(assembly.Location) ?? AppContext.BaseDirectory;
            ArtifactSerializers.FlowAssembly = assembly;
        }
        var byName = flows.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var command = args.Length == 0 ? "--help" : args[0];
        var rest = args.Skip(1).ToArray();
        return command switch
        {
            WorkerProtocol.WorkerCommand => WorkerLoop.RunAsync(new TaskRunner(fs, byName, ownsProcess: true)),
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

    internal static FlowDefinition ChooseFlow(IReadOnlyList<FlowDefinition> flows, string? name)
    {
        InputChecks.FlowName(name);
        return FlowChoice.Choose(flows, f => f.Name, name);
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
        var settings = Settings(DatastoreRoot(fs, options), limits, RunIdFile(options.Value("run-id-file")), options);
        var values = ParameterBinder.Resolve(flow, options.Others);
        return await RunSession.ExecuteAsync(fs, flow, settings, watch, store =>
        {
            try
            {
                return new RunInputs(ParameterBinder.Store(store, flow, values), ParameterBinder.IncludedFiles(values), null);
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
        if (args.Contains("--help") || args.Contains("-h"))
        {
            // Help whatever else is given: it needs no flow (a project with several flows would ask for --flow first).
            Console.Write(ResumeHelp);
            return ExitCodes.Success;
        }
        var flow = ChooseFlow(flows, CommandLine.PeekValue(args, "flow"));
        string? fromStep = null;
        if (args.Length > 0 && !args[0].StartsWith('-'))
        {
            var steps = string.Join(", ", flow.Graph.Ordered().Select(s => s.Name));
            fromStep = string.IsNullOrWhiteSpace(args[0])
                ? throw new FlowException($"resume's STEP is {(args[0].Length == 0 ? "empty" : "only spaces")}: name a step of {flow.Name} ({steps}), or leave it out to re-run from the failed step.")
                : flow.Graph.FindStep(args[0])?.Name
                ?? throw new FlowException($"Flow {flow.Name} has no step {InputChecks.Shorten(args[0])}; its steps are {steps}.");
            args = args[1..];
        }
        var known = s_runOptionsWithValue.Append("origin-run-id").ToArray();
        foreach (var arg in args.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
        {
            var name = arg[2..].Split('=')[0];
            if (!known.Contains(name) && !s_runFlags.Contains(name) && name != "plan")
            {
                throw new FlowException($"resume does not take --{InputChecks.Shorten(name)}: it reuses the origin run's parameters (options: [STEP] --origin-run-id ID --plan --tag --run-id-file --max-workers --max-num-splits --max-log-size --with --quiet --verbose-tasks).");
            }
        }
        var options = CommandLine.Parse(args, known, [.. s_runFlags, "plan"]);
        var limits = Limits(options);
        var runIdFile = RunIdFile(options.Value("run-id-file"));
        var root = DatastoreRoot(fs, options);
        var given = options.Value("origin-run-id");
        if (given is not null && !FlowDatastore.IsId(given))
        {
            throw new FlowException(string.IsNullOrWhiteSpace(given)
                ? $"--origin-run-id is {(given.Length == 0 ? "empty" : "only spaces")}: give a run id of {flow.Name} (such as {RunIdExample}), or leave it out to resume the newest run."
                : $"--origin-run-id '{InputChecks.Shorten(given)}' is not a run id: run ids are numbers such as {RunIdExample} ('dotnet flow dump latest/Start' shows the newest).");
        }
        var store = FlowDatastore.Open(fs, root, create: false);
        var originId = given ?? store.ListRuns(flow.Name).FirstOrDefault()
            ?? throw new FlowException($"Flow {flow.Name} has no run in {root} to resume; start one with 'dotnet flow run'.");
        if (store.ReadRun(flow.Name, originId) is not { } origin)
        {
            if (fs.Directory.Exists(fs.Path.Combine(store.RunDir(flow.Name, originId), "steps")))
            {
                throw new FlowException($"Run {originId} of {flow.Name} has tasks but no run.json: the datastore {root} is damaged; restore run.json, or resume another run ('dotnet flow verify' lists every problem).", ExitCodes.Failure);
            }
            throw new FlowException($"Flow {flow.Name} has no run {originId} in {root}; 'dotnet flow resume' without --origin-run-id takes the newest.");
        }
        if (store.RunStatus(flow.Name, originId) == RunStates.Running)
        {
            throw new FlowException($"Run {originId} of {flow.Name} is still running; resume it once it has ended (or its processes have died).");
        }
        ResumePlan Plan()
        {
            try
            {
                var changed = ResumePlan.CodeChanges(store, flow.Name, origin, Path.Combine(AppDirectory, SnapshotManifest.FolderName));
                return ResumePlan.Build(store, flow.Graph, originId, fromStep, changed);
            }
            catch (DirectoryNotFoundException)
            {
                throw new FlowException($"Flow {flow.Name} has no run {originId} in {root} any more (gc removed it while resume read it); resume another run.");
            }
        }
        if (options.Has("plan"))
        {
            // Changes nothing, not even jobs the origin left in a Slurm queue (their tasks show as unfinished).
            Console.Write(Plan().Describe(flow.Name));
            return ExitCodes.Success;
        }
        if (!store.IsWritable())
        {
            throw new FlowException($"The datastore {root} is read-only for this user: resume cannot record a run there (nothing was changed); run it as a user who can write there, or use --plan to see what it would do.", ExitCodes.Failure);
        }
        if (SlurmLauncher.CancelLeftovers(store, flow.Name, originId) is > 0 and var cancelled)
        {
            // Its orchestrator died with jobs queued or running: they end (and record so) before the plan reads the run.
            Console.WriteLine($"Cancelled {cancelled} Slurm job(s) that run {originId} left in the queue.");
        }
        var plan = Plan();
        // The origin's run options and user tags hold unless given again: a run started with --max-num-splits 200
        // resumes with it (docs/resume.md).
        if (origin.Options is { } kept)
        {
            limits = (
                options.Value("max-workers") is null ? kept.MaxWorkers : limits.MaxWorkers,
                options.Value("max-num-splits") is null ? kept.MaxNumSplits : limits.MaxNumSplits,
                options.Value("max-log-size") is null ? kept.MaxLogMegabytes : limits.MaxLogMegabytes,
                limits.Tags,
                limits.DefaultRetry);
        }
        if (options.Values("tag").Count == 0)
        {
            limits = (limits.MaxWorkers, limits.MaxNumSplits, limits.MaxLogMegabytes, store.ReadTags(flow.Name, originId), limits.DefaultRetry);
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
        return await RunSession.ExecuteAsync(fs, flow, Settings(root, limits, runIdFile, options), watch, _ =>
        {
            // The origin's parameter blobs are referenced again: touched first (gc protocol), and one set aside by
            // verify --repair or collected cannot be resumed from.
            foreach (var (name, reference) in origin.Parameters)
            {
                if (!store.Blobs.Reuse(reference.Sha))
                {
                    throw new FlowException($"Parameter {name} of run {originId} is no longer in the datastore (removed by gc or set aside by verify --repair); start a new run with dotnet flow run.", ExitCodes.Failure);
                }
            }
            return new RunInputs(new Dictionary<string, ArtifactRef>(origin.Parameters), origin.Files, plan);
        });
    }

    private const string RunIdExample = "1795764280315892";

    private const string ResumeHelp = """
        Usage: dotnet flow resume [STEP] [--origin-run-id ID] [--plan] [run options]

        Starts a new run with the parameters of the origin run (default: the flow's newest run). Every task of
        the origin that succeeded is cloned by reference; the failed step (or STEP) and everything after it
        runs again, with the current code. --plan prints what would be cloned and what would run, and why,
        without running anything.

        """;

    private static RunSettings Settings(string datastoreRoot, (int MaxWorkers, int MaxNumSplits, int MaxLogMegabytes, IReadOnlyList<string> Tags, int? DefaultRetry) limits, string? runIdFile, CommandLine options) => new(
        datastoreRoot,
        Path.Combine(AppDirectory, SnapshotManifest.FolderName),
        new RunOptions(limits.MaxWorkers, limits.MaxNumSplits, limits.MaxLogMegabytes),
        limits.Tags,
        limits.DefaultRetry,
        runIdFile,
        options.Has("quiet"),
        options.Has("verbose-tasks"),
        SlurmOf(options));

    /// <summary><c>--with slurm[:...]</c> (the last one given), else the settings for steps with <c>[Slurm]</c> only.</summary>
    private static SlurmSettings SlurmOf(CommandLine options) =>
        options.Values("with").LastOrDefault(w => w == "slurm" || w.StartsWith("slurm:", StringComparison.Ordinal)) is { } slurm
            ? SlurmSettings.Parse(slurm)
            : SlurmSettings.StepsOnly;

    /// <summary>The datastore <c>--datastore</c> names (checked to be a path at all), else the one found from here.</summary>
    private static string DatastoreRoot(IFileSystem fs, CommandLine options)
    {
        var cwd = fs.Directory.GetCurrentDirectory();
        InputChecks.Path("--datastore", options.Value("datastore"), "a .flow folder", cwd);
        return DatastoreLocator.Locate(fs, options.Value("datastore"), cwd);
    }

    /// <summary>
    /// The file <c>--run-id-file</c> names, checked before anything is written (the run would otherwise exist, and
    /// fail, when the id cannot be written): a file, not a folder, in a folder that exists, that this user may write.
    /// </summary>
    private static string? RunIdFile(string? value)
    {
        if (value is null)
        {
            return null;
        }
        InputChecks.Path("--run-id-file", value, "a file name", Directory.GetCurrentDirectory());
        var full = Path.GetFullPath(value);
        var shown = InputChecks.Shorten(value);
        if (Directory.Exists(full))
        {
            throw new FlowException($"--run-id-file {full} is a folder; name a file (it is created or replaced).");
        }
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir))
        {
            for (var up = dir; up is not null; up = Path.GetDirectoryName(up))
            {
                if (File.Exists(up))
                {
                    throw new FlowException($"--run-id-file {shown}: {up} is a file, not a folder; name a file in an existing folder.");
                }
            }
            throw new FlowException($"--run-id-file {shown}: its folder {dir} does not exist; create it or name a file in an existing folder.");
        }
        try
        {
            // Whether the id can be written, without changing anything: an existing file is opened for writing
            // (not truncated); for a new one, a probe file is created in its folder and deleted as it closes.
            if (File.Exists(full))
            {
                if (FileKind.Of(full) == FileKind.Kind.Regular)
                {
                    using var existing = new FileStream(full, FileMode.Open, FileAccess.Write);
                }
            }
            else
            {
                using var probe = new FileStream(Path.Combine(dir, ".flow-run-id-probe-" + Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
        }
        catch (UnauthorizedAccessException)
        {
            throw new FlowException($"--run-id-file {shown}: this user may not write there; name a file in a folder you can write to.");
        }
        catch (IOException e)
        {
            throw new FlowException($"--run-id-file {shown} cannot be written ({e.Message.TrimEnd('.')}); name another file.");
        }
        return full;
    }

    private static (int MaxWorkers, int MaxNumSplits, int MaxLogMegabytes, IReadOnlyList<string> Tags, int? DefaultRetry) Limits(CommandLine options)
    {
        int? defaultRetry = null;
        foreach (var with in options.Values("with"))
        {
            if (with == "slurm" || with.StartsWith("slurm:", StringComparison.Ordinal))
            {
                _ = SlurmSettings.Parse(with); // checked here, with the other limits, before anything is built or stored
                continue;
            }
            // --with retry gives every step without [Retry] three more attempts; --with retry:times=N sets how many.
            var match = System.Text.RegularExpressions.Regex.Match(with, @"^retry(?::times=(\d))?$");
            if (!match.Success)
            {
                throw new FlowException($"--with {InputChecks.Shorten(with)}: the decorators that apply to every step are retry (retry:times=N, N from 0 to 5) and slurm (slurm:partition=P,time=T; docs/slurm.md).");
            }
            defaultRetry = match.Groups[1].Success ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 3;
            if (defaultRetry > 5)
            {
                throw new FlowException($"--with {InputChecks.Shorten(with)}: a step gets at most 5 more attempts.");
            }
        }
        if (options.Has("quiet") && options.Has("verbose-tasks"))
        {
            throw new FlowException("--quiet and --verbose-tasks ask for less and for more output: give one of them, or neither.");
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

    private static async Task<int> StepAsync(string[] args, IFileSystem fs, Dictionary<string, FlowDefinition> flows)
    {
        var options = CommandLine.Parse(args, ["datastore", "flow", "run-id", "step", "task-id", "attempt", "input-paths", "split-index"], ["verbose", "help", "logs", "catch-failure", "caught"]);
        string Required(string name) => options.Value(name) ?? throw new FlowException($"step needs --{name}.");
        var inputs = options.Value("input-paths") is { Length: > 0 } paths ? paths.Split(',') : [];
        var request = new TaskRequest(
            fs.Path.GetFullPath(Required("datastore")),
            Required("flow"),
            Required("run-id"),
            Required("step"),
            Required("task-id"),
            options.Int("attempt", 0, min: 0),
            inputs,
            options.Value("split-index") is null ? null : options.Int("split-index", 0, min: 0),
            CatchFailure: options.Has("catch-failure"));
        if ((request.CatchFailure || options.Has("caught"))
            && flows.GetValueOrDefault(request.Flow)?.Graph.FindStep(request.Step) is { Catch: null } uncaught)
        {
            throw new FlowException($"--catch-failure and --caught are for a step with [Catch]; step {uncaught.Name} of {request.Flow} has none.");
        }
        if (options.Has("caught"))
        {
            // The previous attempt failed where nothing could catch it (its process died): record that as caught.
            request = request with { Caught = PreviousFailure(fs, request) };
        }
        if (options.Has("logs"))
        {
            return await WithOwnLogsAsync(fs, request, () => ExecuteStepAsync(fs, flows, request));
        }
        return await ExecuteStepAsync(fs, flows, request);
    }

    /// <summary>The failure of the attempt before <paramref name="request"/>'s, which <c>step --caught</c> records as caught.</summary>
    private static ErrorRecord PreviousFailure(IFileSystem fs, TaskRequest request)
    {
        var store = FlowDatastore.Open(fs, request.Datastore, create: false);
        var previous = request.Attempt == 0 ? null
            : store.ReadAttemptDone(store.AttemptDir(request.Flow, request.RunId, request.Step, request.TaskId, request.Attempt - 1));
        return previous is { IsSuccess: false, Error: { } error }
            ? error
            : throw new FlowException($"step --caught records attempt {request.Attempt - 1}'s failure as caught, but task {request.Flow}/{request.RunId}/{request.Step}/{request.TaskId} has no failed attempt {request.Attempt - 1}.");
    }

    /// <summary><c>step --logs</c>: the task's stdout and stderr go to its attempt's logs as well as to the process's own.</summary>
    private static async Task<int> WithOwnLogsAsync(IFileSystem fs, TaskRequest request, Func<Task<int>> execute)
    {
        var store = FlowDatastore.Open(fs, request.Datastore, create: false);
        var maxBytes = (store.ReadRun(request.Flow, request.RunId)?.Options?.MaxLogMegabytes ?? AttemptLog.DefaultMaxMegabytes) * 1024L * 1024L;
        using var log = new AttemptLog(fs, store.AttemptDir(request.Flow, request.RunId, request.Step, request.TaskId, request.Attempt), maxBytes);
        var (stdout, stderr) = (Console.Out, Console.Error);
        var outTee = new LogTee(stdout, line => log.Write(false, line));
        var errTee = new LogTee(stderr, line => log.Write(true, line));
        Console.SetOut(outTee);
        Console.SetError(errTee);
        try
        {
            return await execute();
        }
        finally
        {
            outTee.Complete();
            errTee.Complete();
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }

    private static async Task<int> ExecuteStepAsync(IFileSystem fs, Dictionary<string, FlowDefinition> flows, TaskRequest request)
    {
        var runner = new TaskRunner(fs, flows, ownsProcess: true);
        // A task run on its own (a cluster job) stops on SIGINT, SIGTERM (scancel) or SIGHUP, recorded as such.
        var registrations = new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP }.Select(signal => PosixSignalRegistration.Create(signal, context =>
        {
            context.Cancel = true;
            runner.Stop("Interrupted", $"the task was killed by {context.Signal}", ProcessSignals.ExitCode(ProcessSignals.Number(context.Signal)));
        })).ToList();
        try
        {
            var done = await runner.RunAsync(request);
            return done.IsSuccess ? ExitCodes.Success : ExitCodes.Failure;
        }
        finally
        {
            registrations.ForEach(r => r.Dispose());
        }
    }
}
