using System.Runtime.InteropServices;

namespace Flow.Sdk.Runtime;

/// <summary>
/// How an orchestrator hears that its run must stop: SIGINT (Ctrl-C), SIGTERM (kill, a scheduler) or SIGHUP (the
/// terminal closed). The first one completes <see cref="Interrupted"/> with the reason; the run then stops its tasks,
/// records them and itself as failed with that reason, and exits with 128 + the signal's number. A second Ctrl-C
/// does not wait: the force-stop action runs at once.
/// </summary>
internal sealed class RunSignals : IDisposable
{
    private readonly TaskCompletionSource<string> _interrupted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<PosixSignalRegistration> _registrations = [];
    private int _signal;

    public RunSignals(Action<string> forceStop)
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
        {
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                var number = ProcessSignals.Number(context.Signal);
                if (Interlocked.CompareExchange(ref _signal, number, 0) == 0)
                {
                    _interrupted.TrySetResult($"interrupted by {context.Signal}");
                }
                else if (context.Signal == PosixSignal.SIGINT)
                {
                    forceStop($"interrupted by {context.Signal} twice");
                }
            }));
        }
    }

    /// <summary>Gets a task that completes with the reason when the first signal arrives.</summary>
    public Task<string> Interrupted => _interrupted.Task;

    /// <summary>Gets the exit code for the signal that arrived (128 + its number), or null when none did.</summary>
    public int? ExitCode => _signal == 0 ? null : ProcessSignals.ExitCode(_signal);

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
