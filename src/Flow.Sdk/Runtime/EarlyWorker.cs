using System.Diagnostics;
using System.IO.Abstractions;
using Flow.Sdk.Datastore;

namespace Flow.Sdk.Runtime;

/// <summary>
/// A worker started before the run's launcher exists, so its start-up (~0.1 s) overlaps the run's own: by the run
/// itself before it opens the datastore, or, sooner still, by <c>dotnet flow run</c> when it hosts the flow's
/// executable in its own process (docs/performance.md). The tool's copy of this library and the flow's copy are
/// different assemblies, so the hand-over goes through the process's <see cref="AppContext"/> data, holding only
/// framework types: the process, its protocol token, the assembly it runs and when it started.
/// </summary>
internal sealed record EarlyWorker(WorkerProcess Worker, string Assembly, long Started)
{
    private const string Slot = "Flow.Sdk.EarlyWorker";

    /// <summary>
    /// Starts a worker from the code folder an earlier run materialized for the snapshot in
    /// <paramref name="snapshotDir"/>, when there is one. Null when there is none or it could not start.
    /// </summary>
    public static EarlyWorker? Start(IFileSystem fs, string datastoreRoot, string snapshotDir)
    {
        if (Launch(fs, datastoreRoot, snapshotDir) is not { } launched)
        {
            return null;
        }
        return new EarlyWorker(WorkerProcess.Attach(launched.Process, launched.Token), launched.Assembly, launched.Started);
    }

    /// <summary>Starts a worker and leaves it in this process for the flow's run to take (<see cref="Take"/>).</summary>
    public static void Offer(IFileSystem fs, string datastoreRoot, string snapshotDir)
    {
        if (Launch(fs, datastoreRoot, snapshotDir) is { } launched)
        {
            AppContext.SetData(Slot, new object[] { launched.Process, launched.Token, launched.Assembly, launched.Started });
        }
    }

    /// <summary>The worker offered in this process, if any is left; it is then the caller's.</summary>
    public static EarlyWorker? Take()
    {
        if (AppContext.GetData(Slot) is not object[] { Length: 4 } offered
            || offered[0] is not Process process || offered[1] is not string token || offered[2] is not string assembly || offered[3] is not long started)
        {
            return null;
        }
        AppContext.SetData(Slot, null);
        return new EarlyWorker(WorkerProcess.Attach(process, token), assembly, started);
    }

    /// <summary>Ends a worker offered and never taken (the run was refused before it looked).</summary>
    public static void Withdraw() => Take()?.Worker.Dispose();

    private static (Process Process, string Token, string Assembly, long Started)? Launch(IFileSystem fs, string datastoreRoot, string snapshotDir)
    {
        if (SnapshotStore.MaterializedBefore(fs, datastoreRoot, snapshotDir) is not { } assembly)
        {
            return null;
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            var (process, token) = WorkerProcess.Launch(DotnetHost.Path, assembly, fs.Directory.GetCurrentDirectory(), datastoreRoot);
            return (process, token, assembly, started);
        }
        catch (FlowException)
        {
            return null;
        }
    }
}
