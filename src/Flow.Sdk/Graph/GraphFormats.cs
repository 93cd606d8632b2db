using System.Text;

namespace Flow.Sdk.Graph;

/// <summary>Renders a <see cref="FlowGraph"/> for Graphviz (<c>dot</c>) and Markdown (<c>mermaid</c>).</summary>
/// <remarks>
/// Both draw every step with a shape for its role (split and foreach steps as trapezoids, joins as inverted ones,
/// conditional steps as diamonds) and label foreach and conditional edges.
/// </remarks>
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
        text.AppendLine("    node [shape=box, style=rounded];");
        foreach (var step in graph.Ordered())
        {
            var shape = step.Kind switch
            {
                "split" or "foreach" => "trapezium",
                "switch" => "diamond",
                _ => step.IsJoin ? "invtrapezium" : step.Name is "Start" or "End" ? "oval" : "box",
            };
            var label = step.Kind == "foreach" ? $"{step.Name}\\nforeach {step.ForEach}" : step.Name;
            text.Append("    ").Append(step.Name).Append(" [shape=").Append(shape).Append(", label=\"").Append(label).AppendLine("\"];");
        }
        foreach (var step in graph.Ordered())
        {
            foreach (var next in step.Next)
            {
                text.Append("    ").Append(step.Name).Append(" -> ").Append(next);
                text.AppendLine(step.Kind switch
                {
                    "foreach" => $" [label=\"each {step.ForEach}\", style=bold];",
                    "switch" => next == step.Name ? " [label=\"again\", style=dashed];" : " [style=dashed];",
                    _ => ";",
                });
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
            var node = step.Kind switch
            {
                "split" => $"[/{step.Name}\\]",
                "foreach" => $"[/\"{step.Name} (foreach {step.ForEach})\"\\]",
                "switch" => "{" + step.Name + "}",
                _ => step.IsJoin ? $"[\\{step.Name}/]" : step.Name is "Start" or "End" ? $"([{step.Name}])" : $"[{step.Name}]",
            };
            text.Append("    ").Append(step.Name).AppendLine(node);
        }
        foreach (var step in graph.Ordered())
        {
            foreach (var next in step.Next)
            {
                var arrow = step.Kind switch
                {
                    "foreach" => $" ==>|each {step.ForEach}| ",
                    "switch" => next == step.Name ? " -.->|again| " : " -.-> ",
                    _ => " --> ",
                };
                text.Append("    ").Append(step.Name).Append(arrow).AppendLine(next);
            }
        }
        return text.ToString();
    }
}
