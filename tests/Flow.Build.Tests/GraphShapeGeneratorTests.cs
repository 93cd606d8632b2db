using System.Text.Json;

namespace Flow.Build.Tests;

/// <summary>What the generator emits for splits, joins, foreach and conditional steps: the graph JSON and the invokers.</summary>
public class GraphShapeGeneratorTests
{
    private const string FilePath = "/src/app/Flows/TestFlow.cs";

    private static readonly Dictionary<string, string> s_projectOptions = new() { ["build_property.MSBuildProjectDirectory"] = "/src/app" };

    /// <summary>Runs the generator over one valid flow, and checks that it and the generated code compile cleanly.</summary>
    private static GeneratorOutput Generate(string source)
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([new SourceFile(FilePath, source)]), s_projectOptions);
        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        run.OutputErrors.ShouldBeEmpty(string.Join(Environment.NewLine, run.OutputErrors));
        return run;
    }

    private static Dictionary<string, JsonElement> Steps(GeneratorOutput run, string flow = "TestFlow") =>
        run.Graph(flow).GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, StringComparer.Ordinal);

    private static string? MatchingJoin(JsonElement step) =>
        step.TryGetProperty("matchingJoin", out var join) ? join.GetString() : null;

    private static string[] Next(JsonElement step) => [.. step.GetProperty("next").EnumerateArray().Select(n => n.GetString()!)];

    private const string SplitFlow = """
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            [Step]
            public void Start() => Next(A, B);

            [Step]
            public void A() => Next(Join);

            [Step]
            public void B() => Next(Join);

            [Step]
            public async System.Threading.Tasks.Task Join(Inputs<TestFlow> inputs)
            {
                await System.Threading.Tasks.Task.Yield();
                Next(End);
            }

            [Step]
            public void End() { }
        }
        """;

    private const string ForeachFlow = """
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial int[] Items { get; set; }

            [Step]
            public void Start()
            {
                Items = [1, 2, 3];
                Next(Each, forEach: nameof(Items));
            }

            [Step]
            public void Each(int item) => Next(Join);

            [Step]
            public void Join(Inputs<TestFlow> inputs) => Next(End);

            [Step]
            public void End() { }
        }
        """;

    [Fact]
    public void A_split_and_its_join_are_described_in_the_graph()
    {
        var steps = Steps(Generate(SplitFlow));

        steps.Keys.ShouldBe(["Start", "A", "B", "Join", "End"]);
        steps["Start"].GetProperty("kind").GetString().ShouldBe("split");
        Next(steps["Start"]).ShouldBe(["A", "B"]);
        MatchingJoin(steps["Start"]).ShouldBe("Join");
        steps["A"].GetProperty("kind").GetString().ShouldBe("linear");
        steps["Join"].GetProperty("kind").GetString().ShouldBe("linear");
        steps["End"].GetProperty("kind").GetString().ShouldBe("end");
        steps["Join"].GetProperty("join").GetBoolean().ShouldBeTrue();
        steps.Where(s => s.Key != "Join").ShouldAllBe(s => !s.Value.GetProperty("join").GetBoolean());
        steps.Where(s => s.Key != "Start").ShouldAllBe(s => MatchingJoin(s.Value) == null);
        steps.Values.ShouldAllBe(s => s.GetProperty("forEach").ValueKind == JsonValueKind.Null);
    }

    [Fact]
    public void A_foreach_is_described_in_the_graph()
    {
        var steps = Steps(Generate(ForeachFlow));

        steps["Start"].GetProperty("kind").GetString().ShouldBe("foreach");
        steps["Start"].GetProperty("forEach").GetString().ShouldBe("Items");
        Next(steps["Start"]).ShouldBe(["Each"]);
        MatchingJoin(steps["Start"]).ShouldBe("Join");
        steps["Each"].GetProperty("kind").GetString().ShouldBe("linear");
        steps["Each"].GetProperty("forEach").ValueKind.ShouldBe(JsonValueKind.Null);
        steps["Join"].GetProperty("join").GetBoolean().ShouldBeTrue();
        steps["End"].GetProperty("kind").GetString().ShouldBe("end");
    }

    [Fact]
    public void Conditional_steps_and_loops_are_switches_in_the_graph()
    {
        var steps = Steps(Generate("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Parameter]
                public string Mode { get; init; } = "a";

                [Step]
                public void Start()
                {
                    switch (Mode)
                    {
                        case "a":
                            Next(Loop);
                            break;
                        case "b":
                            Next(Other);
                            break;
                        default:
                            Next(End);
                            break;
                    }
                }

                [Step]
                public void Loop()
                {
                    if (Iteration < 2)
                    {
                        Next(Loop);
                    }
                    else
                    {
                        Next(End);
                    }
                }

                [Step]
                public void Other()
                {
                    if (Mode == "b")
                    {
                        Next(End);
                    }
                    else
                    {
                        Next(End);
                    }
                }

                [Step]
                public void End() { }
            }
            """));

        steps["Start"].GetProperty("kind").GetString().ShouldBe("switch");
        Next(steps["Start"]).ShouldBe(["Loop", "Other", "End"]);
        steps["Loop"].GetProperty("kind").GetString().ShouldBe("switch");
        Next(steps["Loop"]).ShouldBe(["Loop", "End"]);
        steps["Other"].GetProperty("kind").GetString().ShouldBe("linear", "several Next calls with one target are not a switch");
        Next(steps["Other"]).ShouldBe(["End"]);
        steps.Values.ShouldAllBe(s => MatchingJoin(s) == null && !s.GetProperty("join").GetBoolean());
    }

    [Fact]
    public void Each_split_and_foreach_names_its_own_join_when_nested()
    {
        var steps = Steps(Generate("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial int[] Items { get; set; }

                [Step]
                public void Start()
                {
                    Items = [1, 2];
                    Next(A, B);
                }

                [Step]
                public void A() => Next(A1, A2);

                [Step]
                public void A1() => Next(JoinA);

                [Step]
                public void A2() => Next(JoinA);

                [Step]
                public void JoinA(Inputs<TestFlow> inputs) => Next(Join);

                [Step]
                public void B() => Next(Each, forEach: nameof(Items));

                [Step]
                public void Each(int item) => Next(X, Y);

                [Step]
                public void X() => Next(JoinXY);

                [Step]
                public void Y() => Next(JoinXY);

                [Step]
                public void JoinXY(Inputs<TestFlow> inputs) => Next(JoinEach);

                [Step]
                public void JoinEach(Inputs<TestFlow> inputs) => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """));

        steps.Where(s => MatchingJoin(s.Value) is not null).ToDictionary(s => s.Key, s => MatchingJoin(s.Value)).ShouldBe(new Dictionary<string, string?>
        {
            ["Start"] = "Join",
            ["A"] = "JoinA",
            ["B"] = "JoinEach",
            ["Each"] = "JoinXY",
        });
        steps["B"].GetProperty("kind").GetString().ShouldBe("foreach");
        steps["Each"].GetProperty("kind").GetString().ShouldBe("split");
        steps.Where(s => s.Value.GetProperty("join").GetBoolean()).Select(s => s.Key).ShouldBe(["JoinA", "JoinXY", "JoinEach", "Join"], ignoreOrder: true);
    }

    [Fact]
    public void The_graph_in_the_flow_definition_equals_the_metadata_for_a_foreach()
    {
        var run = Generate(ForeachFlow);

        var definition = run.Output.SyntaxTrees.Single(t => t.FilePath.EndsWith("TestFlow.Flow.g.cs", StringComparison.Ordinal)).GetRoot()
            .DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.LiteralExpressionSyntax>()
            .Select(l => l.Token.ValueText)
            .Single(t => t.StartsWith("{\"name\":", StringComparison.Ordinal));
        definition.ShouldBe(run.GraphMetadata.Single());
    }

    [Fact]
    public void A_foreach_step_gets_a_ForEachDefinition_with_its_element_type()
    {
        var source = Generate(ForeachFlow).Source("TestFlow.Flow.g.cs");

        source.ShouldContain("[\"Start\"] = new global::Flow.Sdk.Hosting.ForEachDefinition(\"Items\", typeof(int), static f => ((global::TestFlow)f).Items),");
        source.ShouldNotContain("[\"Each\"] = new global::Flow.Sdk.Hosting.ForEachDefinition");
    }

    [Fact]
    public void A_foreach_child_receives_its_item_and_a_join_its_inputs()
    {
        var source = Generate(ForeachFlow).Source("TestFlow.Flow.g.cs");

        source.ShouldContain("[\"Each\"] = static (f, a) => { ((global::TestFlow)f).Each(a.Item<int>()); return default; },");
        source.ShouldContain("[\"Join\"] = static (f, a) => { ((global::TestFlow)f).Join(a.Inputs<global::TestFlow>()); return default; },");
        source.ShouldContain("[\"Start\"] = static (f, a) => { ((global::TestFlow)f).Start(); return default; },");
    }

    [Fact]
    public void An_async_join_receives_its_inputs()
    {
        var source = Generate(SplitFlow).Source("TestFlow.Flow.g.cs");

        source.ShouldContain("[\"Join\"] = static (f, a) => new global::System.Threading.Tasks.ValueTask(((global::TestFlow)f).Join(a.Inputs<global::TestFlow>())),");
        source.ShouldNotContain("ForEachDefinition(\"");
    }

    [Fact]
    public void A_foreach_over_a_list_of_records_uses_the_record_type()
    {
        var run = Generate("""
            using System.Collections.Generic;
            using Flow.Sdk;

            namespace Demo;

            public sealed record Shard(int Id);

            public partial class TestFlow : FlowSpec
            {
                public partial List<Shard> Shards { get; set; }

                [Step]
                public void Start()
                {
                    Shards = [new Shard(1), new Shard(2)];
                    Next(Each, forEach: nameof(Shards));
                }

                [Step]
                public void Each(Shard shard) => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """);

        var source = run.Source("Demo.TestFlow.Flow.g.cs");
        source.ShouldContain("[\"Start\"] = new global::Flow.Sdk.Hosting.ForEachDefinition(\"Shards\", typeof(global::Demo.Shard), static f => ((global::Demo.TestFlow)f).Shards),");
        source.ShouldContain("((global::Demo.TestFlow)f).Each(a.Item<global::Demo.Shard>())");
        source.ShouldContain("((global::Demo.TestFlow)f).Join(a.Inputs<global::Demo.TestFlow>())");
        Steps(run)["Start"].GetProperty("forEach").GetString().ShouldBe("Shards");
    }

    [Fact]
    public void A_foreach_over_nullable_strings_compiles_with_typeof_string()
    {
        var source = Generate("""
            using System.Collections.Generic;
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public partial List<string?> Words { get; set; }

                [Step]
                public void Start()
                {
                    Words = ["a", null];
                    Next(Each, forEach: nameof(Words));
                }

                [Step]
                public void Each(string? word) => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """).Source("TestFlow.Flow.g.cs");

        source.ShouldContain("ForEachDefinition(\"Words\", typeof(string), ");
        source.ShouldContain("a.Item<string?>()");
    }

    [Fact]
    public void A_foreach_over_a_parameter_reads_the_parameter()
    {
        var run = Generate("""
            using System.Collections.Generic;
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Parameter]
                public List<int> Sizes { get; init; } = [1, 2];

                [Step]
                public void Start() => Next(Each, forEach: nameof(Sizes));

                [Step]
                public void Each(int size) => Next(Join);

                [Step]
                public void Join(Inputs<TestFlow> inputs) => Next(End);

                [Step]
                public void End() { }
            }
            """);

        run.Source("TestFlow.Flow.g.cs").ShouldContain("[\"Start\"] = new global::Flow.Sdk.Hosting.ForEachDefinition(\"Sizes\", typeof(int), static f => ((global::TestFlow)f).Sizes),");
        var start = Steps(run)["Start"];
        start.GetProperty("kind").GetString().ShouldBe("foreach");
        start.GetProperty("forEach").GetString().ShouldBe("Sizes");
        MatchingJoin(start).ShouldBe("Join");
    }
}
