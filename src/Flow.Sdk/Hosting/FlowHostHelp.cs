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
        text.AppendLine("  --with slurm[:partition=P,time=T,account=A,shared=DIR]  run every step but [Local] ones as Slurm jobs");
        text.AppendLine("  --quiet               only a summary per step and failures (on a terminal the summary is live)");
        text.AppendLine("  --verbose-tasks       a line for every task's start and end on a terminal too (as in CI logs)");
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
            var isSwitch = UserType(p.Type) is "bool" or "bool?";
            var state = p.Required ? "required" : p.Default is null ? (isSwitch ? "default false" : "optional") : "default " + p.Default;
            var kind = p.IsFile ? $"FILE (its content is stored: {UserType(p.Type)}{(p.Encoding is null ? "" : ", " + p.Encoding)})"
                : TypeText(p);
            text.Append("  --").Append(p.Option).Append(' ').Append(kind).Append("  (").Append(state).Append("; env ").Append(p.EnvironmentVariable).Append(')');
            if (!string.IsNullOrWhiteSpace(p.Help))
            {
                text.Append("  ").Append(p.Help);
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>
    /// A parameter's type as a user types its value: <c>int list, items separated by ','</c> for a
    /// <c>List&lt;int&gt;</c>, <c>switch</c> for a bool, names without their namespaces.
    /// </summary>
    public static string TypeText(GraphParameter p)
    {
        var type = UserType(p.Type);
        var bare = type.TrimEnd('?');
        if (p.Separator is not null)
        {
            return $"{ElementType(bare)} list (items separated by '{p.Separator}', or a JSON array)";
        }
        if (p.Values is { Count: > 0 } values)
        {
            return $"{bare} ({string.Join('|', values)})";
        }
        if (IsList(bare))
        {
            return $"{ElementType(bare)} list (a JSON array)";
        }
        return bare switch
        {
            "bool" => $"switch (--{p.Option} alone is true; or --{p.Option} true|false)",
            "DateTime" or "DateTimeOffset" => $"{bare} (ISO 8601, such as 2026-01-31T12:00:00Z)",
            "DateOnly" => "DateOnly (such as 2026-01-31)",
            "TimeSpan" => "TimeSpan (such as 00:30:00)",
            "string" or "char" or "int" or "long" or "short" or "byte" or "sbyte" or "uint" or "ulong" or "ushort" or "float" or "double" or "decimal" or "Guid" => bare,
            _ => $"{bare} (as JSON)",
        };
    }

    private static bool IsList(string type) =>
        type.EndsWith("[]", StringComparison.Ordinal)
        || System.Text.RegularExpressions.Regex.IsMatch(type, @"^(List|IList|IReadOnlyList|IEnumerable|ICollection|IReadOnlyCollection|HashSet|ISet|IReadOnlySet|ImmutableArray|ImmutableList)<[^,<>]+>$");

    /// <summary>A C# display type without namespaces: <c>System.Collections.Generic.List&lt;int&gt;</c> is <c>List&lt;int&gt;</c>.</summary>
    internal static string UserType(string type) =>
        System.Text.RegularExpressions.Regex.Replace(type.Replace("global::", "", StringComparison.Ordinal), @"\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])", "");

    private static string ElementType(string collection)
    {
        if (collection.EndsWith("[]", StringComparison.Ordinal))
        {
            return collection[..^2];
        }
        var open = collection.IndexOf('<');
        return open > 0 && collection.EndsWith('>') ? collection[(open + 1)..^1] : collection;
    }
}
