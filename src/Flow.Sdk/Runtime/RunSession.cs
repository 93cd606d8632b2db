using System.Diagnostics;
using System.Globalization;
using System.IO.Abstractions;
using Flow.Sdk.Datastore;
using Flow.Sdk.Hosting;

namespace Flow.Sdk.Runtime;

/// <summary>How a run is started: where, with which limits and tags.</summary>
/// <param name="DatastoreRoot">The <c>.flow</c> directory.</param>
/// <param name="SnapshotDir">The folder with the build's code snapshot (<c>flow-snapshot/</c> beside the executable).</param>
/// <param name="Options">The run's limits, stored with the run.</param>
/// <param name="Tags">The run's user tags.</param>
/// <param name="DefaultRetry">The retries <c>--with retry</c> gives every step without <c>[Retry]</c>.</param>
/// <param name="RunIdFile">Where to write the run id once the run exists.</param>
/// <param name="Quiet"><c>--quiet</c>: the summary and failures only.</param>
/// <param name="VerboseTasks"><c>--verbose-tasks</c>: every task's start and end line, on a terminal too.</param>
/// <param name="Slurm">Which steps run as Slurm jobs and how (<c>--with slurm</c>, <c>[Slurm]</c>); null: steps with <c>[Slurm]</c> only.</param>
internal sealed record RunSettings(string DatastoreRoot, string SnapshotDir, RunOptions Options, IReadOnlyList<string> Tags, int? DefaultRetry, string? RunIdFile, bool Quiet = false, bool VerboseTasks = false, SlurmSettings? Slurm = null);

/// <summary>What a run starts from: its parameters (stored), included files, and for a resume the plan.</summary>
/// <param name="Parameters">The parameters, as blob references.</param>
/// <param name="Files">Included files: property name to the path given.</param>
/// <param name="Plan">What a resume clones, or null for a new run.</param>
internal sealed record RunInputs(Dictionary<string, ArtifactRef> Parameters, IReadOnlyDictionary<string, string>? Files, ResumePlan? Plan);

/// <summary>
/// One run from start to end in this process (the orchestrator): imports and materializes the snapshot, creates
/// the run (nothing is created before every input is checked), schedules its tasks on a launcher, keeps its
/// heartbeat, stops it cleanly on a signal, and records how it ended.
/// </summary>
internal static class RunSession
{
    public static async Task<int> ExecuteAsync(IFileSystem fs, FlowDefinition flow, RunSettings settings, Stopwatch watch, Func<FlowDatastore, RunInputs> inputs)
    {
        RunConsole.Configure(settings.Quiet, settings.VerboseTasks);
        var slurm = settings.Slurm ?? SlurmSettings.StepsOnly;
        var onSlurm = flow.Graph.Steps.Where(slurm.Runs).Select(s => s.Name).ToList();
        if (onSlurm.Count > 0)
        {
            // Refused before anything is written: no Slurm here, or a datastore (and the code snapshot in it) the nodes
            // cannot read.
            if (!SlurmCommands.OnPath("sbatch"))
            {
                throw new FlowException($"Step {onSlurm[0]} runs on Slurm ({(slurm.AllSteps ? "--with slurm" : "[Slurm]")}) but sbatch is not on PATH: run the flow on a machine of the cluster (a login node) with Slurm's client installed, or without --with slurm (docs/slurm.md).", ExitCodes.Usage);
            }
            SlurmReach.Check(slurm, "the datastore", settings.DatastoreRoot);
        }
        // A run of code that ran before starts its first worker now, from the code folder that run materialized:
        // its start-up (~0.1 s) overlaps opening the datastore, importing the snapshot and writing the run.
        // dotnet flow run, hosting this run in its own process, may have started it already, sooner.
        var early = EarlyWorker.Take()
            ?? (!slurm.Runs(flow.Graph.FindStep("Start")) ? EarlyWorker.Start(fs, settings.DatastoreRoot, settings.SnapshotDir) : null);
        try
        {
            return await ExecuteAsync(fs, flow, settings, watch, inputs, slurm, onSlurm, early);
        }
        finally
        {
            // Not taken into the pool (the run was refused, or runs other code): it ends with its input.
            early?.Worker.Dispose();
        }
    }

    private static async Task<int> ExecuteAsync(IFileSystem fs, FlowDefinition flow, RunSettings settings, Stopwatch watch, Func<FlowDatastore, RunInputs> inputs, SlurmSettings slurm, List<string> onSlurm, EarlyWorker? early)
    {
        var store = FlowDatastore.Open(fs, settings.DatastoreRoot, create: true);
        StartupTrace.Mark("opened");
        // The lease first: everything this run stores or reuses from now on is safe from a concurrent gc.
        store.Protect();
        var snapshots = new SnapshotStore(store);
        StartupTrace.Mark("leased");
        var (hash, manifest) = snapshots.Import(settings.SnapshotDir);
        StartupTrace.Mark("imported");
        if (!manifest.Graphs().Any(g => g.Name == flow.Name))
        {
            throw new FlowException($"The code snapshot next to this executable has no flow {flow.Name}; rebuild the project.", ExitCodes.Failure);
        }
        var codeDir = snapshots.Materialize(hash, manifest);
        StartupTrace.Mark("snapshot");

        // Everything that can still be refused is checked before the run exists. The parameters' blobs are made durable
        // together, before run.json names them.
        RunInputs runInputs;
        using (var batch = store.Blobs.BeginBatch())
        {
            runInputs = inputs(store);
            batch.Commit();
        }
        var (parameters, files, plan) = runInputs;
        var runIdFile = settings.RunIdFile;
        if (runIdFile is not null)
        {
            if (fs.Directory.Exists(runIdFile))
            {
                throw new FlowException($"--run-id-file {runIdFile} is a folder; name a file (it is created or replaced).");
            }
            if (!fs.Directory.Exists(fs.Path.GetDirectoryName(runIdFile)))
            {
                throw new FlowException($"--run-id-file {runIdFile}: its folder does not exist.");
            }
        }

        StartupTrace.Mark("inputs");
        var runId = store.CreateRun(flow.Name, DateTimeOffset.UtcNow);
        var heartbeatPath = store.RunHeartbeatPath(flow.Name, runId);
        Heartbeat.Beat(fs, heartbeatPath);
        var options = settings.Options;
        var assembly = fs.Path.Combine(codeDir, manifest.Assembly);
        using var local = new LocalLauncher(fs, store, assembly, options.MaxWorkers, options.MaxLogMegabytes * 1024L * 1024L);
        using var cluster = onSlurm.Count > 0 ? new SlurmLauncher(fs, store, flow.Graph, runId, assembly, slurm, options.MaxWorkers) : null;
        using var router = cluster is null ? null : new LauncherRouter(local, cluster, slurm, flow.Graph);
        ITaskLauncher launcher = router is null ? local : router;
        var scheduler = new Scheduler(store, flow.Graph, runId, launcher, new RetryPolicy(settings.DefaultRetry), options.MaxNumSplits, plan);
        using var signals = new RunSignals(reason => ForceStop(store, flow.Name, runId, local, cluster, reason));
        try
        {
            if (early is not null && local.Adopt(early))
            {
                early = null;
            }
            else if (!slurm.Runs(flow.Graph.FindStep("Start")))
            {
                local.Prestart();
            }
            StartupTrace.Mark("prestart");
            store.WriteRun(new RunRecord(
                flow.Name,
                runId,
                DateTimeOffset.UtcNow,
                SdkInfo.User,
                hash,
                SdkInfo.Version,
                fs.Directory.GetCurrentDirectory(),
                parameters,
                [$"user:{SdkInfo.User}", onSlurm.Count > 0 ? "runtime:slurm" : "runtime:local", $"sdk_version:{SdkInfo.Version}"],
                plan?.OriginRunId,
                files,
                options));
            if (settings.Tags.Count > 0)
            {
                store.ChangeTags(flow.Name, runId, _ => settings.Tags);
            }
            if (runIdFile is not null)
            {
                fs.File.WriteAllText(runIdFile, runId);
            }
            RunConsole.Info($"Run {runId} of {flow.Name} started (code snapshot {hash[..12]}).");
            StartupTrace.Mark("started");

            string? failure;
            using (new Timer(_ => Heartbeat.Beat(fs, heartbeatPath), null, TimeSpan.Zero, Heartbeat.Interval))
            {
                failure = await scheduler.RunAsync(signals.Interrupted);
            }
            RunConsole.Finish();
            StartupTrace.Mark("tasks done");
            store.WriteRunEnd(flow.Name, runId, new RunEndRecord(failure is null ? RunStates.Succeeded : RunStates.Failed, DateTimeOffset.UtcNow, failure));
            StartupTrace.Mark("ended");
            if (failure is null)
            {
                Console.WriteLine($"Run {runId} of {flow.Name} succeeded in {watch.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s.");
                return ExitCodes.Success;
            }
            Console.Error.WriteLine($"Run {runId} of {flow.Name} failed: {failure.TrimEnd('.')}.");
            if (scheduler.FailedError?.StackTrace is { } trace)
            {
                // The console ends with the user's stack trace of the failure, however much other output came after it.
                Console.Error.WriteLine(trace);
            }
            return signals.ExitCode ?? ExitCodes.Failure;
        }
        catch (Exception e) when (store.ReadRunEnd(flow.Name, runId) is null)
        {
            RunConsole.Finish();
            // Whatever stopped the orchestrator, the run is recorded as failed, never left looking alive.
            store.WriteRunEnd(flow.Name, runId, new RunEndRecord(RunStates.Failed, DateTimeOffset.UtcNow, e.Message));
            throw;
        }
    }

    /// <summary>A second Ctrl-C: every process of the run is killed now, the run recorded as failed, and this process ends.</summary>
    private static void ForceStop(FlowDatastore store, string flow, string runId, LocalLauncher launcher, SlurmLauncher? cluster, string reason)
    {
        foreach (var pid in launcher.Pids)
        {
            ProcessSignals.Send(pid, ProcessSignals.SIGKILL);
        }
        if (cluster is not null)
        {
            SlurmLauncher.Cancel(cluster.JobIds);
        }
        try
        {
            store.WriteRunEnd(flow, runId, new RunEndRecord(RunStates.Failed, DateTimeOffset.UtcNow, reason));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        Console.Error.WriteLine($"Run {runId} of {flow} stopped: {reason}.");
        Environment.Exit(ProcessSignals.ExitCode(ProcessSignals.SIGINT));
    }
}

/// <summary>Timing marks of a run's phases on stderr when <c>FLOW_TRACE=1</c> (for benchmarks; off by default).</summary>
internal static class StartupTrace
{
    private static readonly bool s_on = Environment.GetEnvironmentVariable("FLOW_TRACE") == "1";

    public static void Mark(string what)
    {
        if (s_on)
        {
            // Since the process started, and the wall clock (seconds within the minute), to line up several processes.
            var now = DateTime.Now;
            var since = now - System.Diagnostics.Process.GetCurrentProcess().StartTime;
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[trace] {since.TotalMilliseconds:0} ms {what} (pid {Environment.ProcessId}, at {now:ss.fff}; JIT so far: {System.Runtime.JitInfo.GetCompiledMethodCount()} methods, {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:0} ms)"));
        }
    }
}
