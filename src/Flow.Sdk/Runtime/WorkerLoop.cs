using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace Flow.Sdk.Runtime;

/// <summary>
/// The worker side of the protocol: runs the tasks it is sent, one at a time, until its stdin closes. Its stdin is
/// also its lifeline: when it closes while a task runs, the orchestrator is gone (killed, even with SIGKILL), so the
/// worker records the task as failed and ends at once instead of working on for nobody.
/// </summary>
internal static class WorkerLoop
{
    public static async Task<int> RunAsync(TaskRunner runner)
    {
        var token = Environment.GetEnvironmentVariable(WorkerProtocol.TokenVariable) ?? string.Empty;
        var input = new StreamReader(Console.OpenStandardInput());
        // stdin is the control channel: a step that reads the console gets end of input, never a task request.
        Console.SetIn(TextReader.Null);
        var controlOut = Console.Out;
        var controlErr = Console.Error;
        var requests = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _ = Task.Run(async () =>
        {
            while (await input.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                await requests.Writer.WriteAsync(line).ConfigureAwait(false);
            }
            requests.Writer.Complete();
            if (runner.IsRunning)
            {
                runner.Stop("OrchestratorGone", "the run's orchestrator is gone (its process ended), so nobody waits for this task; it was stopped", ExitCodes.Failure);
            }
        });
        // Ctrl-C and a closed terminal reach every process of the group: the orchestrator decides, workers wait for it.
        // SIGTERM to a worker alone stops its task, recorded as such.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => c.Cancel = true);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            runner.Stop("Interrupted", "the task was killed by SIGTERM", 128 + 15);
            Environment.Exit(128 + 15);
        });
        StartupTrace.Mark("worker ready");
        await controlOut.WriteLineAsync(WorkerProtocol.ReadyLine(token));
        await controlOut.FlushAsync();
        while (await requests.Reader.WaitToReadAsync())
        {
            if (!requests.Reader.TryRead(out var line) || line.Length == 0)
            {
                continue;
            }
            var request = WorkerProtocol.Deserialize(line);
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            string status;
            try
            {
                status = (await runner.RunAsync(request)).Status;
            }
            catch (Exception e) when (e is FlowException or IOException or UnauthorizedAccessException)
            {
                // The orchestrator finalizes an attempt the worker could not; the worker stays up for the next task.
                await controlErr.WriteLineAsync("error: " + e.Message);
                status = "error";
            }
            // A partial line the step left behind is fine: the orchestrator finds the control mark anywhere in a line.
            await controlErr.WriteLineAsync(WorkerProtocol.EndLine(token, request.TaskId));
            await controlErr.FlushAsync();
            // How much of the task's time this process spent on a CPU: the orchestrator starts more workers than
            // cores only for tasks that mostly wait.
            var wall = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            var cpuShare = wall.TotalSeconds > 0 ? (Environment.CpuUsage.TotalTime - cpuBefore).TotalSeconds / wall.TotalSeconds : 1;
            await controlOut.WriteLineAsync(WorkerProtocol.DoneLine(token, request.TaskId, status, cpuShare));
            await controlOut.FlushAsync();
        }
        return ExitCodes.Success;
    }
}
