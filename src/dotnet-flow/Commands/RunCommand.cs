using System.Diagnostics;
using System.IO.Abstractions;
using System.Runtime.InteropServices;
using Flow.Cli.Projects;
using Flow.Sdk;
using Flow.Sdk.Hosting;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary>
/// <c>dotnet flow run</c>: builds the project when its inputs changed, then hands the run to the project's own
/// executable (which matches the project's SDK version) with the console attached.
/// </summary>
[Command("run", Description = "Build the project if needed and run a flow. Options after the known ones go to the flow: --flow, --tag, --run-id-file, --max-workers, --max-num-splits, --max-log-size, --<parameter> VALUE.", ThrowOnUnexpectedArgument = false)]
internal sealed class RunCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : HandOffCommand(console, fs, cwd)
{
    protected override string Verb => "run";
}

/// <summary>
/// <c>dotnet flow resume [STEP]</c>: builds the current code when needed, then hands the resume to the project's
/// executable, which clones what succeeded in the origin run and runs the rest again.
/// </summary>
[Command("resume", Description = "Build if needed and resume a flow's newest (or --origin-run-id) run: clone what succeeded, run the failed step (or STEP) and everything after it again. --plan shows what would happen.", ThrowOnUnexpectedArgument = false)]
internal sealed class ResumeCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : HandOffCommand(console, fs, cwd)
{
    protected override string Verb => "resume";
}

/// <summary>Builds when needed, then runs a command of the project's own executable with the console attached.</summary>
internal abstract class HandOffCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : ProjectCommand(console, fs, cwd)
{
    protected abstract string Verb { get; }

    /// <summary>
    /// <c>run</c> and <c>resume</c> without McMaster: they read every argument themselves (<see cref="FlowArguments"/>;
    /// the rest is the flow's), so the parser's start-up (~30 ms of reflection) is skipped on the everyday path.
    /// </summary>
    internal static HandOffCommand? Direct(string[] args, IConsole console, IFileSystem fs, string workingDirectory)
    {
        HandOffCommand? command = args.Length == 0 ? null : args[0] switch
        {
            "run" => new RunCommand(console, fs, new WorkingDirectory(workingDirectory)),
            "resume" => new ResumeCommand(console, fs, new WorkingDirectory(workingDirectory)),
            _ => null,
        };
        if (command is not null)
        {
            command.RemainingArguments = args[1..];
        }
        return command;
    }

    [Option("--build", Description = "Build even when nothing seems to have changed.")]
    public bool ForceBuild { get; set; }

    [Option("-c|--configuration <NAME>", Description = "The build configuration (default Debug).")]
    public string Configuration { get; set; } = "Debug";

    /// <summary>
    /// Takes the tool's own options out of the arguments McMaster left over: it stops parsing at the first option
    /// it does not know (a flow parameter), so <c>run --name Ada --build</c> would otherwise lose <c>--build</c>.
    /// </summary>
    private List<string> FlowArguments()
    {
        var rest = new List<string>();
        for (var i = 0; i < RemainingArguments.Length; i++)
        {
            var arg = RemainingArguments[i];
            var (name, inline) = arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('=', StringComparison.Ordinal)
                ? (arg[..arg.IndexOf('=', StringComparison.Ordinal)], arg[(arg.IndexOf('=', StringComparison.Ordinal) + 1)..])
                : (arg, null);
            string Value() => inline ?? (i + 1 < RemainingArguments.Length ? RemainingArguments[++i] : throw new FlowException($"Option {name} needs a value."));
            switch (name)
            {
                case "--project": Project = Value(); break;
                case "--datastore": Datastore = Value(); break;
                case "-c" or "--configuration": Configuration = Value(); break;
                case "--build": ForceBuild = true; break;
                case "--verbose": Verbose = true; break;
                default: rest.Add(arg); break;
            }
        }
        return rest;
    }

    public int OnExecute()
    {
        var flowArguments = FlowArguments();
        // The tool's own options are checked here; the flow's (--flow, --datastore's use, --run-id-file, limits,
        // parameters) by the flow's executable, before it writes anything.
        CheckPathOptions();
        CheckConfiguration(Configuration);
        var wantsHelp = Verb == "run" && (flowArguments.Contains("--help") || flowArguments.Contains("-h"));
        string project;
        try
        {
            project = ProjectPath;
        }
        catch (FlowException) when (wantsHelp)
        {
            // Outside a project there are no parameters to list: the options alone.
            Console.Out.Write(FlowHostHelp.RunHelp(null));
            return ExitCodes.Success;
        }
        var builder = new ProjectBuilder(FileSystem, Console);
        var record = builder.Ensure(project, Configuration, ForceBuild, Verbose);
        if (wantsHelp)
        {
            var flow = ChooseFlow(record.Graphs(), FlowHostHelp.FlowOption(flowArguments));
            Console.Out.Write(FlowHostHelp.RunHelp(flow));
            return ExitCodes.Success;
        }

        // The user's arguments first: resume's STEP is its first argument.
        var datastore = DatastoreRoot(project);
        string[] arguments = [Verb, .. flowArguments, "--datastore", datastore, .. Verbose ? ["--verbose"] : Array.Empty<string>()];
        var refusal = InProcessRun.Refusal(record);
        Trace.Mark(refusal is null ? "handing off (in this process)" : $"handing off ({refusal})");
        if (refusal is null && string.Equals(Path.GetFullPath(WorkingDirectory), Environment.CurrentDirectory, StringComparison.Ordinal))
        {
            // The flow's executable, hosted here: its signals are its own (it registers them), its exit code ours. Its
            // first worker starts now, before the flow's code is even loaded; the run takes it (or it ends below).
            if (!flowArguments.Contains("--with") && !flowArguments.Contains("--plan"))
            {
                Flow.Sdk.Runtime.EarlyWorker.Offer(FileSystem, datastore, record.SnapshotDirectory);
            }
            try
            {
                return InProcessRun.Run(record.AssemblyPath, arguments);
            }
            finally
            {
                Flow.Sdk.Runtime.EarlyWorker.Withdraw();
            }
        }
        var start = new ProcessStartInfo(Flow.Sdk.DotnetHost.Path) { UseShellExecute = false, WorkingDirectory = WorkingDirectory };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(record.AssemblyPath);
        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new FlowException("Could not start the flow's executable.", ExitCodes.Failure);
        // Ctrl-C reaches the flow's process from the terminal too: it stops the run cleanly and its exit code is
        // ours. SIGTERM and SIGHUP sent to this process alone are passed on, so the run stops the same way.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Forward(c, process));
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => Forward(c, process));
        process.WaitForExit();
        return process.ExitCode;
    }

    private static void Forward(PosixSignalContext context, Process process)
    {
        context.Cancel = true;
        try
        {
            ProcessSignals.Send(process.Id, ProcessSignals.Number(context.Signal));
        }
        catch (InvalidOperationException)
        {
            // Ended already.
        }
    }
}
