using System.Text;

namespace Flow.Sdk.Graph;

/// <summary>Renders a <see cref="FlowGraph"/> for Graphviz (<c>dot</c>) and Markdown (<c>mermaid</c>).</summary>
public static class GraphFormats
{
    /// <summary>Renders the graph in Graphviz DOT.</summary>
    /// <param name="graph">The graph.</param>
    /// <returns>The DOT text.</returns>
    public static string ToDot(FlowGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var text = new StringBuilder();
        text.Append("digraph ").Append(graph.Name).AppendLine(" {");
        text.AppendLine("    rankdir=TB;");
        foreach (var step in graph.Ordered())
        {
            text.Append("    ").Append(step.Name).Append(" [shape=box, label=\"").Append(step.Name).AppendLine("\"];");
        }
        foreach (var step in graph.Ordered())
        {
            foreach (var next in step.Next)
            {
                text.Append("    ").Append(step.Name).Append(" -> ").Append(next);
                text.AppendLine(step.ForEach is null ? ";" : $" [label=\"foreach {step.ForEach}\"];");
            }
        }
        text.AppendLine("}");
        return text.ToString();
    }

    /// <summary>Renders the graph as a Mermaid flowchart.</summary>
    /// <param name="graph">The graph.</param>
    /// <returns>The Mermaid text.</returns>
    public static string ToMermaid(FlowGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var text = new StringBuilder();
        text.AppendLine("flowchart TD");
        foreach (var step in graph.Ordered())
        {
            foreach (var next in step.Next)
            {
                text.Append("    ").Append(step.Name).Append(step.ForEach is null ? " --> " : $" -- foreach {step.ForEach} --> ").AppendLine(next);
            }
        }
        return text.ToString();
    }
}
