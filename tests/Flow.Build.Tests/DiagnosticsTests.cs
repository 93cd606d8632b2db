using Microsoft.CodeAnalysis;
using static Flow.Build.Tests.DiagnosticAssert;

namespace Flow.Build.Tests;

public class DiagnosticsTests
{
    [Fact]
    public void A_flow_without_Start_fails_with_FLOW0002_at_the_class()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Begin() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0002", "class TestFlow"));
        d[0].GetMessage().ShouldContain("TestFlow");
    }

    [Fact]
    public void A_flow_without_End_fails_with_FLOW0003_at_the_class()
    {
        ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Finish);

                [Step]
                public void Finish() => Next(Start);
            }
            """, ("FLOW0003", "class TestFlow"), ("FLOW0014", "void Finish"), ("FLOW0008", "void Finish"));
    }

    [Fact]
    public void A_flow_without_End_and_without_a_cycle_fails_with_FLOW0003_only()
    {
        ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Stop);

                [Step]
                public void Stop()
                {
                }
            }
            """, ("FLOW0003", "class TestFlow"), ("FLOW0004", "void Stop"));
    }

    [Fact]
    public void A_step_without_Next_fails_with_FLOW0004_at_the_step()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Middle);

                [Step]
                public void Middle()
                {
                    var x = 1;
                    _ = x;
                }

                [Step]
                public void End() { }
            }
            """, ("FLOW0004", "void Middle"), ("FLOW0007", "void End"));
        d.Single(x => x.Id == "FLOW0004").GetMessage().ShouldContain("Middle");
    }

    [Fact]
    public void End_calling_Next_fails_with_FLOW0005_at_the_call()
    {
        ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Hello);

                [Step]
                public void Hello() => Next(End);

                [Step]
                public void End()
                {
                    Next(Hello); // here
                }
            }
            """, ("FLOW0005", "// here"));
    }

    [Fact]
    public void Next_to_a_method_that_is_not_a_step_fails_with_FLOW0006_at_the_argument()
    {
        var file = new SourceFile(FilePath, """
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start()
                {
                    Next(Helper);
                }

                public void Helper() { }

                [Step]
                public void End() { }
            }
            """);
        var d = ShouldFailWith(file.Text, ("FLOW0006", "Next(Helper)"), ("FLOW0007", "void End"));
        var notAStep = d.Single(x => x.Id == "FLOW0006");
        notAStep.GetMessage().ShouldContain("Helper");
        var line = file.Text.Split('\n')[file.LineOf("Next(Helper)") - 1];
        notAStep.Location.GetLineSpan().StartLinePosition.Character.ShouldBe(line.IndexOf("Helper", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unreachable_step_fails_with_FLOW0007_at_the_step()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(End);

                [Step]
                public void Orphan() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0007", "void Orphan"));
        d[0].GetMessage().ShouldContain("Orphan");
    }

    [Fact]
    public void A_cycle_fails_with_FLOW0008_at_the_step_that_closes_it()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(A);

                [Step]
                public void A() => Next(B);

                [Step]
                public void B() => Next(A);

                [Step]
                public void End() { }
            }
            """, ("FLOW0008", "void B"), ("FLOW0007", "void End"));
        d.Single(x => x.Id == "FLOW0008").GetMessage().ShouldContain("A -> B -> A");
    }

    [Theory]
    [InlineData("for (var i = 0; i < 1; i++) { Next(End); }", "a loop")]
    [InlineData("foreach (var i in new[] { 1 }) { Next(End); }", "a loop")]
    [InlineData("System.Action go = () => Next(End); go();", "a lambda")]
    [InlineData("void Go() => Next(End); Go();", "a local function")]
    [InlineData("try { Next(End); } finally { }", "a try block")]
    [InlineData("this?.Next(End);", "an expression")]
    public void Next_in_an_unsupported_place_fails_with_FLOW0009_at_the_call(string body, string place)
    {
        var (file, diagnostics) = Diagnose($$"""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start()
                {
                    {{body}}
                }

                [Step]
                public void End() { }
            }
            """);

        var bad = diagnostics.Where(d => d.Id == "FLOW0009").ShouldHaveSingleItem(string.Join(Environment.NewLine, diagnostics));
        bad.Location.GetLineSpan().Path.ShouldBe(FilePath);
        (bad.Location.GetLineSpan().StartLinePosition.Line + 1).ShouldBe(file.LineOf("Next(End)"));
        bad.GetMessage().ShouldContain(place);
        // The misplaced call does not count as the step's Next, so the step has none and End is not reached.
        diagnostics.Select(d => d.Id).OrderBy(x => x, StringComparer.Ordinal).ShouldBe(["FLOW0004", "FLOW0007", "FLOW0009"]);
    }

    [Fact]
    public void Next_inside_if_and_else_is_accepted_as_a_place()
    {
        var (_, diagnostics) = Diagnose("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start()
                {
                    if (System.DateTime.Now.Year > 2000)
                    {
                        Next(End);
                    }
                }

                [Step]
                public void End() { }
            }
            """);

        diagnostics.ShouldBeEmpty();
    }

    [Fact]
    public void A_Next_target_that_is_not_a_method_group_fails_with_FLOW0009()
    {
        var (file, diagnostics) = Diagnose("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start()
                {
                    System.Action a = End;
                    Next(a);
                }

                [Step]
                public void End() { }
            }
            """);

        var bad = diagnostics.First(d => d.Id == "FLOW0009");
        (bad.Location.GetLineSpan().StartLinePosition.Line + 1).ShouldBe(file.LineOf("Next(a)"));
    }

    [Fact]
    public void A_step_returning_int_fails_with_FLOW0010_at_the_step()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Count);

                [Step]
                public int Count()
                {
                    Next(End);
                    return 1;
                }

                [Step]
                public void End() { }
            }
            """, ("FLOW0010", "int Count"));
        d[0].GetMessage().ShouldContain("must return void or Task");
    }

    [Theory]
    [InlineData("public async void Go() { await System.Threading.Tasks.Task.Yield(); Next(End); }", "async void")]
    [InlineData("public static void Go() { }", "instance method")]
    [InlineData("public void Go(int x) => Next(End);", "no foreach targets it")]
    [InlineData("public System.Threading.Tasks.Task<int> Go() { Next(End); return System.Threading.Tasks.Task.FromResult(1); }", "must return void or Task")]
    public void Other_bad_step_signatures_fail_with_FLOW0010(string step, string message)
    {
        var (file, diagnostics) = Diagnose($$"""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Go);

                [Step]
                {{step}}

                [Step]
                public void End() { }
            }
            """);

        var bad = diagnostics.Where(d => d.Id == "FLOW0010").ShouldHaveSingleItem(string.Join(Environment.NewLine, diagnostics));
        (bad.Location.GetLineSpan().StartLinePosition.Line + 1).ShouldBe(file.LineOf(" Go("));
        bad.GetMessage().ShouldContain(message);
    }

    [Fact]
    public void Public_settable_state_that_is_not_an_artifact_fails_with_FLOW0011()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                public string Data { get; set; } = "";

                public int Count;

                public const int Limit = 3;

                public readonly int Fixed = 1;

                public string ReadOnly => "x";

                public string PrivateSet { get; private set; } = "";

                private int _hidden;

                public partial int Kept { get; set; }

                [Step]
                public void Start()
                {
                    _hidden++;
                    Next(End);
                }

                [Step]
                public void End() { }
            }
            """, ("FLOW0011", "string Data"), ("FLOW0011", "int Count"));
        d.Select(x => x.GetMessage()).ShouldContain(m => m.Contains("Property 'Data'") && m.Contains("public partial string Data { get; set; }"));
        d.Select(x => x.GetMessage()).ShouldContain(m => m.Contains("Field 'Count'"));
    }

    [Fact]
    public void A_parameter_named_like_a_built_in_option_fails_with_FLOW0012()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Parameter("tag")]
                public string Label { get; init; } = "";

                [Parameter]
                public int MaxWorkers { get; init; } = 4;

                [Step]
                public void Start() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0012", "string Label"), ("FLOW0012", "int MaxWorkers"));
        d.Select(x => x.GetMessage()).ShouldContain(m => m.Contains("--tag"));
        d.Select(x => x.GetMessage()).ShouldContain(m => m.Contains("--max-workers"));
    }

    [Fact]
    public void A_parameter_with_a_setter_fails_with_FLOW0013()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Parameter]
                public string Name { get; set; } = "";

                [Step]
                public void Start() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0013", "string Name"));
        d[0].GetMessage().ShouldContain("Name");
    }

    [Fact]
    public void Next_to_Start_fails_with_FLOW0014_at_the_step()
    {
        ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(End);

                [Step]
                public void Again() => Next(Start);

                [Step]
                public void End() { }
            }
            """, ("FLOW0014", "void Again"), ("FLOW0007", "void Again"));
    }

    [Fact]
    public void Two_parameters_with_one_option_fail_with_FLOW0015_at_the_second()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Parameter("size")]
                public int Size { get; init; }

                [Parameter("size")]
                public int Count { get; init; }

                [Step]
                public void Start() => Next(End);

                [Step]
                public void End() { }
            }
            """, ("FLOW0015", "int Count"));
        d[0].GetMessage().ShouldContain("--size");
        d[0].GetMessage().ShouldContain("Size");
        d[0].GetMessage().ShouldContain("Count");
    }

    [Fact]
    public void A_step_outside_a_flow_fails_with_FLOW0016_at_the_method()
    {
        var d = ShouldFailWith("""
            using Flow.Sdk;

            public class Helper
            {
                [Step]
                public void Start() { }
            }

            public static class Program
            {
                public static void Main() { }
            }
            """, ("FLOW0016", "void Start"));
        d[0].GetMessage().ShouldContain("Helper");
    }

    [Fact]
    public void A_flow_class_that_is_not_partial_fails_with_FLOW0001_at_the_class()
    {
        var (file, diagnostics) = Diagnose("""
            using Flow.Sdk;

            public class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(End);

                [Step]
                public void End() { }
            }
            """);

        diagnostics.Select(At).ShouldBe([$"FLOW0001@{FilePath}:{file.LineOf("class TestFlow")}"]);
        var run = GeneratorHarness.Run(file);
        run.Sources.ShouldBeEmpty("nothing can be added to a class that is not partial");
    }

    [Fact]
    public void A_nested_flow_class_fails_with_FLOW0001()
    {
        ShouldFailWith("""
            using Flow.Sdk;

            public partial class Outer
            {
                public partial class TestFlow : FlowSpec
                {
                    [Step]
                    public void Start() => Next(End);

                    [Step]
                    public void End() { }
                }
            }
            """, ("FLOW0001", "class TestFlow"));
    }

    [Fact]
    public void A_generic_flow_class_is_not_dropped_silently()
    {
        var (_, diagnostics) = Diagnose("""
            using Flow.Sdk;

            public partial class TestFlow<T> : FlowSpec
            {
                [Step]
                public void Start() => Next(End);

                [Step]
                public void End() { }
            }
            """);

        diagnostics.ShouldContain(d => d.Id == "FLOW0017");
    }

    [Fact]
    public void Every_diagnostic_is_an_error_with_a_documented_id()
    {
        var descriptors = typeof(Flow.Build.Generator.Diagnostics).GetFields().Select(f => f.GetValue(null)).OfType<DiagnosticDescriptor>().ToList();

        descriptors.Select(d => d.Id).ShouldBe([.. Enumerable.Range(1, 31).Select(i => $"FLOW{i:0000}")], ignoreOrder: true);
        descriptors.ShouldAllBe(d => d.DefaultSeverity == DiagnosticSeverity.Error && d.IsEnabledByDefault);
        descriptors.ShouldAllBe(d => d.HelpLinkUri == "docs/diagnostics.md#" + d.Id.ToLowerInvariant());
    }


    [Fact]
    public void An_overloaded_step_fails_with_FLOW0019_at_the_second_declaration()
    {
        ShouldFailWith("""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(End);

                [Step]
                public void Start(int again) { }

                [Step]
                public void End() { }
            }
            """, ("FLOW0019", "void Start(int again)"));
    }

    [Fact]
    public void Two_flows_with_one_class_name_fail_with_FLOW0018()
    {
        var (_, diagnostics) = Diagnose("""
            using Flow.Sdk;

            namespace A
            {
                public partial class TrainFlow : FlowSpec
                {
                    [Step] public void Start() => Next(End);
                    [Step] public void End() { }
                }
            }

            namespace B
            {
                public partial class TrainFlow : FlowSpec
                {
                    [Step] public void Start() => Next(End);
                    [Step] public void End() { }
                }
            }
            """);

        diagnostics.Select(d => d.Id).ShouldBe(["FLOW0018"]);
    }
}
