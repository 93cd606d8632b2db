using System.Globalization;
using System.IO.Abstractions;
using System.Text;
using Flow.Sdk;
using Flow.Sdk.Datastore;
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
    public int? Attempt { get; set; }

    [Option("--timestamps", Description = "Prefix each line with the UTC time it was printed.")]
    public bool Timestamps { get; set; }

    [Option("--follow", Description = "Keep printing a running task's output until the task ends.")]
    public bool Follow { get; set; }

    public int OnExecute()
    {
        RejectUnexpected("logs");
        if (string.IsNullOrWhiteSpace(Pathspec))
        {
            throw new FlowException("logs needs a pathspec: dotnet flow logs <run>/<step>[/<task>], for example 'dotnet flow logs latest/Train'.");
        }
        if (StdoutOnly && StderrOnly)
        {
            throw new FlowException("--stdout and --stderr together show everything; give one of them, or neither.");
        }
        if (Attempt < 0)
        {
            throw new FlowException("--attempt must be 0 or more.");
        }
        CheckPathspecSyntax();
        var projectPath = TryProject();
        var store = FlowDatastore.Open(FileSystem, DatastoreRoot(projectPath), create: false);
        var (flowName, runId, stepName, taskId) = ParsePathspec(store, projectPath);
        var step = FlowClient.GetFlow(store, flowName).GetRun(runId)[stepName];
        var tasks = taskId is null ? [.. step.Tasks] : new List<TaskInfo> { step[taskId] };
        if (Follow && tasks.Count != 1)
        {
            throw new FlowException($"--follow follows one task; {step.Pathspec} has {tasks.Count}: name one, such as {tasks.FirstOrDefault()?.Pathspec ?? step.Pathspec + "/1"}.");
        }
        foreach (var task in tasks)
        {
            var attempt = Attempt ?? task.Attempt;
            // The run's real id: the pathspec may say 'latest'.
            var run = task.Step.Run.Id;
            if (Attempt is { } wanted && !store.ListAttempts(flowName, run, task.Step.Name, task.Id).Contains(wanted))
            {
                throw new FlowException($"Task {task.Pathspec} has no attempt {wanted}; its latest is {task.Attempt}.");
            }
            if (tasks.Count > 1)
            {
                Console.Out.WriteLine($"== {task.Pathspec} (attempt {attempt}, {task.Status}) ==");
            }
            var dir = store.AttemptDir(flowName, run, task.Step.Name, task.Id, attempt);
            if (store.ReadAttemptDone(dir)?.ClonedFrom is { } origin && origin.Split('/') is [var originRun, var originStep, var originTask])
            {
                // A cloned task printed nothing in this run: its output is the origin task's.
                var originAttempts = store.ListAttempts(flowName, originRun, originStep, originTask);
                dir = store.AttemptDir(flowName, originRun, originStep, originTask, originAttempts.Count == 0 ? 0 : originAttempts[^1]);
                Console.Error.WriteLine($"(cloned from {flowName}/{origin}; its output:)");
            }
            Print(dir, follow: Follow);
        }
        return ExitCodes.Success;
    }

    /// <summary>Prints both logs merged by timestamp; following, polls for new lines until done.json appears.</summary>
    private void Print(string attemptDir, bool follow)
    {
        var readers = new List<LogReader>();
        if (!StderrOnly)
        {
            readers.Add(new LogReader(FileSystem, FileSystem.Path.Combine(attemptDir, "stdout.log")));
        }
        if (!StdoutOnly)
        {
            readers.Add(new LogReader(FileSystem, FileSystem.Path.Combine(attemptDir, "stderr.log")));
        }
        var done = FileSystem.Path.Combine(attemptDir, "done.json");
        while (true)
        {
            var finished = FileSystem.File.Exists(done);
            var lines = readers.SelectMany(r => r.ReadNew()).OrderBy(l => l.Time, StringComparer.Ordinal).ToList();
            var text = new StringBuilder();
            foreach (var (time, line) in lines)
            {
                text.Append(Timestamps && time.Length > 0 ? time + " " : string.Empty).AppendLine(line);
            }
            Console.Out.Write(text.ToString());
            if (!follow || finished)
            {
                return;
            }
            var heartbeat = FileSystem.FileInfo.New(FileSystem.Path.Combine(attemptDir, "heartbeat"));
            if (heartbeat.Exists && DateTime.UtcNow - heartbeat.LastWriteTimeUtc > TimeSpan.FromSeconds(30))
            {
                Console.Error.WriteLine("(the task's process stopped without finishing it; no more output will come)");
                return;
            }
            Thread.Sleep(s_poll);
        }
    }

    /// <summary>Reads a log file's complete lines from where it stopped last time.</summary>
    private sealed class LogReader(IFileSystem fs, string path)
    {
        private long _offset;
        private string _partial = string.Empty;

        public List<(string Time, string Line)> ReadNew()
        {
            var result = new List<(string, string)>();
            if (!fs.File.Exists(path))
            {
                return result;
            }
            using var stream = fs.FileStream.New(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(_offset, SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = _partial + reader.ReadToEnd();
            _offset = stream.Length;
            var lines = text.Split('\n');
            _partial = lines[^1];
            foreach (var line in lines[..^1])
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                result.Add(space > 0 && DateTime.TryParse(line[..space], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _)
                    ? (line[..space], line[(space + 1)..])
                    : (string.Empty, line));
            }
            return result;
        }
    }
}
