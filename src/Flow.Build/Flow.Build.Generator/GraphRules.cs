using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Flow.Build.Generator;

/// <summary>The rules a flow's graph obeys as a whole: entry and exit, reachability, no cycles.</summary>
internal static class GraphRules
{
    public static void Check(string flowName, SourceSpot classSpot, IReadOnlyList<StepModel> steps, Action<DiagnosticDescriptor, Location, string[]> report)
    {
        var byName = steps.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var hasStart = byName.ContainsKey("Start");
        if (!hasStart)
        {
            report(Diagnostics.NoStart, classSpot.ToLocation(), new[] { flowName });
        }
        if (!byName.ContainsKey("End"))
        {
            report(Diagnostics.NoEnd, classSpot.ToLocation(), new[] { flowName });
        }
        foreach (var step in steps)
        {
            // A switch may target itself (a loop); any other edge into Start is an error.
            if (step.Next.Contains("Start"))
            {
                report(Diagnostics.StartHasIncoming, step.Where.ToLocation(), Array.Empty<string>());
            }
        }
        if (!hasStart)
        {
            return;
        }

        var reached = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>();
        queue.Enqueue("Start");
        while (queue.Count > 0)
        {
            var name = queue.Dequeue();
            if (!reached.Add(name) || !byName.TryGetValue(name, out var step))
            {
                continue;
            }
            foreach (var next in step.Next)
            {
                queue.Enqueue(next);
            }
        }
        foreach (var step in steps.Where(s => !reached.Contains(s.Name)))
        {
            report(Diagnostics.Unreachable, step.Where.ToLocation(), new[] { step.Name });
        }

        // Depth-first search for back edges; a switch step's edge to itself is its loop and allowed.
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = new List<string>();
        void Visit(StepModel step)
        {
            state[step.Name] = 1;
            path.Add(step.Name);
            foreach (var next in step.Next)
            {
                if (!byName.TryGetValue(next, out var target) || (next == step.Name && step.Kind == "switch"))
                {
                    continue;
                }
                state.TryGetValue(next, out var s);
                if (s == 1)
                {
                    var cycle = path.Skip(path.IndexOf(next)).Concat(new[] { next });
                    report(Diagnostics.Cycle, step.Where.ToLocation(), new[] { next, string.Join(" -> ", cycle) });
                }
                else if (s == 0)
                {
                    Visit(target);
                }
            }
            path.RemoveAt(path.Count - 1);
            state[step.Name] = 2;
        }
        Visit(byName["Start"]);
    }
}
