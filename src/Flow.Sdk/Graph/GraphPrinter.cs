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
                text.Append("    --").Append(p.Option).Append(' ').Append(p.Type);
                text.Append(p.Required ? " (required)" : p.Default is null ? string.Empty : " = " + p.Default);
                if (!string.IsNullOrWhiteSpace(p.Help))
                {
                    text.Append("  ").Append(p.Help);
                }
                text.AppendLine();
            }
        }
        foreach (var step in graph.Ordered())
        {
            text.AppendLine().Append("Step ").Append(step.Name);
            if (step.Kind is not ("linear" or "end"))
            {
                text.Append(" (").Append(step.Kind).Append(')');
            }
            text.AppendLine();
            if (!string.IsNullOrWhiteSpace(step.Description))
            {
                text.Append("    ").AppendLine(step.Description);
            }
            if (step.Next.Count > 0)
            {
                text.Append("    => ").Append(string.Join(", ", step.Next));
                if (step.ForEach is not null)
                {
                    text.Append(" for each of ").Append(step.ForEach);
                }
                text.AppendLine();
            }
        }
        return text.ToString();
    }
}
