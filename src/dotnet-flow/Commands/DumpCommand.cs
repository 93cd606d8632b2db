using System.IO.Abstractions;
using System.Text;
using System.Text.Json;
using Flow.Sdk;
using Flow.Sdk.Hosting;
using McMaster.Extensions.CommandLineUtils;

namespace Flow.Cli.Commands;

/// <summary><c>dotnet flow dump</c>: the artifacts of a step's tasks, as text or JSON, read without the flow's assembly.</summary>
[Command("dump", Description = "Print the artifacts of <run>/<step>[/<task>] (Flow/ may lead; 'latest' names the newest run).", ThrowOnUnexpectedArgument = false)]
[HelpOption("-h|--help")]
internal sealed class DumpCommand(IConsole console, IFileSystem fs, WorkingDirectory cwd) : PathspecCommand(console, fs, cwd)
{
    [Option("--include <NAMES>", Description = "Only these artifacts, comma-separated.")]
    public string? Include { get; set; }

    [Option("--max-value-size <BYTES>", Description = "Values larger than this (serialized) are not loaded (default 1048576).")]
    public string? MaxValueSizeOption { get; set; }

    private long MaxValueSize { get; set; } = 1_048_576;

    [Option("--json", Description = "Print one JSON object keyed by task pathspec.")]
    public bool Json { get; set; }

    public int OnExecute()
    {
        CheckUsage("dump", Flow);
        if (string.IsNullOrWhiteSpace(Pathspec))
        {
            throw new FlowException("dump needs a pathspec: dotnet flow dump <run>/<step>[/<task>], for example 'dotnet flow dump latest/Start'.");
        }
        if (MaxValueSizeOption is not null)
        {
            MaxValueSize = InputChecks.Whole("--max-value-size", MaxValueSizeOption, 0, long.MaxValue, "--max-value-size 1048576");
        }
        if (Include is not null && Include.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Length == 0)
        {
            throw new FlowException($"--include '{InputChecks.Shorten(Include)}' names no artifact: give artifact names separated by commas, such as --include Message,Count (or leave it out for all).");
        }
        CheckPathspecSyntax();
        var projectPath = TryProject();
        Trace.Mark("project located");
        var store = Open(DatastoreRoot(projectPath));
        var step = ResolveStep(store, projectPath, out var taskId);
        Trace.Mark("pathspec resolved");
        var tasks = taskId is null ? [.. step.Tasks] : new List<TaskInfo> { step[taskId] };
        Trace.Mark("tasks found");
        var include = Include?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        if (include is not null && tasks.Count > 0)
        {
            var missing = include.Where(name => tasks.All(t => t.Artifacts.All(a => a.Name != name))).ToList();
            if (missing.Count > 0)
            {
                throw new FlowException($"No artifact {string.Join(", ", missing)} in {step.Pathspec}; its artifacts are {string.Join(", ", tasks[0].Artifacts.Select(a => a.Name))}.");
            }
        }

        if (Json)
        {
            WriteJson(tasks, include);
        }
        else
        {
            WriteText(tasks, include);
        }
        Trace.Mark("printed");
        return ExitCodes.Success;
    }

    private bool TooLarge(ArtifactInfo artifact) => artifact.Size > MaxValueSize;

    private void WriteText(List<TaskInfo> tasks, HashSet<string>? include)
    {
        var text = new StringBuilder();
        foreach (var task in tasks)
        {
            text.Append(task.Pathspec).Append(" (attempt ").Append(task.Attempt).Append(", ").Append(task.Status);
            if (task.ForeachIndices.Count > 0)
            {
                text.Append(", index ").Append(string.Join(".", task.ForeachIndices));
            }
            if (task.Iteration > 0)
            {
                text.Append(", pass ").Append(task.Iteration);
            }
            text.AppendLine(")");
            foreach (var artifact in task.Artifacts.Where(a => include is null || include.Contains(a.Name)))
            {
                text.Append("  ").Append(artifact.Name).Append(" [").Append(artifact.Type).Append(", ").Append(artifact.Size).Append(" bytes] = ");
                text.AppendLine(TooLarge(artifact) ? $"<not loaded: larger than --max-value-size {MaxValueSize}>" : artifact.ToJson());
            }
            if (task.Error is { } error)
            {
                text.Append("  error: ").AppendLine(error);
            }
        }
        Console.Out.Write(text.ToString());
    }

    private void WriteJson(List<TaskInfo> tasks, HashSet<string>? include)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            foreach (var task in tasks)
            {
                json.WriteStartObject(task.Pathspec);
                foreach (var artifact in task.Artifacts.Where(a => include is null || include.Contains(a.Name)))
                {
                    json.WritePropertyName(artifact.Name);
                    if (TooLarge(artifact))
                    {
                        json.WriteStartObject();
                        json.WriteBoolean("$truncated", true);
                        json.WriteNumber("size", artifact.Size);
                        json.WriteString("type", artifact.Type);
                        json.WriteEndObject();
                    }
                    else
                    {
                        artifact.WriteJson(json);
                    }
                }
                json.WriteStartArray("$index");
                foreach (var index in task.ForeachIndices)
                {
                    json.WriteNumberValue(index);
                }
                json.WriteEndArray();
                json.WriteNumber("$attempt", task.Attempt);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        Console.Out.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
