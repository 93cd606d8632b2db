using System.Diagnostics;
using System.IO.Abstractions;
using Flow.Sdk.Datastore;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Runtime;

/// <summary>
/// Runs tasks on this machine in reused worker processes started from the run's materialized snapshot, and in a
/// process of their own for steps with <c>[Environment]</c>; never more processes than <c>--max-workers</c>, all
/// kinds together. Each task's output is stored in its attempt's logs as it arrives and echoed as
/// <c>[run/Step/task] line</c>.
/// </summary>
/// <remarks>
/// Workers start on demand, a few at a time, and only while the queued work per worker outlasts a worker's start-up
/// (both measured during the run): trivial tasks then share the workers that are up, while slow ones get up to
/// <c>--max-workers</c> processes (docs/architecture.md). A worker ends with its orchestrator: its task channel is
/// its stdin, and a worker whose stdin closes while it runs a task records the task as failed and exits.
/// </remarks>
internal sealed class LocalLauncher : ITaskLauncher
{
    private static readonly int s_parallelStarts = Math.Max(1, Environment.ProcessorCount);
    private static readonly Task s_never = new TaskCompletionSource().Task;

    /// <summary>Tasks shorter than this are taken as CPU-bound whatever their measured share (see WorthStarting).</summary>
    private static readonly double s_shortTask = 0.05;

    /// <summary>How long the first task of a step runs before its CPU use so far says whether the step's tasks wait.</summary>
    private static readonly TimeSpan s_probeAfter = TimeSpan.FromMilliseconds(250);

    /// <summary>A launcher stops a task this long after its <c>[Timeout]</c> when the task did not stop itself.</summary>
    private static readonly TimeSpan s_timeoutLeeway = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private readonly IFileSystem _fs;
    private readonly FlowDatastore _store;
    private readonly string _assembly;
    private readonly int _maxWorkers;
    private readonly long _maxLogBytes;
    private readonly string _dotnet = DotnetHost.Path;
    private readonly Stack<WorkerProcess> _idle = new();
    private readonly List<WorkerProcess> _pool = [];
    // Values of a class, not a value tuple: see the note on Scheduler's dictionaries (docs/performance.md).
    private readonly Dictionary<Task, Starting> _starting = [];
    private readonly HashSet<WorkerProcess> _busy = [];
    private readonly HashSet<WorkerProcess> _dedicated = [];
    private readonly Dictionary<string, double> _stepSeconds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _stepCpuShare = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Probe> _probes = new(StringComparer.Ordinal);
    private double _startSeconds = 0.15;
    private int _failedStarts;
    private int _running;

    public LocalLauncher(IFileSystem fs, FlowDatastore store, string workerAssembly, int maxWorkers, long maxLogBytes)
    {
        _fs = fs;
        _store = store;
        _assembly = workerAssembly;
        _maxWorkers = maxWorkers;
        _maxLogBytes = maxLogBytes;
    }

    public int Running => Volatile.Read(ref _running);

    public string? Broken { get; private set; }

    public Task RoomChanged
    {
        get
        {
            lock (_gate)
            {
                // A step's first task that has not ended by its probe time wakes the scheduler then, to ask again, and
                // again each time its running time doubles (its start may have been busy compiling, not waiting).
                List<Task>? waits = null;
                foreach (var probe in _probes.Values)
                {
                    if (probe.Wake is not { IsCompleted: false })
                    {
                        var elapsed = Stopwatch.GetElapsedTime(probe.Started);
                        probe.Wake = Task.Delay(elapsed < s_probeAfter ? s_probeAfter - elapsed : elapsed);
                    }
                    (waits ??= []).Add(probe.Wake);
                }
                if (waits is null)
                {
                    return _starting.Count == 0 ? s_never : Task.WhenAny(_starting.Keys);
                }
                waits.AddRange(_starting.Keys);
                return Task.WhenAny(waits);
            }
        }
    }

    /// <summary>Gets every process the launcher has started and not yet seen end (for tests and signals).</summary>
    public IReadOnlyList<int> Pids
    {
        get
        {
            lock (_gate)
            {
                return [.. _pool.Concat(_dedicated).Where(w => !w.HasExited).Select(w => w.Pid)];
            }
        }
    }

    /// <summary>Starts a worker ahead of the first task, so its start-up overlaps the run's own set-up.</summary>
    public void Prestart()
    {
        lock (_gate)
        {
            StartWorker();
        }
    }

    /// <summary>
    /// Takes a worker started early into the pool when it runs the code this run executes (else false: the caller
    /// disposes it).
    /// </summary>
    public bool Adopt(EarlyWorker early)
    {
        if (!string.Equals(_fs.Path.GetFullPath(early.Assembly), _fs.Path.GetFullPath(_assembly), StringComparison.Ordinal))
        {
            return false;
        }
        lock (_gate)
        {
            _pool.Add(early.Worker);
            _starting.Add(early.Worker.Ready, new Starting(early.Worker, early.Started));
        }
        return true;
    }

    public void Prepare(IReadOnlyList<QueuedStep> queued)
    {
        var waiting = 0;
        foreach (var step in queued)
        {
            waiting += step.Count;
        }
        lock (_gate)
        {
            // No harvest here: a worker that became ready since the scheduler last asked for room stays in the starting
            // set, so RoomChanged completes and the scheduler dispatches again (harvested here, it would sit idle
            // while the queue waited for a room change that never comes).
            // Idle workers take queued tasks first: a worker starts only for tasks that none that is up or starting will
            // take (one that died while idle is dropped first, or the queue would wait for it forever).
            var alive = new List<WorkerProcess>(_idle.Count);
            foreach (var worker in _idle)
            {
                if (worker.HasExited)
                {
                    _pool.Remove(worker);
                    worker.Dispose();
                }
                else
                {
                    alive.Add(worker);
                }
            }
            if (alive.Count < _idle.Count)
            {
                _idle.Clear();
                for (var i = alive.Count - 1; i >= 0; i--)
                {
                    _idle.Push(alive[i]);
                }
            }
            while (waiting > _starting.Count + _idle.Count && Processes < _maxWorkers && _starting.Count < s_parallelStarts && WorthStarting(queued))
            {
                StartWorker();
            }
        }
    }

    public int Lane(GraphStep? step) => step?.Environment is { Count: > 0 } ? 1 : 0;

    public bool HasRoom(GraphStep? step) => HasRoom(step?.Environment is { Count: > 0 } environment ? environment : null);

    private bool HasRoom(IReadOnlyDictionary<string, string>? environment)
    {
        lock (_gate)
        {
            Harvest();
            if (environment is null)
            {
                if (TakeIdle(peek: true) is not null)
                {
                    return true;
                }
                if (_starting.Count == 0 && _busy.Count == 0 && Processes < _maxWorkers)
                {
                    // Nothing runs, starts or idles (the idle worker counted on died since): one starts now, so the
                    // queue never waits on nothing.
                    StartWorker();
                }
                return false;
            }
            if (Processes < _maxWorkers)
            {
                return true;
            }
            // At the cap: an idle worker makes room for the process of its own this task needs.
            if (TakeIdle(peek: false) is { } idle)
            {
                _pool.Remove(idle);
                idle.Dispose();
                return true;
            }
            return false;
        }
    }

    /// <summary>Every process counts against --max-workers: pool workers (starting, idle, busy) and own processes.</summary>
    private int Processes => _pool.Count + _dedicated.Count;

    public async Task<LaunchResult> LaunchAsync(TaskLaunch launch)
    {
        WorkerProcess worker;
        lock (_gate)
        {
            if (launch.Environment is { } environment)
            {
                worker = WorkerProcess.Start(_dotnet, _assembly, _fs.Directory.GetCurrentDirectory(), _store.Root, environment);
                _dedicated.Add(worker);
            }
            else
            {
                worker = TakeIdle(peek: false) ?? throw new InvalidOperationException("no idle worker: HasRoom was not asked first");
                if (!_stepSeconds.ContainsKey(launch.Request.Step) && !_probes.ContainsKey(launch.Request.Step))
                {
                    _probes[launch.Request.Step] = new Probe(worker, Stopwatch.GetTimestamp(), worker.CpuTime);
                }
            }
            _busy.Add(worker);
            _running++;
        }
        var request = launch.Request;
        _store.StartAttempt(launch.AttemptDir, new AttemptStartRecord(DateTimeOffset.UtcNow, request.InputPaths, worker.Pid, request.SplitIndex));
        var started = Stopwatch.GetTimestamp();
        TaskOutcome outcome;
        string? stopped = null;
        using (var log = new AttemptLog(_fs, launch.AttemptDir, _maxLogBytes))
        {
            var output = new ConsoleTaskOutput(launch.Prefix, log);
            RunConsole.Started(request.Step);
            output.System(request.Attempt == 0 ? "Task is starting." : $"Task is starting (attempt {request.Attempt}).");
            // The task stops itself at its [Timeout]; this is the backstop for one that cannot (its process hangs).
            using var overrun = launch.TimeoutSeconds > 0
                ? new Timer(_ => { stopped = $"the task ran past its [Timeout] of {launch.TimeoutSeconds} s and did not stop; its process was killed"; worker.Kill(); }, null, TimeSpan.FromSeconds(launch.TimeoutSeconds) + s_timeoutLeeway, Timeout.InfiniteTimeSpan)
                : null;
            outcome = await worker.RunAsync(request, output).ConfigureAwait(false);
        }
        lock (_gate)
        {
            _busy.Remove(worker);
            _running--;
            if (_probes.TryGetValue(request.Step, out var probe) && probe.Worker == worker)
            {
                _probes.Remove(request.Step);
            }
            if (_dedicated.Remove(worker) || outcome.Status is null || worker.HasExited)
            {
                // A task's own process ends with its task; a worker that died is replaced on demand.
                _pool.Remove(worker);
                worker.Dispose();
            }
            else
            {
                _idle.Push(worker);
            }
        }
        return new LaunchResult(launch, outcome.Status, outcome.ExitCode, Stopwatch.GetElapsedTime(started).TotalSeconds, outcome.CpuShare, stopped);
    }

    public void Observe(string step, double seconds, double? cpuShare)
    {
        lock (_gate)
        {
            _stepSeconds[step] = _stepSeconds.TryGetValue(step, out var mean) ? (0.7 * mean) + (0.3 * seconds) : seconds;
            if (cpuShare is { } share)
            {
                _stepCpuShare[step] = _stepCpuShare.TryGetValue(step, out var cpu) ? (0.7 * cpu) + (0.3 * share) : share;
            }
        }
    }

    public void StopAll()
    {
        lock (_gate)
        {
            foreach (var worker in _busy)
            {
                worker.Kill();
            }
        }
    }

    /// <summary>Moves workers that finished starting to the idle set; three that die at start-up break the launcher.</summary>
    private void Harvest()
    {
        if (_starting.Count == 0)
        {
            return;
        }
        List<Starting>? done = null;
        foreach (var starting in _starting.Values)
        {
            if (starting.Worker.Ready.IsCompleted)
            {
                (done ??= []).Add(starting);
            }
        }
        foreach (var (worker, started) in done ?? [])
        {
            _starting.Remove(worker.Ready);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            _startSeconds = (0.7 * _startSeconds) + (0.3 * seconds);
            if (worker.HasExited)
            {
                _pool.Remove(worker);
                worker.Dispose();
                if (++_failedStarts >= 3)
                {
                    // Workers that die before their first task would be replaced forever: stop the run instead.
                    Broken ??= $"worker processes exit at start-up (exit code {worker.ExitCode}; their output is above)";
                }
                continue;
            }
            _idle.Push(worker);
        }
    }

    /// <summary>An idle worker that is still alive (one that died while idle is dropped); with <paramref name="peek"/> it stays idle.</summary>
    private WorkerProcess? TakeIdle(bool peek)
    {
        while (_idle.Count > 0)
        {
            var worker = _idle.Peek();
            if (!worker.HasExited)
            {
                return peek ? worker : _idle.Pop();
            }
            _idle.Pop();
            _pool.Remove(worker);
            worker.Dispose();
        }
        return null;
    }

    /// <summary>
    /// Whether another worker would finish the queue sooner: when a queued step's duration is not known yet (up to
    /// one worker per core), or when the queued work per worker is longer than starting a worker takes. Beyond one worker per core, only
    /// tasks that mostly wait (sleep, I/O) gain from more workers: CPU-bound ones would only share the cores.
    /// </summary>
    private bool WorthStarting(IReadOnlyList<QueuedStep> queuedSteps)
    {
        var queued = 0.0;
        var waits = false;
        var unknown = false;
        foreach (var (step, count) in queuedSteps)
        {
            if (!_stepSeconds.TryGetValue(step, out var seconds))
            {
                // No task of this step has finished yet: it counts as CPU-bound, so workers start up to one per core
                // at once and beyond that only once its tasks show that they wait. A foreach of trivial tasks on 2
                // cores otherwise started a third worker that only compiled and competed. The first task's CPU use
                // shows it before it ends: one that has run a quarter of a second mostly waiting makes the step's
                // queue count as waiting work at least that long per task.
                if (_probes.TryGetValue(step, out var probe) && probe.Waiting() is { } sofar)
                {
                    waits = true;
                    queued += sofar * count;
                    continue;
                }
                unknown = true;
                continue;
            }
            queued += seconds * count;
            // Below a fifth: the task waits, even allowing for CPU-bound tasks that queue for a core while more
            // workers than cores run (their share then falls to cores / workers). Only a task long enough for its
            // CPU time to mean something counts: one of a few milliseconds reads as anything from 0 up, and more
            // workers than cores for those only spend CPU on starting and compiling (4 workers for a trivial foreach
            // of 2,000 on 2 cores before; docs/performance.md).
            waits |= !_stepCpuShare.TryGetValue(step, out var share) || (share < 0.2 && seconds >= s_shortTask);
        }
        if (!waits && _pool.Count >= Environment.ProcessorCount)
        {
            return false;
        }
        return unknown || queued / Math.Max(1, _pool.Count) > _startSeconds;
    }

    private void StartWorker()
    {
        var started = Stopwatch.GetTimestamp();
        var worker = WorkerProcess.Start(_dotnet, _assembly, _fs.Directory.GetCurrentDirectory(), _store.Root);
        _pool.Add(worker);
        _starting.Add(worker.Ready, new Starting(worker, started));
    }

    /// <summary>Ends every worker: idle ones leave when their input closes; any still running is killed.</summary>
    public void Dispose()
    {
        List<WorkerProcess> all;
        lock (_gate)
        {
            all = [.. _pool.Concat(_dedicated)];
            _pool.Clear();
            _dedicated.Clear();
            _idle.Clear();
            _starting.Clear();
        }
        foreach (var worker in all)
        {
            worker.CloseInput();
        }
        foreach (var worker in all)
        {
            worker.Dispose();
        }
    }

    /// <summary>A worker still starting, and when it was started.</summary>
    private sealed record Starting(WorkerProcess Worker, long Started);

    /// <summary>The first task of a step whose duration is not known yet: when it started, and its worker's CPU time then.</summary>
    private sealed class Probe(WorkerProcess worker, long started, TimeSpan? cpu)
    {
        public WorkerProcess Worker { get; } = worker;

        public long Started { get; } = started;

        /// <summary>Gets or sets the timer that wakes the scheduler at the probe time.</summary>
        public Task? Wake { get; set; }

        /// <summary>The seconds the task has run when it has run past the probe time using under a fifth of a core; else null.</summary>
        public double? Waiting()
        {
            var elapsed = Stopwatch.GetElapsedTime(Started);
            // A CPU time that cannot be read (the process exited) says nothing: the task's end will.
            if (elapsed < s_probeAfter || cpu is not { } before || Worker.CpuTime is not { } now)
            {
                return null;
            }
            var share = (now - before).TotalSeconds / elapsed.TotalSeconds;
            return share < 0.2 ? elapsed.TotalSeconds : null;
        }
    }

    /// <summary>Where a task's lines go: its attempt's log, and the console with the task's prefix.</summary>
    private sealed class ConsoleTaskOutput(string prefix, AttemptLog log) : ITaskOutput
    {
        public void Line(bool isError, string text)
        {
            log.Write(isError, text);
            RunConsole.TaskOutput(prefix, isError, text);
        }

        public void System(string text) => RunConsole.TaskEvent(prefix, text);
    }
}
