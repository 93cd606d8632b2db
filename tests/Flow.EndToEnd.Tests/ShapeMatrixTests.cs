using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flow.Tests;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// The graph-shape matrix: every flow of Shapes/ShapeFlows.cs runs through the packed tool, and what it left is read
/// back through <c>dump --json</c>: which steps ran with how many tasks, the foreach indices and items, join input
/// order, and what propagates (and what does not) through joins, switches, loops and foreach.
/// </summary>
[Collection(PackedProductCollection.Name)]
public sealed partial class ShapeMatrixTests(PackedProduct product)
{
    // Sum of i * i for i in 0..1199: 1199 * 1200 * 2399 / 6.
    private const long SumOfSquaresBelow1200 = 575_280_200;

    private static readonly Dictionary<string, Shape> s_shapes = BuildShapes();

    /// <summary>Gets the cases: the flow's name, then its arguments (split on spaces).</summary>
    public static TheoryData<string> Cases
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in s_shapes.Keys)
            {
                data.Add(name);
            }
            return data;
        }
    }

    [GeneratedRegex(@"Run (\d+) of (\w+) started")]
    private static partial Regex RunStarted();

    [GeneratedRegex(@"^( *)Step (\w+)", RegexOptions.Multiline)]
    private static partial Regex ShowStepLine();

    [GeneratedRegex(@"\bConflict\b")]
    private static partial Regex ConflictWord();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Shape_RunsItsSteps_WithTheExpectedTasks_IndicesAndArtifacts(string name)
    {
        var shape = s_shapes[name];
        var parts = name.Split(' ');

        var run = Run(parts[0], parts[1..]);

        run.StepsRun.ShouldBe(shape.Steps.Select(s => s.Step).Order(StringComparer.Ordinal), ignoreOrder: false, customMessage: $"the steps that ran in {run}");
        foreach (var (step, count) in shape.Steps)
        {
            run.Tasks(step).Count.ShouldBe(count, $"the tasks of {run}/{step}");
        }
        // End is never inside a foreach, and holds exactly what propagated to it.
        run.Single("End").Index.ShouldBeEmpty();
        run.Single("End").Names.ShouldBe(shape.AtEnd.Order(StringComparer.Ordinal), ignoreOrder: false, customMessage: $"the artifacts of {run}/End");
        shape.Check(run);
    }

    [Fact]
    public void MergeArtifacts_WithInputsThatDisagree_FailsTheJoin_NamingTheArtifact()
    {
        var dir = ShapeProject.Get(product);

        var result = product.Flow(dir, "run", "--flow", "MergeConflictFlow");

        result.ExitCode.ShouldBe(1, result.ToString());
        // "Conflict" as a word: the flow's own name (MergeConflictFlow) does not count.
        ConflictWord().IsMatch(result.Output).ShouldBeTrue(result.ToString());
        var run = Started(dir, result, "MergeConflictFlow");
        run.StepsRun.ShouldNotContain("End", run.ToString());
        run.Single("A").Long("Conflict").ShouldBe(1);
        run.Single("B").Long("Conflict").ShouldBe(2);
    }

    [Fact]
    public void WideForeach_OverTheDefaultMaxNumSplits_IsRefused_BeforeAnyChildStarts()
    {
        var dir = ShapeProject.Get(product);

        var result = product.Flow(dir, "run", "--flow", "WideForeachFlow");

        result.ExitCode.ShouldBe(1, result.ToString());
        result.Stderr.ShouldContain("1200", customMessage: result.ToString());
        result.Stderr.ShouldContain("--max-num-splits", customMessage: result.ToString());
        result.Stderr.ShouldContain("--max-num-splits 1200", customMessage: result.ToString());
        var run = Started(dir, result, "WideForeachFlow");
        Directory.Exists(Path.Combine(dir, ".flow", "runs", "WideForeachFlow", run.RunId, "steps", "Each")).ShouldBeFalse(result.ToString());
        run.StepsRun.ShouldBe(["Start"]);
        var dump = product.Flow(dir, "dump", $"{run.RunId}/Each", "--json", "--flow", "WideForeachFlow");
        dump.ExitCode.ShouldNotBe(0, dump.ToString());
        dump.Stdout.ShouldNotContain("WideForeachFlow/" + run.RunId + "/Each/", customMessage: dump.ToString());
    }

    [Fact]
    public void Show_NestedSplits_ListsEveryStep_IndentedOneLevelPerOpenSplit()
    {
        var dir = ShapeProject.Get(product);

        var show = product.Flow(dir, "show", "--flow", "NestedSplitFlow");

        show.ExitCode.ShouldBe(0, show.ToString());
        show.Stdout.ShouldStartWith("NestedSplitFlow", customMessage: show.ToString());
        var steps = ShowStepLine().Matches(show.Stdout).Select(m => (Step: m.Groups[2].Value, Indent: m.Groups[1].Value.Length)).ToList();
        // A join sits at the level of the split it closes.
        steps.Select(s => $"{s.Step}@{s.Indent}").ShouldBe(
            ["Start@0", "L1a@4", "L1b@4", "L2a@8", "L2b@8", "L3a@12", "L3b@12", "J3@8", "J2@4", "J1@0", "End@0"], ignoreOrder: true, customMessage: show.ToString());
        steps[0].Step.ShouldBe("Start");
        steps[^1].Step.ShouldBe("End");
        // Each branch is listed before the join where it ends.
        var order = steps.Select(s => s.Step).ToList();
        order.IndexOf("J3").ShouldBeGreaterThan(Math.Max(order.IndexOf("L3a"), order.IndexOf("L3b")), show.ToString());
        order.IndexOf("J2").ShouldBeGreaterThan(Math.Max(order.IndexOf("J3"), order.IndexOf("L2b")), show.ToString());
        order.IndexOf("J1").ShouldBeGreaterThan(Math.Max(order.IndexOf("J2"), order.IndexOf("L1b")), show.ToString());
    }

    [Fact]
    public void Show_Dot_SwitchInForeach_IsADigraph_WithEveryEdge()
    {
        var dir = ShapeProject.Get(product);

        var show = product.Flow(dir, "show", "--format", "dot", "--flow", "SwitchInForeachFlow");

        show.ExitCode.ShouldBe(0, show.ToString());
        show.Stdout.ShouldStartWith("digraph", customMessage: show.ToString());
        foreach (var (from, to) in new[] { ("Start", "Each"), ("Each", "Even"), ("Each", "Odd"), ("Even", "Join"), ("Odd", "Join"), ("Join", "End") })
        {
            Regex.IsMatch(show.Stdout, $@"^\s*{from} -> {to}\b", RegexOptions.Multiline).ShouldBeTrue($"edge {from} -> {to}\n{show}");
        }
        Regex.Matches(show.Stdout, @"->").Count.ShouldBe(6, show.ToString());
    }

    [Fact]
    public void Show_Mermaid_Foreach_IsAFlowchart_WithEveryEdge()
    {
        var dir = ShapeProject.Get(product);

        var show = product.Flow(dir, "show", "--format", "mermaid", "--flow", "ForeachFlow");

        show.ExitCode.ShouldBe(0, show.ToString());
        show.Stdout.ShouldStartWith("flowchart TD", customMessage: show.ToString());
        foreach (var (from, to) in new[] { ("Start", "Each"), ("Each", "Join"), ("Join", "End") })
        {
            Regex.IsMatch(show.Stdout, $@"^\s*{from}\s*[-=.]+>(\|[^|]*\|)?\s*{to}\s*$", RegexOptions.Multiline).ShouldBeTrue($"edge {from} -> {to}\n{show}");
        }
    }

    private ShapeRun Run(string flow, string[] args)
    {
        var dir = ShapeProject.Get(product);
        var result = product.Flow(dir, ["run", "--flow", flow, .. args]);
        result.ExitCode.ShouldBe(0, result.ToString());
        return Started(dir, result, flow);
    }

    private ShapeRun Started(string dir, ProcessResult result, string flow)
    {
        var started = RunStarted().Match(result.Stdout);
        started.Success.ShouldBeTrue(result.ToString());
        started.Groups[2].Value.ShouldBe(flow);
        return new ShapeRun(product, dir, flow, started.Groups[1].Value);
    }

    private static List<string> Indices(params int[] counts)
    {
        IEnumerable<string> all = [string.Empty];
        foreach (var count in counts)
        {
            all = all.SelectMany(prefix => Enumerable.Range(0, count).Select(i => prefix.Length == 0 ? $"{i}" : $"{prefix}.{i}")).ToList();
        }
        return [.. all];
    }

    private static Dictionary<string, Shape> BuildShapes()
    {
        var shapes = new Dictionary<string, Shape>(StringComparer.Ordinal);

        shapes["LinearFlow"] = new(
            [("Start", 1), ("A", 1), ("End", 1)],
            ["Trail"],
            run =>
            {
                run.Single("Start").Str("Trail").ShouldBe("S");
                run.Single("A").Str("Trail").ShouldBe("S>A");
                run.Single("A").Index.ShouldBeEmpty();
                run.Single("End").Str("Trail").ShouldBe("S>A>E");
            });

        shapes["SplitFlow"] = new(
            [("Start", 1), ("A", 1), ("B", 1), ("Join", 1), ("End", 1)],
            ["Score", "Seen"],
            run =>
            {
                run.Single("A").Str("Trail").ShouldBe("S>A");
                run.Single("A").Long("Score").ShouldBe(1);
                run.Single("B").Str("Trail").ShouldBe("S>B");
                run.Single("B").Long("Score").ShouldBe(2);
                // Nothing but what the join set flows through it: no Trail.
                run.Single("Join").Names.ShouldBe(["Score", "Seen"]);
                run.Single("End").Long("Score").ShouldBe(12);
                run.Single("End").Str("Seen").ShouldBe("S>A,S>B");
            });

        shapes["NestedSplitFlow"] = new(
            [("Start", 1), ("L1a", 1), ("L1b", 1), ("L2a", 1), ("L2b", 1), ("L3a", 1), ("L3b", 1), ("J3", 1), ("J2", 1), ("J1", 1), ("End", 1)],
            ["Trail"],
            run =>
            {
                run.Single("L1b").Str("Trail").ShouldBe("S>L1b");
                run.Single("L2b").Str("Trail").ShouldBe("S>L1a>L2b");
                run.Single("L3a").Str("Trail").ShouldBe("S>L1a>L2a>L3a");
                run.Single("L3b").Str("Trail").ShouldBe("S>L1a>L2a>L3b");
                run.Single("J3").Str("Trail").ShouldBe("(S>L1a>L2a>L3a|S>L1a>L2a>L3b)");
                run.Single("J2").Str("Trail").ShouldBe("((S>L1a>L2a>L3a|S>L1a>L2a>L3b)|S>L1a>L2b)");
                run.Single("J1").Str("Trail").ShouldBe("(((S>L1a>L2a>L3a|S>L1a>L2a>L3b)|S>L1a>L2b)|S>L1b)");
                run.Single("End").Str("Trail").ShouldBe("(((S>L1a>L2a>L3a|S>L1a>L2a>L3b)|S>L1a>L2b)|S>L1b)");
            });

        shapes["ForeachFlow"] = new(
            [("Start", 1), ("Each", 3), ("Join", 1), ("End", 1)],
            ["All"],
            run =>
            {
                var each = run.Tasks("Each");
                each.Select(t => t.IndexText).ShouldBe(["0", "1", "2"]);
                each.Select(t => t.Str("Value")).ShouldBe(["0:a:a:1", "1:b:b:1", "2:c:c:1"]);
                each.ShouldAllBe(t => t.Strings("Items").SequenceEqual(new[] { "a", "b", "c" }));
                run.Single("Join").Index.ShouldBeEmpty();
                run.Single("Join").Str("All").ShouldBe("0:a:a:1,1:b:b:1,2:c:c:1");
                run.Single("End").Str("All").ShouldBe("0:a:a:1,1:b:b:1,2:c:c:1");
            });

        shapes["ForeachTwoStepsFlow"] = new(
            [("Start", 1), ("First", 3), ("Second", 3), ("Join", 1), ("End", 1)],
            ["Total", "Where"],
            run =>
            {
                var first = run.Tasks("First");
                first.Select(t => t.IndexText).ShouldBe(["0", "1", "2"]);
                first.Select(t => t.Long("Doubled")).ShouldBe([10L, 12L, 14L]);
                var second = run.Tasks("Second");
                second.Select(t => t.IndexText).ShouldBe(["0", "1", "2"]);
                second.Select(t => t.Str("Where")).ShouldBe(["0:5:10", "1:6:12", "2:7:14"]);
                second.Select(t => t.Long("Doubled")).ShouldBe([11L, 13L, 15L]);
                second.ShouldAllBe(t => t.Longs("Numbers").SequenceEqual(new long[] { 5, 6, 7 }));
                run.Single("End").Long("Total").ShouldBe(39);
                run.Single("End").Str("Where").ShouldBe("0:5:10,1:6:12,2:7:14");
            });

        shapes["NestedForeachFlow"] = new(
            [("Start", 1), ("X", 3), ("Y", 6), ("Z", 36), ("JoinZ", 6), ("JoinY", 3), ("JoinX", 1), ("End", 1)],
            ["Sum"],
            run =>
            {
                int[] xs = [100, 200, 300];
                int[] ys = [10, 20];
                var x = run.Tasks("X");
                x.Select(t => t.IndexText).ShouldBe(Indices(3));
                x.ShouldAllBe(t => t.Longs("Ys").SequenceEqual(new long[] { 10, 20 }));
                var y = run.Tasks("Y");
                y.Select(t => t.IndexText).ShouldBe(Indices(3, 2));
                y.ShouldAllBe(t => t.Longs("Zs").SequenceEqual(new long[] { 0, 1, 2, 3, 4, 5 }));
                var z = run.Tasks("Z");
                z.ShouldAllBe(t => t.Index.Length == 3);
                z.Select(t => t.IndexText).ShouldBe(Indices(3, 2, 6));
                foreach (var task in z)
                {
                    var (i, j, k) = (task.Index[0], task.Index[1], task.Index[2]);
                    task.Str("Cell").ShouldBe($"Start{i}/3={xs[i]}.X{j}/2={ys[j]}.Y{k}/6={k}", task.Pathspec);
                    task.Long("Sum").ShouldBe(xs[i] + ys[j] + k, task.Pathspec);
                }
                var joinZ = run.Tasks("JoinZ");
                joinZ.Select(t => t.IndexText).ShouldBe(Indices(3, 2));
                joinZ.Select(t => t.Long("Sum")).ShouldBe(Indices(3, 2).Select(ij => (6L * xs[ij[0] - '0']) + (6L * ys[ij[2] - '0']) + 15));
                joinZ.ShouldAllBe(t => t.Names.SequenceEqual(new[] { "Sum" }));
                var joinY = run.Tasks("JoinY");
                joinY.Select(t => t.IndexText).ShouldBe(Indices(3));
                joinY.Select(t => t.Long("Sum")).ShouldBe([1410L, 2610L, 3810L]);
                run.Single("JoinX").Long("Sum").ShouldBe(7830);
                run.Single("End").Long("Sum").ShouldBe(7830);
            });

        foreach (var (which, step) in new[] { ("a", "A"), ("b", "B"), ("c", "C") })
        {
            shapes[$"SwitchFlow --case {which}"] = new(
                [("Start", 1), (step, 1), ("End", 1)],
                ["Case", "Trail"],
                run =>
                {
                    run.Single(step).Str("Trail").ShouldBe($"S>{step}");
                    run.Single("End").Str("Case").ShouldBe(which);
                    run.Single("End").Str("Trail").ShouldBe($"S>{step}>E");
                });
        }

        foreach (var (path, steps, trail) in new[]
        {
            ("aa", new[] { "A", "AA" }, "S>A>AA>M"),
            ("ab", new[] { "A", "AB" }, "S>A>AB>M"),
            ("ba", new[] { "B" }, "S>B>M"),
        })
        {
            shapes[$"NestedSwitchFlow --path {path}"] = new(
                [("Start", 1), .. steps.Select(s => (s, 1)), ("Meet", 1), ("End", 1)],
                ["Path", "Trail"],
                run =>
                {
                    run.Single("Meet").Str("Trail").ShouldBe(trail);
                    run.Single("End").Str("Path").ShouldBe(path);
                    run.Single("End").Str("Trail").ShouldBe(trail);
                });
        }

        foreach (var (left, step) in new[] { (true, "A1"), (false, "A2") })
        {
            shapes[$"SwitchInBranchFlow --left {(left ? "true" : "false")}"] = new(
                [("Start", 1), ("A", 1), (step, 1), ("B", 1), ("Join", 1), ("End", 1)],
                ["Left", "Seen"],
                run =>
                {
                    run.Single(step).Str("Trail").ShouldBe($"S>A>{step}");
                    run.Single("Join").Str("Seen").ShouldBe($"S>A>{step},S>B");
                    run.Single("End").Bool("Left").ShouldBe(left);
                    run.Single("End").Str("Seen").ShouldBe($"S>A>{step},S>B");
                });
        }

        shapes["SwitchInForeachFlow"] = new(
            [("Start", 1), ("Each", 4), ("Even", 2), ("Odd", 2), ("Join", 1), ("End", 1)],
            ["Seen"],
            run =>
            {
                run.Tasks("Each").Select(t => t.IndexText).ShouldBe(["0", "1", "2", "3"]);
                run.Tasks("Odd").Select(t => t.IndexText).ShouldBe(["0", "2"]);
                run.Tasks("Odd").Select(t => t.Str("Kind")).ShouldBe(["1odd", "3odd"]);
                run.Tasks("Even").Select(t => t.IndexText).ShouldBe(["1", "3"]);
                run.Tasks("Even").Select(t => t.Str("Kind")).ShouldBe(["2even", "4even"]);
                run.Single("End").Str("Seen").ShouldBe("1odd,2even,3odd,4even");
            });

        shapes["BranchInSwitchFlow --wide true"] = new(
            [("Start", 1), ("Fork", 1), ("A", 1), ("B", 1), ("Join", 1), ("Tail", 1), ("End", 1)],
            ["Trail", "Wide"],
            run =>
            {
                run.Single("A").Str("Trail").ShouldBe("S>F>A");
                run.Single("B").Str("Trail").ShouldBe("S>F>B");
                run.Single("Join").Str("Trail").ShouldBe("S>F>A+S>F>B");
                run.Single("Tail").Str("Trail").ShouldBe("S>F>A+S>F>B>T");
                run.Single("End").Bool("Wide").ShouldBeTrue();
                run.Single("End").Str("Trail").ShouldBe("S>F>A+S>F>B>T");
            });

        shapes["BranchInSwitchFlow --wide false"] = new(
            [("Start", 1), ("Plain", 1), ("Tail", 1), ("End", 1)],
            ["Trail", "Wide"],
            run =>
            {
                run.Single("Plain").Str("Trail").ShouldBe("S>P");
                run.Single("End").Bool("Wide").ShouldBeFalse();
                run.Single("End").Str("Trail").ShouldBe("S>P>T");
            });

        shapes["ForeachInSwitchFlow --fan true"] = new(
            [("Start", 1), ("Spread", 1), ("Each", 3), ("Join", 1), ("Tail", 1), ("End", 1)],
            ["Fan", "Total"],
            run =>
            {
                run.Single("Spread").Long("Total").ShouldBe(-1);
                run.Tasks("Each").Select(t => t.IndexText).ShouldBe(["0", "1", "2"]);
                run.Tasks("Each").Select(t => t.Long("Total")).ShouldBe([1L, 4L, 9L]);
                run.Single("Join").Long("Total").ShouldBe(14);
                run.Single("End").Bool("Fan").ShouldBeTrue();
                run.Single("End").Long("Total").ShouldBe(14);
            });

        shapes["ForeachInSwitchFlow --fan false"] = new(
            [("Start", 1), ("Tail", 1), ("End", 1)],
            ["Fan", "Items", "Total"],
            run =>
            {
                run.Single("End").Bool("Fan").ShouldBeFalse();
                run.Single("End").Long("Total").ShouldBe(-1);
                run.Single("End").Longs("Items").ShouldBe([1L, 2L, 3L]);
            });

        shapes["LoopFlow"] = new(
            [("Start", 1), ("Loop", 3), ("End", 1)],
            ["Count", "Passes"],
            run =>
            {
                run.Tasks("Loop").Select(t => t.Str("Passes")).ShouldBe(["0", "01", "012"]);
                run.Tasks("Loop").Select(t => t.Long("Count")).ShouldBe([1L, 2L, 3L]);
                run.Single("End").Long("Count").ShouldBe(3);
                run.Single("End").Str("Passes").ShouldBe("012");
            });

        shapes["LoopInForeachFlow"] = new(
            [("Start", 1), ("Each", 3), ("Loop", 6), ("Done", 3), ("Join", 1), ("End", 1)],
            ["Seen"],
            run =>
            {
                var loop = run.Tasks("Loop");
                loop.Select(t => t.IndexText).ShouldBe(["0", "1", "1", "2", "2", "2"]);
                loop.Select(t => t.Str("Passes")).ShouldBe(["0", "0", "01", "0", "01", "012"]);
                loop.Select(t => t.Long("Left")).ShouldBe([0L, 1L, 0L, 2L, 1L, 0L]);
                var done = run.Tasks("Done");
                done.Select(t => t.IndexText).ShouldBe(["0", "1", "2"]);
                done.Select(t => t.Str("Passes")).ShouldBe(["0", "01", "012"]);
                run.Single("End").Str("Seen").ShouldBe("0:0,1:01,2:012");
            });

        shapes["ForeachInBranchFlow"] = new(
            [("Start", 1), ("Fan", 1), ("Each", 3), ("JoinEach", 1), ("Other", 1), ("Join", 1), ("End", 1)],
            ["Seen"],
            run =>
            {
                run.Tasks("Each").Select(t => t.IndexText).ShouldBe(["0", "1", "2"]);
                run.Tasks("Each").Select(t => t.Long("Total")).ShouldBe([10L, 20L, 30L]);
                run.Single("JoinEach").Index.ShouldBeEmpty();
                run.Single("JoinEach").Long("Total").ShouldBe(60);
                run.Single("Other").Long("Total").ShouldBe(1);
                run.Single("Join").Names.ShouldBe(["Seen"]);
                run.Single("End").Str("Seen").ShouldBe("60,1");
            });

        shapes["BranchInForeachFlow"] = new(
            [("Start", 1), ("Each", 2), ("A", 2), ("B", 2), ("JoinAB", 2), ("JoinEach", 1), ("End", 1)],
            ["Seen"],
            run =>
            {
                run.Tasks("Each").Select(t => t.IndexText).ShouldBe(["0", "1"]);
                run.Tasks("A").Select(t => t.IndexText).ShouldBe(["0", "1"]);
                run.Tasks("A").Select(t => t.Str("Part")).ShouldBe(["xA", "yA"]);
                run.Tasks("B").Select(t => t.IndexText).ShouldBe(["0", "1"]);
                run.Tasks("B").Select(t => t.Str("Part")).ShouldBe(["xB", "yB"]);
                run.Tasks("JoinAB").Select(t => t.IndexText).ShouldBe(["0", "1"]);
                run.Tasks("JoinAB").Select(t => t.Str("Part")).ShouldBe(["xAxB", "yAyB"]);
                run.Single("End").Str("Seen").ShouldBe("xAxB,yAyB");
            });

        shapes["TrainFlow"] = new(
            [("Start", 1), ("Linear", 1), ("Forest", 1), ("Tune", 3), ("BestSeed", 1), ("Pick", 1), ("End", 1)],
            ["Score"],
            run =>
            {
                run.Tasks("Tune").Select(t => t["Score"].GetDouble()).ShouldBe([0.71, 0.72, 0.73], tolerance: 1e-9);
                run.Single("BestSeed")["Score"].GetDouble().ShouldBe(0.73, tolerance: 1e-9);
                run.Single("End")["Score"].GetDouble().ShouldBe(0.8, tolerance: 1e-9);
            });

        shapes["MergeFlow"] = new(
            [("Start", 1), ("A", 1), ("B", 1), ("Join", 1), ("End", 1)],
            ["Conflict", "OnlyA", "Shared"],
            run =>
            {
                run.Single("Join").Names.ShouldBe(["Conflict", "OnlyA", "Shared"]);
                run.Single("End").Str("Shared").ShouldBe("same");
                run.Single("End").Long("OnlyA").ShouldBe(1);
                run.Single("End").Long("Conflict").ShouldBe(3);
            });

        shapes["WideForeachFlow --max-num-splits 1200"] = new(
            [("Start", 1), ("Each", 1200), ("Join", 1), ("End", 1)],
            ["Count", "Ordered", "Total"],
            run =>
            {
                var each = run.Tasks("Each");
                each.Select(t => t.IndexText).ShouldBe(Indices(1200));
                each.Select(t => t.Long("Square")).ShouldBe(Enumerable.Range(0, 1200).Select(i => (long)i * i));
                run.Single("Join").Long("Total").ShouldBe(SumOfSquaresBelow1200);
                run.Single("End").Long("Count").ShouldBe(1200);
                run.Single("End").Long("Total").ShouldBe(SumOfSquaresBelow1200);
                run.Single("End").Bool("Ordered").ShouldBeTrue();
            });

        return shapes;
    }

    /// <param name="Steps">Every step that runs, with its number of tasks.</param>
    /// <param name="AtEnd">Exactly the artifacts and parameters End holds.</param>
    /// <param name="Check">The values, indices and join orders of the run.</param>
    private sealed record Shape((string Step, int Tasks)[] Steps, string[] AtEnd, Action<ShapeRun> Check);
}

/// <summary>The project of Shapes/ShapeFlows.cs, made from the template and built once per test run.</summary>
internal static class ShapeProject
{
    public static string Get(PackedProduct product) => product.SharedProject("Shapes", "Shapes/ShapeFlows.cs", "LinearFlow", replaceTemplateFlow: false);
}

/// <summary>One run of a shape flow, read through <c>dump --json</c>: each step dumped once, its tasks in foreach order.</summary>
internal sealed class ShapeRun(PackedProduct product, string dir, string flow, string runId)
{
    private readonly Dictionary<string, IReadOnlyList<ShapeTask>> _tasks = new(StringComparer.Ordinal);

    public string RunId => runId;

    /// <summary>Gets the steps that have tasks, from the datastore's folders.</summary>
    public IReadOnlyList<string> StepsRun
    {
        get
        {
            var steps = Path.Combine(dir, ".flow", "runs", flow, runId, "steps");
            return Directory.Exists(steps) ? [.. Directory.GetDirectories(steps).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal)] : [];
        }
    }

    /// <summary>The tasks of a step, by foreach index (outermost first), then by task id (loop passes in order).</summary>
    public IReadOnlyList<ShapeTask> Tasks(string step)
    {
        if (!_tasks.TryGetValue(step, out var tasks))
        {
            // End through `latest`, the other steps through the run id: both pathspec forms users write.
            var pathspec = step == "End" ? "latest/End" : $"{runId}/{step}";
            var dump = product.Flow(dir, "dump", pathspec, "--json", "--flow", flow);
            dump.ExitCode.ShouldBe(0, dump.ToString());
            using var doc = JsonDocument.Parse(dump.Stdout);
            var all = doc.RootElement.EnumerateObject().Select(p => new ShapeTask(p.Name, p.Value.Clone())).ToList();
            all.ShouldAllBe(t => t.Pathspec.StartsWith($"{flow}/{runId}/{step}/", StringComparison.Ordinal), $"dump {pathspec} names the tasks of {this}/{step}");
            tasks = [.. all.OrderBy(t => t.Index, Comparer<int[]>.Create(CompareIndices)).ThenBy(t => t.TaskId)];
            _tasks[step] = tasks;
        }
        return tasks;
    }

    public ShapeTask Single(string step)
    {
        var tasks = Tasks(step);
        tasks.Count.ShouldBe(1, $"the tasks of {this}/{step}");
        return tasks[0];
    }

    public override string ToString() => $"{flow}/{runId}";

    private static int CompareIndices(int[]? a, int[]? b)
    {
        a ??= [];
        b ??= [];
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            if (a[i] != b[i])
            {
                return a[i].CompareTo(b[i]);
            }
        }
        return a.Length.CompareTo(b.Length);
    }
}

/// <summary>One task of a <c>dump --json</c>: its artifacts and parameters, <c>$index</c> and <c>$attempt</c>.</summary>
internal sealed class ShapeTask(string pathspec, JsonElement json)
{
    public string Pathspec => pathspec;

    public long TaskId => long.Parse(pathspec[(pathspec.LastIndexOf('/') + 1)..], CultureInfo.InvariantCulture);

    public int[] Index => [.. json.GetProperty("$index").EnumerateArray().Select(e => e.GetInt32())];

    /// <summary>Gets the foreach indices joined by dots, outermost first ("" outside any foreach).</summary>
    public string IndexText => string.Join(".", Index);

    /// <summary>Gets the names of the artifacts and parameters, without the reserved $ keys.</summary>
    public IReadOnlyList<string> Names => [.. json.EnumerateObject().Select(p => p.Name).Where(n => !n.StartsWith('$')).Order(StringComparer.Ordinal)];

    public string Str(string name) => this[name].GetString()!;

    public long Long(string name) => this[name].GetInt64();

    public bool Bool(string name) => this[name].GetBoolean();

    public string[] Strings(string name) => [.. this[name].EnumerateArray().Select(e => e.GetString()!)];

    public long[] Longs(string name) => [.. this[name].EnumerateArray().Select(e => e.GetInt64())];

    public JsonElement this[string name] => json.TryGetProperty(name, out var value)
        ? value
        : throw new ShouldAssertException($"{pathspec} has no artifact {name}; it has {string.Join(", ", Names)}.");

    public override string ToString() => pathspec;
}
