using System.Diagnostics;
using Flow.Sdk.Datastore;

namespace Flow.Sdk.Runtime;

/// <summary>How a task attempt ended, as the orchestrator saw it.</summary>
/// <param name="Status">The status the worker reported, or null when the worker died first.</param>
/// <param name="ExitCode">The worker's exit code when it died.</param>
/// <param name="CpuShare">The worker's CPU time during the task divided by the task's wall time, as it reported it.</param>
internal sealed record TaskOutcome(string? Status, int? ExitCode, double? CpuShare = null);

/// <summary>Receives the lines a task prints.</summary>
internal interface ITaskOutput
{
    void Line(bool isError, string text);
}

/// <summary>
/// A worker process started from the materialized snapshot. It runs one task at a time and may serve many;
/// its output is routed to the task it is running.
/// </summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _prefix;
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ITaskOutput? _output;
    private TaskCompletionSource<TaskOutcome>? _pending;
    private string? _status;
    private double? _cpuShare;
    private bool _stdoutDone;
    private bool _stderrDone;
    private bool _exited;

    private WorkerProcess(Process process, string token)
    {
        _process = process;
        _prefix = WorkerProtocol.Prefix(token);
        _stdoutPump = Task.Run(() => PumpAsync(process.StandardOutput, isError: false));
        _stderrPump = Task.Run(() => PumpAsync(process.StandardError, isError: true));
    }

    public int Pid => _process.Id;

    /// <summary>Gets a task that completes when the worker is ready for its first task, or has exited.</summary>
    public Task Ready => _ready.Task;

    public static WorkerProcess Start(string dotnetHost, string assemblyPath, string workingDirectory, string datastore, IReadOnlyDictionary<string, string>? environment = null)
    {
        var (process, token) = Launch(dotnetHost, assemblyPath, workingDirectory, datastore, environment);
        return new WorkerProcess(process, token);
    }

    /// <summary>Takes over a worker process <see cref="Launch"/> started (in this process, maybe by another copy of this library).</summary>
    public static WorkerProcess Attach(Process process, string token) => new(process, token);

    /// <summary>Starts a worker process without reading it yet: its protocol token and the process.</summary>
    public static (Process Process, string Token) Launch(string dotnetHost, string assemblyPath, string workingDirectory, string datastore, IReadOnlyDictionary<string, string>? environment = null)
    {
        var token = Guid.NewGuid().ToString("N");
        var start = new ProcessStartInfo(dotnetHost)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(assemblyPath);
        start.ArgumentList.Add(WorkerProtocol.WorkerCommand);
        start.Environment[WorkerProtocol.TokenVariable] = token;
        // A step that reads other runs through FlowClient finds this run's datastore, wherever the run started.
        start.Environment[Datastore.DatastoreLocator.EnvironmentVariable] = datastore;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new FlowException($"Could not start a worker process ({dotnetHost} exec {assemblyPath}): {e.Message}.", ExitCodes.Failure, e);
        }
        return (process, token);
    }

    /// <summary>Sends a task and completes when its output is complete or the worker died.</summary>
    public Task<TaskOutcome> RunAsync(TaskRequest request, ITaskOutput output)
    {
        var pending = new TaskCompletionSource<TaskOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_exited)
            {
                // The worker died while idle: nothing would ever answer this task.
                pending.SetResult(new TaskOutcome(null, SafeExitCode()));
                return pending.Task;
            }
            _output = output;
            _pending = pending;
            _status = null;
            _cpuShare = null;
            _stdoutDone = _stderrDone = false;
        }
        try
        {
            _process.StandardInput.WriteLine(WorkerProtocol.Serialize(request));
            _process.StandardInput.Flush();
        }
        catch (IOException)
        {
            // The worker is gone; the pumps report it.
        }
        return pending.Task;
    }

    public bool HasExited
    {
        get
        {
            lock (_gate)
            {
                return _exited;
            }
        }
    }

    /// <summary>Gets the exit code once the worker has exited, else null.</summary>
    public int? ExitCode => SafeExitCode();

    private int? SafeExitCode()
    {
        try
        {
            return _process.HasExited ? _process.ExitCode : null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Gets the CPU time the worker's process has used so far (null when it cannot be read: it exited).</summary>
    public TimeSpan? CpuTime
    {
        get
        {
            try
            {
                _process.Refresh();
                return _process.TotalProcessorTime;
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
            {
                return null;
            }
        }
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private async Task PumpAsync(StreamReader reader, bool isError)
    {
        var lines = new BoundedLineReader(reader, LogFormat.MaxLineChars, '\u001f');
        while (await lines.ReadLineAsync() is { } line)
        {
            var mark = line.IndexOf(_prefix, StringComparison.Ordinal);
            if (mark < 0)
            {
                Emit(isError, line);
                continue;
            }
            if (mark > 0)
            {
                Emit(isError, line[..mark]);
            }
            var control = line[(mark + _prefix.Length)..].Split(':');
            lock (_gate)
            {
                if (control[0] == "ready")
                {
                    _ready.TrySetResult();
                }
                else if (control[0] == "done" && control.Length >= 3)
                {
                    _status = control[2];
                    _cpuShare = control.Length >= 4 && double.TryParse(control[3], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var share) ? share : null;
                    _stdoutDone = true;
                }
                else if (control[0] == "end")
                {
                    _stderrDone = true;
                }
                if (_stdoutDone && _stderrDone && _pending is { } pending)
                {
                    _pending = null;
                    _output = null;
                    pending.TrySetResult(new TaskOutcome(_status, null, _cpuShare));
                }
            }
        }
        // The stream ended: the worker exited. Fail a task it was running once both streams are drained.
        if (isError)
        {
            await _stdoutPump.ConfigureAwait(false);
        }
        else
        {
            return;
        }
        try
        {
            await _process.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Disposed meanwhile: the orchestrator is shutting the worker down.
        }
        lock (_gate)
        {
            _exited = true;
            _ready.TrySetResult();
            _pending?.TrySetResult(new TaskOutcome(null, SafeExitCode()));
            _pending = null;
            _output = null;
        }
    }

    private void Emit(bool isError, string line)
    {
        ITaskOutput? output;
        lock (_gate)
        {
            output = _output;
        }
        if (output is not null)
        {
            output.Line(isError, line);
        }
        else
        {
            (isError ? Console.Error : Console.Out).WriteLine(line);
        }
    }

    /// <summary>Closes stdin: an idle worker ends; a busy one records its task as failed and ends.</summary>
    public void CloseInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
        }
    }

    /// <summary>Closes stdin and waits briefly for the worker to end; one that does not is killed.</summary>
    public void Dispose()
    {
        CloseInput();
        try
        {
            if (!_process.WaitForExit(TimeSpan.FromSeconds(2)))
            {
                Kill();
            }
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
