using System.Collections;
using System.Runtime.CompilerServices;
using Flow.Build.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Flow.Build.Tests;

/// <summary>
/// The generator's pipeline is incremental per flow: an edit regenerates the flows whose model it changes (and the entry
/// point when a flow's summary changes), and nothing else. Each test runs the generator, edits the compilation, reruns
/// the same driver and reads the steps the driver tracked.
/// </summary>
/// <remarks>
/// One step always reruns: Roslyn runs the transform of every [Step] method again on each compilation change, as it hands
/// the transform a new semantic model (ForAttributeWithMetadataName and CreateSyntaxProvider alike). So the
/// <see cref="TrackingNames.StepMethods"/> outputs of a flow an edit did not touch come back Unchanged (rerun, equal
/// value), never Cached; the steps after it are then Cached, as their inputs compare equal.
/// </remarks>
public sealed class IncrementalGeneratorTests
{
    private const string Entry = "Flow.Sdk.Generated.FlowEntryPoint.g.cs";

    private static readonly SourceFile Alpha = new("/src/app/Flows/AlphaFlow.cs", """
        using Flow.Sdk;

        namespace Demo;

        public partial class AlphaFlow : FlowSpec
        {
            public partial string? Message { get; set; }

            [Step]
            public void Start()
            {
                Message = "alpha";
                Next(End);
            }

            [Step]
            public void End() { }
        }
        """);

    private static readonly SourceFile Beta = new("/src/app/Flows/BetaFlow.cs", """
        using Flow.Sdk;

        namespace Demo;

        public partial class BetaFlow : FlowSpec
        {
            public partial int Count { get; set; }

            [Step]
            public void Start()
            {
                Count = 1;
                Next(Train);
            }

            [Step]
            public void Train() => Next(End);

            [Step]
            public void End() { }
        }
        """);

    private static readonly SourceFile Unrelated = new("/src/app/Helpers.cs", """
        namespace Demo;

        public static class Helpers
        {
            public static int Twice(int x) => 2 * x;
        }
        """);

    /// <summary>A flow in three files: the class and its first steps, a step, and an artifact without any step.</summary>
    private static readonly SourceFile SplitMain = new("/src/app/Flows/SplitFlow.cs", """
        using Flow.Sdk;

        namespace Demo;

        public partial class SplitFlow : FlowSpec
        {
            [Step]
            public void Start() => Next(Middle);

            [Step]
            public void End() { }
        }
        """);

    private static readonly SourceFile SplitSteps = new("/src/app/Flows/SplitFlow.Steps.cs", """
        using Flow.Sdk;

        namespace Demo;

        public partial class SplitFlow
        {
            [Step]
            public void Middle() => Next(End);
        }
        """);

    private static readonly SourceFile SplitState = new("/src/app/Flows/SplitFlow.State.cs", """
        namespace Demo;

        public partial class SplitFlow
        {
            public partial string? Note { get; set; }
        }
        """);

    [Fact]
    public void WhitespaceEditInOneFlow_LeavesOtherFlowsCached()
    {
        // A blank line on top moves every line of AlphaFlow, so its graph (which records lines) really changes.
        var (first, second) = RunThenEdit([Alpha, Beta], Alpha.Path, text => "\n" + text);
        var run = Result(second);

        // Unchanged, not Cached: Roslyn reruns the transform of every [Step] method on a compilation change (a new
        // semantic model), and BetaFlow's model comes out equal, so every step after the reading is Cached.
        ReasonsOf(run, "BetaFlow", TrackingNames.StepMethods).ShouldAllBe(r => r == IncrementalStepRunReason.Unchanged);
        ReasonsOf(run, "BetaFlow", TrackingNames.FlowModels).ShouldBe([IncrementalStepRunReason.Cached]);
        ReasonsOf(run, "BetaFlow", TrackingNames.Flows).ShouldBe([IncrementalStepRunReason.Cached]);
        ReasonsOf(run, "BetaFlow", TrackingNames.FlowSummaries).ShouldBe([IncrementalStepRunReason.Cached]);
        SourceOutputReasonsOf(run, "BetaFlow").ShouldBe([IncrementalStepRunReason.Cached]);
        second.Sources.Single(s => s.HintName == "Demo.BetaFlow.Flow.g.cs").SourceText
            .ShouldBeSameAs(first.Sources.Single(s => s.HintName == "Demo.BetaFlow.Flow.g.cs").SourceText, "BetaFlow's source is the one generated before");

        ReasonsOf(run, "AlphaFlow", TrackingNames.Flows).ShouldBe([IncrementalStepRunReason.Modified]);
        SourceOutputReasonsOf(run, "AlphaFlow").ShouldBe([IncrementalStepRunReason.Modified]);
    }

    [Fact]
    public void GraphEditInOneFlow_ModifiesThatFlowsOutputOnly()
    {
        var (first, second) = RunThenEdit([Alpha, Beta], Alpha.Path, text => text
            .Replace("Next(End);", "Next(Check);", StringComparison.Ordinal)
            .Replace("[Step]\n    public void End()", "[Step]\n    public void Check() => Next(End);\n\n    [Step]\n    public void End()", StringComparison.Ordinal));
        var run = Result(second);

        ReasonsOf(run, "AlphaFlow", TrackingNames.StepMethods).ShouldContain(IncrementalStepRunReason.Modified);
        ReasonsOf(run, "AlphaFlow", TrackingNames.Flows).ShouldBe([IncrementalStepRunReason.Modified]);
        SourceOutputReasonsOf(run, "AlphaFlow").ShouldBe([IncrementalStepRunReason.Modified]);
        second.Source("Demo.AlphaFlow.Flow.g.cs").ShouldContain("[\"Check\"] = static (f, a) =>");
        StepNames(second.Graph("AlphaFlow")).ShouldBe(["Start", "Check", "End"]);

        ReasonsOf(run, "BetaFlow", TrackingNames.StepMethods).ShouldAllBe(r => r == IncrementalStepRunReason.Unchanged); // rerun by Roslyn, equal
        ReasonsOf(run, "BetaFlow", TrackingNames.Flows).ShouldBe([IncrementalStepRunReason.Cached]);
        SourceOutputReasonsOf(run, "BetaFlow").ShouldBe([IncrementalStepRunReason.Cached]);
        second.Sources.Single(s => s.HintName == "Demo.BetaFlow.Flow.g.cs").SourceText
            .ShouldBeSameAs(first.Sources.Single(s => s.HintName == "Demo.BetaFlow.Flow.g.cs").SourceText);

        // The entry point carries every graph as assembly metadata, so AlphaFlow's new graph remakes it.
        Reasons(run, TrackingNames.AllFlows).ShouldBe([IncrementalStepRunReason.Modified]);
        second.Source(Entry).ShouldContain("Check");
    }

    [Fact]
    public void EditInAFileWithoutFlows_RegeneratesNothing()
    {
        var (first, second) = RunThenEdit([Alpha, Beta, Unrelated], Unrelated.Path, text => text.Replace("2 * x", "x + x", StringComparison.Ordinal));
        var run = Result(second);

        // The flows are read again (Roslyn reruns every [Step] method's transform on a compilation change, whatever file
        // changed), but their models come out equal, so nothing after the reading runs.
        Reasons(run, TrackingNames.StepMethods).ShouldNotBeEmpty();
        Reasons(run, TrackingNames.StepMethods).ShouldAllBe(r => r == IncrementalStepRunReason.Unchanged);
        foreach (var step in new[] { TrackingNames.FlowModels, TrackingNames.Flows, TrackingNames.FlowSummaries, TrackingNames.AllFlows, TrackingNames.ProjectDirectory, TrackingNames.EmitEntryPoint })
        {
            Reasons(run, step).ShouldNotBeEmpty(step);
            Reasons(run, step).ShouldAllBe(r => r == IncrementalStepRunReason.Cached, step);
        }
        var outputs = run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).ToList();
        outputs.Count.ShouldBe(3, "one output per flow and one for the entry point");
        outputs.ShouldAllBe(o => o.Reason == IncrementalStepRunReason.Cached);
        foreach (var source in second.Sources)
        {
            source.SourceText.ShouldBeSameAs(first.Sources.Single(s => s.HintName == source.HintName).SourceText, source.HintName);
        }
    }

    [Fact]
    public void TheCompilation_ReachesTheOutputsOnlyThroughForAttributeWithMetadataName()
    {
        // A step that combines with the compilation reruns on every edit; the flows are read from each [Step] method's
        // own context instead, which Roslyn derives from the compilation inside ForAttributeWithMetadataName.
        var (_, second) = RunThenEdit([Alpha, Beta, Unrelated], Unrelated.Path, text => text + "\n");
        var run = Result(second);

        var outputSteps = run.TrackedOutputSteps.SelectMany(s => s.Value).ToList();
        outputSteps.ShouldNotBeEmpty();
        foreach (var output in outputSteps)
        {
            PathsToTheCompilation(output, []).ShouldBeEmpty();
        }
        outputSteps.ShouldAllBe(o => Reaches(o, "compilationAndGroupedNodes_ForAttributeWithMetadataName"), "every output comes from the [Step] methods");
    }

    [Fact]
    public void PartialFlow_AStepAddedInTheFileWithoutItsFirstStep_IsInTheGraph()
    {
        var (_, second) = RunThenEdit([SplitMain, SplitSteps, SplitState], SplitSteps.Path, text => text.Replace(
            "public void Middle() => Next(End);",
            "public void Middle() => Next(Extra);\n\n    [Step]\n    public void Extra() => Next(End);",
            StringComparison.Ordinal));

        second.GeneratorDiagnostics.ShouldBeEmpty(second.Describe());
        second.OutputErrors.ShouldBeEmpty(string.Join(Environment.NewLine, second.OutputErrors));
        StepNames(second.Graph("SplitFlow")).ShouldBe(["Start", "End", "Middle", "Extra"], ignoreOrder: true);
        var extra = second.Graph("SplitFlow").GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "Extra");
        extra.GetProperty("file").GetString().ShouldBe("Flows/SplitFlow.Steps.cs");
        second.Source("Demo.SplitFlow.Flow.g.cs").ShouldContain("[\"Extra\"] = static (f, a) =>");
        ReasonsOf(Result(second), "SplitFlow", TrackingNames.Flows).ShouldBe([IncrementalStepRunReason.Modified]);
    }

    [Fact]
    public void PartialFlow_AStepAddedInTheFileWithItsFirstStep_IsInTheGraph()
    {
        var (_, second) = RunThenEdit([SplitMain, SplitSteps, SplitState], SplitMain.Path, text => text
            .Replace("public void Start() => Next(Middle);", "public void Start() => Next(Prepare);\n\n    [Step]\n    public void Prepare() => Next(Middle);", StringComparison.Ordinal));

        second.GeneratorDiagnostics.ShouldBeEmpty(second.Describe());
        StepNames(second.Graph("SplitFlow")).ShouldBe(["Start", "Prepare", "End", "Middle"], ignoreOrder: true);
        second.Source("Demo.SplitFlow.Flow.g.cs").ShouldContain("[\"Prepare\"] = static (f, a) =>");
        ReasonsOf(Result(second), "SplitFlow", TrackingNames.Flows).ShouldBe([IncrementalStepRunReason.Modified]);
    }

    [Fact]
    public void PartialFlow_AnArtifactAddedInAFileWithoutSteps_IsImplemented()
    {
        // ForAttributeWithMetadataName finds nothing in this file, yet the flow it belongs to must be read again.
        var (_, second) = RunThenEdit([SplitMain, SplitSteps, SplitState], SplitState.Path, text => text
            .Replace("{ get; set; }", "{ get; set; }\n\n    public partial int Total { get; set; }", StringComparison.Ordinal));

        second.GeneratorDiagnostics.ShouldBeEmpty(second.Describe());
        second.OutputErrors.ShouldBeEmpty(string.Join(Environment.NewLine, second.OutputErrors));
        second.Source("Demo.SplitFlow.Flow.g.cs").ShouldContain("public partial int Total { get => GetArtifact<int>(\"Total\");");
        ReasonsOf(Result(second), "SplitFlow", TrackingNames.Flows).ShouldBe([IncrementalStepRunReason.Modified]);
    }

    [Fact]
    public void AFlowWhoseFirstStepAttributeIsOnAnAccessor_IsStillRead()
    {
        // [Step] is allowed on an accessor (it is a method), but only method declarations reach the transform, so the
        // flow must be read at its first step method.
        var run = GeneratorHarness.Run(GeneratorHarness.Compile([new SourceFile("/src/app/Flows/OddFlow.cs", """
            using Flow.Sdk;

            public partial class OddFlow : FlowSpec
            {
                private int _count;

                public int Count { [Step] get => _count; }

                [Step]
                public void Start() => Next(End);

                [Step]
                public void End() { }
            }
            """)]), ProjectOptions());

        StepNames(run.Graph("OddFlow")).ShouldBe(["Start", "End"]);
    }

    [Fact]
    public void ReparsingEveryFileWithTheSameText_ProducesEqualModels()
    {
        // New syntax trees give every transform new input; only models with value equality come out Unchanged.
        var compilation = GeneratorHarness.Compile([Alpha, Beta, SplitMain, SplitSteps, SplitState]);
        var first = GeneratorHarness.Run(compilation, ProjectOptions());
        var reparsed = compilation.RemoveAllSyntaxTrees().AddSyntaxTrees(compilation.SyntaxTrees.Select(t =>
            CSharpSyntaxTree.ParseText(t.GetText().ToString(), (CSharpParseOptions)t.Options, t.FilePath)));
        var run = Result(GeneratorHarness.Run(reparsed, ProjectOptions(), first.Driver));

        // The driver reports the steps some output comes from: here the [Step] methods of the files that hold a flow's
        // first step (where it is read), as Roslyn runs the transform file by file.
        Reasons(run, TrackingNames.StepMethods).ShouldNotBeEmpty();
        Reasons(run, TrackingNames.StepMethods).ShouldAllBe(r => r == IncrementalStepRunReason.Unchanged);
        Reasons(run, TrackingNames.Flows).Count.ShouldBe(3);
        Reasons(run, TrackingNames.Flows).ShouldAllBe(r => r == IncrementalStepRunReason.Cached);
        run.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).ShouldAllBe(o => o.Reason == IncrementalStepRunReason.Cached);
    }

    [Fact]
    public void EveryValueBetweenSteps_HasValueEquality()
    {
        // Roslyn compares a step's output with the last one to decide what reruns; a symbol, syntax node, location,
        // compilation, semantic model, array or list in a value would compare by reference and rerun everything after it.
        var run = Result(GeneratorHarness.Run(GeneratorHarness.Compile([Alpha, Beta, SplitMain, SplitSteps, SplitState, new SourceFile("/src/app/NotAFlow.cs", """
            using Flow.Sdk;

            public class NotAFlow
            {
                [Step]
                public void Start() { }
            }
            """)]), ProjectOptions()));

        var ours = typeof(TrackingNames).GetFields().Select(f => (string)f.GetValue(null)!).ToList();
        foreach (var name in ours)
        {
            var values = run.TrackedSteps[name].SelectMany(s => s.Outputs).Select(o => o.Value).ToList();
            values.ShouldNotBeEmpty(name);
            foreach (var value in values)
            {
                Unequatable(value?.GetType(), name, []).ShouldBeEmpty();
            }
        }
    }

    private static Dictionary<string, string> ProjectOptions() => new() { ["build_property.MSBuildProjectDirectory"] = "/src/app" };

    private static CSharpCompilation Edited(CSharpCompilation compilation, string path, Func<string, string> edit)
    {
        var tree = compilation.SyntaxTrees.Single(t => t.FilePath == path);
        var text = tree.GetText().ToString();
        var changed = edit(text);
        changed.ShouldNotBe(text, "the edit must change the file");
        return compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(changed)));
    }

    /// <summary>
    /// Runs the generator, edits one file, and runs the same driver on the edited compilation; checks that what the
    /// rerun gives is what a first run on the edited compilation gives.
    /// </summary>
    private static (GeneratorOutput First, GeneratorOutput Second) RunThenEdit(SourceFile[] files, string path, Func<string, string> edit)
    {
        var compilation = GeneratorHarness.Compile(files);
        var first = GeneratorHarness.Run(compilation, ProjectOptions());
        first.GeneratorDiagnostics.ShouldBeEmpty(first.Describe());
        var edited = Edited(compilation, path, edit);
        var second = GeneratorHarness.Run(edited, ProjectOptions(), first.Driver);
        var fresh = GeneratorHarness.Run(edited, ProjectOptions());
        Texts(second).ShouldBe(Texts(fresh), "the rerun generates what a first run does");
        second.GeneratorDiagnostics.Select(d => d.ToString()).ShouldBe(fresh.GeneratorDiagnostics.Select(d => d.ToString()), ignoreOrder: true);
        return (first, second);
    }

    private static string[] Texts(GeneratorOutput output) =>
        [.. output.Sources.OrderBy(s => s.HintName, StringComparer.Ordinal).Select(s => s.HintName + "\n" + s.SourceText)];

    private static GeneratorRunResult Result(GeneratorOutput output) => output.Driver.GetRunResult().Results.Single();

    private static List<IncrementalStepRunReason> Reasons(GeneratorRunResult run, string step) =>
        [.. run.TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason)];

    /// <summary>The reasons of a step's outputs that belong to one flow (by its class name).</summary>
    private static List<IncrementalStepRunReason> ReasonsOf(GeneratorRunResult run, string flow, string step)
    {
        var reasons = run.TrackedSteps[step].SelectMany(s => s.Outputs).Where(o => FlowOf(o.Value) == flow).Select(o => o.Reason).ToList();
        reasons.ShouldNotBeEmpty($"{step} has no output of {flow}");
        return reasons;
    }

    /// <summary>The reasons of the source outputs made from one flow's model.</summary>
    private static List<IncrementalStepRunReason> SourceOutputReasonsOf(GeneratorRunResult run, string flow) =>
        [.. run.TrackedOutputSteps.SelectMany(s => s.Value)
            .Where(s => s.Inputs.Any(i => FlowOf(i.Source.Outputs[i.OutputIndex].Value) == flow))
            .SelectMany(s => s.Outputs)
            .Select(o => o.Reason)];

    private static string? FlowOf(object? value) => value switch
    {
        FlowModel model => model.ClassName,
        FlowSummary summary => summary.ClassName,
        StepSite site => site.Type.Split('.').Last(),
        _ => null,
    };

    private static List<string> StepNames(System.Text.Json.JsonElement graph) =>
        [.. graph.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()!)];

    /// <summary>The chains of steps from <paramref name="step"/> back to the compilation that bypass ForAttributeWithMetadataName.</summary>
    private static IEnumerable<string> PathsToTheCompilation(IncrementalGeneratorRunStep step, List<string> path)
    {
        var here = new List<string>(path) { step.Name ?? "(unnamed)" };
        if (step.Name == "compilationAndGroupedNodes_ForAttributeWithMetadataName")
        {
            return [];
        }
        if (step.Name == "Compilation")
        {
            return [string.Join(" <- ", here)];
        }
        return step.Inputs.SelectMany(i => PathsToTheCompilation(i.Source, here));
    }

    private static bool Reaches(IncrementalGeneratorRunStep step, string name) =>
        step.Name == name || step.Inputs.Any(i => Reaches(i.Source, name));

    /// <summary>What in <paramref name="type"/> would compare by reference: empty when its values compare by value.</summary>
    private static IEnumerable<string> Unequatable(Type? type, string where, HashSet<Type> seen)
    {
        if (type is null || !seen.Add(type) || type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TextSpan) || type == typeof(LinePositionSpan))
        {
            return [];
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Nullable<>))
        {
            return Unequatable(type.GetGenericArguments()[0], where, seen);
        }
        if (typeof(ITuple).IsAssignableFrom(type) && type.IsValueType)
        {
            return type.GetGenericArguments().SelectMany(t => Unequatable(t, where + "." + type.Name, seen));
        }
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(EquatableArray<>))
        {
            return Unequatable(type.GetGenericArguments()[0], where + "[]", seen);
        }
        var isRecord = type.Assembly == typeof(FlowGenerator).Assembly && type.GetProperty("EqualityContract", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic) is not null;
        if (!isRecord || typeof(IEnumerable).IsAssignableFrom(type))
        {
            return [$"{where}: {type}"];
        }
        return type.GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic)
            .SelectMany(f => Unequatable(f.FieldType, where + "." + f.Name, seen));
    }
}
