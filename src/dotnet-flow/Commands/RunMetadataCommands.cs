using System.IO.Abstractions;
using System.Text;
using Flow.Sdk;
using Flow.Sdk.Hosting;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary><c>dotnet flow tag add|remove|replace|list &lt;run&gt; [TAG]...</c>: a run's user tags, the one thing about a run that changes.</summary>
[Command("tag", Description = "Change or list a run's user tags: tag add RUN TAG..., tag remove RUN TAG..., tag replace RUN OLD NEW, tag list RUN. System tags (user:, runtime:, sdk_version:) are listed apart and cannot be changed.", ThrowOnUnexpectedArgument = false)]
[HelpOption("-h|--help")]
internal sealed class TagCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : ProjectCommand(console, fs, cwd)
{
    [Argument(0, "action", Description = "add, remove, replace or list.")]
    public string? Action { get; set; }

    [Argument(1, "run", Description = "[Flow/]run, such as latest or HelloFlow/1795764280315892.")]
    public string? Run { get; set; }

    [Argument(2, "tags", Description = "The tags (replace: the old tag, then the new one).")]
    public string[] Tags { get; set; } = [];

    [Option("--flow <NAME>", Description = "The flow, when the run does not name it.")]
    public string? Flow { get; set; }

    public int OnExecute()
    {
        CheckUsage("tag", Flow);
        if (Action is not ("add" or "remove" or "replace" or "list") || Run is null)
        {
            throw new FlowException(Action is null or "add" or "remove" or "replace" or "list"
                ? "Usage: dotnet flow tag add|remove|replace|list RUN [TAG]... (for example: dotnet flow tag add latest baseline)."
                : $"Unknown tag action '{InputChecks.Shorten(Action)}': use add, remove, replace or list (for example: dotnet flow tag add latest baseline).");
        }
        if (Action is "add" or "replace")
        {
            // The new tags are checked before the datastore is even opened: a bad tag is bad input wherever it goes.
            foreach (var tag in Action == "add" ? Tags : Tags.Skip(1))
            {
                TagRules.Check(tag);
            }
        }
        var store = OpenStore();
        var (flow, id) = StoreCommand.Resolve(store, Run, Flow);
        var run = FlowClient.GetFlow(store, flow).GetRun(id);
        void MustWrite()
        {
            if (!store.IsWritable())
            {
                throw new FlowException($"The datastore {store.Root} is read-only for this user: tag {Action} cannot change run {run.Pathspec} (nothing was changed); run it as a user who can write there.", ExitCodes.Failure);
            }
        }
        switch (Action)
        {
            case "add" when Tags.Length > 0:
                MustWrite();
                run.AddTags(Tags);
                break;
            case "remove" when Tags.Length > 0:
                var missing = Tags.FirstOrDefault(t => !run.Tags.Contains(t, StringComparer.Ordinal) && !run.SystemTags.Contains(t, StringComparer.Ordinal));
                if (missing is not null)
                {
                    throw new FlowException($"Run {run.Pathspec} has no tag '{InputChecks.Shorten(missing)}' (its tags: {Describe(run.Tags)}).");
                }
                MustWrite();
                run.RemoveTags(Tags);
                break;
            case "replace" when Tags.Length == 2:
                if (!run.Tags.Contains(Tags[0], StringComparer.Ordinal))
                {
                    throw new FlowException($"Run {run.Pathspec} has no tag '{InputChecks.Shorten(Tags[0])}' to replace (its tags: {Describe(run.Tags)}).");
                }
                MustWrite();
                run.ReplaceTags([Tags[0]], [Tags[1]]);
                break;
            case "list" when Tags.Length == 0:
                break;
            default:
                throw new FlowException(Action switch
                {
                    "replace" => "tag replace takes the run, the old tag and the new one: dotnet flow tag replace latest draft final.",
                    "list" => "tag list takes only the run: dotnet flow tag list latest.",
                    _ => $"tag {Action} takes the run and at least one tag: dotnet flow tag {Action} latest baseline.",
                });
        }
        var text = new StringBuilder();
        text.AppendLine($"Run {run.Pathspec}");
        text.AppendLine($"  tags:        {Describe(run.Tags)}");
        text.AppendLine($"  system tags: {Describe(run.SystemTags)}");
        Console.Out.Write(text.ToString());
        return ExitCodes.Success;
    }

    private static string Describe(IReadOnlyList<string> tags) => tags.Count == 0 ? "(none)" : string.Join(", ", tags);
}

/// <summary><c>dotnet flow code &lt;run&gt; [--extract DIR | --materialize]</c>: the sources a run executed, listed or restored; its build output materialized.</summary>
[Command("code", Description = "List the source files of the code snapshot a run executed, or restore them with --extract DIR (they build as they did).", ThrowOnUnexpectedArgument = false)]
[HelpOption("-h|--help")]
internal sealed class CodeCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : ProjectCommand(console, fs, cwd)
{
    [Argument(0, "run", Description = "[Flow/]run, such as latest or HelloFlow/1795764280315892.")]
    public string? Run { get; set; }

    [Option("--flow <NAME>", Description = "The flow, when the run does not name it.")]
    public string? Flow { get; set; }

    [Option("--extract <DIR>", Description = "Write the sources and project files into DIR (a new or empty folder; created if needed).")]
    public string? Extract { get; set; }

    [Option("--materialize", Description = "Write the run's build output to the datastore's code/ folder (once) and print the flow assembly to run the step command from, on a cluster node say.")]
    public bool MaterializeCode { get; set; }

    public int OnExecute()
    {
        CheckUsage("code", Flow);
        if (Run is null)
        {
            throw new FlowException("Usage: dotnet flow code RUN [--extract DIR | --materialize] (for example: dotnet flow code latest --extract restored).");
        }
        if (Extract is not null && string.IsNullOrWhiteSpace(Extract))
        {
            throw new FlowException("--extract needs a folder: dotnet flow code latest --extract restored.");
        }
        InputChecks.Path("--extract", Extract, "a new or empty folder", WorkingDirectory);
        var target = Extract is null ? null : FileSystem.Path.GetFullPath(Extract, WorkingDirectory);
        if (target is not null)
        {
            CheckExtractTarget(target);
        }
        if (MaterializeCode && Extract is not null)
        {
            throw new FlowException("--materialize and --extract do different things: give one of them.");
        }
        var store = OpenStore();
        var (flow, id) = StoreCommand.Resolve(store, Run, Flow);
        var run = FlowClient.GetFlow(store, flow).GetRun(id);
        var code = run.Code;
        if (MaterializeCode)
        {
            if (!store.IsWritable())
            {
                throw new FlowException($"The datastore {store.Root} is read-only for this user: --materialize writes its code/ folder; run it as a user who can write there.", ExitCodes.Failure);
            }
            Console.Out.WriteLine(code.Materialize());
            return ExitCodes.Success;
        }
        if (Extract is null)
        {
            var text = new StringBuilder();
            text.AppendLine($"Run {run.Pathspec} executed code snapshot {code.Hash}:");
            foreach (var file in code.Sources)
            {
                text.AppendLine("  " + file);
            }
            Console.Out.Write(text.ToString());
            return ExitCodes.Success;
        }
        int count;
        try
        {
            count = code.ExtractTo(target!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FlowException($"Cannot write into {target}: {e.Message.TrimEnd('.')}; choose a folder you can write to.");
        }
        Console.Out.WriteLine($"Wrote {count} file(s) of run {run.Pathspec} (snapshot {code.Hash[..12]}) to {target}.");
        return ExitCodes.Success;
    }

    /// <summary>
    /// The folder to extract into must be new or empty (extracting over existing files, the project itself say,
    /// would replace them without asking), and every folder above it that exists must be a folder.
    /// </summary>
    private void CheckExtractTarget(string target)
    {
        if (FileSystem.File.Exists(target))
        {
            throw new FlowException($"--extract {target} is a file; name a new or empty folder.");
        }
        if (FileSystem.Directory.Exists(target))
        {
            bool empty;
            try
            {
                empty = !FileSystem.Directory.EnumerateFileSystemEntries(target).Any();
            }
            catch (UnauthorizedAccessException)
            {
                throw new FlowException($"--extract {target}: this user may not read that folder; name a new or empty folder you can write to.");
            }
            if (!empty)
            {
                throw new FlowException($"--extract {target} is not empty; extract into a new or empty folder.");
            }
            return;
        }
        for (var up = FileSystem.Path.GetDirectoryName(target); up is not null; up = FileSystem.Path.GetDirectoryName(up))
        {
            if (FileSystem.File.Exists(up))
            {
                throw new FlowException($"--extract {target}: {up} is a file, not a folder; name a new or empty folder.");
            }
            if (FileSystem.Directory.Exists(up))
            {
                return;
            }
        }
    }
}
