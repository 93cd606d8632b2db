using Flow.Sdk.Graph;

namespace Flow.Sdk.Tests.Graph;

public sealed class GraphPrinterTests
{
    // Steps listed out of order on purpose: the printer follows the graph, not the JSON.
    private const string BranchingGraph = """
        {
          "name": "Branchy",
          "description": "Trains two models.",
          "steps": [
            { "name": "End", "kind": "end", "next": [], "line": 40 },
            { "name": "Join", "kind": "linear", "join": true, "next": ["End"], "line": 30 },
            { "name": "Start", "kind": "split", "next": ["Left", "Right"], "matchingJoin": "Join", "description": "Loads the data.", "line": 5 },
            { "name": "Right", "kind": "switch", "next": ["Right", "Join"], "line": 20 },
            { "name": "Left", "kind": "foreach", "next": ["Each"], "forEach": "Items", "matchingJoin": "Gather", "line": 10 },
            { "name": "Each", "kind": "linear", "next": ["Gather"], "line": 12 },
            { "name": "Gather", "kind": "linear", "join": true, "next": ["Join"], "line": 14 }
          ],
          "parameters": [
            { "name": "Count", "option": "count", "type": "int", "default": "3", "required": false, "help": "how many" },
            { "name": "Token", "option": "token", "type": "string", "default": null, "required": true, "help": null },
            { "name": "Note", "option": "note", "type": "string?", "default": null, "required": false, "help": null }
          ]
        }
        """;

    private static readonly FlowGraph s_graph = FlowGraph.Parse(BranchingGraph);

    [Fact]
    public void ToText_StartsWithNameAndDescription()
    {
        GraphPrinter.ToText(s_graph).Split('\n')[0].ShouldBe("Branchy: Trains two models.");
    }

    [Fact]
    public void ToText_ListsParametersWithDefaultRequiredAndHelp()
    {
        var text = GraphPrinter.ToText(s_graph);

        text.ShouldContain("--count int = 3  how many");
        text.ShouldContain("--token string (required)");
        text.ShouldContain("--note string?" + Environment.NewLine);
    }

    [Fact]
    public void ToText_ListsEachBranchWholeBeforeItsJoin_IndentedByNesting()
    {
        var steps = GraphPrinter.ToText(s_graph).Split('\n')
            .Where(l => l.TrimStart().StartsWith("Step ", StringComparison.Ordinal))
            .Select(l => l.TrimEnd('\r'))
            .ToList();

        steps.ShouldBe(
        [
            "Step Start (split)",
            "    Step Left (foreach)",
            "        Step Each",
            "    Step Gather (join)",
            "    Step Right (conditional)",
            "Step Join (join)",
            "Step End",
        ]);
    }

    [Fact]
    public void ToText_ShowsTransitionsDescriptionsAndForEach()
    {
        var text = GraphPrinter.ToText(s_graph);

        text.ShouldContain("    Loads the data.");
        text.ShouldContain("    => Left, Right (meet in Join)");
        text.ShouldContain("        => Each for each item of Items (meet in Gather)");
        text.ShouldContain("        => Right (again) or Join");
    }

    [Fact]
    public void ToText_FlowWithoutParametersOrDescription_PrintsOnlyTheName()
    {
        var graph = new FlowGraph("Tiny", null, [new GraphStep("Start", "linear", ["End"], null, null, null, 1), new GraphStep("End", "end", [], null, null, null, 2)], []);

        var text = GraphPrinter.ToText(graph);

        text.ShouldStartWith("Tiny" + Environment.NewLine);
        text.ShouldNotContain("Parameters");
        text.ShouldEndWith("Step End" + Environment.NewLine);
    }

    [Fact]
    public void Ordered_UnreachableStepsComeBeforeEnd()
    {
        var graph = new FlowGraph("Loose", null,
        [
            new GraphStep("End", "end", [], null, null, null, 9),
            new GraphStep("Orphan", "linear", ["End"], null, null, null, 5),
            new GraphStep("Start", "linear", ["End"], null, null, null, 1),
        ], []);

        graph.Ordered().Select(s => s.Name).ShouldBe(["Start", "Orphan", "End"]);
    }

    [Fact]
    public void FindStep_MatchesExactNameFirstThenIgnoringCase()
    {
        s_graph.FindStep("left").ShouldNotBeNull().Name.ShouldBe("Left");
        s_graph.FindStep("Nope").ShouldBeNull();
    }

    [Fact]
    public void Parameter_EnvironmentVariable_IsUpperSnakeCaseOfTheOption()
    {
        new GraphParameter("NumTrees", "num-trees", "int", "10", false, null).EnvironmentVariable.ShouldBe("FLOW_RUN_NUM_TREES");
    }
}
