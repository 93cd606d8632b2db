using System.IO.Abstractions;
using System.Text;
using Flow.Sdk;
using Flow.Sdk.Hosting;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary>
/// <c>dotnet flow logs</c>: the stored output of a task (or of every task of a step, each under a header), both
/// streams in the order they were printed; <c>--follow</c> keeps printing a running task's lines until it ends.
/// </summary>
[Command("logs", Description = "Print the output of <run>/<step>[/<task>] (Flow/ may lead; 'latest' names the newest run).", ThrowOnUnexpectedArgument = false)]
[HelpOption("-h|--help")]
internal sealed class LogsCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : PathspecCommand(console, fs, cwd)
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(200);

    [Option("--stdout", Description = "Only standard output.")]
    public bool StdoutOnly { get; set; }

    [Option("--stderr", Description = "Only standard error.")]
    public bool StderrOnly { get; set; }

    [Option("--attempt <N>", Description = "The attempt to show (default: the latest).")]
    public string? AttemptOption { get; set; }

    [Option("--timestamps", Description = "Prefix each line with the UTC time it was printed.")]
    public bool Timestamps { get; set; }

    [Option("--follow", Description = "Keep printing a running task's output until the task ends.")]
    public bool Follow { get; set; }

    public int OnExecute()
    {
        CheckUsage("logs", Flow);
        if (string.IsNullOrWhiteSpace(Pathspec))
        {
            throw new FlowException("logs needs a pathspec: dotnet flow logs <run>/<step>[/<task>], for example 'dotnet flow logs latest/Train'.");
        }
        if (StdoutOnly && StderrOnly)
        {
            throw new FlowException("--stdout and --stderr together show everything; give one of them, or neither.");
        }
        int? attempt = AttemptOption is null ? null : (int)InputChecks.Whole("--attempt", AttemptOption, 0, int.MaxValue, "--attempt 0");
        CheckPathspecSyntax();
        var projectPath = TryProject();
        var store = Open(DatastoreRoot(projectPath));
        var step = ResolveStep(store, projectPath, out var taskId);
        var tasks = taskId is null ? [.. step.Tasks] : new List<TaskInfo> { step[taskId] };
        if (Follow && tasks.Count != 1)
        {
            throw new FlowException($"--follow follows one task; {step.Pathspec} has {tasks.Count}: name one, such as {tasks.FirstOrDefault()?.Pathspec ?? step.Pathspec + "/1"}.");
        }
        foreach (var task in tasks)
        {
            var output = task.Output(attempt, stdout: !StderrOnly, stderr: !StdoutOnly);
            if (tasks.Count > 1)
            {
                Console.Out.WriteLine($"== {task.Pathspec} (attempt {output.Attempt}, {task.Status}) ==");
            }
            if (task.ClonedFrom is { } origin && output.Attempt == task.Attempt)
            {
                // A cloned task printed nothing in this run: its output is the origin task's.
                Console.Error.WriteLine($"(cloned from {step.Run.Flow}/{origin}; its output:)");
            }
            Print(output, follow: Follow);
        }
        return ExitCodes.Success;
    }

    /// <summary>
    /// Prints the output; following, polls for new lines until the attempt is finalized, its task's process is gone,
    /// or its run has ended (a task that never started in a dead run never will).
    /// </summary>
    private void Print(TaskOutput output, bool follow)
    {
        while (true)
        {
            var complete = !follow || output.IsComplete;
            var text = new StringBuilder();
            foreach (var line in output.ReadNew(final: complete))
            {
                text.Append(Timestamps && line.Time is not null ? line.TimeText + " " : string.Empty).AppendLine(line.Text);
            }
            Console.Out.Write(text.ToString());
            if (complete)
            {
                return;
            }
            Thread.Sleep(s_poll);
        }
    }
}
