using System.Text;

namespace Flow.Sdk.Graph;

/// <summary>Renders a <see cref="FlowGraph"/> as text for <c>dotnet flow show</c>.</summary>
public static class GraphPrinter
{
    /// <summary>Renders the graph as indented text: the flow's description, its parameters, then each step.</summary>
    /// <param name="graph">The graph.</param>
    /// <returns>The text, ending with a newline.</returns>
    public static string ToText(FlowGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var text = new StringBuilder();
        text.Append(graph.Name);
        if (!string.IsNullOrWhiteSpace(graph.Description))
        {
            text.Append(": ").Append(graph.Description);
        }
        text.AppendLine();
        if (graph.Parameters.Count > 0)
        {
            text.AppendLine().AppendLine("Parameters");
            foreach (var p in graph.Parameters)
            {
                text.Append("    --").Append(p.Option).Append(' ').Append(p.IsFile ? "FILE -> " + p.Type : p.Type);
                text.Append(p.Required ? " (required)" : p.Default is null ? string.Empty : " = " + p.Default);
                if (!string.IsNullOrWhiteSpace(p.Help))
                {
                    text.Append("  ").Append(p.Help);
                }
                text.AppendLine();
            }
        }
        var depths = graph.Depths();
        foreach (var step in graph.Ordered())
        {
            // Steps inside a split or foreach are indented one level per open split.
            var indent = new string(' ', 4 * (depths.TryGetValue(step.Name, out var depth) ? depth : 0));
            text.AppendLine().Append(indent).Append("Step ").Append(step.Name);
            var kinds = new List<string>();
            if (step.IsJoin)
            {
                kinds.Add("join");
            }
            if (step.Kind is "split" or "foreach")
            {
                kinds.Add(step.Kind);
            }
            else if (step.Kind == "switch")
            {
                kinds.Add("conditional");
            }
            if (kinds.Count > 0)
            {
                text.Append(" (").Append(string.Join(", ", kinds)).Append(')');
            }
            text.AppendLine();
            if (!string.IsNullOrWhiteSpace(step.Description))
            {
                text.Append(indent).Append("    ").AppendLine(step.Description);
            }
            if (step.Next.Count > 0)
            {
                text.Append(indent).Append("    => ").Append(Transition(step)).AppendLine();
            }
        }
        return text.ToString();
    }

    /// <summary>Where a step goes, in words: <c>A, B (meet in Join)</c>, <c>Tune for each of Seeds</c>, <c>A or B</c>.</summary>
    /// <param name="step">The step.</param>
    /// <returns>The text after the arrow.</returns>
    internal static string Transition(GraphStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var meet = step.MatchingJoin is null ? string.Empty : $" (meet in {step.MatchingJoin})";
        return step.Kind switch
        {
            "foreach" => $"{step.Next[0]} for each item of {step.ForEach}{meet}",
            "split" => string.Join(", ", step.Next) + meet,
            "switch" => string.Join(" or ", step.Next.Select(n => n == step.Name ? n + " (again)" : n)),
            _ => string.Join(", ", step.Next),
        };
    }
}
