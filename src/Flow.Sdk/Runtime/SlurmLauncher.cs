using System.Diagnostics;
using System.Globalization;
using System.IO.Abstractions;
using System.Text;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Runtime;

/// <summary>
/// Runs tasks as Slurm jobs (docs/slurm.md). Each job runs the task contract's <c>step</c> command from the run's
/// materialized snapshot with <c>--logs</c>, so the task records its own outcome and output in the datastore; the tasks
/// of one step handed over in one dispatch (a foreach's items) go as one job array, at most <c>--max-workers</c> of
/// them running at once (<c>%N</c>). What the controller says (<c>squeue</c>) is only a hint: a task is done when its
/// <c>done.json</c> exists, and a job that left the queue without one is lost — recorded as failed (with its exit code
/// when its script could keep it), so <c>[Retry]</c> applies.
/// </summary>
internal sealed class SlurmLauncher : ITaskLauncher
{
    private static readonly Task s_never = new TaskCompletionSource().Task;
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_queuePoll = TimeSpan.FromSeconds(1);

    private readonly Lock _gate = new();
    private readonly IFileSystem _fs;
    private readonly FlowDatastore _store;
    private readonly FlowGraph _graph;
    private readonly string _runId;
    private readonly string _assembly;
    private readonly SlurmSettings _settings;
    private readonly int _maxWorkers;
    private readonly string _dotnet;
    private readonly string _jobsDir;
    private readonly List<TaskLaunch> _pending = [];
    private readonly List<Job> _jobs = [];
    private readonly HashSet<string> _submitted = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _monitor;
    private int _scripts;
    private bool _stopping;

    public SlurmLauncher(IFileSystem fs, FlowDatastore store, FlowGraph graph, string runId, string assembly, SlurmSettings settings, int maxWorkers)
    {
        _fs = fs;
        _store = store;
        _graph = graph;
        _runId = runId;
        _assembly = assembly;
        _settings = settings;
        _maxWorkers = maxWorkers;
        _dotnet = settings.Dotnet ?? DotnetHost.Path;
        _jobsDir = JobsDir(store, graph.Name, runId);
        _monitor = Task.Run(MonitorAsync);
    }

    /// <summary>Where a run keeps its job scripts, task lists, job ids and Slurm's own output files.</summary>
    public static string JobsDir(FlowDatastore store, string flow, string runId) => Path.Combine(store.RunDir(flow, runId), "slurm");

    public int Running
    {
        get
        {
            lock (_gate)
            {
                return _jobs.Count + _pending.Count;
            }
        }
    }

    public Task RoomChanged => s_never;

    public string? Broken { get; private set; }

    /// <summary>The job ids this launcher submitted (for a forced stop).</summary>
    public IReadOnlyList<string> JobIds
    {
        get
        {
            lock (_gate)
            {
                return [.. _submitted];
            }
        }
    }

    /// <summary>Always room: the cluster queues what it cannot run yet, and an array's <c>%N</c> caps how many run at once.</summary>
    public bool HasRoom(GraphStep? step) => Broken is null;

    public int Lane(GraphStep? step) => 2;

    public Task<LaunchResult> LaunchAsync(TaskLaunch launch)
    {
        var job = new Job(launch);
        lock (_gate)
        {
            _pending.Add(launch);
            _jobs.Add(job);
        }
        return job.Done.Task;
    }

    /// <summary>Submits what the scheduler handed over since the last call: one job per task, one array per step's batch.</summary>
    public void Prepare(IReadOnlyList<QueuedStep> queued)
    {
        List<TaskLaunch> batch;
        lock (_gate)
        {
            if (_pending.Count == 0)
            {
                return;
            }
            batch = [.. _pending];
            _pending.Clear();
        }
        foreach (var group in batch.GroupBy(l => l.Request.Step))
        {
            Submit([.. group]);
        }
    }

    public void Observe(string step, double seconds, double? cpuShare)
    {
    }

    /// <summary>Cancels every job of the run (<c>scancel</c>: SIGTERM, which each task records as its failure).</summary>
    public void StopAll()
    {
        List<string> ids;
        lock (_gate)
        {
            _stopping = true;
            ids = [.. _submitted];
            _pending.Clear();
            foreach (var job in _jobs.Where(j => j.Batch is null).ToList())
            {
                Complete(job, null, "stopped before it was submitted");
            }
        }
        Cancel(ids);
    }

    /// <summary>Cancels jobs by id; quietly does nothing for ids the controller no longer knows.</summary>
    public static void Cancel(IReadOnlyCollection<string> ids)
    {
        if (ids.Count > 0)
        {
            _ = SlurmCommands.Run("scancel", ids);
        }
    }

    /// <summary>
    /// Cancels the jobs a run left in the queue (its orchestrator was killed) and waits until they are gone, so their
    /// tasks have recorded how they ended before a resume reads them. Returns how many were cancelled.
    /// </summary>
    public static int CancelLeftovers(FlowDatastore store, string flow, string runId)
    {
        var file = Path.Combine(JobsDir(store, flow, runId), "jobs");
        if (!File.Exists(file))
        {
            return 0;
        }
        var ours = File.ReadAllLines(file).Select(l => l.Split(' ', 2)).Where(p => p.Length == 2).Select(p => p[0] + "|" + p[1]).ToHashSet(StringComparer.Ordinal);
        if (!SlurmCommands.OnPath("squeue"))
        {
            throw new FlowException($"Run {runId} of {flow} ran tasks on Slurm, but squeue is not on PATH here: resume it on a machine of the cluster, so jobs it left running can be cancelled first.", ExitCodes.Usage);
        }
        HashSet<string> Left()
        {
            var (code, output, error) = SlurmCommands.Run("squeue", ["-h", "-r", "--me", "-o", "%i|%j"]);
            if (code != 0)
            {
                throw new FlowException($"Run {runId} of {flow} ran tasks on Slurm, and squeue failed ({SlurmCommands.FirstLine(error)}): resume once the Slurm controller answers, so jobs it left running can be cancelled first.", ExitCodes.Failure);
            }
            return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Trim().Split('|'))
                .Where(f => f.Length == 2 && ours.Contains(f[0].Split('_')[0] + "|" + f[1]))
                .Select(f => f[0].Split('_')[0])];
        }
        var left = Left();
        if (left.Count == 0)
        {
            return 0;
        }
        Cancel(left);
        var waited = Stopwatch.StartNew();
        while (Left().Count > 0 && waited.Elapsed < TimeSpan.FromSeconds(120))
        {
            Thread.Sleep(500);
        }
        return left.Count;
    }

    /// <summary>
    /// Ends the monitor. It first waits, up to half a minute, until the controller holds none of the run's jobs (a job
    /// lingers a moment after its task recorded its end, and a cancelled one while its processes stop), so nothing of
    /// the run runs once <c>dotnet flow run</c> has returned, as with local tasks.
    /// </summary>
    public void Dispose()
    {
        WaitUntilGone(TimeSpan.FromSeconds(30));
        _stop.Cancel();
        try
        {
            _monitor.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }

    private void WaitUntilGone(TimeSpan limit)
    {
        HashSet<string> ours;
        lock (_gate)
        {
            ours = [.. _submitted];
        }
        var name = $"flow.{_runId}.";
        var waited = Stopwatch.StartNew();
        while (ours.Count > 0 && waited.Elapsed < limit)
        {
            var (code, output, _) = SlurmCommands.Run("squeue", ["-h", "-r", "--me", "-o", "%i|%j"]);
            if (code != 0 || !output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => l.Trim().Split('|'))
                    .Any(f => f.Length == 2 && ours.Contains(f[0].Split('_')[0]) && f[1].StartsWith(name, StringComparison.Ordinal)))
            {
                return;
            }
            Thread.Sleep(300);
        }
    }

    private void Submit(List<TaskLaunch> launches)
    {
        var step = _graph.FindStep(launches[0].Request.Step);
        var name = $"flow.{_runId}.{launches[0].Request.Step}";
        int number;
        lock (_gate)
        {
            number = ++_scripts;
        }
        var basis = string.Create(CultureInfo.InvariantCulture, $"{launches[0].Request.Step}-{number}");
        var claims = Path.Combine(_jobsDir, basis + ".claims");
        _fs.Directory.CreateDirectory(claims);
        var tasksFile = Path.Combine(_jobsDir, basis + ".tasks");
        var scriptFile = Path.Combine(_jobsDir, basis + ".sh");
        var exitPrefix = Path.Combine(_jobsDir, basis);
        // As many elements as may run at once: each drains the batch's tasks (SlurmScript), so no task waits for the
        // controller to schedule it on its own.
        var elements = Math.Min(launches.Count, _maxWorkers);
        _fs.File.WriteAllText(tasksFile, string.Concat(launches.Select(l => StepArguments(l.Request) + "\n")));
        _fs.File.WriteAllText(scriptFile, SlurmScript.Write(_dotnet, _assembly, tasksFile, claims, exitPrefix, launches.Count, elements, launches[0].Environment));

        var arguments = new List<string>
        {
            "--parsable",
            "--job-name=" + name,
            "--chdir=" + _fs.Directory.GetCurrentDirectory(),
            "--output=" + Path.Combine(_jobsDir, basis + (elements > 1 ? "_%a.out" : "_0.out")),
            "--ntasks=1",
        };
        var slurm = step?.Slurm;
        if ((slurm?.Partition ?? _settings.Partition) is { } partition)
        {
            arguments.Add("--partition=" + partition);
        }
        if (JobTime(slurm?.Time ?? _settings.Time, launches[0].TimeoutSeconds) is { } time)
        {
            arguments.Add("--time=" + time);
        }
        if ((slurm?.Account ?? _settings.Account) is { } account)
        {
            arguments.Add("--account=" + account);
        }
        if (step?.Resources is { } resources)
        {
            if (resources.Cpu > 0)
            {
                arguments.Add("--cpus-per-task=" + resources.Cpu.ToString(CultureInfo.InvariantCulture));
            }
            if (resources.MemoryMb > 0)
            {
                arguments.Add("--mem=" + resources.MemoryMb.ToString(CultureInfo.InvariantCulture) + "M");
            }
            if (resources.Gpu > 0)
            {
                arguments.Add("--gres=gpu:" + resources.Gpu.ToString(CultureInfo.InvariantCulture));
            }
        }
        if (elements > 1)
        {
            arguments.Add(string.Create(CultureInfo.InvariantCulture, $"--array=0-{elements - 1}"));
        }
        arguments.Add(scriptFile);

        var (code, output, error) = SlurmCommands.Run("sbatch", arguments);
        var jobId = output.Trim().Split(';')[0];
        if (code != 0 || jobId.Length == 0 || !jobId.All(char.IsAsciiDigit))
        {
            var why = $"sbatch refused the job{(elements > 1 ? $" array of {elements}" : string.Empty)} for {launches.Count} task(s) of step {launches[0].Request.Step}: {SlurmCommands.FirstLine(error.Length > 0 ? error : output)}";
            Broken ??= why + " (check the partition, time and resources; docs/slurm.md)";
            lock (_gate)
            {
                foreach (var launch in launches)
                {
                    AttemptRecords.Fail(_store, launch.AttemptDir, "SlurmSubmitFailed", why);
                    if (_jobs.FirstOrDefault(j => j.Launch == launch) is { } job)
                    {
                        Complete(job, null, null);
                    }
                }
            }
            return;
        }
        _fs.File.AppendAllText(Path.Combine(_jobsDir, "jobs"), $"{jobId} {name}\n");
        var batch = new Batch(jobId, name, claims);
        lock (_gate)
        {
            _submitted.Add(jobId);
            for (var i = 0; i < launches.Count; i++)
            {
                var job = _jobs.First(j => j.Launch == launches[i]);
                job.Batch = batch;
                job.Line = i;
                job.ExitFile = string.Create(CultureInfo.InvariantCulture, $"{exitPrefix}.{i}.exit");
                job.OutputPrefix = Path.Combine(_jobsDir, basis);
                job.ElementId = null;
            }
            if (_stopping)
            {
                Cancel([jobId]);
            }
        }
        RunConsole.TaskEvent(
            $"[{_runId}/{launches[0].Request.Step}]",
            elements > 1 ? $"{launches.Count} task(s) submitted as Slurm job array {jobId} of {elements}." : $"{launches.Count} task(s) submitted as Slurm job {jobId}.");
    }

    /// <summary>
    /// The job's time limit: the step's or --with slurm's, else a [Timeout] and a minute (the task stops itself at its
    /// timeout; Slurm kills only one that hangs); with the minute an element may still claim a task after it started.
    /// </summary>
    internal static string? JobTime(string? given, int timeoutSeconds)
    {
        var drain = SlurmScript.DrainSeconds / 60;
        if (given is null)
        {
            return timeoutSeconds > 0 ? ((timeoutSeconds + 119) / 60 + drain).ToString(CultureInfo.InvariantCulture) : null;
        }
        if (given is "UNLIMITED" or "INFINITE")
        {
            return given;
        }
        // D-H[:M[:S]] or M[:S] or H:M:S: in minutes, plus the drain time.
        var days = 0;
        var rest = given;
        var dash = given.IndexOf('-');
        if (dash > 0)
        {
            days = int.Parse(given[..dash], CultureInfo.InvariantCulture);
            rest = given[(dash + 1)..];
        }
        var parts = rest.Split(':').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        var minutes = dash > 0
            ? (parts[0] * 60) + (parts.Length > 1 ? parts[1] : 0) + (parts.Length > 2 ? (parts[2] + 59) / 60 : 0)
            : parts.Length switch
            {
                1 => parts[0],
                2 => parts[0] + ((parts[1] + 59) / 60),
                _ => (parts[0] * 60) + parts[1] + ((parts[2] + 59) / 60),
            };
        return ((days * 1440) + minutes + drain).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The <c>step</c> command's arguments for a task, quoted for the job script's shell.</summary>
    internal static string StepArguments(TaskRequest request)
    {
        var arguments = new List<string>
        {
            "--datastore", request.Datastore, "--flow", request.Flow, "--run-id", request.RunId, "--step", request.Step,
            "--task-id", request.TaskId, "--attempt", request.Attempt.ToString(CultureInfo.InvariantCulture), "--logs",
        };
        if (request.InputPaths.Count > 0)
        {
            arguments.AddRange(["--input-paths", string.Join(',', request.InputPaths)]);
        }
        if (request.SplitIndex is { } index)
        {
            arguments.AddRange(["--split-index", index.ToString(CultureInfo.InvariantCulture)]);
        }
        if (request.CatchFailure)
        {
            arguments.Add("--catch-failure");
        }
        if (request.Caught is not null)
        {
            arguments.Add("--caught");
        }
        return string.Join(' ', arguments.Select(SlurmCommands.Quote));
    }

    /// <summary>Every 0.2 s: finished tasks (their done.json) and new output; every second: what the queue still holds.</summary>
    private async Task MonitorAsync()
    {
        var lastQueuePoll = Stopwatch.GetTimestamp();
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(s_tick, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            List<Job> watched;
            lock (_gate)
            {
                watched = [.. _jobs.Where(j => j.Batch is not null)];
            }
            if (watched.Count == 0)
            {
                continue;
            }
            try
            {
                // Claimed tasks every tick; unclaimed ones too while few, else with the queue (a wide array on a network
                // file system would otherwise cost a stat per waiting task five times a second).
                var queueTick = Stopwatch.GetElapsedTime(lastQueuePoll) >= s_queuePoll;
                foreach (var job in watched)
                {
                    if (job.ElementId is not null || queueTick || watched.Count <= 64)
                    {
                        Look(job);
                    }
                }
                if (queueTick)
                {
                    lastQueuePoll = Stopwatch.GetTimestamp();
                    PollQueue([.. watched.Where(j => !j.Done.Task.IsCompleted)]);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A file read raced a writer: the next tick reads it again.
            }
        }
    }

    /// <summary>Notices a task's claim and start, echoes its new output, and completes it once its done.json exists.</summary>
    private void Look(Job job)
    {
        var dir = job.Launch.AttemptDir;
        if (job.ElementId is null && job.Batch is { } batch)
        {
            var claim = Path.Combine(batch.Claims, job.Line.ToString(CultureInfo.InvariantCulture));
            if (_fs.File.Exists(claim) && _fs.File.ReadAllText(claim).Trim() is { Length: > 0 } element)
            {
                job.ElementId = element;
            }
        }
        if (!job.Started && job.ElementId is not null && _fs.File.Exists(Path.Combine(dir, "started.json")))
        {
            job.Started = true;
            job.StartedAt = Stopwatch.GetTimestamp();
            RunConsole.Started(job.Launch.Request.Step);
            job.Out = new LogReader(_fs, Path.Combine(dir, LogFormat.Stdout), false);
            job.Err = new LogReader(_fs, Path.Combine(dir, LogFormat.Stderr), true);
        }
        var done = _fs.File.Exists(Path.Combine(dir, "done.json")) ? _store.ReadAttemptDone(dir) : null;
        Echo(job, final: done is not null);
        if (done is not null)
        {
            lock (_gate)
            {
                Complete(job, done.Status, null);
            }
        }
    }

    private static void Echo(Job job, bool final)
    {
        foreach (var reader in new[] { job.Out, job.Err })
        {
            if (reader is null)
            {
                continue;
            }
            foreach (var line in reader.ReadNew(final))
            {
                RunConsole.TaskOutput(job.Launch.Prefix, line.IsError, line.Text);
            }
        }
    }

    /// <summary>
    /// Asks the controller which of the run's jobs it still holds. A claimed task whose element is missing on two polls
    /// in a row without a done.json is lost (its job was cancelled, killed, past its time, its node gone, or the
    /// controller forgot it); tasks no element claimed before the whole batch left the queue are submitted again.
    /// </summary>
    private void PollQueue(List<Job> open)
    {
        if (open.Count == 0)
        {
            return;
        }
        var (code, output, error) = SlurmCommands.Run("squeue", ["-h", "-r", "--me", "-o", "%i|%T|%j"]);
        if (code != 0)
        {
            if (!_stopping)
            {
                RunConsole.Important($"squeue failed ({SlurmCommands.FirstLine(error)}); waiting for the tasks' own records.", isError: true);
            }
            return;
        }
        // A job id is ours only with our job name: ids repeat after the controller loses its state.
        var queued = new HashSet<string>(StringComparer.Ordinal);
        var batches = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Trim().Split('|');
            if (fields.Length >= 3)
            {
                foreach (var id in ExpandIds(fields[0]))
                {
                    queued.Add(id + "|" + fields[2]);
                    batches.Add(id.Split('_')[0] + "|" + fields[2]);
                }
            }
        }
        var resubmit = new List<TaskLaunch>();
        foreach (var batch in open.Select(j => j.Batch!).Distinct())
        {
            batch.Missing = batches.Contains(batch.JobId + "|" + batch.Name) ? 0 : batch.Missing + 1;
        }
        foreach (var job in open)
        {
            var batch = job.Batch!;
            var elementGone = job.ElementId is { } element && !queued.Contains(element + "|" + batch.Name);
            job.Missing = job.ElementId is null ? 0 : elementGone ? job.Missing + 1 : 0;
            var lost = job.ElementId is not null ? job.Missing >= 2 : batch.Missing >= 2;
            if (!lost)
            {
                continue;
            }
            Look(job);
            if (job.Done.Task.IsCompleted)
            {
                continue;
            }
            lock (_gate)
            {
                if (job.ElementId is null && !_stopping)
                {
                    // Never claimed: every element left before reaching it (each stops claiming after a while).
                    job.Batch = null;
                    resubmit.Add(job.Launch);
                    continue;
                }
                if (!_stopping)
                {
                    AttemptRecords.Fail(_store, job.Launch.AttemptDir, "SlurmJobLost", LostReason(job));
                }
                Complete(job, null, _stopping ? "the run stopped and cancelled its Slurm jobs" : null);
            }
        }
        foreach (var group in resubmit.GroupBy(l => l.Request.Step))
        {
            Submit([.. group]);
        }
    }

    /// <summary>Why a job that left the queue without a record failed: its exit code when its script kept one, and its last output.</summary>
    private string LostReason(Job job)
    {
        var exit = _fs.File.Exists(job.ExitFile) ? _fs.File.ReadAllText(job.ExitFile!).Trim() : null;
        var index = job.ElementId is { } element && element.Contains('_', StringComparison.Ordinal) ? element[(element.LastIndexOf('_') + 1)..] : "0";
        var outputFile = job.OutputPrefix + "_" + index + ".out";
        var last = _fs.File.Exists(outputFile)
            ? _fs.File.ReadLines(outputFile).Select(l => l.Trim()).LastOrDefault(l => l.Length > 0)
            : null;
        var reason = new StringBuilder($"Slurm job {job.ElementId} ended without the task recording its outcome");
        reason.Append(exit is not null
            ? $" (its process exited with code {exit})"
            : " (cancelled, killed, past its time limit, out of memory, or its node failed)");
        if (last is not null)
        {
            reason.Append("; its last output: ").Append(last.Length > 300 ? last[..300] + "…" : last);
        }
        return reason.ToString();
    }

    /// <summary>Ids of a squeue line: <c>12</c>, <c>12_3</c>, or a pending range such as <c>12_[4-9,11%2]</c>.</summary>
    internal static IEnumerable<string> ExpandIds(string id)
    {
        var open = id.IndexOf("_[", StringComparison.Ordinal);
        if (open < 0)
        {
            yield return id;
            yield break;
        }
        var basis = id[..open];
        var body = id[(open + 2)..].TrimEnd(']');
        var percent = body.IndexOf('%');
        if (percent >= 0)
        {
            body = body[..percent];
        }
        foreach (var part in body.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var dash = part.IndexOf('-');
            if (dash < 0)
            {
                yield return basis + "_" + part;
                continue;
            }
            if (int.TryParse(part[..dash], CultureInfo.InvariantCulture, out var from) && int.TryParse(part[(dash + 1)..], CultureInfo.InvariantCulture, out var to))
            {
                for (var i = from; i <= to; i++)
                {
                    yield return string.Create(CultureInfo.InvariantCulture, $"{basis}_{i}");
                }
            }
        }
    }

    private void Complete(Job job, string? status, string? stopped)
    {
        if (!_jobs.Remove(job))
        {
            return;
        }
        var seconds = Stopwatch.GetElapsedTime(job.StartedAt ?? job.Submitted).TotalSeconds;
        job.Done.TrySetResult(new LaunchResult(job.Launch, status, null, seconds, null, stopped));
    }

    /// <summary>One sbatch: a job or job array whose elements claim the batch's tasks.</summary>
    private sealed class Batch(string jobId, string name, string claims)
    {
        public string JobId { get; } = jobId;

        public string Name { get; } = name;

        public string Claims { get; } = claims;

        /// <summary>Gets or sets how many polls in a row found no element of it in the queue.</summary>
        public int Missing { get; set; }
    }

    /// <summary>One task as the launcher follows it: its batch, its line there, the element that claimed it.</summary>
    private sealed class Job(TaskLaunch launch)
    {
        public TaskLaunch Launch { get; } = launch;

        public TaskCompletionSource<LaunchResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Submitted { get; } = Stopwatch.GetTimestamp();

        public long? StartedAt { get; set; }

        public Batch? Batch { get; set; }

        public int Line { get; set; }

        public string? ElementId { get; set; }

        public string? ExitFile { get; set; }

        public string? OutputPrefix { get; set; }

        public bool Started { get; set; }

        public int Missing { get; set; }

        public LogReader? Out { get; set; }

        public LogReader? Err { get; set; }
    }
}
