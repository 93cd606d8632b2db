using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Flow.Build.Generator;

/// <summary>
/// The rules a flow's graph obeys as a whole: entry and exit, reachability, no cycles but a conditional step's
/// loop, and splits and joins that balance.
/// </summary>
internal static class GraphRules
{
    /// <summary>Checks the graph; returns the join of each split and foreach step that has one.</summary>
    public static Dictionary<string, string> Check(string flowName, SourceSpot classSpot, IReadOnlyList<StepModel> steps, Action<DiagnosticDescriptor, Location, string[]> report)
    {
        var joins = new Dictionary<string, string>(StringComparer.Ordinal);
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
            // Start is only the entry: no edge may lead into it, not even a conditional step's loop.
            if (step.Next.Contains("Start"))
            {
                report(Diagnostics.StartHasIncoming, step.Where.ToLocation(), Array.Empty<string>());
            }
        }
        if (!hasStart)
        {
            return joins;
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
        var cyclic = false;
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
                    cyclic = true;
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
        if (!cyclic)
        {
            Balance(flowName, byName, joins, report);
        }
        return joins;
    }

    /// <summary>One open split around a step: the split step and the branch (its target) the step is on.</summary>
    private sealed record Frame(string Split, string Branch);

    /// <summary>
    /// Walks the graph from Start with the stack of open splits: a split or foreach pushes one frame per branch, a
    /// join pops the frame of the split it closes, and every path into a step must arrive with the same stack (a
    /// conditional step's paths may meet again at a non-join step, as they carry the same stack).
    /// </summary>
    private static void Balance(string flowName, Dictionary<string, StepModel> byName, Dictionary<string, string> joins, Action<DiagnosticDescriptor, Location, string[]> report)
    {
        var stacks = new Dictionary<string, List<Frame>>(StringComparer.Ordinal);
        var closes = new Dictionary<string, string>(StringComparer.Ordinal);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        void Once(string key, DiagnosticDescriptor descriptor, StepModel at, params string[] args)
        {
            if (reported.Add(descriptor.Id + ":" + key))
            {
                report(descriptor, at.Where.ToLocation(), args);
            }
        }

        var work = new Queue<(string Step, List<Frame> Stack, StepModel? From)>();
        work.Enqueue(("Start", new List<Frame>(), null));
        while (work.Count > 0)
        {
            var (name, stack, from) = work.Dequeue();
            if (!byName.TryGetValue(name, out var step))
            {
                continue;
            }
            var own = stack;
            if (step.IsJoin)
            {
                if (stack.Count == 0)
                {
                    Once(name, Diagnostics.JoinWithoutSplit, step, name);
                    continue;
                }
                var top = stack[stack.Count - 1];
                if (from is { Kind: "switch" })
                {
                    Once(from.Name, Diagnostics.SwitchToJoin, from, from.Name, name);
                }
                if (from is { Kind: "split" or "foreach" } && from.Name == top.Split)
                {
                    Once(from.Name, Diagnostics.StraightToJoin, from, from.Name, from.Kind, name);
                    continue;
                }
                if (closes.TryGetValue(name, out var closed) && closed != top.Split)
                {
                    Once(name, Diagnostics.UnbalancedJoin, step, $"Join {name} joins branches of unrelated splits, {closed} and {top.Split}; give each split its own join");
                    continue;
                }
                closes[name] = top.Split;
                if (joins.TryGetValue(top.Split, out var other) && other != name)
                {
                    Once(top.Split, Diagnostics.UnbalancedJoin, byName[top.Split], $"The branches of {top.Split} meet in two joins, {other} and {name}; all branches of a split meet in one join");
                    continue;
                }
                joins[top.Split] = name;
                own = stack.Take(stack.Count - 1).ToList();
            }
            if (name == "End" && own.Count > 0)
            {
                var open = own[own.Count - 1].Split;
                Once(open, Diagnostics.OpenSplitAtEnd, byName[open], open, flowName);
                continue;
            }
            if (stacks.TryGetValue(name, out var seen))
            {
                if (!seen.SequenceEqual(own))
                {
                    if (!step.IsJoin && seen.Count == own.Count && seen.Count > 0 && seen.Take(seen.Count - 1).SequenceEqual(own.Take(own.Count - 1))
                        && seen[seen.Count - 1].Split == own[own.Count - 1].Split)
                    {
                        Once(name, Diagnostics.MissingInputs, step, $"{seen[seen.Count - 1].Branch} and {own[own.Count - 1].Branch}", own[own.Count - 1].Split, name, flowName);
                    }
                    else
                    {
                        Once(name, Diagnostics.UnbalancedJoin, step, $"Step {name} is reached inside different splits ({Describe(seen)} and {Describe(own)}); every path into a step must pass the same splits and joins");
                    }
                }
                continue;
            }
            stacks[name] = own;
            foreach (var next in step.Next)
            {
                if (step.Kind is "split" or "foreach")
                {
                    work.Enqueue((next, own.Concat(new[] { new Frame(name, next) }).ToList(), step));
                }
                else if (next != name)
                {
                    work.Enqueue((next, own, step));
                }
            }
        }
    }

    private static string Describe(List<Frame> stack) =>
        stack.Count == 0 ? "none" : string.Join(" > ", stack.Select(f => $"{f.Split}/{f.Branch}"));
}
