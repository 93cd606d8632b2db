using System.Text.Json;
using Flow.Build.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Flow.Build.Tests;

public class GeneratorTests
{
    internal static SourceFile HelloFlow { get; } = new("/src/hello/Flows/HelloFlow.cs", """
        using Flow.Sdk;

        namespace Demo;

        /// <summary>
        /// Says hello to <see cref="Name"/>, politely &amp; briefly.
        /// </summary>
        public partial class HelloFlow : FlowSpec
        {
            /// <summary>Whom to greet.</summary>
            [Parameter(Help = "Whom to greet")]
            public string Name { get; init; } = "world";

            public partial string Message { get; set; }

            /// <summary>Begins the flow.</summary>
            [Step]
            public void Start() => Next(Hello);

            /// <summary>
            /// Builds the greeting.
            /// </summary>
            [Step]
            public void Hello()
            {
                Message = "Hello, " + Name;
                Next(End);
            }

            /// <summary>Ends the flow.</summary>
            [Step]
            public void End()
            {
            }
        }
        """);

    internal static SourceFile OtherFlow { get; } = new("/src/hello/OtherFlow.cs", """
        using System.Threading.Tasks;
        using Flow.Sdk;

        public partial class OtherFlow : FlowSpec
        {
            [Parameter]
            public int NumTrees { get; init; } = 3;

            [Step]
            public async Task Start()
            {
                await Task.Yield();
                Next(End);
            }

            [Step]
            public void End()
            {
            }
        }
        """);

    private static Dictionary<string, string> ProjectOptions(string dir = "/src/hello") => new() { ["build_property.MSBuildProjectDirectory"] = dir };

    [Fact]
    public void A_valid_linear_flow_compiles_without_diagnostics()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([HelloFlow]), ProjectOptions());

        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        run.OutputErrors.ShouldBeEmpty(string.Join(Environment.NewLine, run.OutputErrors));
        run.Output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true)
            .ShouldBeEmpty("the generated code compiles without warnings");
    }

    [Fact]
    public void A_valid_flow_gets_its_artifacts_definition_and_entry_point()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([HelloFlow]), ProjectOptions());

        run.Sources.Select(s => s.HintName).OrderBy(n => n, StringComparer.Ordinal).ShouldBe(["Demo.HelloFlow.Flow.g.cs", "Flow.Sdk.Generated.FlowEntryPoint.g.cs"]);
        var flow = run.Source("Demo.HelloFlow.Flow.g.cs");
        flow.ShouldContain("namespace Demo;");
        flow.ShouldContain("public partial string Message { get => GetArtifact<string>(\"Message\"); set => SetArtifact<string>(\"Message\", value); }");
        flow.ShouldContain("internal static global::Flow.Sdk.Hosting.FlowDefinition FlowDefinition__");
        flow.ShouldContain("Name = p.Get<string>(\"Name\")");

        var type = run.Output.GetTypeByMetadataName("Demo.HelloFlow")!;
        var message = type.GetMembers("Message").OfType<IPropertySymbol>().Single();
        message.IsPartialDefinition.ShouldBeTrue();
        message.PartialImplementationPart.ShouldNotBeNull("the generator implements the artifact");
        type.GetMembers("FlowDefinition__").OfType<IPropertySymbol>().Single().IsStatic.ShouldBeTrue();

        var main = run.Output.GetEntryPoint(CancellationToken.None);
        main.ShouldNotBeNull();
        main.ContainingType.ToDisplayString().ShouldBe("Flow.Sdk.Generated.FlowEntryPoint");
        run.Source("Flow.Sdk.Generated.FlowEntryPoint.g.cs").ShouldContain("global::Demo.HelloFlow.FlowDefinition__");
    }

    [Theory]
    [InlineData(DocumentationMode.None)]
    [InlineData(DocumentationMode.Parse)]
    [InlineData(DocumentationMode.Diagnose)]
    public void The_graph_metadata_describes_the_flow(DocumentationMode mode)
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([HelloFlow], mode: mode), ProjectOptions());
        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());

        run.GraphMetadata.Count.ShouldBe(1);
        var graph = run.Graph("HelloFlow");
        graph.GetProperty("description").GetString().ShouldBe("Says hello to Name, politely & briefly.");

        var steps = graph.GetProperty("steps").EnumerateArray().ToList();
        steps.Select(s => s.GetProperty("name").GetString()).ShouldBe(["Start", "Hello", "End"]);
        steps.Select(s => s.GetProperty("kind").GetString()).ShouldBe(["linear", "linear", "end"]);
        steps.Select(s => string.Join(",", s.GetProperty("next").EnumerateArray().Select(n => n.GetString()))).ShouldBe(["Hello", "End", ""]);
        steps.Select(s => s.GetProperty("description").GetString()).ShouldBe(["Begins the flow.", "Builds the greeting.", "Ends the flow."]);
        steps.Select(s => s.GetProperty("line").GetInt32()).ShouldBe([
            HelloFlow.LineOf("public void Start()"),
            HelloFlow.LineOf("public void Hello()"),
            HelloFlow.LineOf("public void End()"),
        ]);
        steps.ShouldAllBe(s => s.GetProperty("file").GetString() == "Flows/HelloFlow.cs");
        steps.ShouldAllBe(s => s.GetProperty("forEach").ValueKind == JsonValueKind.Null);

        var parameter = graph.GetProperty("parameters").EnumerateArray().ShouldHaveSingleItem();
        parameter.GetProperty("name").GetString().ShouldBe("Name");
        parameter.GetProperty("option").GetString().ShouldBe("name");
        parameter.GetProperty("type").GetString().ShouldBe("string");
        parameter.GetProperty("default").GetString().ShouldBe("\"world\"");
        parameter.GetProperty("required").GetBoolean().ShouldBeFalse();
        parameter.GetProperty("help").GetString().ShouldBe("Whom to greet");
    }

    [Fact]
    public void The_graph_in_the_flow_definition_equals_the_metadata()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([HelloFlow]), ProjectOptions());

        var definition = run.Output.SyntaxTrees.Single(t => t.FilePath.EndsWith("Demo.HelloFlow.Flow.g.cs", StringComparison.Ordinal)).GetRoot()
            .DescendantNodes().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.LiteralExpressionSyntax>()
            .Select(l => l.Token.ValueText)
            .Single(t => t.StartsWith("{\"name\":", StringComparison.Ordinal));
        definition.ShouldBe(run.GraphMetadata.Single());
    }

    [Fact]
    public void Without_a_project_directory_the_file_is_the_bare_file_name()
    {
        var run = GeneratorHarness.Run(HelloFlow);

        run.Graph("HelloFlow").GetProperty("steps")[0].GetProperty("file").GetString().ShouldBe("HelloFlow.cs");
    }

    [Fact]
    public void A_file_outside_the_project_directory_is_not_cut_at_a_name_prefix()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([HelloFlow with { Path = "/src/hello2/HelloFlow.cs" }]), ProjectOptions("/src/hello"));

        run.Graph("HelloFlow").GetProperty("steps")[0].GetProperty("file").GetString().ShouldBe("HelloFlow.cs");
    }

    [Fact]
    public void A_step_in_another_partial_file_names_its_own_file()
    {
        var main = new SourceFile("/src/hello/Flows/SplitFlow.cs", """
            using Flow.Sdk;

            public partial class SplitFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(Middle);

                [Step]
                public void End() { }
            }
            """);
        var more = new SourceFile("/src/hello/Flows/SplitFlow.Middle.cs", """
            using Flow.Sdk;

            public partial class SplitFlow
            {
                /// <summary>In the second file.</summary>
                [Step]
                public void Middle() => Next(End);
            }
            """);

        var run = GeneratorHarness.Run(GeneratorHarness.Compile([main, more]), ProjectOptions());

        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        var middle = run.Graph("SplitFlow").GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "Middle");
        middle.GetProperty("description").GetString().ShouldBe("In the second file.");
        middle.GetProperty("line").GetInt32().ShouldBe(more.LineOf("void Middle"));
        middle.GetProperty("file").GetString().ShouldBe("Flows/SplitFlow.Middle.cs");
    }

    [Fact]
    public void Parameters_use_the_kebab_case_of_the_property_and_their_declared_type()
    {
        var run = GeneratorHarness.Run(OtherFlow);

        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        run.OutputErrors.ShouldBeEmpty();
        var graph = run.Graph("OtherFlow");
        graph.GetProperty("description").ValueKind.ShouldBe(JsonValueKind.Null);
        var parameter = graph.GetProperty("parameters").EnumerateArray().ShouldHaveSingleItem();
        parameter.GetProperty("option").GetString().ShouldBe("num-trees");
        parameter.GetProperty("type").GetString().ShouldBe("int");
        parameter.GetProperty("default").GetString().ShouldBe("3");
        parameter.GetProperty("help").ValueKind.ShouldBe(JsonValueKind.Null);
        graph.GetProperty("steps")[0].GetProperty("kind").GetString().ShouldBe("linear");
        run.Source("OtherFlow.Flow.g.cs").ShouldContain("new global::System.Threading.Tasks.ValueTask(((global::OtherFlow)f).Start())");
    }

    [Fact]
    public void Several_flows_share_one_entry_point_and_each_has_its_graph()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([HelloFlow, OtherFlow]), ProjectOptions());

        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        run.OutputErrors.ShouldBeEmpty(string.Join(Environment.NewLine, run.OutputErrors));
        run.Sources.Count(s => s.HintName == "Flow.Sdk.Generated.FlowEntryPoint.g.cs").ShouldBe(1);
        var entry = run.Source("Flow.Sdk.Generated.FlowEntryPoint.g.cs");
        entry.ShouldContain("global::Demo.HelloFlow.FlowDefinition__");
        entry.ShouldContain("global::OtherFlow.FlowDefinition__");
        run.GraphMetadata.Count.ShouldBe(2);
        run.GraphMetadata.Select(j => JsonDocument.Parse(j).RootElement.GetProperty("name").GetString()).OrderBy(n => n, StringComparer.Ordinal)
            .ShouldBe(["HelloFlow", "OtherFlow"]);
        run.Output.GetEntryPoint(CancellationToken.None).ShouldNotBeNull();
    }

    [Fact]
    public void One_broken_flow_keeps_the_entry_point_out()
    {
        var broken = new SourceFile("/src/hello/Broken.cs", """
            using Flow.Sdk;

            public partial class BrokenFlow : FlowSpec
            {
                [Step]
                public int Start()
                {
                    Next(End);
                    return 0;
                }

                [Step]
                public void End() { }
            }
            """);

        var run = GeneratorHarness.Run(GeneratorHarness.Compile([HelloFlow, broken]), ProjectOptions());

        run.GeneratorDiagnostics.Select(d => d.Id).ShouldBe(["FLOW0010"]);
        run.HasSource("Flow.Sdk.Generated.FlowEntryPoint.g.cs").ShouldBeFalse();
        run.HasSource("Demo.HelloFlow.Flow.g.cs").ShouldBeTrue();
        run.Source("BrokenFlow.Flow.g.cs").ShouldNotContain("FlowDefinition__");
    }

    [Fact]
    public void An_abstract_flow_class_gets_no_generated_code_that_fails_to_compile()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([new SourceFile("/src/hello/BaseFlow.cs", """
            using Flow.Sdk;

            public abstract partial class BaseFlow : FlowSpec
            {
                [Step]
                public void Start() => Next(End);

                [Step]
                public void End() { }
            }

            public static class Program
            {
                public static void Main() { }
            }
            """)], OutputKind.ConsoleApplication), new Dictionary<string, string> { ["build_property.FlowGenerateEntryPoint"] = "false" });

        run.OutputErrors.Where(d => d.Location.SourceTree?.FilePath.EndsWith(".g.cs", StringComparison.Ordinal) == true)
            .ShouldBeEmpty(string.Join(Environment.NewLine, run.OutputErrors));
    }

    [Fact]
    public void A_flow_named_FlowEntryPoint_does_not_crash_the_generator()
    {
        var file = new SourceFile("/src/hello/FlowEntryPoint.cs", """
            using Flow.Sdk;

            public partial class FlowEntryPoint : FlowSpec
            {
                [Step]
                public void Start() => Next(End);

                [Step]
                public void End() { }
            }
            """);
        var driver = CSharpGeneratorDriver.Create(new FlowGenerator()).RunGenerators(GeneratorHarness.Compile([file]));

        driver.GetRunResult().Results.Single().Exception.ShouldBeNull();
    }

    [Fact]
    public void Without_the_entry_point_option_only_the_metadata_is_generated()
    {
        var options = ProjectOptions();
        options["build_property.FlowGenerateEntryPoint"] = "false";
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([HelloFlow], OutputKind.DynamicallyLinkedLibrary), options);

        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        run.OutputErrors.ShouldBeEmpty(string.Join(Environment.NewLine, run.OutputErrors));
        var entry = run.Source("Flow.Sdk.Generated.FlowEntryPoint.g.cs");
        entry.ShouldNotContain("Main(");
        entry.ShouldNotContain("FlowEntryPoint");
        run.GraphMetadata.Count.ShouldBe(1);
        run.Output.GetEntryPoint(CancellationToken.None).ShouldBeNull();
        run.Output.GetTypeByMetadataName("Flow.Sdk.Generated.FlowEntryPoint").ShouldBeNull();
    }

    [Theory]
    [InlineData("FALSE", false)]
    [InlineData("true", true)]
    [InlineData("", true)]
    public void The_entry_point_option_is_read_case_insensitively(string value, bool expectMain)
    {
        var options = ProjectOptions();
        options["build_property.FlowGenerateEntryPoint"] = value;
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([HelloFlow]), options);

        run.Source("Flow.Sdk.Generated.FlowEntryPoint.g.cs").Contains("public static int Main(", StringComparison.Ordinal).ShouldBe(expectMain);
    }

    [Fact]
    public void A_project_without_a_flow_generates_nothing()
    {
        var script = new SourceFile("/src/client/Program.cs", """
            using Flow.Sdk;

            public static class Program
            {
                public static int Main() => typeof(FlowSpec).Name.Length;
            }

            public class Helper
            {
                public void Start() { }
            }
            """);

        var run = GeneratorHarness.Run(script);

        run.Sources.ShouldBeEmpty();
        run.GeneratorDiagnostics.ShouldBeEmpty();
        run.GraphMetadata.ShouldBeEmpty();
        run.OutputErrors.ShouldBeEmpty(string.Join(Environment.NewLine, run.OutputErrors));
    }

    [Theory]
    [InlineData("NumTrees", "num-trees")]
    [InlineData("TestSize", "test-size")]
    [InlineData("URLPath", "url-path")]
    [InlineData("X", "x")]
    [InlineData("name", "name")]
    [InlineData("Top5Items", "top5-items")]
    [InlineData("Learning_Rate", "learning-rate")]
    public void Kebab_turns_property_names_into_options(string name, string option) =>
        FlowReader.Kebab(name).ShouldBe(option);

    [Fact]
    public void Running_twice_on_the_same_compilation_generates_the_same_text()
    {
        var compilation = GeneratorHarness.Compile([HelloFlow, OtherFlow]);

        var first = GeneratorHarness.Run(compilation, ProjectOptions());
        var second = GeneratorHarness.Run(compilation, ProjectOptions());
        var again = GeneratorHarness.Run(compilation, ProjectOptions(), first.Driver);

        static string[] Texts(GeneratorOutput o) => [.. o.Sources.OrderBy(s => s.HintName, StringComparer.Ordinal).Select(s => s.HintName + "\n" + s.SourceText)];
        Texts(second).ShouldBe(Texts(first));
        Texts(again).ShouldBe(Texts(first));
    }

    [Fact]
    public void An_unrelated_edit_leaves_the_generated_output_cached()
    {
        var compilation = GeneratorHarness.Compile([HelloFlow]);
        var first = GeneratorHarness.Run(compilation, ProjectOptions());

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("internal static class Unrelated { }", GeneratorHarness.ParseOptions(), "/src/hello/Unrelated.cs"));
        var second = GeneratorHarness.Run(edited, ProjectOptions(), first.Driver);

        second.Sources.Select(s => s.SourceText.ToString()).ShouldBe(first.Sources.Select(s => s.SourceText.ToString()));
        var outputs = second.Driver.GetRunResult().Results.Single().TrackedOutputSteps
            .SelectMany(step => step.Value)
            .SelectMany(step => step.Outputs)
            .ToList();
        outputs.ShouldNotBeEmpty();
        outputs.ShouldAllBe(o => o.Reason == IncrementalStepRunReason.Cached || o.Reason == IncrementalStepRunReason.Unchanged);
    }
}
