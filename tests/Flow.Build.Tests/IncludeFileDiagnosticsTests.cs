using System.Text.Json;
using Flow.Sdk.Graph;
using Microsoft.CodeAnalysis;
using static Flow.Build.Tests.DiagnosticAssert;

namespace Flow.Build.Tests;

/// <summary>The generator's rules for [IncludeFile] properties and list separators, and their graph JSON.</summary>
public class IncludeFileDiagnosticsTests
{
    /// <summary>A flow with the given members next to a Start and an End step.</summary>
    private static string Flow(string members) => $$"""
        using System.Collections.Generic;
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
        {{members}}

            [Step]
            public void Start() => Next(End);

            [Step]
            public void End() { }
        }
        """;

    private static JsonElement Parameter(GeneratorOutput run, string name) =>
        run.Graph("TestFlow").GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == name);

    // ---- FLOW0030 --------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("int", "0")]
    [InlineData("int[]", "[]")]
    [InlineData("List<byte>", "[]")]
    [InlineData("System.IO.Stream", "System.IO.Stream.Null")]
    [InlineData("char[]", "[]")]
    public void IncludeFile_on_an_unsupported_type_fails_with_FLOW0030_at_the_property(string type, string initializer)
    {
        var d = ShouldFailWith(Flow($$"""
                [IncludeFile]
                public {{type}} Data { get; init; } = {{initializer}};
            """), ("FLOW0030", " Data { get; init; }"));

        d[0].GetMessage().ShouldContain("Data");
        d[0].GetMessage().ShouldContain("byte[]");
        d[0].GetMessage().ShouldContain("IncludedFile");
    }

    [Theory]
    [InlineData("int", "0")]
    [InlineData("string", "\"\"")]
    [InlineData("double", "0.5")]
    public void A_separator_on_a_parameter_that_is_not_a_list_fails_with_FLOW0030(string type, string initializer)
    {
        var d = ShouldFailWith(Flow($$"""
                [Parameter(Separator = ",")]
                public {{type}} Value { get; init; } = {{initializer}};
            """), ("FLOW0030", " Value { get; init; }"));

        d[0].GetMessage().ShouldContain("Value");
        d[0].GetMessage().ShouldContain("Separator");
    }

    [Fact]
    public void An_empty_separator_fails_with_FLOW0030()
    {
        ShouldFailWith(Flow("""
                [Parameter(Separator = "")]
                public List<int> Seeds { get; init; } = [];
            """), ("FLOW0030", "List<int> Seeds"));
    }

    [Fact]
    public void Each_bad_parameter_is_reported_at_its_own_property()
    {
        ShouldFailWith(Flow("""
                [IncludeFile]
                public int Data { get; init; }

                [Parameter(Separator = ";")]
                public string Words { get; init; } = "";

                [Parameter(Separator = ",")]
                public int[] Fine { get; init; } = [];
            """), ("FLOW0030", "int Data"), ("FLOW0030", "string Words"));
    }

    // ---- Supported forms compile clean -----------------------------------------------------------------------

    [Theory]
    [InlineData("string", " = \"\";")]
    [InlineData("byte[]", " = [];")]
    [InlineData("IncludedFile", " = IncludedFile.Empty;")]
    [InlineData("string?", "")]
    [InlineData("byte[]?", "")]
    [InlineData("IncludedFile?", "")]
    public void IncludeFile_on_a_string_bytes_or_IncludedFile_compiles_clean(string type, string initializer)
    {
        var run = ShouldCompileClean(Flow($$"""
                [IncludeFile(Help = "The data")]
                public {{type}} Data { get; init; }{{initializer}}
            """));

        run.Source("TestFlow.Flow.g.cs").ShouldNotContain("GetArtifact<", customMessage: "an included file is not an artifact");
    }

    [Theory]
    [InlineData("List<int>")]
    [InlineData("int[]")]
    [InlineData("HashSet<string>")]
    [InlineData("IReadOnlyList<long>")]
    [InlineData("List<string>")]
    public void A_separator_on_a_list_parameter_compiles_clean(string type)
    {
        ShouldCompileClean(Flow($$"""
                [Parameter(Separator = ",")]
                public {{type}} Items { get; init; } = [];
            """));
    }

    // ---- The rules of parameters apply to included files -----------------------------------------------------

    [Fact]
    public void An_included_file_with_a_setter_fails_with_FLOW0013_and_is_not_an_artifact()
    {
        var d = ShouldFailWith(Flow("""
                [IncludeFile]
                public string Notes { get; set; } = "";
            """), ("FLOW0013", "string Notes"));

        d[0].GetMessage().ShouldContain("Notes");
    }

    [Fact]
    public void An_included_file_with_only_a_getter_fails_with_FLOW0013()
    {
        ShouldFailWith(Flow("""
                [IncludeFile]
                public byte[] Raw { get; } = [];
            """), ("FLOW0013", "byte[] Raw"));
    }

    [Fact]
    public void An_init_only_included_file_is_not_an_artifact()
    {
        var run = ShouldCompileClean(Flow("""
                [IncludeFile]
                public string Notes { get; init; } = "";

                public partial string Summary { get; set; }
            """));

        var flow = run.Source("TestFlow.Flow.g.cs");
        flow.ShouldContain("GetArtifact<string>(\"Summary\")");
        flow.ShouldNotContain("GetArtifact<string>(\"Notes\")");
        flow.ShouldContain("Notes = p.Get<string>(\"Notes\")");
    }

    [Theory]
    [InlineData("[IncludeFile(\"tag\")]", "string Label", "--tag")]
    [InlineData("[IncludeFile]", "string Verbose", "--verbose")]
    [InlineData("[IncludeFile]", "string Datastore", "--datastore")]
    [InlineData("[IncludeFile(\"max-workers\", Default = \"w.txt\")]", "string Workers", "--max-workers")]
    public void An_included_file_named_like_a_built_in_option_fails_with_FLOW0012(string attribute, string declaration, string option)
    {
        var d = ShouldFailWith(Flow($$"""
                {{attribute}}
                public {{declaration}} { get; init; } = "";
            """), ("FLOW0012", declaration));

        d[0].GetMessage().ShouldContain(option);
    }

    [Fact]
    public void An_included_file_and_a_parameter_with_one_option_fail_with_FLOW0015_at_the_second()
    {
        var d = ShouldFailWith(Flow("""
                [Parameter("data")]
                public int Size { get; init; }

                [IncludeFile("data")]
                public string Data { get; init; } = "";
            """), ("FLOW0015", "string Data"));

        d[0].GetMessage().ShouldContain("--data");
        d[0].GetMessage().ShouldContain("Size");
        d[0].GetMessage().ShouldContain("Data");
    }

    [Fact]
    public void Two_included_files_with_one_option_fail_with_FLOW0015_at_the_second()
    {
        var d = ShouldFailWith(Flow("""
                [IncludeFile("source-file")]
                public byte[] First { get; init; } = [];

                [IncludeFile]
                public IncludedFile SourceFile { get; init; } = IncludedFile.Empty;
            """), ("FLOW0015", "IncludedFile SourceFile"));

        d[0].GetMessage().ShouldContain("--source-file");
    }

    // ---- Graph JSON ------------------------------------------------------------------------------------------

    private const string GraphFlow = """
            [IncludeFile(Default = "data/notes.txt", Help = "The notes")]
            public string Notes { get; init; } = "";

            [IncludeFile("latin-text", Encoding = "iso-8859-1", Required = true)]
            public string Latin { get; init; } = "";

            [IncludeFile]
            public byte[] Raw { get; init; } = [];

            [IncludeFile(Default = "big.bin")]
            public IncludedFile Archive { get; init; } = IncludedFile.Empty;

            [Parameter(Separator = ",")]
            public List<int> Seeds { get; init; } = [1, 2];

            [Parameter]
            public int Count { get; init; } = 3;
        """;

    [Fact]
    public void The_graph_marks_an_included_text_file_with_its_default_path_and_encoding()
    {
        var run = ShouldCompileClean(Flow(GraphFlow));

        var notes = Parameter(run, "Notes");
        notes.GetProperty("option").GetString().ShouldBe("notes");
        notes.GetProperty("type").GetString().ShouldBe("string");
        notes.GetProperty("file").GetBoolean().ShouldBeTrue();
        notes.GetProperty("default").GetString().ShouldBe("data/notes.txt");
        notes.GetProperty("encoding").GetString().ShouldBe("utf-8");
        notes.GetProperty("help").GetString().ShouldBe("The notes");
        notes.GetProperty("required").GetBoolean().ShouldBeFalse();
        notes.TryGetProperty("separator", out _).ShouldBeFalse();

        var latin = Parameter(run, "Latin");
        latin.GetProperty("option").GetString().ShouldBe("latin-text");
        latin.GetProperty("file").GetBoolean().ShouldBeTrue();
        latin.GetProperty("encoding").GetString().ShouldBe("iso-8859-1");
        latin.GetProperty("required").GetBoolean().ShouldBeTrue();
        latin.GetProperty("default").ValueKind.ShouldBe(JsonValueKind.Null, "a file's default is its Default path, not the initializer");
    }

    [Fact]
    public void The_graph_marks_included_binary_files_without_an_encoding()
    {
        var run = ShouldCompileClean(Flow(GraphFlow));

        var raw = Parameter(run, "Raw");
        raw.GetProperty("file").GetBoolean().ShouldBeTrue();
        raw.GetProperty("default").ValueKind.ShouldBe(JsonValueKind.Null);
        raw.TryGetProperty("encoding", out _).ShouldBeFalse();

        var archive = Parameter(run, "Archive");
        archive.GetProperty("file").GetBoolean().ShouldBeTrue();
        archive.GetProperty("default").GetString().ShouldBe("big.bin");
        archive.TryGetProperty("encoding", out _).ShouldBeFalse();
    }

    [Fact]
    public void The_graph_gives_a_list_parameter_its_separator_and_plain_parameters_no_file_flag()
    {
        var run = ShouldCompileClean(Flow(GraphFlow));

        var seeds = Parameter(run, "Seeds");
        seeds.GetProperty("separator").GetString().ShouldBe(",");
        seeds.GetProperty("default").GetString().ShouldBe("[1, 2]");
        (seeds.TryGetProperty("file", out var file) && file.ValueKind == JsonValueKind.True).ShouldBeFalse();
        seeds.TryGetProperty("encoding", out _).ShouldBeFalse();

        var count = Parameter(run, "Count");
        (count.TryGetProperty("file", out var countFile) && countFile.ValueKind == JsonValueKind.True).ShouldBeFalse();
        count.TryGetProperty("separator", out _).ShouldBeFalse();
        count.TryGetProperty("encoding", out _).ShouldBeFalse();
    }

    [Fact]
    public void The_runtime_reads_the_included_file_fields_of_the_generated_graph()
    {
        var run = ShouldCompileClean(Flow(GraphFlow));

        var graph = FlowGraph.Parse(run.GraphMetadata.Single());

        var notes = graph.Parameters.Single(p => p.Name == "Notes");
        notes.IsFile.ShouldBeTrue();
        notes.Default.ShouldBe("data/notes.txt");
        notes.Encoding.ShouldBe("utf-8");
        notes.EnvironmentVariable.ShouldBe("FLOW_RUN_NOTES");
        var latin = graph.Parameters.Single(p => p.Name == "Latin");
        latin.Encoding.ShouldBe("iso-8859-1");
        latin.Required.ShouldBeTrue();
        latin.EnvironmentVariable.ShouldBe("FLOW_RUN_LATIN_TEXT");
        graph.Parameters.Single(p => p.Name == "Raw").Encoding.ShouldBeNull();
        graph.Parameters.Single(p => p.Name == "Seeds").Separator.ShouldBe(",");
        graph.Parameters.Single(p => p.Name == "Seeds").IsFile.ShouldBeFalse();
        graph.Parameters.Single(p => p.Name == "Count").IsFile.ShouldBeFalse();
    }
}

/// <summary>Parameters and included files cannot change during a run: assigning one in a step does not compile.</summary>
public sealed class ParameterImmutabilityTests
{
    [Theory]
    [InlineData("[Parameter] public int Count { get; init; } = 3;", "Count = 4;")]
    [InlineData("[IncludeFile] public string Data { get; init; } = \"\";", "Data = \"changed\";")]
    public void Assigning_a_parameter_in_a_step_is_a_compile_error(string declaration, string assignment)
    {
        var run = GeneratorHarness.Run(new SourceFile("/src/app/Flows/TestFlow.cs", $$"""
            using Flow.Sdk;

            public partial class TestFlow : FlowSpec
            {
                {{declaration}}

                [Step]
                public void Start() { {{assignment}} Next(End); }

                [Step]
                public void End() { }
            }
            """));

        run.GeneratorDiagnostics.ShouldBeEmpty();
        // CS8852: an init-only property can be assigned only in an object initializer.
        run.OutputErrors.Select(d => d.Id).ShouldBe(["CS8852"]);
    }
}
