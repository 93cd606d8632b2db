using System.Runtime.InteropServices;

namespace Flow.Sdk;

/// <summary>Sends POSIX signals to other processes (the tool forwards SIGTERM and SIGHUP to the run it started).</summary>
internal static partial class ProcessSignals
{
    public const int SIGHUP = 1;
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>The exit code of a process ended by <paramref name="signal"/>, as shells report it (128 + n).</summary>
    public static int ExitCode(int signal) => 128 + signal;

    /// <summary>The number of a signal .NET names.</summary>
    public static int Number(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGHUP => SIGHUP,
        PosixSignal.SIGINT => SIGINT,
        PosixSignal.SIGTERM => SIGTERM,
        _ => 0,
    };

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when it is gone or this is Windows.</summary>
    public static bool Send(int pid, int signal) => !OperatingSystem.IsWindows() && Kill(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
