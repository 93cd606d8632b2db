using System.Diagnostics;
using System.Globalization;
using System.Text;
using Flow.Sdk.Graph;
using Flow.Sdk.Hosting;

namespace Flow.Sdk.Runtime;

/// <summary>
/// <c>--with slurm[:partition=P,time=T,account=A,shared=/a:/b,dotnet=PATH]</c>: every step (but <c>[Local]</c> ones) runs
/// as Slurm jobs, with these defaults under each step's own <c>[Slurm]</c> (docs/slurm.md).
/// </summary>
/// <param name="AllSteps">Whether <c>--with slurm</c> was given (else only steps with <c>[Slurm]</c> go to the cluster).</param>
/// <param name="Partition">The default partition.</param>
/// <param name="Time">The default time limit.</param>
/// <param name="Account">The default account.</param>
/// <param name="SharedRoots">Folders every node reads at the same path, when declared (they then are the only ones).</param>
/// <param name="Dotnet">The <c>dotnet</c> host the jobs start, when not the one running the flow.</param>
internal sealed record SlurmSettings(bool AllSteps, string? Partition = null, string? Time = null, string? Account = null, IReadOnlyList<string>? SharedRoots = null, string? Dotnet = null)
{
    /// <summary>The settings of steps with <c>[Slurm]</c> when <c>--with slurm</c> was not given.</summary>
    public static readonly SlurmSettings StepsOnly = new(false);

    /// <summary>Parses what follows <c>--with slurm</c>: nothing, or <c>:key=value,...</c>.</summary>
    public static SlurmSettings Parse(string with)
    {
        var settings = new SlurmSettings(true);
        if (with == "slurm")
        {
            return settings;
        }
        foreach (var pair in with["slurm:".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var (key, value) = equals < 0 ? (pair, string.Empty) : (pair[..equals].Trim(), pair[(equals + 1)..].Trim());
            if (value.Length == 0)
            {
                throw new FlowException($"--with {InputChecks.Shorten(with)}: '{InputChecks.Shorten(pair)}' needs a value, as in --with slurm:partition=gpu,time=2:00:00.");
            }
            settings = key switch
            {
                "partition" => settings with { Partition = value },
                "time" => SlurmTime.IsValid(value) ? settings with { Time = value } : throw new FlowException($"--with slurm:time={InputChecks.Shorten(value)} is not a Slurm time: write minutes (30), H:MM:SS (2:00:00) or D-HH (1-12)."),
                "account" => settings with { Account = value },
                "shared" => settings with { SharedRoots = [.. value.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(p => Path.TrimEndingDirectorySeparator(Path.GetFullPath(p)))] },
                "dotnet" => settings with { Dotnet = value },
                _ => throw new FlowException($"--with slurm: unknown setting '{InputChecks.Shorten(key)}'; the settings are partition, time, account, shared and dotnet (docs/slurm.md)."),
            };
        }
        return settings;
    }

    /// <summary>Whether a step's tasks run on the cluster: <c>[Slurm]</c> on it or its flow, or <c>--with slurm</c>, and not <c>[Local]</c>.</summary>
    public bool Runs(GraphStep? step) => step is not null && !step.Local && (AllSteps || step.Slurm is not null);
}

/// <summary>Slurm time limits as <c>sbatch --time</c> takes them.</summary>
internal static class SlurmTime
{
    public static bool IsValid(string time) =>
        System.Text.RegularExpressions.Regex.IsMatch(time, @"^(\d+-)?\d+(:\d+){0,2}$|^UNLIMITED$|^INFINITE$");
}

/// <summary>The Slurm commands the launcher runs (<c>sbatch</c>, <c>squeue</c>, <c>scancel</c>, <c>scontrol</c>), each with a deadline.</summary>
internal static class SlurmCommands
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(60);

    /// <summary>Whether <paramref name="command"/> is an executable on PATH.</summary>
    public static bool OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, command)));

    /// <summary>Runs a command; its exit code, stdout and stderr (a command that cannot start or hangs reads as exit 127/124).</summary>
    public static (int ExitCode, string Out, string Error) Run(string command, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (127, string.Empty, $"{command} could not start: {e.Message}");
        }
        using (process)
        {
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(s_deadline))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
                return (124, string.Empty, $"{command} did not answer within {s_deadline.TotalSeconds:0} s");
            }
            return (process.ExitCode, output.Result, error.Result);
        }
    }

    /// <summary>The first non-empty line of a command's complaint, for a one-line error.</summary>
    public static string FirstLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) is { } line ? (line.Length > 300 ? line[..300] + "…" : line) : "no message";

    /// <summary>Quotes a value for a POSIX shell.</summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

/// <summary>
/// Whether the cluster's nodes can read a path: under a declared shared root (<c>--with slurm:shared=</c>), else on a
/// network file system, else only when every node of the cluster is this machine (a single-node cluster).
/// </summary>
internal static class SlurmReach
{
    private static readonly HashSet<string> s_networkFileSystems = new(StringComparer.Ordinal)
    {
        "nfs", "nfs4", "lustre", "gpfs", "beegfs", "cephfs", "ceph", "cifs", "smb3", "smbfs", "glusterfs", "fuse.glusterfs",
        "pvfs2", "orangefs", "panfs", "wekafs", "fuse.sshfs", "afs", "ocfs2", "gfs2", "fuse.juicefs", "fuse.s3fs",
    };

    /// <summary>Refuses (one line) when a path the jobs need is where the nodes cannot read it.</summary>
    public static void Check(SlurmSettings settings, string what, string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (settings.SharedRoots is { Count: > 0 } roots)
        {
            if (roots.Any(root => full == root || full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)))
            {
                return;
            }
            throw new FlowException($"--with slurm: {what} {full} is outside the shared folders declared with shared={string.Join(':', roots)}, so the cluster's nodes cannot read it; move it under one of them or declare its folder (docs/slurm.md).", ExitCodes.Usage);
        }
        var fileSystem = FileSystemType(full);
        if (fileSystem is not null && s_networkFileSystems.Contains(fileSystem))
        {
            return;
        }
        if (AllNodesAreThisMachine())
        {
            return;
        }
        throw new FlowException($"--with slurm: {what} {full} is on this machine's own disk ({fileSystem ?? "unknown file system"}), which the cluster's nodes cannot read; put the project or FLOW_DATASTORE on a shared file system, or declare a folder every node mounts at the same path with --with slurm:shared=/path (docs/slurm.md).", ExitCodes.Usage);
    }

    /// <summary>The type of the file system that holds <paramref name="path"/>, from <c>/proc/self/mountinfo</c> (Linux).</summary>
    internal static string? FileSystemType(string path)
    {
        try
        {
            string? best = null;
            var bestLength = -1;
            foreach (var line in File.ReadLines("/proc/self/mountinfo"))
            {
                // "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw": the mount point is field 5, the type follows " - ".
                var fields = line.Split(' ');
                var dash = Array.IndexOf(fields, "-");
                if (fields.Length < 5 || dash < 0 || dash + 1 >= fields.Length)
                {
                    continue;
                }
                var mount = fields[4].Replace("\\040", " ", StringComparison.Ordinal);
                var under = mount == "/" || path == mount || path.StartsWith(mount + "/", StringComparison.Ordinal);
                if (under && mount.Length >= bestLength)
                {
                    best = fields[dash + 1];
                    bestLength = mount.Length;
                }
            }
            return best;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Whether every node <c>scontrol show nodes</c> lists is this machine (its address or host name).</summary>
    private static bool AllNodesAreThisMachine()
    {
        var (code, output, _) = SlurmCommands.Run("scontrol", ["show", "nodes", "-o"]);
        if (code != 0)
        {
            return false;
        }
        var host = Environment.MachineName;
        var local = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "127.0.0.1", "::1", "localhost", host, host.Split('.')[0] };
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length > 0 && lines.All(line =>
        {
            string? Field(string name) => line.Split(' ').FirstOrDefault(f => f.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..];
            return (Field("NodeAddr") is { } address && local.Contains(address)) || (Field("NodeHostName") is { } name && local.Contains(name));
        });
    }
}

/// <summary>
/// The shell script of a batch of one step's tasks (a job, or a job array's elements): each element claims tasks of
/// the batch one at a time (a claim file created exclusively, naming the element) and runs the <c>step</c> command
/// for each as a process of its own, until none is left or it has run for <see cref="DrainSeconds"/> (then it leaves
/// its slot to the queue; tasks left unclaimed are submitted again). So a foreach of short tasks does not wait on
/// the controller's scheduling pass per task, and a long task is still one task per job.
/// </summary>
internal static class SlurmScript
{
    /// <summary>An element claims no new task after this many seconds.</summary>
    public const int DrainSeconds = 60;

    /// <summary>
    /// A script that runs the lines of <paramref name="tasksFile"/> (each the <c>step</c> command's arguments) as the
    /// element <c>$SLURM_ARRAY_TASK_ID</c> of <paramref name="elements"/>: claims in <paramref name="claimsDir"/>,
    /// each task's exit code in <c>exitPrefix.LINE.exit</c>, SIGTERM passed on to the running task (and no task
    /// claimed after it).
    /// </summary>
    public static string Write(string dotnet, string assembly, string tasksFile, string claimsDir, string exitPrefix, int tasks, int elements, IReadOnlyDictionary<string, string>? environment)
    {
        var script = new StringBuilder();
        script.Append("#!/bin/bash\n");
        script.Append("# Written by dotnet flow: the tasks of one step, claimed one at a time by each job (array element); docs/slurm.md.\n");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            script.Append("export ").Append(name).Append('=').Append(SlurmCommands.Quote(value)).Append('\n');
        }
        script.Append("tasks=").Append(SlurmCommands.Quote(tasksFile)).Append('\n');
        script.Append("claims=").Append(SlurmCommands.Quote(claimsDir)).Append('\n');
        script.Append("exits=").Append(SlurmCommands.Quote(exitPrefix)).Append('\n');
        script.Append(string.Create(CultureInfo.InvariantCulture, $"n={tasks}\nm={elements}\ndrain={DrainSeconds}\n"));
        script.Append("""
            i="${SLURM_ARRAY_TASK_ID:-0}"
            if [ -n "${SLURM_ARRAY_JOB_ID:-}" ]; then me="${SLURM_ARRAY_JOB_ID}_$i"; else me="${SLURM_JOB_ID:-0}"; fi
            stop=0
            child=
            trap 'stop=1; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null' TERM INT HUP
            ran=0
            first=$(( i * ((n + m - 1) / m) ))
            for ((k = 0; k < n; k++)); do
              [ "$stop" = 1 ] && break
              if [ "$ran" -gt 0 ] && [ "$SECONDS" -ge "$drain" ]; then break; fi
              l=$(( (first + k) % n ))
              ( set -o noclobber; printf '%s\n' "$me" > "$claims/$l" ) 2>/dev/null || continue
              line=$(sed -n "$((l + 1))p" "$tasks")
              eval "set -- $line"

            """);
        script.Append("  ").Append(SlurmCommands.Quote(dotnet)).Append(" exec ").Append(SlurmCommands.Quote(assembly)).Append(" step \"$@\" &\n");
        script.Append("""
              child=$!
              wait "$child"; code=$?
              while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done
              child=
              printf '%s\n' "$code" > "$exits.$l.exit"
              ran=$((ran + 1))
            done

            """);
        return script.ToString();
    }
}
