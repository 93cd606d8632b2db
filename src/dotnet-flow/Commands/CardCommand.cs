using System.IO.Abstractions;
using System.Text;
using Flow.Cli.Ui;
using Flow.Sdk;
using Flow.Sdk.Hosting;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary><c>dotnet flow card get &lt;run&gt;/&lt;step&gt;[/&lt;task&gt;] [--file F]</c>: a task's card as one self-contained HTML file.</summary>
[Command("card", Description = "Write a task's card as one self-contained HTML file: card get <run>/<step>[/<task>] [--file F] (to standard output without --file).", ThrowOnUnexpectedArgument = false)]
[HelpOption("-h|--help")]
internal sealed class CardCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : PathspecCommand(console, fs, cwd)
{
    [Argument(1, "task", Description = "[Flow/]run/step[/task], after 'get'.")]
    public string? Target { get; set; }

    [Option("--file <FILE>", Description = "Write the card to FILE (replaced if it exists) instead of standard output.")]
    public string? File { get; set; }

    public int OnExecute()
    {
        CheckUsage("card", Flow);
        // The first argument is the action (the base class reads it as the pathspec): 'get' is the one there is.
        if (Pathspec != "get" || string.IsNullOrWhiteSpace(Target))
        {
            throw new FlowException(Pathspec is null or "get"
                ? "card get needs a pathspec: dotnet flow card get <run>/<step>[/<task>] [--file F], for example 'dotnet flow card get latest/Train --file train.html'."
                : $"Unknown card action '{InputChecks.Shorten(Pathspec)}': use get (for example: dotnet flow card get latest/Train --file train.html).");
        }
        InputChecks.Path("--file", File, "a file to write the card to", WorkingDirectory);
        Pathspec = Target;
        CheckPathspecSyntax();
        var projectPath = TryProject();
        var store = Open(DatastoreRoot(projectPath));
        var step = ResolveStep(store, projectPath, out var taskId);
        TaskInfo task;
        if (taskId is not null)
        {
            task = step[taskId];
        }
        else
        {
            var tasks = step.Tasks.ToList();
            task = tasks.Count switch
            {
                0 => throw new FlowException($"Step {step.Pathspec} has no task yet, so no card."),
                1 => tasks[0],
                _ => throw new FlowException($"Step {step.Pathspec} has {tasks.Count} tasks, each with its own card: name one, such as {tasks.FirstOrDefault(t => t.Card is not null)?.Pathspec ?? tasks[0].Pathspec}."),
            };
        }
        var card = task.Card ?? throw new FlowException($"Task {task.Pathspec} has no card: give step {step.Name} [Card], or add components to Current.Card in it.");
        var page = CardPage.SelfContained(card);
        if (File is null)
        {
            Console.Out.Write(page);
            return ExitCodes.Success;
        }
        var path = FileSystem.Path.GetFullPath(File, WorkingDirectory);
        if (FileSystem.Directory.Exists(path))
        {
            throw new FlowException($"--file {File} is a folder: name a file, such as {FileSystem.Path.Combine(File, task.Step.Name + ".html")}.");
        }
        try
        {
            FileSystem.File.WriteAllText(path, page, new UTF8Encoding(false));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FlowException($"The card cannot be written to {File}: {e.Message}");
        }
        Console.Error.WriteLine($"Wrote the card of {task.Pathspec}{(card.IsFinal ? "" : " (its task is still running)")} to {File}.");
        return ExitCodes.Success;
    }
}
