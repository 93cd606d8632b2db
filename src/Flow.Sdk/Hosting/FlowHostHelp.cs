using System.Text;
using Flow.Sdk.Graph;

namespace Flow.Sdk.Hosting;

/// <summary>The help text of <c>run</c>, shared by the flow executable and the tool (which prints it without a process).</summary>
internal static class FlowHostHelp
{
    public static string? FlowOption(IReadOnlyList<string> args) => CommandLine.PeekValue([.. args], "flow");

    public static string RunHelp(FlowGraph? graph)
    {
        var text = new StringBuilder();
        text.AppendLine("Usage: dotnet flow run [options] [--<parameter> VALUE]...");
        text.AppendLine();
        if (graph is not null)
        {
            text.Append("Runs ").Append(graph.Name);
            text.AppendLine(string.IsNullOrWhiteSpace(graph.Description) ? "." : ": " + graph.Description);
            text.AppendLine();
        }
        text.AppendLine("Options:");
        text.AppendLine("  --flow NAME           the flow to run, when the project has several");
        text.AppendLine("  --tag TAG             a tag for the run (repeatable)");
        text.AppendLine("  --run-id-file FILE    write the run id to FILE before any task starts");
        text.AppendLine("  --max-workers N       run at most N tasks at once (default 16)");
        text.AppendLine("  --max-num-splits N    refuse a foreach wider than N (default 100)");
        text.AppendLine("  --max-log-size MB     store at most MB of each task's stdout and of its stderr (default 10)");
        text.AppendLine("  --with retry[:times=N]  retry every step without [Retry] (default 3 more attempts)");
        text.AppendLine("  --datastore DIR       the .flow directory to use");
        text.AppendLine("  --project PATH        the flow project (dotnet flow only)");
        text.AppendLine("  --build               build even when nothing changed (dotnet flow only)");
        text.AppendLine("  --verbose             show internal stack traces of errors");
        text.AppendLine();
        if (graph is null)
        {
            text.AppendLine("Parameters: run inside a flow project (or pass --project) to list its flow's parameters.");
            return text.ToString();
        }
        if (graph.Parameters.Count == 0)
        {
            text.AppendLine("Parameters: none");
            return text.ToString();
        }
        text.AppendLine("Parameters:");
        foreach (var p in graph.Parameters)
        {
            var state = p.Required ? "required" : p.Default is null ? "optional" : "default " + p.Default;
            var kind = p.IsFile ? $"FILE (its content is stored: {p.Type}{(p.Encoding is null ? "" : ", " + p.Encoding)})"
                : p.Separator is not null ? $"{p.Type} (items separated by '{p.Separator}', or a JSON array)"
                : p.Type;
            text.Append("  --").Append(p.Option).Append(' ').Append(kind).Append("  (").Append(state).Append("; env ").Append(p.EnvironmentVariable).Append(')');
            if (!string.IsNullOrWhiteSpace(p.Help))
            {
                text.Append("  ").Append(p.Help);
            }
            text.AppendLine();
        }
        return text.ToString();
    }
}
