using Microsoft.CodeAnalysis;

namespace Flow.Build.Tests;

/// <summary>[Retry], [Catch] and [Timeout]: misuse is FLOW0031 at the step; valid use lands in the graph.</summary>
public sealed class DecoratorDiagnosticsTests
{
    private static GeneratorOutput Run(string steps) => GeneratorHarness.Run(new SourceFile("/src/app/Flows/TestFlow.cs", $$"""
        using Flow.Sdk;

        public partial class TestFlow : FlowSpec
        {
            public partial StepError? Problem { get; set; }

            public partial int Count { get; set; }

            {{steps}}

            [Step]
            public void End() { }
        }
        """));

    [Theory]
    [InlineData("[Step, Retry(Times = 9)] public void Start() => Next(End);", "0 to 5 more attempts")]
    [InlineData("[Step, Timeout] public void Start() => Next(End);", "gives no time")]
    [InlineData("[Step, Catch] public void Start() => Next(A, B); [Step] public void A() => Next(J); [Step] public void B() => Next(J); [Step] public void J(Inputs<TestFlow> i) => Next(End);", "a split")]
    [InlineData("[Step, Catch(Var = nameof(Count))] public void Start() => Next(End);", "artifact of type StepError")]
    [InlineData("[Step, Catch(Var = \"Nope\")] public void Start() => Next(End);", "artifact of type StepError")]
    [InlineData("[Step, Local, Slurm] public void Start() => Next(End);", "both [Local] and [Slurm]")]
    [InlineData("[Step, Slurm(Time = \"two hours\")] public void Start() => Next(End);", "not a Slurm time")]
    [InlineData("[Step, Resources(Cpu = -1)] public void Start() => Next(End);", "negative amount")]
    public void Misuse_FailsWith_FLOW0031_AtTheStep(string steps, string message)
    {
        var run = Run(steps);

        var error = run.GeneratorDiagnostics.ShouldHaveSingleItem(run.Describe());
        error.Id.ShouldBe("FLOW0031");
        error.Severity.ShouldBe(DiagnosticSeverity.Error);
        error.GetMessage().ShouldContain(message);
        error.Location.GetLineSpan().Path.ShouldBe("/src/app/Flows/TestFlow.cs");
    }

    [Fact]
    public void ValidDecorators_CompileClean_AndAreInTheGraph()
    {
        var run = Run("""
            [Step, Retry(Times = 2), Timeout(Minutes = 1, Seconds = 5), Catch(Var = nameof(Problem))]
            public void Start() => Next(End);
            """);

        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        run.OutputErrors.ShouldBeEmpty();
        var start = run.Graph("TestFlow").GetProperty("steps").EnumerateArray().First(s => s.GetProperty("name").GetString() == "Start");
        start.GetProperty("retry").GetInt32().ShouldBe(2);
        start.GetProperty("timeout").GetInt32().ShouldBe(65);
        start.GetProperty("catch").GetString().ShouldBe("Problem");
    }

    [Fact]
    public void Card_IsInTheGraph_WithItsTitleAndWhetherItListsArtifacts_AndParsesBack()
    {
        var run = Run("""
            [Step, Card(Title = "Report", Artifacts = false)]
            public void Start() => Next(End);
            """);

        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        run.OutputErrors.ShouldBeEmpty();
        var graph = run.Graph("TestFlow");
        var start = graph.GetProperty("steps").EnumerateArray().First(s => s.GetProperty("name").GetString() == "Start");
        start.GetProperty("card").GetProperty("title").GetString().ShouldBe("Report");
        start.GetProperty("card").GetProperty("artifacts").GetBoolean().ShouldBeFalse();
        var parsed = Flow.Sdk.Graph.FlowGraph.Parse(graph);
        parsed.FindStep("Start")!.Card.ShouldBe(new Flow.Sdk.Graph.GraphCard("Report", false));
        parsed.FindStep("End")!.Card.ShouldBeNull();
    }

    [Fact]
    public void Placement_SlurmOnTheFlowReachesEveryStepButLocalOnes_StepSettingsWin_ResourcesKept_AndParsesBack()
    {
        var run = GeneratorHarness.Run(new SourceFile("/src/app/Flows/PlacedFlow.cs", """
            using Flow.Sdk;

            [Slurm(Partition = "cpu", Time = "30")]
            public partial class PlacedFlow : FlowSpec
            {
                [Step, Local] public void Start() => Next(Train);

                [Step, Slurm(Partition = "gpu", Time = "2:00:00", Account = "lab"), Resources(Cpu = 4, MemoryMb = 16000, Gpu = 1)]
                public void Train() => Next(End);

                [Step] public void End() { }
            }
            """));

        run.GeneratorDiagnostics.ShouldBeEmpty(run.Describe());
        run.OutputErrors.ShouldBeEmpty();
        var graph = Flow.Sdk.Graph.FlowGraph.Parse(run.Graph("PlacedFlow"));
        graph.FindStep("Start")!.Local.ShouldBeTrue();
        graph.FindStep("Start")!.Slurm.ShouldBeNull();
        graph.FindStep("Train")!.Slurm.ShouldBe(new Flow.Sdk.Graph.GraphSlurm("gpu", "2:00:00", "lab"));
        graph.FindStep("Train")!.Resources.ShouldBe(new Flow.Sdk.Graph.GraphResources(4, 16000, 1));
        graph.FindStep("End")!.Slurm.ShouldBe(new Flow.Sdk.Graph.GraphSlurm("cpu", "30", null));
        graph.FindStep("End")!.Resources.ShouldBeNull();
    }
}
